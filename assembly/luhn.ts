/**
 * Luhn check (ISO/IEC 7812-1 Annex B) over ASCII digits, branch-free in the digits:
 * digit validity, doubling and the final mod 10 are arithmetic and masks. Only the length branches.
 */
import { isZero } from './ct';

/** 1 when the `len` ASCII bytes at p are all digits, len ≥ 2, and the Luhn sum is ≡ 0 (mod 10). */
export function luhnCheck(p: usize, len: usize): u32 {
  if (len < 2) return 0;
  let sum: u32 = 0;
  let bad: u32 = 0;
  for (let i: usize = 0; i < len; i++) {
    const d = <i32>load<u8>(p + len - 1 - i) - 48;
    bad |= <u32>(d | (9 - d)) >>> 31; // 1 unless 0 ≤ d ≤ 9
    const doubled = d << 1;
    const folded = doubled - 9 * <i32>(<u32>(9 - doubled) >>> 31); // 2d − 9 when 2d > 9
    sum += <u32>((i & 1) ? folded : d); // position parity is public
  }
  // sum mod 10 via a multiply-shift reciprocal, exact for every u32 (no division instruction).
  const rem = sum - <u32>((<u64>sum * 0xcccccccd) >> 35) * 10;
  return isZero(rem) & (bad ^ 1);
}
