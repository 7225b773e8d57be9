/**
 * Scalars modulo L = 2^252 + 27742317777372353535851937790883648493, the order of edwards25519's
 * prime subgroup (RFC 8032 §5.1), as Ed25519 verification needs them: the range check on S
 * (§5.1.7 step 1), the reduction of the 64-byte challenge hash (§5.1.7 step 2), and the signed-digit
 * recoding the double-scalar multiplication runs on.
 *
 * Scalars are 32 little-endian bytes in memory. All inputs are public (signature and hash): these
 * routines branch on them and are not constant time.
 */

// L as four little-endian u64 words.
const L0: u64 = 0x5812631a5cf5d3ed, L1: u64 = 0x14def9dea2f79cd6, L2: u64 = 0, L3: u64 = 0x1000000000000000;

/** S < L for the 32 little-endian bytes at s (RFC 8032 §5.1.7: "If S ≥ L, reject"; no reduction). */
export function scalarIsCanonical(s: usize): bool {
  const s0 = load<u64>(s), s1 = load<u64>(s, 8), s2 = load<u64>(s, 16), s3 = load<u64>(s, 24);
  if (s3 != L3) return s3 < L3;
  if (s2 != L2) return s2 < L2;
  if (s1 != L1) return s1 < L1;
  return s0 < L0;
}

/**
 * out = x mod L for the 64 little-endian bytes at x, as 32 bytes: binary long division. The top 252
 * bits are already below L; each remaining bit doubles the remainder, adds the bit and subtracts L
 * once if the result is ≥ L (it is then < 2L < 2^254, four words). Runs once per verification.
 */
export function scalarReduce512(out: usize, x: usize): void {
  // r = x >> 260: bytes 32..63 shifted right by 4 bits
  let r0 = (load<u64>(x, 32) >>> 4) | (load<u64>(x, 40) << 60);
  let r1 = (load<u64>(x, 40) >>> 4) | (load<u64>(x, 48) << 60);
  let r2 = (load<u64>(x, 48) >>> 4) | (load<u64>(x, 56) << 60);
  let r3 = load<u64>(x, 56) >>> 4;
  for (let i = 259; i >= 0; i--) {
    const bit = <u64>((load<u8>(x + <usize>(i >> 3)) >> <u8>(i & 7)) & 1);
    r3 = (r3 << 1) | (r2 >>> 63);
    r2 = (r2 << 1) | (r1 >>> 63);
    r1 = (r1 << 1) | (r0 >>> 63);
    r0 = (r0 << 1) | bit;
    // d = r − L with a borrow chain; keep d when nothing was borrowed out of the top word
    const d0 = r0 - L0;
    let borrow = <u64>(r0 < L0);
    const d1 = r1 - L1 - borrow;
    borrow = <u64>(r1 < L1 || (r1 == L1 && borrow == 1));
    const d2 = r2 - L2 - borrow;
    borrow = <u64>(r2 < L2 || (r2 == L2 && borrow == 1));
    const d3 = r3 - L3 - borrow;
    borrow = <u64>(r3 < L3 || (r3 == L3 && borrow == 1));
    if (borrow == 0) {
      r0 = d0; r1 = d1; r2 = d2; r3 = d3;
    }
  }
  store<u64>(out, r0);
  store<u64>(out, r1, 8);
  store<u64>(out, r2, 16);
  store<u64>(out, r3, 24);
}

export const NAF_DIGITS: usize = 256;

/**
 * Width-5 non-adjacent form of the scalar at s (< 2^253): 256 signed digits (i8) at naf, least
 * significant first, each 0 or odd in [−15, 15], with Σ nafᵢ·2^i = s and at least four zeros after
 * every non-zero digit. Textbook recoding: while the remainder is odd, take its signed residue mod 32
 * as the digit and subtract it (leaving a multiple of 32); then halve.
 */
export function scalarToNaf5(naf: usize, s: usize): void {
  // the remainder, in four words: below 2^253 + 16, so the carries below never leave k3
  let k0 = load<u64>(s), k1 = load<u64>(s, 8), k2 = load<u64>(s, 16), k3 = load<u64>(s, 24);
  for (let i: usize = 0; i < NAF_DIGITS; i++) {
    let digit: i32 = 0;
    if ((k0 & 1) == 1) {
      digit = <i32>(k0 & 31);
      if (digit > 15) digit -= 32;
      if (digit > 0) {
        k0 -= <u64>digit; // k0's low five bits are the digit: no borrow
      } else {
        const before = k0;
        k0 += <u64>(-digit);
        if (k0 < before) { // carry into the higher words
          k1++;
          if (k1 == 0) { k2++; if (k2 == 0) k3++; }
        }
      }
    }
    store<i8>(naf + i, <i8>digit);
    k0 = (k0 >>> 1) | (k1 << 63);
    k1 = (k1 >>> 1) | (k2 << 63);
    k2 = (k2 >>> 1) | (k3 << 63);
    k3 >>>= 1;
  }
}
