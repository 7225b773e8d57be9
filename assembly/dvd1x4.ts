/**
 * DVD-1 four records at a time: the same work as dvd1.ts runRecord, with every SHA-256 compression
 * (23 per record) done for four records at once in v128 lanes (sha256x4.ts). All DVD-1 messages have
 * the same length in every record, so the four lanes stay in lockstep. The AEAD opens run per record.
 * The kPin chain (extract, expand, PVV) and the kTxn chain (extract, expand, cryptogram) do not depend on
 * each other, and an HMAC's inner and outer pads do not either, so 22 of the 23 compressions run two at a
 * time (sha256x4Compress2): the same work, with more independent instructions for the CPU to overlap.
 * Tested against the scalar path for every batch size 1..64 (test/core/simd.test.ts).
 */
import { aeadVerifyWithPolyKey } from './aead';
import { chachaBlockX4 } from './chacha20x4';
import { transposeIn } from './lanes';
import { ctEqual, isZero, maskOf } from './ct';
import { hmacInit } from './hmac';
import { luhnCheck } from './luhn';
import {
  gatherWordsX4, scatterWordsX4, scheduleConstantBlock, sha256x4Compress, sha256x4Compress2, sha256x4Compress2KW,
  sha256x4Init, wipeSha256x4Scratch,
} from './sha256x4';
import { SHA256_CTX } from './sha256';
import {
  BASIC_KEY_LENGTH, C1, C2, CRYPTOGRAM_SIZE, HDR, HDR_LENGTH, KEK, LABEL_PIN, LABEL_PIN_LENGTH, LABEL_TXN, LABEL_TXN_LENGTH,
  MERCHANT, MERCHANT_LENGTH, AMOUNT_LENGTH, N1, N2, PAN_LENGTH, PIN, PIN_LENGTH, RECORD_SIZE, SID, SID_LENGTH,
  STATUS_BASIC_KEY, STATUS_KEY_TAG, STATUS_LUHN, STATUS_PAN_TAG, STATUS_PVV, STORED_BK, STORED_PVV, TAG_LENGTH,
} from './dvd1-layout';

// Everything below is wiped at the end of each batch (wipeDvd1x4). The kPin chain (P_*) and the kTxn chain
// (T_*) have their own 4-lane states.
const SCRATCH_SIZE: i32 = 4096 + 1024 + 256;
const SCRATCH: usize = memory.data(SCRATCH_SIZE, 16);
const BLOCK: usize = SCRATCH; // 256: a 4-lane block being built
const BLOCK_B: usize = SCRATCH + 256; // 256: a second one, for two compressions at once
const BK_BLOCK: usize = SCRATCH + 512; // 256: basic key as a one-block message (used by both extracts)
const P_IN: usize = SCRATCH + 768; // 128 each: 4-lane states
const P_OUT: usize = SCRATCH + 896;
const T_IN: usize = SCRATCH + 1024;
const T_OUT: usize = SCRATCH + 1152;
const PRK_P: usize = SCRATCH + 1280;
const PRK_T: usize = SCRATCH + 1408;
const K_PIN: usize = SCRATCH + 1536;
const K_TXN: usize = SCRATCH + 1664;
const PVV4: usize = SCRATCH + 1792;
const CRYPT_STATE: usize = SCRATCH + 1920;
const KEY_WORDS: usize = SCRATCH + 2048; // 128: a 4-lane key (sid)
const STORED: usize = SCRATCH + 2176; // 128: stored PVVs, 4-lane
const PAN4: usize = SCRATCH + 2304; // 4 × 16
const BK4: usize = SCRATCH + 2368; // 4 × 32
const CRYPT4: usize = SCRATCH + 2496; // 4 × 32
const AAD2: usize = SCRATCH + 2624; // 24
const STATUS4: usize = SCRATCH + 2656; // 4 × u32
const PVV_DIFF: usize = SCRATCH + 2672; // 4 × u32
const MSG: usize = SCRATCH + 2688; // 4 × 128: per-lane message bytes, two blocks per lane
// Computed once per module instance, never secret: the empty-salt HMAC pad states (broadcast to 4 lanes)
// and the 4-lane WK of the two constant blocks.
const EMPTY_IN: usize = memory.data(128, 16);
const EMPTY_OUT: usize = memory.data(128, 16);
const PIN_INFO_KW: usize = memory.data(64 * 16, 16);
const CRYPT_TAIL_KW: usize = memory.data(64 * 16, 16);
const WORDS16: usize = memory.data(64, 16);
const SCALAR_HMAC: usize = memory.data(224, 16); // HMAC_CTX
let constantsReady = false;
const KS_PAN_POLY: usize = SCRATCH + 4096; // 4 × 64: keystream blocks, lane i at + 64 i
const KS_PAN: usize = SCRATCH + 4352;
const KS_BK_POLY: usize = SCRATCH + 4608;
const KS_BK: usize = SCRATCH + 4864;
const KEYS4: usize = SCRATCH + 5120; // 128: issuer keys, 4-lane
const NONCES4: usize = SCRATCH + 5248; // 64: nonces, 4-lane

const IPAD: u32 = 0x36363636;
const OPAD: u32 = 0x5c5c5c5c;

// HMAC message lengths (after the 64-byte pad block). The lanes' messages are built for these: the txn
// info and the PVV message fit one block, the cryptogram's fills one block and a constant padding block.
const TXN_INFO_LENGTH: usize = LABEL_TXN_LENGTH + MERCHANT_LENGTH + AMOUNT_LENGTH + 1; // label ‖ merchant ‖ amount ‖ 0x01
const PVV_MSG_LENGTH: usize = PAN_LENGTH + PIN_LENGTH;
const CRYPT_MSG_LENGTH: usize = SID_LENGTH + MERCHANT_LENGTH + AMOUNT_LENGTH + PAN_LENGTH;

/** Inner and outer pad states of HMAC for four keys of `words` 32-bit words each (4-lane form at key). */
function padStatesX4(key: usize, words: usize, inner: usize, outer: usize): void {
  const ipad = i32x4.splat(IPAD);
  const opad = i32x4.splat(OPAD);
  for (let w: usize = 0; w < 16; w++) {
    const k = w < words ? v128.load(key + (w << 4)) : i32x4.splat(0);
    v128.store(BLOCK + (w << 4), v128.xor(k, ipad));
    v128.store(BLOCK_B + (w << 4), v128.xor(k, opad));
  }
  sha256x4Init(inner);
  sha256x4Init(outer);
  sha256x4Compress2(inner, BLOCK, outer, BLOCK_B);
}

/** Writes HMAC's outer block for a 32-byte inner digest: digest ‖ padding for 64 + 32 bytes. */
function outerBlock(inner: usize, block: usize): void {
  memory.copy(block, inner, 128);
  v128.store(block + 128, i32x4.splat(0x80000000));
  memory.fill(block + 144, 0, 96);
  v128.store(block + 240, i32x4.splat((64 + 32) * 8));
}

/** HMAC's outer hash: out = compress(outer, innerDigest ‖ padding for 64 + 32 bytes). */
function finishX4(inner: usize, outer: usize, out: usize): void {
  outerBlock(inner, BLOCK);
  memory.copy(out, outer, 128);
  sha256x4Compress(out, BLOCK);
}

/** Two HMAC outer hashes at once. */
function finish2X4(inner: usize, outer: usize, out: usize, innerB: usize, outerB: usize, outB: usize): void {
  outerBlock(inner, BLOCK);
  outerBlock(innerB, BLOCK_B);
  memory.copy(out, outer, 128);
  memory.copy(outB, outerB, 128);
  sha256x4Compress2(out, BLOCK, outB, BLOCK_B);
}

/** Ends each lane's message (MSG + lane*128, `len` bytes) with SHA-256 padding for 64 + len bytes in `blocks` blocks. */
function padLaneMessages(len: usize, blocks: usize): void {
  const total = blocks << 6;
  for (let l: usize = 0; l < 4; l++) {
    const m = MSG + (l << 7);
    store<u8>(m + len, 0x80);
    memory.fill(m + len + 1, 0, total - len - 9);
    store<u64>(m + total - 8, bswap<u64>(<u64>(64 + len) << 3));
  }
}

/** Block `block` (0 or 1) of every lane's message at MSG, into 4-lane form at out. */
function gatherLaneBlock(block: usize, out: usize): void {
  const at = block << 6;
  gatherWordsX4(MSG + at, MSG + 128 + at, MSG + 256 + at, MSG + 384 + at, 16, out);
}

/** The constants above, on first use. */
export function prepareDvd1x4(): void {
  if (constantsReady) return;
  constantsReady = true;
  hmacInit(SCALAR_HMAC, 0, 0);
  for (let i: usize = 0; i < 8; i++) {
    v128.store(EMPTY_IN + (i << 4), i32x4.splat(load<u32>(SCALAR_HMAC + (i << 2))));
    v128.store(EMPTY_OUT + (i << 4), i32x4.splat(load<u32>(SCALAR_HMAC + SHA256_CTX + (i << 2))));
  }
  // kPin expand's inner block: "scanpay/v1/pin" ‖ 0x01, padded for 64 + 15 bytes
  const m = MSG;
  memory.copy(m, LABEL_PIN, LABEL_PIN_LENGTH);
  store<u8>(m + LABEL_PIN_LENGTH, 1);
  store<u8>(m + LABEL_PIN_LENGTH + 1, 0x80);
  memory.fill(m + LABEL_PIN_LENGTH + 2, 0, 56 - LABEL_PIN_LENGTH - 2);
  store<u64>(m + 56, bswap<u64>(<u64>(64 + LABEL_PIN_LENGTH + 1) << 3));
  for (let i: usize = 0; i < 16; i++) store<u32>(WORDS16 + (i << 2), bswap<u32>(load<u32>(m + (i << 2))));
  scheduleConstantBlock(WORDS16, PIN_INFO_KW);
  // the cryptogram's second inner block: padding only, for 64 + 56 bytes
  memory.fill(WORDS16, 0, 64);
  store<u32>(WORDS16 + 60, (<u32>CRYPT_MSG_LENGTH + 64) * 8);
  scheduleConstantBlock(WORDS16, CRYPT_TAIL_KW);
}

/** Runs the four records at rec, rec + RECORD_SIZE, …; writes 4 cryptograms and 4 status bytes; returns how many passed. */
export function runFourRecords(rec: usize, cryptograms: usize, statuses: usize): u32 {
  const r0 = rec, r1 = rec + RECORD_SIZE, r2 = rec + 2 * RECORD_SIZE, r3 = rec + 3 * RECORD_SIZE;
  // 1. four ChaCha20 blocks per record, four records per pass: one-time Poly1305 keys (counter 0) and
  //    keystream (counter 1) for the PAN (nonce n1) and the basic key (nonce n2)
  transposeIn(r0 + KEK, r1 + KEK, r2 + KEK, r3 + KEK, 8, KEYS4);
  transposeIn(r0 + N1, r1 + N1, r2 + N1, r3 + N1, 4, NONCES4); // a 4th word is read and unused
  chachaBlockX4(KEYS4, NONCES4, 0, KS_PAN_POLY);
  chachaBlockX4(KEYS4, NONCES4, 1, KS_PAN);
  transposeIn(r0 + N2, r1 + N2, r2 + N2, r3 + N2, 4, NONCES4);
  chachaBlockX4(KEYS4, NONCES4, 0, KS_BK_POLY);
  chachaBlockX4(KEYS4, NONCES4, 1, KS_BK);
  // 2. tags (Poly1305, per record), decryption, and the checks
  for (let l: usize = 0; l < 4; l++) {
    const r = rec + l * RECORD_SIZE;
    const pan = PAN4 + (l << 4), bk = BK4 + (l << 5);
    const tag1 = r + C1 + PAN_LENGTH;
    const panTagOk = aeadVerifyWithPolyKey(KS_PAN_POLY + (l << 6), r + HDR, HDR_LENGTH, r + C1, PAN_LENGTH, tag1);
    memory.copy(AAD2, r + HDR, HDR_LENGTH);
    memory.copy(AAD2 + HDR_LENGTH, tag1, TAG_LENGTH);
    const keyTagOk = aeadVerifyWithPolyKey(KS_BK_POLY + (l << 6), AAD2, HDR_LENGTH + TAG_LENGTH, r + C2, BASIC_KEY_LENGTH, r + C2 + BASIC_KEY_LENGTH);
    v128.store(pan, v128.xor(v128.load(r + C1), v128.load(KS_PAN + (l << 6))));
    v128.store(bk, v128.xor(v128.load(r + C2), v128.load(KS_BK + (l << 6))));
    v128.store(bk, v128.xor(v128.load(r + C2, 16), v128.load(KS_BK + (l << 6), 16)), 16);
    store<u32>(STATUS4 + (l << 2), (panTagOk ^ 1) * STATUS_PAN_TAG | (keyTagOk ^ 1) * STATUS_KEY_TAG
      | (luhnCheck(pan, PAN_LENGTH) ^ 1) * STATUS_LUHN | (ctEqual(bk, r + STORED_BK, BASIC_KEY_LENGTH) ^ 1) * STATUS_BASIC_KEY);
  }

  // the basic key as a one-block HMAC message (64 + 32 bytes), used by both extracts
  gatherWordsX4(BK4, BK4 + 32, BK4 + 64, BK4 + 96, 8, BK_BLOCK);
  v128.store(BK_BLOCK + 128, i32x4.splat(0x80000000));
  memory.fill(BK_BLOCK + 144, 0, 96);
  v128.store(BK_BLOCK + 240, i32x4.splat((64 + 32) * 8));

  // 3. kPin = HKDF(bk, "", "scanpay/v1/pin") and kTxn = HKDF(bk, sid, "scanpay/v1/txn" ‖ merchant ‖ amount),
  //    the two chains side by side. Extracts: PRK_P = HMAC("", bk) (pads precomputed), PRK_T = HMAC(sid, bk).
  gatherWordsX4(r0 + SID, r1 + SID, r2 + SID, r3 + SID, 4, KEY_WORDS);
  padStatesX4(KEY_WORDS, 4, T_IN, T_OUT);
  memory.copy(P_IN, EMPTY_IN, 128);
  sha256x4Compress2(P_IN, BK_BLOCK, T_IN, BK_BLOCK);
  finish2X4(P_IN, EMPTY_OUT, PRK_P, T_IN, T_OUT, PRK_T);
  //    Expands: kPin = HMAC(PRK_P, label ‖ 1) (a constant block), kTxn = HMAC(PRK_T, label ‖ merchant ‖ amount ‖ 1).
  padStatesX4(PRK_P, 8, P_IN, P_OUT);
  padStatesX4(PRK_T, 8, T_IN, T_OUT);
  for (let l: usize = 0; l < 4; l++) {
    const m = MSG + (l << 7), r = rec + l * RECORD_SIZE;
    memory.copy(m, LABEL_TXN, LABEL_TXN_LENGTH);
    memory.copy(m + LABEL_TXN_LENGTH, r + MERCHANT, MERCHANT_LENGTH + AMOUNT_LENGTH); // contiguous in the record
    store<u8>(m + TXN_INFO_LENGTH - 1, 1);
  }
  padLaneMessages(TXN_INFO_LENGTH, 1);
  gatherLaneBlock(0, BLOCK);
  sha256x4Compress2KW(T_IN, BLOCK, P_IN, PIN_INFO_KW);
  finish2X4(P_IN, P_OUT, K_PIN, T_IN, T_OUT, K_TXN);

  // 4. PVV = HMAC(kPin, PAN ‖ PIN), beside 5. cryptogram = HMAC(kTxn, sid ‖ merchant ‖ amount ‖ PAN)
  //    (56 bytes: two inner blocks, the second constant). Lane messages: PVV's at +0, the cryptogram's at +64.
  padStatesX4(K_PIN, 8, P_IN, P_OUT);
  padStatesX4(K_TXN, 8, T_IN, T_OUT);
  for (let l: usize = 0; l < 4; l++) {
    const m = MSG + (l << 7), r = rec + l * RECORD_SIZE;
    memory.copy(m, PAN4 + (l << 4), PAN_LENGTH);
    memory.copy(m + PAN_LENGTH, r + PIN, PIN_LENGTH);
    store<u8>(m + PVV_MSG_LENGTH, 0x80);
    memory.fill(m + PVV_MSG_LENGTH + 1, 0, 56 - PVV_MSG_LENGTH - 1);
    store<u64>(m + 56, bswap<u64>(<u64>(64 + PVV_MSG_LENGTH) << 3));
    const c = m + 64; // sid ‖ merchant ‖ amount are contiguous in the record
    memory.copy(c, r + SID, SID_LENGTH + MERCHANT_LENGTH + AMOUNT_LENGTH);
    memory.copy(c + CRYPT_MSG_LENGTH - PAN_LENGTH, PAN4 + (l << 4), PAN_LENGTH);
    store<u8>(c + CRYPT_MSG_LENGTH, 0x80);
    memory.fill(c + CRYPT_MSG_LENGTH + 1, 0, 64 - CRYPT_MSG_LENGTH - 1);
  }
  gatherLaneBlock(0, BLOCK);
  gatherLaneBlock(1, BLOCK_B);
  sha256x4Compress2(P_IN, BLOCK, T_IN, BLOCK_B);
  outerBlock(P_IN, BLOCK);
  memory.copy(PVV4, P_OUT, 128);
  sha256x4Compress2KW(PVV4, BLOCK, T_IN, CRYPT_TAIL_KW);
  finishX4(T_IN, T_OUT, CRYPT_STATE);
  scatterWordsX4(CRYPT_STATE, 8, CRYPT4, CRYPT4 + 32, CRYPT4 + 64, CRYPT4 + 96);
  //    the PVVs against the stored ones, lane by lane
  gatherWordsX4(r0 + STORED_PVV, r1 + STORED_PVV, r2 + STORED_PVV, r3 + STORED_PVV, 8, STORED);
  let diff = i32x4.splat(0);
  for (let w: usize = 0; w < 8; w++) diff = v128.or(diff, v128.xor(v128.load(PVV4 + (w << 4)), v128.load(STORED + (w << 4))));

  v128.store(PVV_DIFF, diff); // lane indexes of extract_lane must be constants: read the lanes back from memory
  let passed: u32 = 0;
  for (let l: usize = 0; l < 4; l++) {
    const pvvDiff = load<u32>(PVV_DIFF + (l << 2));
    const status = load<u32>(STATUS4 + (l << 2)) | (isZero(pvvDiff) ^ 1) * STATUS_PVV;
    const keep = maskOf(isZero(status));
    const out = cryptograms + l * CRYPTOGRAM_SIZE;
    for (let j: usize = 0; j < CRYPTOGRAM_SIZE; j += 4) store<u32>(out + j, load<u32>(CRYPT4 + (l << 5) + j) & keep);
    store<u8>(statuses + l, <u8>status);
    passed += isZero(status);
  }
  return passed;
}

export function wipeDvd1x4(): void {
  memory.fill(SCRATCH, 0, SCRATCH_SIZE);
  wipeSha256x4Scratch();
}
