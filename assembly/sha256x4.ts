/**
 * SHA-256 (FIPS 180-4 §6.2) four messages at a time: lane i of every v128 belongs to message i
 * ("multi-buffer" SIMD). A 4-lane state is 8 v128 (H0..H7), a 4-lane block 16 v128 (W0..W15, already
 * as big-endian-decoded words). Used where four records hash messages of the same length in lockstep.
 * The scalar sha256.ts is the reference it is tested against.
 */
import { IV, K } from './sha256';
import { transposeIn } from './lanes';

export const STATE_X4: usize = 128;
export const BLOCK_X4: usize = 256;


// Message schedule, 64 × v128; wiped by wipeSha256x4Scratch().
const W: usize = memory.data(64 * 16, 16);
const WK: usize = memory.data(64 * 16, 16);
const SCHEDULE: usize = memory.data(64 * 4); // scalar schedule of a constant block (not secret)

// @ts-ignore: decorator
@inline function rotr4(x: v128, n: i32): v128 {
  return v128.or(i32x4.shr_u(x, n), i32x4.shl(x, 32 - n));
}

/** Four states set to the SHA-256 initial value. */
export function sha256x4Init(state: usize): void {
  for (let i: usize = 0; i < 8; i++) v128.store(state + (i << 4), i32x4.splat(load<u32>(IV + (i << 2))));
}

/** Four independent compressions: state[lane] ← compress(state[lane], block[lane]). */
export function sha256x4Compress(state: usize, block: usize): void {
  // message schedule, with K[i] folded in (WK[i] = W[i] + K[i]) so the rounds read one value
  for (let i: usize = 0; i < 16; i++) {
    const w = v128.load(block + (i << 4));
    v128.store(W + (i << 4), w);
    v128.store(WK + (i << 4), i32x4.add(w, i32x4.splat(load<u32>(K + (i << 2)))));
  }
  for (let i: usize = 16; i < 64; i++) {
    const w15 = v128.load(W + ((i - 15) << 4));
    const w2 = v128.load(W + ((i - 2) << 4));
    const s0 = v128.xor(v128.xor(rotr4(w15, 7), rotr4(w15, 18)), i32x4.shr_u(w15, 3));
    const s1 = v128.xor(v128.xor(rotr4(w2, 17), rotr4(w2, 19)), i32x4.shr_u(w2, 10));
    const w = i32x4.add(i32x4.add(v128.load(W + ((i - 16) << 4)), s0), i32x4.add(v128.load(W + ((i - 7) << 4)), s1));
    v128.store(W + (i << 4), w);
    v128.store(WK + (i << 4), i32x4.add(w, i32x4.splat(load<u32>(K + (i << 2)))));
  }
  sha256x4Rounds(state, WK);
}

/**
 * The 64 rounds over a prepared WK (4-lane W[i] + K[i]), added into the state. (Unrolling by 8 measured
 * no faster in V8: the register allocator already renames the moves away.)
 */
function sha256x4Rounds(state: usize, wk: usize): void {
  let a = v128.load(state), b = v128.load(state, 16), c = v128.load(state, 32), d = v128.load(state, 48);
  let e = v128.load(state, 64), f = v128.load(state, 80), g = v128.load(state, 96), h = v128.load(state, 112);
  for (let i: usize = 0; i < 64; i++) {
    const t1 = i32x4.add(i32x4.add(i32x4.add(h, v128.xor(v128.xor(rotr4(e, 6), rotr4(e, 11)), rotr4(e, 25))), v128.bitselect(f, g, e)), v128.load(wk + (i << 4)));
    const t2 = i32x4.add(v128.xor(v128.xor(rotr4(a, 2), rotr4(a, 13)), rotr4(a, 22)), v128.bitselect(b, a, v128.xor(a, c)));
    h = g; g = f; f = e; e = i32x4.add(d, t1);
    d = c; c = b; b = a; a = i32x4.add(t1, t2);
  }
  v128.store(state, i32x4.add(v128.load(state), a));
  v128.store(state, i32x4.add(v128.load(state, 16), b), 16);
  v128.store(state, i32x4.add(v128.load(state, 32), c), 32);
  v128.store(state, i32x4.add(v128.load(state, 48), d), 48);
  v128.store(state, i32x4.add(v128.load(state, 64), e), 64);
  v128.store(state, i32x4.add(v128.load(state, 80), f), 80);
  v128.store(state, i32x4.add(v128.load(state, 96), g), 96);
  v128.store(state, i32x4.add(v128.load(state, 112), h), 112);
}

/** Byte-swaps each 32-bit lane: big-endian message bytes ↔ SHA-256 words. */
// @ts-ignore: decorator
@inline export function bswap32x4(v: v128): v128 {
  return v128.shuffle<u8>(v, v, 3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12);
}

/**
 * Reads `words` (a multiple of 4) big-endian words of four lanes — lane i's bytes at src[i] — into
 * 4-lane form at out (word w of every lane in one v128).
 */
export function gatherWordsX4(src0: usize, src1: usize, src2: usize, src3: usize, words: usize, out: usize): void {
  transposeIn(src0, src1, src2, src3, words, out);
  for (let w: usize = 0; w < words; w++) v128.store(out + (w << 4), bswap32x4(v128.load(out + (w << 4))));
}

/** The inverse of gatherWordsX4: 4-lane words → each lane's big-endian bytes at dst[i]. */
export function scatterWordsX4(src: usize, words: usize, dst0: usize, dst1: usize, dst2: usize, dst3: usize): void {
  for (let q: usize = 0; q < words; q += 4) {
    const r0 = v128.load(src + (q << 4)), r1 = v128.load(src + (q << 4) + 16);
    const r2 = v128.load(src + (q << 4) + 32), r3 = v128.load(src + (q << 4) + 48);
    const t0 = v128.shuffle<u32>(r0, r1, 0, 4, 1, 5);
    const t1 = v128.shuffle<u32>(r0, r1, 2, 6, 3, 7);
    const t2 = v128.shuffle<u32>(r2, r3, 0, 4, 1, 5);
    const t3 = v128.shuffle<u32>(r2, r3, 2, 6, 3, 7);
    v128.store(dst0 + (q << 2), bswap32x4(v128.shuffle<u64>(t0, t2, 0, 2)));
    v128.store(dst1 + (q << 2), bswap32x4(v128.shuffle<u64>(t0, t2, 1, 3)));
    v128.store(dst2 + (q << 2), bswap32x4(v128.shuffle<u64>(t1, t3, 0, 2)));
    v128.store(dst3 + (q << 2), bswap32x4(v128.shuffle<u64>(t1, t3, 1, 3)));
  }
}

export function wipeSha256x4Scratch(): void {
  memory.fill(W, 0, 64 * 16);
  memory.fill(WK, 0, 64 * 16);
}

/**
 * Precomputes WK (4-lane K[i] + W[i], 64 × v128) for a block that is the same in every lane and every
 * call (padding-only blocks, constant labels): its schedule is then paid once, not per compression.
 */
export function scheduleConstantBlock(words: usize /* 16 u32 */, wk: usize /* 64 × v128 out */): void {
  const w = SCHEDULE;
  for (let i: usize = 0; i < 16; i++) store<u32>(w + (i << 2), load<u32>(words + (i << 2)));
  for (let i: usize = 16; i < 64; i++) {
    const w15 = load<u32>(w + ((i - 15) << 2));
    const w2 = load<u32>(w + ((i - 2) << 2));
    const s0 = rotr<u32>(w15, 7) ^ rotr<u32>(w15, 18) ^ (w15 >>> 3);
    const s1 = rotr<u32>(w2, 17) ^ rotr<u32>(w2, 19) ^ (w2 >>> 10);
    store<u32>(w + (i << 2), load<u32>(w + ((i - 16) << 2)) + s0 + load<u32>(w + ((i - 7) << 2)) + s1);
  }
  for (let i: usize = 0; i < 64; i++) v128.store(wk + (i << 4), i32x4.splat(load<u32>(K + (i << 2)) + load<u32>(w + (i << 2))));
}

/** Four compressions of one constant block whose WK was precomputed by scheduleConstantBlock. */
export function sha256x4CompressKW(state: usize, wk: usize): void {
  sha256x4Rounds(state, wk);
}
