/**
 * The group edwards25519 (RFC 8032 §5.1): points (x, y) on −x² + y² = 1 + d·x²·y² over GF(2^255 − 19),
 * as Ed25519 verification needs them: decoding with RFC 8032 §5.1.3's checks, addition and doubling
 * in extended coordinates, and the double-scalar multiplication [a]P + [b]Q over width-5 NAF digits.
 *
 * A point is POINT bytes, four field elements (X : Y : Z : T) with x = X/Z, y = Y/Z, x·y = T/Z
 * (Hisil, Wong, Carter, Dawson, "Twisted Edwards curves revisited", 2008). A cached point, the form
 * an addition reads its second operand in, is (Y + X, Y − X, Z, 2d·T), also POINT bytes. The addition
 * formula (add-2008-hwcd-3, a = −1) is complete on this curve (d is not a square): it needs no special
 * case for doubling, the identity or points of small order. Points are public (decoded from a public
 * key and a signature): nothing here is constant time.
 */
import {
  FE, ONE, D, D2, SQRT_M1, feAdd, feSub, feNeg, feMul, feSq, feCopy, feCarry, feOne, feZero,
  fePow22523, feFromBytes, feToBytes, feIsZero, feEqual, feIsOdd,
} from './field25519';
import { NAF_DIGITS } from './scalar25519';

export const POINT: usize = 4 * FE;
const X: usize = 0, Y: usize = FE, Z: usize = 2 * FE, T: usize = 3 * FE;
const YPX: usize = 0, YMX: usize = FE, T2D: usize = 3 * FE; // cached form; Z at the same place
/** Entries of an odd-multiples table: P, 3P, 5P, …, 15P, cached (the NAF digits' magnitudes). */
export const TABLE_ENTRIES: usize = 8;
export const TABLE_SIZE: usize = TABLE_ENTRIES * POINT;

// Scratch: the formulas' field temporaries, one encoding, two points; wiped by wipeEdwardsScratch().
const SCRATCH_SIZE: usize = 8 * FE + 32 + 2 * POINT;
const SCRATCH: usize = memory.data(<i32>SCRATCH_SIZE);
const TA: usize = SCRATCH, TB: usize = SCRATCH + FE, TC: usize = SCRATCH + 2 * FE, TD: usize = SCRATCH + 3 * FE;
const TE: usize = SCRATCH + 4 * FE, TF: usize = SCRATCH + 5 * FE, TG: usize = SCRATCH + 6 * FE, TH: usize = SCRATCH + 7 * FE;
const ENCODED: usize = SCRATCH + 8 * FE;
const SUM: usize = ENCODED + 32; // a point
const TWICE: usize = SUM + POINT; // a cached point

export function pointIdentity(p: usize): void {
  feZero(p + X);
  feOne(p + Y);
  feOne(p + Z);
  feZero(p + T);
}

/**
 * Decodes the 32 bytes at s into p (RFC 8032 §5.1.3); false, with p undefined, when they encode no
 * point: y ≥ p (non-canonical), x² = (y² − 1)/(d·y² + 1) has no root, or x = 0 with the sign bit set.
 */
export function pointDecode(p: usize, s: usize): bool {
  const x = p + X, y = p + Y;
  // 1. y is the low 255 bits, and must be below p: its canonical encoding is the input with bit 255 cleared
  feFromBytes(y, s);
  feToBytes(ENCODED, y);
  for (let i: usize = 0; i < 31; i++) if (load<u8>(ENCODED + i) != load<u8>(s + i)) return false;
  if (load<u8>(ENCODED + 31) != (load<u8>(s + 31) & 0x7f)) return false;
  feCarry(y, y);
  // 2. u = y² − 1, v = d·y² + 1; candidate root x = u·v³·(u·v⁷)^((p−5)/8)
  const u = TA, v = TB, v3 = TC, check = TD;
  feSq(u, y);
  feMul(v, u, D);
  feSub(u, u, ONE);
  feAdd(v, v, ONE);
  feSq(v3, v);
  feMul(v3, v3, v);
  feSq(x, v3);
  feMul(x, x, v);
  feMul(x, x, u);
  fePow22523(x, x);
  feMul(x, x, v3);
  feMul(x, x, u);
  // 3. v·x² = u: x is a root; v·x² = −u: x·√−1 is; otherwise there is none
  feSq(check, x);
  feMul(check, check, v);
  if (!feEqual(check, u)) {
    feAdd(check, check, u);
    if (!feIsZero(check)) return false;
    feMul(x, x, SQRT_M1);
  }
  // 4. the sign bit picks x or −x; x = 0 has no negative
  const sign = (load<u8>(s + 31) >> 7) == 1;
  if (sign && feIsZero(x)) return false;
  if (feIsOdd(x) != sign) feNeg(x, x);
  feOne(p + Z);
  feMul(p + T, x, y);
  return true;
}

/** p = −p: (X, Y, Z, T) → (−X, Y, Z, −T). */
export function pointNegate(p: usize): void {
  feNeg(p + X, p + X);
  feNeg(p + T, p + T);
}

export function pointToCached(c: usize, p: usize): void {
  feAdd(c + YPX, p + Y, p + X);
  feSub(c + YMX, p + Y, p + X);
  feCopy(c + Z, p + Z);
  feMul(c + T2D, p + T, D2);
}

/** r = p + q, or p − q when `subtract`; q cached. r may be p. (add-2008-hwcd-3; −q swaps Y ± X and negates 2d·T.) */
export function pointAdd(r: usize, p: usize, q: usize, subtract: bool): void {
  const a = TA, b = TB, c = TC, d = TD, e = TE, f = TF, g = TG, h = TH;
  feSub(e, p + Y, p + X);
  feAdd(f, p + Y, p + X);
  feMul(a, e, q + (subtract ? YPX : YMX)); // A = (Y1 − X1)·(Y2 − X2)
  feMul(b, f, q + (subtract ? YMX : YPX)); // B = (Y1 + X1)·(Y2 + X2)
  feMul(c, p + T, q + T2D);                // C = T1·2d·T2
  if (subtract) feNeg(c, c);
  feMul(d, p + Z, q + Z);
  feAdd(d, d, d);                          // D = 2·Z1·Z2
  feSub(e, b, a);                          // E = B − A
  feSub(f, d, c);                          // F = D − C
  feAdd(g, d, c);                          // G = D + C
  feAdd(h, b, a);                          // H = B + A
  feMul(r + X, e, f);
  feMul(r + Y, g, h);
  feMul(r + T, e, h);
  feMul(r + Z, f, g);
}

/** r = 2p; T is computed only when `withT` (an addition reads it; a doubling does not). r may be p. (dbl-2008-hwcd, a = −1) */
export function pointDouble(r: usize, p: usize, withT: bool): void {
  const a = TA, b = TB, c = TC, e = TE, f = TF, g = TG, h = TH;
  feSq(a, p + X);                          // A = X1²
  feSq(b, p + Y);                          // B = Y1²
  feSq(c, p + Z);
  feAdd(c, c, c);                          // C = 2·Z1²
  feAdd(e, p + X, p + Y);
  feSq(e, e);
  feSub(e, e, a);
  feSub(e, e, b);                          // E = (X1 + Y1)² − A − B
  feSub(g, b, a);                          // G = a·A + B = B − A
  feSub(f, g, c);                          // F = G − C
  feNeg(h, a);
  feSub(h, h, b);                          // H = a·A − B = −A − B
  feMul(r + X, e, f);
  feMul(r + Y, g, h);
  feMul(r + Z, f, g);
  if (withT) feMul(r + T, e, h);
}

/** The identity (0, 1): X = 0 and Y = Z. */
export function pointIsIdentity(p: usize): bool {
  return feIsZero(p + X) && feEqual(p + Y, p + Z);
}

/** [8]p is the identity: p lies in the small subgroup of order dividing 8. */
export function pointIsSmallOrder(p: usize): bool {
  pointDouble(SUM, p, false);
  pointDouble(SUM, SUM, false);
  pointDouble(SUM, SUM, false);
  return pointIsIdentity(SUM);
}

/** table[i] = (2i + 1)·p, cached, for i < TABLE_ENTRIES. */
export function pointOddMultiples(table: usize, p: usize): void {
  pointDouble(SUM, p, true);
  pointToCached(TWICE, SUM);
  memory.copy(SUM, p, POINT);
  pointToCached(table, p);
  for (let i: usize = 1; i < TABLE_ENTRIES; i++) {
    pointAdd(SUM, SUM, TWICE, false);
    pointToCached(table + i * POINT, SUM);
  }
}

/** r += digit·P from P's odd-multiples table (digit odd, |digit| ≤ 15), or nothing for digit 0. */
function addDigit(r: usize, table: usize, digit: i32): void {
  if (digit > 0) pointAdd(r, r, table + <usize>(digit >> 1) * POINT, false);
  else if (digit < 0) pointAdd(r, r, table + <usize>((-digit) >> 1) * POINT, true);
}

/**
 * r = [a]P + [b]Q from the NAF digits of a and b (scalarToNaf5) and the odd-multiples tables of P and Q:
 * one doubling per digit from the highest non-zero one down, plus an addition per non-zero digit
 * (Straus–Shamir). Variable time: scalars and points are public.
 */
export function pointDoubleScalarMul(r: usize, nafA: usize, tableP: usize, nafB: usize, tableQ: usize): void {
  let i = <i32>NAF_DIGITS - 1;
  while (i >= 0 && load<i8>(nafA + <usize>i) == 0 && load<i8>(nafB + <usize>i) == 0) i--;
  pointIdentity(r);
  for (; i >= 0; i--) {
    const a = <i32>load<i8>(nafA + <usize>i), b = <i32>load<i8>(nafB + <usize>i);
    pointDouble(r, r, a != 0 || b != 0 || i == 0); // T for the additions, and in the result
    addDigit(r, tableP, a);
    addDigit(r, tableQ, b);
  }
}

export function wipeEdwardsScratch(): void {
  memory.fill(SCRATCH, 0, SCRATCH_SIZE);
}
