/**
 * SHA-256 of many 64-byte messages (Merkle-tree style hashing), four at a time in SIMD lanes, the rest
 * scalar. The second block of a 64-byte message is padding only, the same for every message, so its
 * K + W are computed once per call.
 */
import { SHA256_CTX, sha256, wipeSha256Scratch } from './sha256';
import { STATE_X4, gatherWordsX4, scatterWordsX4, scheduleConstantBlock, sha256x4CompressKW, sha256x4Init, sha256x4Compress, BLOCK_X4, wipeSha256x4Scratch } from './sha256x4';

const STATE: usize = memory.data(<i32>STATE_X4, 16);
const BLOCK: usize = memory.data(<i32>BLOCK_X4, 16);
const PAD_WORDS: usize = memory.data<u32>([0x80000000, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 512]);
const PAD_KW: usize = memory.data(64 * 16, 16);
const CTX: usize = memory.data(<i32>SHA256_CTX);

/** out[i*32..] = SHA-256(msgs[i*64 .. i*64+64]) for i < count. */
let padReady = false;

export function sha256Batch64(msgs: usize, count: u32, out: usize): void {
  let i: u32 = 0;
  // the scalar build compiles only the loop below (no v128 op in the module)
  if (ASC_FEATURE_SIMD) {
    if (!padReady) {
      scheduleConstantBlock(PAD_WORDS, PAD_KW);
      padReady = true;
    }
    for (; i + 4 <= count; i += 4) {
      const m = msgs + (<usize>i << 6);
      gatherWordsX4(m, m + 64, m + 128, m + 192, 16, BLOCK);
      sha256x4Init(STATE);
      sha256x4Compress(STATE, BLOCK);
      sha256x4CompressKW(STATE, PAD_KW);
      const o = out + (<usize>i << 5);
      scatterWordsX4(STATE, 8, o, o + 32, o + 64, o + 96);
    }
    // the messages may be secret: leave nothing of them in the module's scratch
    memory.fill(STATE, 0, STATE_X4);
    memory.fill(BLOCK, 0, BLOCK_X4);
    wipeSha256x4Scratch();
  }
  for (; i < count; i++) sha256(msgs + (<usize>i << 6), 64, out + (<usize>i << 5), CTX);
  memory.fill(CTX, 0, SHA256_CTX);
  wipeSha256Scratch();
}
