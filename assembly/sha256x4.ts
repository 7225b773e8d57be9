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


// Message schedules, 64 × v128 each; wiped by wipeSha256x4Scratch().
const W: usize = memory.data(64 * 16, 16);
const W_B: usize = memory.data(64 * 16, 16);
const WK_B: usize = memory.data(64 * 16, 16);
const SCHEDULE: usize = memory.data(64 * 4); // scalar schedule of a constant block (not secret)

// @ts-ignore: decorator
@inline function rotr4(x: v128, n: i32): v128 {
  return v128.or(i32x4.shr_u(x, n), i32x4.shl(x, 32 - n));
}

/** Four states set to the SHA-256 initial value. */
export function sha256x4Init(state: usize): void {
  for (let i: usize = 0; i < 8; i++) v128.store(state + (i << 4), i32x4.splat(load<u32>(IV + (i << 2))));
}

/** W[i] for 16 ≤ i < 64 from the earlier words of the schedule at w (FIPS 180-4 §6.2.2 step 1). */
// @ts-ignore: decorator
@inline function expand(w: usize, i: usize): v128 {
  const w15 = v128.load(w + ((i - 15) << 4)), w2 = v128.load(w + ((i - 2) << 4));
  const s0 = v128.xor(v128.xor(rotr4(w15, 7), rotr4(w15, 18)), i32x4.shr_u(w15, 3));
  const s1 = v128.xor(v128.xor(rotr4(w2, 17), rotr4(w2, 19)), i32x4.shr_u(w2, 10));
  return i32x4.add(i32x4.add(v128.load(w + ((i - 16) << 4)), s0), i32x4.add(v128.load(w + ((i - 7) << 4)), s1));
}

/** K[i], in every lane. */
// @ts-ignore: decorator
@inline function k4(i: usize): v128 {
  return i32x4.splat(load<u32>(K + (i << 2)));
}

/**
 * T1 = h + Σ1(e) + Ch(e, f, g) + K[i] + W[i], with hk = h + K[i] + W[i]. The sum is ordered so that the
 * terms that do not depend on this round's e are added first: the e → e chain stays short.
 */
// @ts-ignore: decorator
@inline function t1x4(hk: v128, e: v128, f: v128, g: v128): v128 {
  return i32x4.add(i32x4.add(hk, v128.bitselect(f, g, e)), v128.xor(v128.xor(rotr4(e, 6), rotr4(e, 11)), rotr4(e, 25)));
}

/** T2 = Σ0(a) + Maj(a, b, c), with Maj = b ^ ((a ^ b) & (b ^ c)): a ^ b is the next round's b ^ c. */
// @ts-ignore: decorator
@inline function t2x4(a: v128, b: v128, ab: v128, bc: v128): v128 {
  return i32x4.add(v128.xor(v128.xor(rotr4(a, 2), rotr4(a, 13)), rotr4(a, 22)), v128.xor(b, v128.and(ab, bc)));
}

// @ts-ignore: decorator
@inline function addState(state: usize, a: v128, b: v128, c: v128, d: v128, e: v128, f: v128, g: v128, h: v128): void {
  v128.store(state, i32x4.add(v128.load(state), a));
  v128.store(state, i32x4.add(v128.load(state, 16), b), 16);
  v128.store(state, i32x4.add(v128.load(state, 32), c), 32);
  v128.store(state, i32x4.add(v128.load(state, 48), d), 48);
  v128.store(state, i32x4.add(v128.load(state, 64), e), 64);
  v128.store(state, i32x4.add(v128.load(state, 80), f), 80);
  v128.store(state, i32x4.add(v128.load(state, 96), g), 96);
  v128.store(state, i32x4.add(v128.load(state, 112), h), 112);
}

/**
 * Four independent compressions: state[lane] ← compress(state[lane], block[lane]). The schedule is
 * expanded inside the rounds (its work fills the gaps of the rounds' dependency chain).
 */
export function sha256x4Compress(state: usize, block: usize): void {
  let a = v128.load(state), b = v128.load(state, 16), c = v128.load(state, 32), d = v128.load(state, 48);
  let e = v128.load(state, 64), f = v128.load(state, 80), g = v128.load(state, 96), h = v128.load(state, 112);
  let bc = v128.xor(b, c);
  for (let i: usize = 0; i < 16; i++) {
    const w = v128.load(block + (i << 4));
    v128.store(W + (i << 4), w);
    const t1 = t1x4(i32x4.add(i32x4.add(h, w), k4(i)), e, f, g);
    const ab = v128.xor(a, b);
    const t2 = t2x4(a, b, ab, bc);
    bc = ab;
    h = g; g = f; f = e; e = i32x4.add(d, t1);
    d = c; c = b; b = a; a = i32x4.add(t1, t2);
  }
  for (let i: usize = 16; i < 64; i++) {
    const w = expand(W, i);
    v128.store(W + (i << 4), w);
    const t1 = t1x4(i32x4.add(i32x4.add(h, w), k4(i)), e, f, g);
    const ab = v128.xor(a, b);
    const t2 = t2x4(a, b, ab, bc);
    bc = ab;
    h = g; g = f; f = e; e = i32x4.add(d, t1);
    d = c; c = b; b = a; a = i32x4.add(t1, t2);
  }
  addState(state, a, b, c, d, e, f, g, h);
}

/**
 * Two independent 4-lane compressions in one loop, A of a block and B of a precomputed WK (4-lane
 * W[i] + K[i]); the CPU overlaps the two dependency chains. Same results as two single compressions.
 */
export function sha256x4Compress2KW(state: usize, block: usize, stateB: usize, wkB: usize): void {
  let a = v128.load(state), b = v128.load(state, 16), c = v128.load(state, 32), d = v128.load(state, 48);
  let e = v128.load(state, 64), f = v128.load(state, 80), g = v128.load(state, 96), h = v128.load(state, 112);
  let A = v128.load(stateB), B = v128.load(stateB, 16), C = v128.load(stateB, 32), D = v128.load(stateB, 48);
  let E = v128.load(stateB, 64), F = v128.load(stateB, 80), G = v128.load(stateB, 96), H = v128.load(stateB, 112);
  let bc = v128.xor(b, c), BC = v128.xor(B, C);
  for (let i: usize = 0; i < 16; i++) {
    const w = v128.load(block + (i << 4));
    v128.store(W + (i << 4), w);
    const t1 = t1x4(i32x4.add(i32x4.add(h, w), k4(i)), e, f, g);
    const T1 = t1x4(i32x4.add(H, v128.load(wkB + (i << 4))), E, F, G);
    const ab = v128.xor(a, b), AB = v128.xor(A, B);
    const t2 = t2x4(a, b, ab, bc), T2 = t2x4(A, B, AB, BC);
    bc = ab; BC = AB;
    h = g; g = f; f = e; e = i32x4.add(d, t1);
    d = c; c = b; b = a; a = i32x4.add(t1, t2);
    H = G; G = F; F = E; E = i32x4.add(D, T1);
    D = C; C = B; B = A; A = i32x4.add(T1, T2);
  }
  for (let i: usize = 16; i < 64; i++) {
    const w = expand(W, i);
    v128.store(W + (i << 4), w);
    const t1 = t1x4(i32x4.add(i32x4.add(h, w), k4(i)), e, f, g);
    const T1 = t1x4(i32x4.add(H, v128.load(wkB + (i << 4))), E, F, G);
    const ab = v128.xor(a, b), AB = v128.xor(A, B);
    const t2 = t2x4(a, b, ab, bc), T2 = t2x4(A, B, AB, BC);
    bc = ab; BC = AB;
    h = g; g = f; f = e; e = i32x4.add(d, t1);
    d = c; c = b; b = a; a = i32x4.add(t1, t2);
    H = G; G = F; F = E; E = i32x4.add(D, T1);
    D = C; C = B; B = A; A = i32x4.add(T1, T2);
  }
  addState(state, a, b, c, d, e, f, g, h);
  addState(stateB, A, B, C, D, E, F, G, H);
}

/** Two independent 4-lane compressions at once, each of its own block. */
export function sha256x4Compress2(state: usize, block: usize, stateB: usize, blockB: usize): void {
  for (let i: usize = 0; i < 16; i++) {
    const w = v128.load(blockB + (i << 4));
    v128.store(W_B + (i << 4), w);
    v128.store(WK_B + (i << 4), i32x4.add(w, k4(i)));
  }
  for (let i: usize = 16; i < 64; i++) {
    const w = expand(W_B, i);
    v128.store(W_B + (i << 4), w);
    v128.store(WK_B + (i << 4), i32x4.add(w, k4(i)));
  }
  sha256x4Compress2KW(state, block, stateB, WK_B);
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
  memory.fill(W_B, 0, 64 * 16);
  memory.fill(WK_B, 0, 64 * 16);
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

