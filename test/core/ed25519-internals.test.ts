/**
 * The Ed25519 building blocks of the core against simple BigInt references kept here (the @noble habit:
 * a plain version of every optimised routine, to audit it and to test the fast path against):
 * - GF(2^255 − 19) in radix-2^25.5 limbs (assembly/field25519.ts): products and squares at the limb bounds
 *   the module documents, carried outputs within theirs, canonical encoding at and around p, the
 *   (p − 5)/8 power, the constants d, 2d and √−1;
 * - scalars mod L (assembly/scalar25519.ts): the S < L check, the 512-bit reduction, the width-5 NAF;
 * - the group (assembly/edwards25519.ts): decoding against RFC 8032 §5.1.3 (as its reference code
 *   does it), addition, doubling and the double-scalar multiplication against affine formulas,
 *   including the identity and the small-order points the complete formulas must handle.
 * The routines are compiled for this test from test/core/assembly/ed25519-internals.ts (asc), as the
 * shipped module does not export them.
 */
import { randomBytes } from 'node:crypto';
import asc from 'assemblyscript/asc';
import { beforeAll, describe, expect, it } from 'vitest';

const P = 2n ** 255n - 19n;
const L = 2n ** 252n + 27742317777372353535851937790883648493n;
const mod = (a: bigint, m = P): bigint => ((a % m) + m) % m;
function pow(base: bigint, exponent: bigint, m = P): bigint {
  let result = 1n;
  base = mod(base, m);
  for (; exponent > 0n; exponent >>= 1n, base = (base * base) % m) if (exponent & 1n) result = (result * base) % m;
  return result;
}
const inv = (a: bigint): bigint => pow(a, P - 2n);
const D = mod(-121665n * inv(121666n));
const SQRT_M1 = pow(2n, (P - 1n) / 4n);

const LIMB_OFFSET = [0, 26, 51, 77, 102, 128, 153, 179, 204, 230].map(BigInt);
const LIMB_BITS = [26, 25, 26, 25, 26, 25, 26, 25, 26, 25];
const leNumber = (b: Uint8Array): bigint => b.reduceRight((n, byte) => (n << 8n) | BigInt(byte), 0n);
const leBytes = (n: bigint, length = 32): Uint8Array => Uint8Array.from({ length }, (_, i) => Number((n >> BigInt(8 * i)) & 0xffn));

// ---- the reference group: affine points, RFC 8032 §5.1.3 decoding, the twisted Edwards addition law ----
type Affine = { x: bigint; y: bigint };
const IDENTITY: Affine = { x: 0n, y: 1n };
/** RFC 8032 §5.1.3, as its §6 reference code (recover_x) does it; null for no point. */
function referenceDecode(s: Uint8Array): Affine | null {
  const y = leNumber(s) & ((1n << 255n) - 1n);
  const sign = s[31]! >> 7;
  if (y >= P) return null;
  const x2 = mod((y * y - 1n) * inv(D * y * y + 1n));
  if (x2 === 0n) return sign ? null : { x: 0n, y };
  let x = pow(x2, (P + 3n) / 8n);
  if (mod(x * x - x2) !== 0n) x = mod(x * SQRT_M1);
  if (mod(x * x - x2) !== 0n) return null;
  if (Number(x & 1n) !== sign) x = P - x;
  return { x, y };
}
function referenceAdd(p: Affine, q: Affine): Affine {
  const t = mod(D * p.x * q.x * p.y * q.y);
  return { x: mod((p.x * q.y + q.x * p.y) * inv(1n + t)), y: mod((p.y * q.y + p.x * q.x) * inv(1n - t)) };
}
function referenceMul(n: bigint, p: Affine): Affine {
  let result = IDENTITY;
  for (let bit = BigInt(n.toString(2).length - 1); bit >= 0n; bit--) {
    result = referenceAdd(result, result);
    if ((n >> bit) & 1n) result = referenceAdd(result, p);
  }
  return result;
}
const BASE = referenceDecode(leBytes(mod(4n * inv(5n))))!; // RFC 8032 §5.1: y = 4/5, x even

interface Internals {
  memory: WebAssembly.Memory;
  heapBase(): number;
  ONE: WebAssembly.Global; D: WebAssembly.Global; D2: WebAssembly.Global; SQRT_M1: WebAssembly.Global;
  feAdd(h: number, f: number, g: number): void; feSub(h: number, f: number, g: number): void; feNeg(h: number, f: number): void;
  feMul(h: number, f: number, g: number): void; feSq(h: number, f: number): void; feCarry(h: number, f: number): void;
  fePow22523(h: number, z: number): void; feFromBytes(h: number, s: number): void; feToBytes(s: number, f: number): void;
  feIsZero(f: number): number; feEqual(f: number, g: number): number; feIsOdd(f: number): number;
  scalarIsCanonical(s: number): number; scalarReduce512(out: number, x: number): void; scalarToNaf5(naf: number, s: number): void;
  pointDecode(p: number, s: number): number; pointAdd(r: number, p: number, q: number, subtract: number): void;
  pointDouble(r: number, p: number, withT: number): void; pointToCached(c: number, p: number): void; pointIsIdentity(p: number): number;
  pointIsSmallOrder(p: number): number; pointOddMultiples(table: number, p: number): void;
  pointDoubleScalarMul(r: number, nafA: number, tableP: number, nafB: number, tableQ: number): void;
}

let core: Internals;
// caller memory, from heapBase: three field elements, bytes, points, tables, NAF digits
let F: number, G: number, H: number, BYTES: number, P1: number, P2: number, CACHED: number, OUT: number;
let TABLE1: number, TABLE2: number, NAF1: number, NAF2: number;

beforeAll(async () => {
  let wasm: Uint8Array | undefined;
  const { error, stderr } = await asc.main(
    ['--config', 'test/core/assembly/asconfig.json', '--outFile', 'ed25519-internals.wasm'],
    { writeFile: (name: string, contents: string | Uint8Array) => { if (name.endsWith('.wasm') && contents instanceof Uint8Array) wasm = contents; } },
  );
  if (error || !wasm) throw new Error(`asc: ${error?.message ?? 'no output'}\n${stderr.toString()}`);
  core = (await WebAssembly.instantiate(wasm as Uint8Array<ArrayBuffer>, {})).instance.exports as unknown as Internals;
  core.memory.grow(1);
  const base = core.heapBase();
  [F, G, H, BYTES, P1, P2, CACHED, OUT] = [0, 80, 160, 240, 320, 640, 960, 1280].map((o) => base + o);
  [TABLE1, TABLE2, NAF1, NAF2] = [1600, 4160, 6720, 6976].map((o) => base + o);
}, 60_000);

const limbsView = () => new BigInt64Array(core.memory.buffer);
const bytesView = () => new Uint8Array(core.memory.buffer);
function setLimbs(at: number, limbs: readonly (number | bigint)[]): void {
  const v = limbsView();
  limbs.forEach((l, i) => (v[at / 8 + i] = BigInt(l)));
}
const getLimbs = (at: number): bigint[] => Array.from(limbsView().subarray(at / 8, at / 8 + 10));
const valueOf = (at: number): bigint => getLimbs(at).reduce((sum, l, i) => sum + (l << LIMB_OFFSET[i]!), 0n);
const setValue = (at: number, v: bigint) => setLimbs(at, LIMB_BITS.map((bits, i) => (mod(v) >> LIMB_OFFSET[i]!) & ((1n << BigInt(bits)) - 1n)));
const setBytes = (at: number, b: Uint8Array) => bytesView().set(b, at);
const getBytes = (at: number, n: number) => bytesView().slice(at, at + n);
/** Random signed limbs of magnitude below `bound`. */
const randomLimbs = (bound: number): number[] => Array.from({ length: 10 }, () => Math.trunc((Math.random() * 2 - 1) * bound));
const affineOf = (at: number): Affine => {
  const z = inv(valueOf(at + 160));
  return { x: mod(valueOf(at) * z), y: mod(valueOf(at + 80) * z) };
};
const tOf = (at: number): bigint => mod(valueOf(at + 240) * inv(valueOf(at + 160)));
const randomPointEncoding = (): Uint8Array => {
  for (;;) {
    const s = new Uint8Array(randomBytes(32));
    if (referenceDecode(s)) return s;
  }
};

describe('GF(2^255 − 19), radix 2^25.5', () => {
  const MUL_BOUND = 2 ** 27.4; // the documented input bound of feMul and feSq
  const CARRIED = (i: number) => (i % 2 === 0 ? 2 ** 25 : 2 ** 24) + 2 ** 16; // the documented carried output bound

  it('holds 1, d, 2d and √−1', () => {
    for (const [name, want] of [['ONE', 1n], ['D', D], ['D2', mod(2n * D)], ['SQRT_M1', SQRT_M1]] as const) {
      expect(valueOf(core[name].value as number), name).toBe(want);
    }
    expect(mod(SQRT_M1 * SQRT_M1)).toBe(P - 1n);
  });

  it('feMul and feSq equal the product mod p at every magnitude up to the input bound, and return carried limbs', () => {
    const failures: string[] = [];
    const extremes = [Array(10).fill(MUL_BOUND - 1), Array(10).fill(1 - MUL_BOUND), Array.from({ length: 10 }, (_, i) => (i % 2 ? 1 : -1) * (MUL_BOUND - 1))];
    const cases = [...extremes.flatMap((a) => extremes.map((b) => [a, b])), ...Array.from({ length: 4000 }, (_, i) => [randomLimbs([2 ** 20, 2 ** 25, 2 ** 26, MUL_BOUND][i % 4]!), randomLimbs([2 ** 25, MUL_BOUND][i % 2]!)])];
    for (const [f, g] of cases as number[][][]) {
      const [fl, gl] = [f!.map(Math.trunc), g!.map(Math.trunc)];
      setLimbs(F, fl);
      setLimbs(G, gl);
      const [fv, gv] = [valueOf(F), valueOf(G)];
      core.feMul(H, F, G);
      if (mod(valueOf(H)) !== mod(fv * gv)) failures.push(`mul ${fl} × ${gl}`);
      if (getLimbs(H).some((l, i) => (l < 0n ? -l : l) > CARRIED(i))) failures.push(`mul output not carried: ${getLimbs(H)}`);
      core.feSq(H, F);
      if (mod(valueOf(H)) !== mod(fv * fv)) failures.push(`sq ${fl}`);
      if (getLimbs(H).some((l, i) => (l < 0n ? -l : l) > CARRIED(i))) failures.push(`sq output not carried: ${getLimbs(H)}`);
      core.feMul(F, F, F); // output over its input
      if (mod(valueOf(F)) !== mod(fv * fv)) failures.push(`mul in place ${fl}`);
    }
    expect(failures.slice(0, 5)).toEqual([]);
  });

  it('feAdd, feSub and feNeg add limb by limb; feCarry keeps the value', () => {
    setLimbs(F, randomLimbs(2 ** 25));
    setLimbs(G, randomLimbs(2 ** 25));
    const [f, g] = [valueOf(F), valueOf(G)];
    core.feAdd(H, F, G);
    expect(valueOf(H)).toBe(f + g);
    core.feSub(H, F, G);
    expect(valueOf(H)).toBe(f - g);
    core.feNeg(H, F);
    expect(valueOf(H)).toBe(-f);
    setLimbs(F, randomLimbs(2 ** 60));
    const big = valueOf(F);
    core.feCarry(H, F);
    expect(mod(valueOf(H))).toBe(mod(big));
  });

  it('feToBytes writes the canonical encoding at and around 0, p and 2^255, and for negative and unreduced limbs', () => {
    const values = [0n, 1n, 18n, 19n, P - 2n, P - 1n, P, P + 1n, P + 18n, 2n ** 255n - 1n, 2n ** 255n, 2n * P - 1n, 2n * P, -1n, -P, -P - 1n];
    for (const v of values) {
      // the value in limbs as given: all in limb 0 and 9's range where needed, by exact decomposition
      const limbs = LIMB_BITS.map((bits, i) => (i === 9 ? (v >> LIMB_OFFSET[i]!) : (v >> LIMB_OFFSET[i]!) & ((1n << BigInt(bits)) - 1n)));
      setLimbs(F, limbs);
      expect(valueOf(F), `limbs of ${v}`).toBe(v);
      core.feToBytes(BYTES, F);
      expect(leNumber(getBytes(BYTES, 32)), `encoding of ${v}`).toBe(mod(v));
    }
    for (let i = 0; i < 2000; i++) {
      setLimbs(F, randomLimbs(i % 2 ? 2 ** 26 : 2 ** 40));
      core.feToBytes(BYTES, F);
      expect(leNumber(getBytes(BYTES, 32))).toBe(mod(valueOf(F)));
    }
  });

  it('feFromBytes loads the low 255 bits, bit 255 ignored, into limbs of their width', () => {
    for (let i = 0; i < 500; i++) {
      const s = new Uint8Array(randomBytes(32));
      if (i === 0) s.fill(0xff);
      setBytes(BYTES, s);
      core.feFromBytes(F, BYTES);
      expect(valueOf(F)).toBe(leNumber(s) & ((1n << 255n) - 1n));
      expect(getLimbs(F).every((l, j) => l >= 0n && l < 1n << BigInt(LIMB_BITS[j]!))).toBe(true);
    }
  });

  it('fePow22523 raises to (p − 5)/8; feIsZero, feEqual and feIsOdd judge the value mod p', () => {
    for (let i = 0; i < 200; i++) {
      setLimbs(F, randomLimbs(2 ** 26));
      core.fePow22523(H, F);
      expect(mod(valueOf(H))).toBe(pow(valueOf(F), (P - 5n) / 8n));
    }
    setLimbs(F, LIMB_BITS.map((bits, i) => (i === 0 ? (1n << 26n) - 19n : (1n << BigInt(bits)) - 1n))); // p itself
    expect(valueOf(F)).toBe(P);
    expect(core.feIsZero(F)).toBe(1);
    expect(core.feIsOdd(F)).toBe(0);
    setValue(G, 0n);
    expect(core.feEqual(F, G)).toBe(1);
    setValue(G, P - 1n);
    expect(core.feIsOdd(G)).toBe(0); // p − 1 is even
    setLimbs(G, [-1, 0, 0, 0, 0, 0, 0, 0, 0, 0]); // −1 ≡ p − 1
    expect(core.feIsOdd(G)).toBe(0);
    expect(core.feIsZero(G)).toBe(0);
  });
});

describe('scalars mod L', () => {
  it('scalarIsCanonical: S < L, without reduction', () => {
    for (const [s, want] of [[0n, 1], [L - 1n, 1], [L, 0], [L + 1n, 0], [2n ** 252n, 1], [2n ** 253n, 0], [2n ** 256n - 1n, 0]] as const) {
      setBytes(BYTES, leBytes(s));
      expect(core.scalarIsCanonical(BYTES), `${s}`).toBe(want);
    }
    for (let i = 0; i < 500; i++) {
      const s = new Uint8Array(randomBytes(32));
      s[31]! &= 0x1f; // around L
      setBytes(BYTES, s);
      expect(core.scalarIsCanonical(BYTES)).toBe(leNumber(s) < L ? 1 : 0);
    }
  });

  it('scalarReduce512 equals x mod L for random and edge 64-byte values', () => {
    const edges = [0n, 1n, L - 1n, L, L + 1n, 2n * L, 2n ** 252n, 2n ** 260n - 1n, 2n ** 260n, L * (2n ** 259n), 2n ** 512n - 1n, (2n ** 512n - 1n) / L * L];
    const values = [...edges, ...Array.from({ length: 2000 }, () => leNumber(randomBytes(64)))];
    for (const x of values) {
      setBytes(BYTES, leBytes(x, 64));
      core.scalarReduce512(OUT, BYTES);
      expect(leNumber(getBytes(OUT, 32)), `${x}`).toBe(x % L);
    }
  });

  it('scalarToNaf5 gives odd digits in [−15, 15] summing to the scalar, each followed by four zeros', () => {
    const failures: string[] = [];
    for (const s of [0n, 1n, 15n, 16n, 17n, 31n, L - 1n, 2n ** 253n - 1n, ...Array.from({ length: 1000 }, () => leNumber(randomBytes(32)) % L)]) {
      setBytes(BYTES, leBytes(s));
      core.scalarToNaf5(NAF1, BYTES);
      const digits = Array.from(new Int8Array(core.memory.buffer, NAF1, 256));
      if (digits.reduceRight((sum, d) => 2n * sum + BigInt(d), 0n) !== s) failures.push(`${s}: digits do not sum to it`);
      digits.forEach((d, i) => {
        if (d !== 0 && !(Math.abs(d) % 2 === 1 && Math.abs(d) <= 15)) failures.push(`${s}: digit ${d}`);
        if (d !== 0 && digits.slice(i + 1, i + 5).some((z) => z !== 0)) failures.push(`${s}: no four zeros after digit ${i}`);
      });
    }
    expect(failures.slice(0, 5)).toEqual([]);
  });
});

describe('edwards25519', () => {
  it('pointDecode agrees with RFC 8032 §5.1.3 on random bytes, y at and above p, and x = 0 with either sign', () => {
    const encodings: Uint8Array[] = Array.from({ length: 600 }, () => new Uint8Array(randomBytes(32)));
    for (const y of [0n, 1n, P - 1n, ...Array.from({ length: 19 }, (_, i) => P + BigInt(i)), 2n ** 255n - 1n]) {
      for (const sign of [0, 0x80]) {
        const e = leBytes(y);
        e[31]! |= sign;
        encodings.push(e);
      }
    }
    let valid = 0;
    for (const s of encodings) {
      const want = referenceDecode(s);
      setBytes(BYTES, s);
      const ok = core.pointDecode(P1, BYTES);
      expect(ok, Buffer.from(s).toString('hex')).toBe(want ? 1 : 0);
      if (!want) continue;
      valid++;
      expect(affineOf(P1)).toEqual(want);
      expect(tOf(P1)).toBe(mod(want.x * want.y));
    }
    expect(valid).toBeGreaterThan(250); // about half of random strings are points
  });

  /** The 8 points of order dividing 8, as the reference computes them: [L]Q for a point Q with an order-8 part. */
  function torsion(): Affine[] {
    for (;;) {
      const t = referenceMul(L, referenceDecode(randomPointEncoding())!);
      const t4 = referenceMul(4n, t);
      if (t4.x === 0n && t4.y === 1n) continue;
      return Array.from({ length: 8 }, (_, i) => referenceMul(BigInt(i), t));
    }
  }
  const encode = (p: Affine): Uint8Array => {
    const e = leBytes(p.y);
    e[31]! |= Number(p.x & 1n) << 7;
    return e;
  };
  const load = (at: number, p: Affine) => {
    setBytes(BYTES, encode(p));
    expect(core.pointDecode(at, BYTES)).toBe(1);
  };

  it('pointAdd (with and without subtract) and pointDouble equal the affine addition law, for random, identity and small-order points', () => {
    const points = [IDENTITY, BASE, ...torsion(), ...Array.from({ length: 30 }, () => referenceDecode(randomPointEncoding())!)];
    for (let i = 0; i < points.length; i++) {
      const p = points[i]!, q = points[(i * 7 + 3) % points.length]!;
      load(P1, p);
      load(P2, q);
      core.pointToCached(CACHED, P2);
      core.pointAdd(OUT, P1, CACHED, 0);
      expect(affineOf(OUT)).toEqual(referenceAdd(p, q));
      expect(tOf(OUT)).toBe(mod(affineOf(OUT).x * affineOf(OUT).y));
      core.pointAdd(OUT, P1, CACHED, 1);
      expect(affineOf(OUT)).toEqual(referenceAdd(p, { x: mod(-q.x), y: q.y }));
      core.pointDouble(OUT, P1, 1);
      expect(affineOf(OUT)).toEqual(referenceAdd(p, p));
      expect(tOf(OUT)).toBe(mod(affineOf(OUT).x * affineOf(OUT).y));
      core.pointAdd(P1, P1, CACHED, 0); // output over its input
      expect(affineOf(P1)).toEqual(referenceAdd(p, q));
    }
  });

  it('pointIsSmallOrder holds for the 8 torsion points only; pointIsIdentity for the identity only', () => {
    const small = torsion();
    for (const t of small) {
      load(P1, t);
      expect(core.pointIsSmallOrder(P1)).toBe(1);
      expect(core.pointIsIdentity(P1)).toBe(t.x === 0n && t.y === 1n ? 1 : 0);
    }
    for (const p of [BASE, referenceAdd(BASE, small[1]!), referenceDecode(randomPointEncoding())!]) {
      load(P1, p);
      expect(core.pointIsSmallOrder(P1)).toBe(0);
    }
  });

  it('pointOddMultiples and pointDoubleScalarMul give [a]P + [b]Q, for random and edge scalars', () => {
    const scalars = [0n, 1n, 2n, 15n, 16n, L - 1n, 2n ** 252n, ...Array.from({ length: 4 }, () => leNumber(randomBytes(32)) % L)];
    for (let i = 0; i < scalars.length; i++) {
      const a = scalars[i]!, b = scalars[(i * 5 + 2) % scalars.length]!;
      const p = referenceDecode(randomPointEncoding())!; // any point, torsion part included
      load(P1, p);
      load(P2, BASE);
      core.pointOddMultiples(TABLE1, P1);
      core.pointOddMultiples(TABLE2, P2);
      setBytes(BYTES, leBytes(a));
      core.scalarToNaf5(NAF1, BYTES);
      setBytes(BYTES, leBytes(b));
      core.scalarToNaf5(NAF2, BYTES);
      core.pointDoubleScalarMul(OUT, NAF1, TABLE1, NAF2, TABLE2);
      const want = referenceAdd(referenceMul(a, p), referenceMul(b, BASE));
      expect(affineOf(OUT), `a = ${a}, b = ${b}`).toEqual(want);
      expect(tOf(OUT)).toBe(mod(want.x * want.y));
    }
  });
});
