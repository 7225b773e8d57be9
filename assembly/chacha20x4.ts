/**
 * ChaCha20 block function (RFC 8439 §2.3) for four (key, nonce) pairs at once: lane i of every v128 is
 * block i. Rotations by 16 and 8 are byte shuffles; by 12 and 7, shift-shift-or. chacha20.ts is the
 * scalar reference.
 */
import { transposeIn } from './lanes';

// @ts-ignore: decorator
@inline function rotl(x: v128, n: i32): v128 {
  return v128.or(i32x4.shl(x, n), i32x4.shr_u(x, 32 - n));
}

// @ts-ignore: decorator
@inline function rotl16(x: v128): v128 {
  return v128.shuffle<u8>(x, x, 2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13);
}

// @ts-ignore: decorator
@inline function rotl8(x: v128): v128 {
  return v128.shuffle<u8>(x, x, 3, 0, 1, 2, 7, 4, 5, 6, 11, 8, 9, 10, 15, 12, 13, 14);
}

/**
 * Four keystream blocks: key words at keys (8 × v128), nonce words at nonces (3 × v128, 4-lane form),
 * one counter for all lanes. Writes lane i's 64-byte block to out + 64 i.
 */
export function chachaBlockX4(keys: usize, nonces: usize, counter: u32, out: usize): void {
  const c0 = i32x4.splat(0x61707865), c1 = i32x4.splat(0x3320646e), c2 = i32x4.splat(0x79622d32), c3 = i32x4.splat(0x6b206574);
  const k0 = v128.load(keys), k1 = v128.load(keys, 16), k2 = v128.load(keys, 32), k3 = v128.load(keys, 48);
  const k4 = v128.load(keys, 64), k5 = v128.load(keys, 80), k6 = v128.load(keys, 96), k7 = v128.load(keys, 112);
  const ctr = i32x4.splat(counter);
  const n0 = v128.load(nonces), n1 = v128.load(nonces, 16), n2 = v128.load(nonces, 32);
  let x0 = c0, x1 = c1, x2 = c2, x3 = c3, x4 = k0, x5 = k1, x6 = k2, x7 = k3;
  let x8 = k4, x9 = k5, x10 = k6, x11 = k7, x12 = ctr, x13 = n0, x14 = n1, x15 = n2;
  for (let round = 0; round < 10; round++) {
    x0 = i32x4.add(x0, x4); x12 = rotl16(v128.xor(x12, x0)); x8 = i32x4.add(x8, x12); x4 = rotl(v128.xor(x4, x8), 12);
    x0 = i32x4.add(x0, x4); x12 = rotl8(v128.xor(x12, x0)); x8 = i32x4.add(x8, x12); x4 = rotl(v128.xor(x4, x8), 7);
    x1 = i32x4.add(x1, x5); x13 = rotl16(v128.xor(x13, x1)); x9 = i32x4.add(x9, x13); x5 = rotl(v128.xor(x5, x9), 12);
    x1 = i32x4.add(x1, x5); x13 = rotl8(v128.xor(x13, x1)); x9 = i32x4.add(x9, x13); x5 = rotl(v128.xor(x5, x9), 7);
    x2 = i32x4.add(x2, x6); x14 = rotl16(v128.xor(x14, x2)); x10 = i32x4.add(x10, x14); x6 = rotl(v128.xor(x6, x10), 12);
    x2 = i32x4.add(x2, x6); x14 = rotl8(v128.xor(x14, x2)); x10 = i32x4.add(x10, x14); x6 = rotl(v128.xor(x6, x10), 7);
    x3 = i32x4.add(x3, x7); x15 = rotl16(v128.xor(x15, x3)); x11 = i32x4.add(x11, x15); x7 = rotl(v128.xor(x7, x11), 12);
    x3 = i32x4.add(x3, x7); x15 = rotl8(v128.xor(x15, x3)); x11 = i32x4.add(x11, x15); x7 = rotl(v128.xor(x7, x11), 7);
    x0 = i32x4.add(x0, x5); x15 = rotl16(v128.xor(x15, x0)); x10 = i32x4.add(x10, x15); x5 = rotl(v128.xor(x5, x10), 12);
    x0 = i32x4.add(x0, x5); x15 = rotl8(v128.xor(x15, x0)); x10 = i32x4.add(x10, x15); x5 = rotl(v128.xor(x5, x10), 7);
    x1 = i32x4.add(x1, x6); x12 = rotl16(v128.xor(x12, x1)); x11 = i32x4.add(x11, x12); x6 = rotl(v128.xor(x6, x11), 12);
    x1 = i32x4.add(x1, x6); x12 = rotl8(v128.xor(x12, x1)); x11 = i32x4.add(x11, x12); x6 = rotl(v128.xor(x6, x11), 7);
    x2 = i32x4.add(x2, x7); x13 = rotl16(v128.xor(x13, x2)); x8 = i32x4.add(x8, x13); x7 = rotl(v128.xor(x7, x8), 12);
    x2 = i32x4.add(x2, x7); x13 = rotl8(v128.xor(x13, x2)); x8 = i32x4.add(x8, x13); x7 = rotl(v128.xor(x7, x8), 7);
    x3 = i32x4.add(x3, x4); x14 = rotl16(v128.xor(x14, x3)); x9 = i32x4.add(x9, x14); x4 = rotl(v128.xor(x4, x9), 12);
    x3 = i32x4.add(x3, x4); x14 = rotl8(v128.xor(x14, x3)); x9 = i32x4.add(x9, x14); x4 = rotl(v128.xor(x4, x9), 7);
  }
  x0 = i32x4.add(x0, c0); x1 = i32x4.add(x1, c1); x2 = i32x4.add(x2, c2); x3 = i32x4.add(x3, c3);
  x4 = i32x4.add(x4, k0); x5 = i32x4.add(x5, k1); x6 = i32x4.add(x6, k2); x7 = i32x4.add(x7, k3);
  x8 = i32x4.add(x8, k4); x9 = i32x4.add(x9, k5); x10 = i32x4.add(x10, k6); x11 = i32x4.add(x11, k7);
  x12 = i32x4.add(x12, ctr); x13 = i32x4.add(x13, n0); x14 = i32x4.add(x14, n1); x15 = i32x4.add(x15, n2);
  transposeOut(x0, x1, x2, x3, out);
  transposeOut(x4, x5, x6, x7, out + 16);
  transposeOut(x8, x9, x10, x11, out + 32);
  transposeOut(x12, x13, x14, x15, out + 48);
}

/** Words w..w+3 of four lanes → 16 bytes at out + 64 i for lane i. */
// @ts-ignore: decorator
@inline function transposeOut(a: v128, b: v128, c: v128, d: v128, out: usize): void {
  const t0 = v128.shuffle<u32>(a, b, 0, 4, 1, 5);
  const t1 = v128.shuffle<u32>(a, b, 2, 6, 3, 7);
  const t2 = v128.shuffle<u32>(c, d, 0, 4, 1, 5);
  const t3 = v128.shuffle<u32>(c, d, 2, 6, 3, 7);
  v128.store(out, v128.shuffle<u64>(t0, t2, 0, 2));
  v128.store(out + 64, v128.shuffle<u64>(t0, t2, 1, 3));
  v128.store(out + 128, v128.shuffle<u64>(t1, t3, 0, 2));
  v128.store(out + 192, v128.shuffle<u64>(t1, t3, 1, 3));
}
