/** Constant-time helpers: the time taken depends on lengths only, never on the bytes compared. */

/** 1 when x is 0, else 0, without a branch. */
// @ts-ignore: decorator
@inline export function isZero(x: u32): u32 {
  return ((x - 1) & ~x) >>> 31;
}

/** All-ones when bit is 1, zero when bit is 0 (bit must be 0 or 1). */
// @ts-ignore: decorator
@inline export function maskOf(bit: u32): u32 {
  return 0 - bit;
}

/** 1 when the `len` bytes at a and b are equal, else 0. */
export function ctEqual(a: usize, b: usize, len: usize): u32 {
  let diff: u32 = 0;
  let i: usize = 0;
  for (; i + 8 <= len; i += 8) {
    const x = load<u64>(a + i) ^ load<u64>(b + i);
    diff |= <u32>x | <u32>(x >>> 32);
  }
  for (; i < len; i++) diff |= load<u8>(a + i) ^ load<u8>(b + i);
  return isZero(diff);
}
