/**
 * Arithmetic in GF(p), p = 2^255 − 19 (the field of Curve25519 and edwards25519, RFC 7748 §4.1,
 * RFC 8032 §5.1), for Ed25519 verification.
 *
 * An element is FE bytes anywhere in memory: ten signed limbs h0..h9 (i64, native order) with
 * value Σ hᵢ·2^⌈25.5·i⌉, i.e. limbs of 26, 25, 26, 25, … bits at bit offsets 0, 26, 51, 77, 102, 128,
 * 153, 179, 204, 230 (the "radix 2^25.5" layout of ref10): every limb product fits an i64, and 2^255
 * folds back into limb 0 as the factor 19.
 *
 * Bounds (what keeps every i64 sum exact; checked against a BigInt reference in
 * test/core/ed25519-field.test.ts):
 * - feMul and feSq return carried elements: |hᵢ| ≤ 2^25 + 2^16 (26-bit limbs) or 2^24 + 2^16 (25-bit).
 * - feAdd, feSub and feNeg do not carry: each limb of the result is the sum or difference of the inputs'.
 * - feMul and feSq accept limbs up to 2^27.4 in magnitude (each output limb sums at most 267 products
 *   of two inputs, weighted: 267·(2^27.4)² < 2^63), so any sum or difference of up to four carried
 *   elements may be multiplied without carrying first.
 * Outputs may alias inputs. Elements are public here (Ed25519 verification): the code branches on
 * their values where that is simpler, and is not constant time.
 */
export const FE: usize = 80;

export const ONE: usize = memory.data<i64>([1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
/** d = −121665/121666, the edwards25519 curve constant (RFC 8032 §5.1). */
export const D: usize = memory.data<i64>([56195235, 13857412, 51736253, 6949390, 114729, 24766616, 60832955, 30306712, 48412415, 21499315]);
/** 2·d, as used by the addition formula. */
export const D2: usize = memory.data<i64>([45281625, 27714825, 36363642, 13898781, 229458, 15978800, 54557047, 27058993, 29715967, 9444199]);
/** √−1 = 2^((p−1)/4), used to finish a square root (RFC 8032 §5.1.3 step 3). */
export const SQRT_M1: usize = memory.data<i64>([34513072, 25610706, 9377949, 3500415, 12389472, 33281959, 41962654, 31548777, 326685, 11406482]);

// Scratch: the exponentiation's temporaries and one encoding; wiped by wipeFieldScratch().
const SCRATCH_SIZE: usize = 3 * FE + 32;
const SCRATCH: usize = memory.data(<i32>SCRATCH_SIZE);
const T0: usize = SCRATCH, T1: usize = SCRATCH + FE, T2: usize = SCRATCH + 2 * FE;
const BYTES: usize = SCRATCH + 3 * FE;

export function feZero(h: usize): void {
  memory.fill(h, 0, FE);
}

export function feOne(h: usize): void {
  memory.fill(h, 0, FE);
  store<i64>(h, 1);
}

export function feCopy(h: usize, f: usize): void {
  memory.copy(h, f, FE);
}

export function feAdd(h: usize, f: usize, g: usize): void {
  for (let i: usize = 0; i < FE; i += 8) store<i64>(h + i, load<i64>(f + i) + load<i64>(g + i));
}

export function feSub(h: usize, f: usize, g: usize): void {
  for (let i: usize = 0; i < FE; i += 8) store<i64>(h + i, load<i64>(f + i) - load<i64>(g + i));
}

export function feNeg(h: usize, f: usize): void {
  for (let i: usize = 0; i < FE; i += 8) store<i64>(h + i, -load<i64>(f + i));
}

/**
 * Carries h0..h9 (each |hᵢ| < 2^63 − 2^26) into h: limb by limb, rounding to the nearest multiple of
 * the limb's radix, then 2^255 ≡ 19 folds the top carry into h0, and h0 carries once more.
 */
function carryInto(h: usize, h0: i64, h1: i64, h2: i64, h3: i64, h4: i64, h5: i64, h6: i64, h7: i64, h8: i64, h9: i64): void {
  let c: i64;
  c = (h0 + (1 << 25)) >> 26; h1 += c; h0 -= c << 26;
  c = (h1 + (1 << 24)) >> 25; h2 += c; h1 -= c << 25;
  c = (h2 + (1 << 25)) >> 26; h3 += c; h2 -= c << 26;
  c = (h3 + (1 << 24)) >> 25; h4 += c; h3 -= c << 25;
  c = (h4 + (1 << 25)) >> 26; h5 += c; h4 -= c << 26;
  c = (h5 + (1 << 24)) >> 25; h6 += c; h5 -= c << 25;
  c = (h6 + (1 << 25)) >> 26; h7 += c; h6 -= c << 26;
  c = (h7 + (1 << 24)) >> 25; h8 += c; h7 -= c << 25;
  c = (h8 + (1 << 25)) >> 26; h9 += c; h8 -= c << 26;
  c = (h9 + (1 << 24)) >> 25; h0 += c * 19; h9 -= c << 25;
  c = (h0 + (1 << 25)) >> 26; h1 += c; h0 -= c << 26;
  store<i64>(h, h0); store<i64>(h, h1, 8); store<i64>(h, h2, 16); store<i64>(h, h3, 24); store<i64>(h, h4, 32);
  store<i64>(h, h5, 40); store<i64>(h, h6, 48); store<i64>(h, h7, 56); store<i64>(h, h8, 64); store<i64>(h, h9, 72);
}

/** h = f with its limbs carried (any limbs below 2^62). */
export function feCarry(h: usize, f: usize): void {
  carryInto(h, load<i64>(f), load<i64>(f, 8), load<i64>(f, 16), load<i64>(f, 24), load<i64>(f, 32),
    load<i64>(f, 40), load<i64>(f, 48), load<i64>(f, 56), load<i64>(f, 64), load<i64>(f, 72));
}

/**
 * h = f·g. Limb product fᵢ·gⱼ lands in limb (i + j) mod 10, times 2 when i and j are both odd (two
 * half bits of offset), times 19 when i + j ≥ 10 (2^255 ≡ 19).
 */
export function feMul(h: usize, f: usize, g: usize): void {
  const f0 = load<i64>(f), f1 = load<i64>(f, 8), f2 = load<i64>(f, 16), f3 = load<i64>(f, 24), f4 = load<i64>(f, 32);
  const f5 = load<i64>(f, 40), f6 = load<i64>(f, 48), f7 = load<i64>(f, 56), f8 = load<i64>(f, 64), f9 = load<i64>(f, 72);
  const g0 = load<i64>(g), g1 = load<i64>(g, 8), g2 = load<i64>(g, 16), g3 = load<i64>(g, 24), g4 = load<i64>(g, 32);
  const g5 = load<i64>(g, 40), g6 = load<i64>(g, 48), g7 = load<i64>(g, 56), g8 = load<i64>(g, 64), g9 = load<i64>(g, 72);
  const f1_2 = 2 * f1, f3_2 = 2 * f3, f5_2 = 2 * f5, f7_2 = 2 * f7, f9_2 = 2 * f9;
  const g1_19 = 19 * g1, g2_19 = 19 * g2, g3_19 = 19 * g3, g4_19 = 19 * g4, g5_19 = 19 * g5;
  const g6_19 = 19 * g6, g7_19 = 19 * g7, g8_19 = 19 * g8, g9_19 = 19 * g9;
  carryInto(h,
    f0 * g0 + f1_2 * g9_19 + f2 * g8_19 + f3_2 * g7_19 + f4 * g6_19 + f5_2 * g5_19 + f6 * g4_19 + f7_2 * g3_19 + f8 * g2_19 + f9_2 * g1_19,
    f0 * g1 + f1 * g0 + f2 * g9_19 + f3 * g8_19 + f4 * g7_19 + f5 * g6_19 + f6 * g5_19 + f7 * g4_19 + f8 * g3_19 + f9 * g2_19,
    f0 * g2 + f1_2 * g1 + f2 * g0 + f3_2 * g9_19 + f4 * g8_19 + f5_2 * g7_19 + f6 * g6_19 + f7_2 * g5_19 + f8 * g4_19 + f9_2 * g3_19,
    f0 * g3 + f1 * g2 + f2 * g1 + f3 * g0 + f4 * g9_19 + f5 * g8_19 + f6 * g7_19 + f7 * g6_19 + f8 * g5_19 + f9 * g4_19,
    f0 * g4 + f1_2 * g3 + f2 * g2 + f3_2 * g1 + f4 * g0 + f5_2 * g9_19 + f6 * g8_19 + f7_2 * g7_19 + f8 * g6_19 + f9_2 * g5_19,
    f0 * g5 + f1 * g4 + f2 * g3 + f3 * g2 + f4 * g1 + f5 * g0 + f6 * g9_19 + f7 * g8_19 + f8 * g7_19 + f9 * g6_19,
    f0 * g6 + f1_2 * g5 + f2 * g4 + f3_2 * g3 + f4 * g2 + f5_2 * g1 + f6 * g0 + f7_2 * g9_19 + f8 * g8_19 + f9_2 * g7_19,
    f0 * g7 + f1 * g6 + f2 * g5 + f3 * g4 + f4 * g3 + f5 * g2 + f6 * g1 + f7 * g0 + f8 * g9_19 + f9 * g8_19,
    f0 * g8 + f1_2 * g7 + f2 * g6 + f3_2 * g5 + f4 * g4 + f5_2 * g3 + f6 * g2 + f7_2 * g1 + f8 * g0 + f9_2 * g9_19,
    f0 * g9 + f1 * g8 + f2 * g7 + f3 * g6 + f4 * g5 + f5 * g4 + f6 * g3 + f7 * g2 + f8 * g1 + f9 * g0,
  );
}

/** h = f², feMul's products with each pair fᵢ·fⱼ (i ≠ j) counted once and doubled: 55 products instead of 100. */
export function feSq(h: usize, f: usize): void {
  const f0 = load<i64>(f), f1 = load<i64>(f, 8), f2 = load<i64>(f, 16), f3 = load<i64>(f, 24), f4 = load<i64>(f, 32);
  const f5 = load<i64>(f, 40), f6 = load<i64>(f, 48), f7 = load<i64>(f, 56), f8 = load<i64>(f, 64), f9 = load<i64>(f, 72);
  const f0_2 = 2 * f0, f1_2 = 2 * f1, f2_2 = 2 * f2, f3_2 = 2 * f3, f4_2 = 2 * f4, f5_2 = 2 * f5, f6_2 = 2 * f6, f7_2 = 2 * f7;
  const f5_38 = 38 * f5, f6_19 = 19 * f6, f7_38 = 38 * f7, f8_19 = 19 * f8, f9_38 = 38 * f9;
  carryInto(h,
    f0 * f0 + f1_2 * f9_38 + f2_2 * f8_19 + f3_2 * f7_38 + f4_2 * f6_19 + f5 * f5_38,
    f0_2 * f1 + f2 * f9_38 + f3_2 * f8_19 + f4 * f7_38 + f5_2 * f6_19,
    f0_2 * f2 + f1_2 * f1 + f3_2 * f9_38 + f4_2 * f8_19 + f5_2 * f7_38 + f6 * f6_19,
    f0_2 * f3 + f1_2 * f2 + f4 * f9_38 + f5_2 * f8_19 + f6 * f7_38,
    f0_2 * f4 + f1_2 * f3_2 + f2 * f2 + f5_2 * f9_38 + f6_2 * f8_19 + f7 * f7_38,
    f0_2 * f5 + f1_2 * f4 + f2_2 * f3 + f6 * f9_38 + f7_2 * f8_19,
    f0_2 * f6 + f1_2 * f5_2 + f2_2 * f4 + f3_2 * f3 + f7_2 * f9_38 + f8 * f8_19,
    f0_2 * f7 + f1_2 * f6 + f2_2 * f5 + f3_2 * f4 + f8 * f9_38,
    f0_2 * f8 + f1_2 * f7_2 + f2_2 * f6 + f3_2 * f5_2 + f4 * f4 + f9 * f9_38,
    f0_2 * f9 + f1_2 * f8 + f2_2 * f7 + f3_2 * f6 + f4_2 * f5,
  );
}

/** h = f^(2^n), n ≥ 1. */
function feSqTimes(h: usize, f: usize, n: i32): void {
  feSq(h, f);
  for (let i = 1; i < n; i++) feSq(h, h);
}

/**
 * h = z^((p−5)/8) = z^(2^252 − 3), the power in RFC 8032 §5.1.3's square root: 250 squarings and
 * 11 multiplications, building z^(2^k − 1) for k = 5, 10, 20, 40, 50, 100, 200, 250.
 */
export function fePow22523(h: usize, z: usize): void {
  feSq(T0, z);                 // z^2
  feSqTimes(T1, T0, 2);        // z^8
  feMul(T1, z, T1);            // z^9
  feMul(T0, T0, T1);           // z^11
  feSq(T0, T0);                // z^22
  feMul(T0, T1, T0);           // z^(2^5 − 1)
  feSqTimes(T1, T0, 5);
  feMul(T0, T1, T0);           // z^(2^10 − 1)
  feSqTimes(T1, T0, 10);
  feMul(T1, T1, T0);           // z^(2^20 − 1)
  feSqTimes(T2, T1, 20);
  feMul(T1, T2, T1);           // z^(2^40 − 1)
  feSqTimes(T1, T1, 10);
  feMul(T0, T1, T0);           // z^(2^50 − 1)
  feSqTimes(T1, T0, 50);
  feMul(T1, T1, T0);           // z^(2^100 − 1)
  feSqTimes(T2, T1, 100);
  feMul(T1, T2, T1);           // z^(2^200 − 1)
  feSqTimes(T1, T1, 50);
  feMul(T0, T1, T0);           // z^(2^250 − 1)
  feSqTimes(T0, T0, 2);        // z^(2^252 − 4)
  feMul(h, T0, z);             // z^(2^252 − 3)
}

// Bit offset and width of each limb.
const LIMB_OFFSET: usize = memory.data<u8>([0, 26, 51, 77, 102, 128, 153, 179, 204, 230]);
const LIMB_BITS: usize = memory.data<u8>([26, 25, 26, 25, 26, 25, 26, 25, 26, 25]);

/** h = the low 255 bits of the 32 little-endian bytes at s (bit 255 is ignored; values up to 2^255 − 1 load as they are). */
export function feFromBytes(h: usize, s: usize): void {
  for (let i: usize = 0; i < 10; i++) {
    const offset = <usize>load<u8>(LIMB_OFFSET + i);
    const bits = <u32>load<u8>(LIMB_BITS + i);
    // a limb spans at most 4 bytes from its first one (shift ≤ 7, width ≤ 26), all within the 32
    const word = load<u32>(s + (offset >> 3)) >>> <u32>(offset & 7);
    store<i64>(h + (i << 3), <i64>(word & ((1 << bits) - 1)));
  }
}

/**
 * Writes the canonical encoding of f (its value reduced into [0, p), 32 little-endian bytes, bit 255
 * clear) to s. f may be any element whose limbs are below 2^62.
 */
export function feToBytes(s: usize, f: usize): void {
  feCarry(T0, f);
  let h0 = load<i64>(T0), h1 = load<i64>(T0, 8), h2 = load<i64>(T0, 16), h3 = load<i64>(T0, 24), h4 = load<i64>(T0, 32);
  let h5 = load<i64>(T0, 40), h6 = load<i64>(T0, 48), h7 = load<i64>(T0, 56), h8 = load<i64>(T0, 64), h9 = load<i64>(T0, 72);
  // q = ⌊value / p⌋ ∈ {−1, 0, 1} for a carried element: the carries of value + 19, rounded down.
  let q: i64 = (19 * h9 + (1 << 24)) >> 25;
  q = (h0 + q) >> 26; q = (h1 + q) >> 25; q = (h2 + q) >> 26; q = (h3 + q) >> 25; q = (h4 + q) >> 26;
  q = (h5 + q) >> 25; q = (h6 + q) >> 26; q = (h7 + q) >> 25; q = (h8 + q) >> 26; q = (h9 + q) >> 25;
  // value − q·p = value + 19q − q·2^255: add 19q, carry every limb into [0, 2^width), drop bit 255's carry.
  h0 += 19 * q;
  let c: i64;
  c = h0 >> 26; h1 += c; h0 -= c << 26;
  c = h1 >> 25; h2 += c; h1 -= c << 25;
  c = h2 >> 26; h3 += c; h2 -= c << 26;
  c = h3 >> 25; h4 += c; h3 -= c << 25;
  c = h4 >> 26; h5 += c; h4 -= c << 26;
  c = h5 >> 25; h6 += c; h5 -= c << 25;
  c = h6 >> 26; h7 += c; h6 -= c << 26;
  c = h7 >> 25; h8 += c; h7 -= c << 25;
  c = h8 >> 26; h9 += c; h8 -= c << 26;
  c = h9 >> 25; h9 -= c << 25;
  store<i64>(T0, h0); store<i64>(T0, h1, 8); store<i64>(T0, h2, 16); store<i64>(T0, h3, 24); store<i64>(T0, h4, 32);
  store<i64>(T0, h5, 40); store<i64>(T0, h6, 48); store<i64>(T0, h7, 56); store<i64>(T0, h8, 64); store<i64>(T0, h9, 72);
  // pack the limbs, low bits first
  let acc: u64 = 0;
  let held: u32 = 0;
  let at: usize = 0;
  for (let i: usize = 0; i < 10; i++) {
    acc |= (<u64>load<i64>(T0 + (i << 3))) << held;
    held += <u32>load<u8>(LIMB_BITS + i);
    while (held >= 8) {
      store<u8>(s + at, <u8>acc);
      acc >>>= 8; held -= 8; at++;
    }
  }
  store<u8>(s + at, <u8>acc); // the last 7 bits; at == 31
}

export function feIsZero(f: usize): bool {
  feToBytes(BYTES, f);
  let any: u64 = 0;
  for (let i: usize = 0; i < 32; i += 8) any |= load<u64>(BYTES + i);
  return any == 0;
}

/** f ≡ g (mod p). */
export function feEqual(f: usize, g: usize): bool {
  feSub(T1, f, g);
  return feIsZero(T1);
}

/** The low bit of f's canonical encoding: RFC 8032's sign of x ("negative" when odd). */
export function feIsOdd(f: usize): bool {
  feToBytes(BYTES, f);
  return (load<u8>(BYTES) & 1) == 1;
}

export function wipeFieldScratch(): void {
  memory.fill(SCRATCH, 0, SCRATCH_SIZE);
}
