/**
 * Ed25519 verification in the core (RFC 8032 §5.1.7, cofactored, assembly/ed25519.ts), both builds:
 * - every Wycheproof case (test/vectors/wycheproof/ed25519_test.json): valid accepted, invalid rejected,
 *   a wrong signature length refused with BAD_LENGTH before the core runs; @noble/curves (zip215: false,
 *   the same rules) agrees on every case;
 * - RFC 8032 §7.1 TEST 1, 2, 3, 1024 and SHA(abc), checked first against node:crypto signing;
 * - node:crypto (OpenSSL) signatures under fresh keys over random messages of every length 0..1024 verify,
 *   and one flipped bit in the signature, the key or the message does not (OpenSSL agreeing on each);
 * - edge cases OpenSSL cannot judge for us (it checks the cofactorless equation): small-order and
 *   non-canonical keys, mixed-order R and A, S at and above L, x = 0 with the sign bit set; each
 *   expected verdict is stated and @noble/curves must agree with it;
 * - the wrapper's boundary checks, and inputs left unchanged.
 */
import { randomBytes, randomInt, sign, verify as nodeVerify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadCore, MAX_INPUT, type CoreBuild, type WasmCryptoCore } from '../../core/index.ts';
import { isScanpayError } from '../../core/errors.ts';
import { ed25519PrivateKey, ed25519RawPublicKey } from '../support/ed25519-keys.ts';

const VECTORS = new URL('../vectors/', import.meta.url);
const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const concat = (...parts: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts));

/** noble with RFC 8032's rules (canonical encodings, small-order keys refused), the reference for edge cases. */
const nobleStrict = (pub: Uint8Array, sig: Uint8Array, msg: Uint8Array): boolean => ed25519.verify(sig, msg, pub, { zip215: false });

/** The core's verdict, or the ScanpayError code it threw. */
function verdict(core: WasmCryptoCore, pub: Uint8Array, sig: Uint8Array, msg: Uint8Array): boolean | string {
  try {
    return core.ed25519Verify(pub, sig, msg);
  } catch (e) {
    return isScanpayError(e) ? e.code : `not a ScanpayError: ${String(e)}`;
  }
}

const nodePublicKey = (raw: Uint8Array) => ({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), raw]), format: 'der' as const, type: 'spki' as const });

interface WycheproofCase { tcId: number; comment: string; flags: string[]; msg: string; sig: string; result: 'valid' | 'invalid' | 'acceptable' }
const wycheproof = JSON.parse(readFileSync(new URL('wycheproof/ed25519_test.json', VECTORS), 'utf8')) as {
  numberOfTests: number;
  testGroups: Array<{ publicKey: { pk: string }; tests: WycheproofCase[] }>;
};
interface RfcVector { name: string; secretKey: string; publicKey: string; message: string; signature: string }
const rfc8032 = (JSON.parse(readFileSync(new URL('rfc8032/ed25519.json', VECTORS), 'utf8')) as { tests: RfcVector[] }).tests;

const cores: Partial<Record<CoreBuild, WasmCryptoCore>> = {};
beforeAll(async () => {
  for (const build of ['simd', 'scalar'] as const) cores[build] = await loadCore(undefined, { build });
});

// ---- edge-case construction over the group (noble's Point), signed with the RFC 8032 equations ----
const Point = ed25519.Point;
const L = Point.Fn.ORDER;
const P = Point.Fp.ORDER;
const leBytes = (n: bigint, length = 32): Uint8Array => {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = Number((n >> BigInt(8 * i)) & 0xffn);
  return out;
};
const leNumber = (b: Uint8Array): bigint => b.reduceRight((n, byte) => (n << 8n) | BigInt(byte), 0n);
const randomScalar = (): bigint => (leNumber(randomBytes(64)) % (L - 1n)) + 1n;

/** The 8 points of order dividing 8: multiples of [L]Q for a point Q with a torsion part of order 8. */
function torsionPoints(): InstanceType<typeof Point>[] {
  for (;;) {
    let q: InstanceType<typeof Point>;
    try {
      q = Point.fromBytes(randomBytes(32).map((b, i) => (i === 31 ? b & 0x7f : b)));
    } catch {
      continue; // not a point
    }
    const t = q.multiplyUnsafe(L - 1n).add(q); // [L]Q
    if (t.double().double().is0()) continue; // order below 8
    return Array.from({ length: 8 }, (_, i) => (i === 0 ? Point.ZERO : t.multiplyUnsafe(BigInt(i))));
  }
}

/** A signature by the RFC 8032 equations with A = [a]B + tA and R = [r]B + tR: S = r + k·a mod L, k = H(R ‖ A ‖ M). */
function signWithTorsion(msg: Uint8Array, tA: InstanceType<typeof Point>, tR: InstanceType<typeof Point>) {
  const a = randomScalar(), r = randomScalar();
  const pub = Point.BASE.multiply(a).add(tA).toBytes();
  const R = Point.BASE.multiply(r).add(tR).toBytes();
  const k = leNumber(sha512(concat(R, pub, msg))) % L;
  return { pub, sig: concat(R, leBytes((r + k * a) % L)), k };
}

for (const build of ['simd', 'scalar'] as const) {
  describe(`ed25519Verify, ${build} build`, () => {
    it('Wycheproof: every valid case accepted, every invalid one rejected (wrong lengths with BAD_LENGTH); noble agrees', () => {
      const core = cores[build]!;
      const seen = new Set<number>();
      for (const group of wycheproof.testGroups) {
        const pub = unhex(group.publicKey.pk);
        for (const t of group.tests) {
          seen.add(t.tcId);
          const id = `tcId ${t.tcId} (${t.result}; ${t.comment}; ${t.flags.join(',')})`;
          const [sig, msg] = [unhex(t.sig), unhex(t.msg)];
          const got = verdict(core, pub, sig, msg);
          if (sig.length !== 64) {
            expect.soft(t.result, id).toBe('invalid');
            expect.soft(got, id).toBe('BAD_LENGTH');
            continue;
          }
          expect(t.result, `${id}: the file has no acceptable cases`).not.toBe('acceptable');
          expect.soft(got, id).toBe(t.result === 'valid');
          expect.soft(nobleStrict(pub, sig, msg), `${id}: noble`).toBe(t.result === 'valid');
        }
      }
      expect(seen.size).toBe(wycheproof.numberOfTests);
    });

    it.each(rfc8032.map((v) => [v.name, v] as const))('RFC 8032 §7.1 %s: accepted; rejected with a message bit flipped', (_name, v) => {
      // the transcription is right: node:crypto derives the key and the signature from the secret key
      const nodeKey = ed25519PrivateKey(unhex(v.secretKey));
      expect(hex(ed25519RawPublicKey(nodeKey))).toBe(v.publicKey);
      expect(hex(sign(null, unhex(v.message), nodeKey))).toBe(v.signature);
      const core = cores[build]!;
      const [pub, sig, msg] = [unhex(v.publicKey), unhex(v.signature), unhex(v.message)];
      expect(core.ed25519Verify(pub, sig, msg)).toBe(true);
      const flipped = msg.length > 0 ? msg.slice() : new Uint8Array(1);
      flipped[flipped.length - 1]! ^= 1;
      expect(core.ed25519Verify(pub, sig, flipped)).toBe(false);
    });
  });
}

describe('ed25519Verify against node:crypto (OpenSSL) on random keys and messages', () => {
  // one signature per message length 0..1024, each under a fresh node:crypto key
  const signed = Array.from({ length: 1025 }, (_, length) => {
    const privateKey = ed25519PrivateKey();
    const msg = new Uint8Array(randomBytes(length));
    return { length, pub: ed25519RawPublicKey(privateKey), sig: new Uint8Array(sign(null, msg, privateKey)), msg };
  });
  const flip = (bytes: Uint8Array, bit: number): Uint8Array => {
    const out = bytes.slice();
    out[bit >> 3]! ^= 1 << (bit & 7);
    return out;
  };

  it.each(['simd', 'scalar'] as const)('%s build: every signature verifies; one flipped bit in signature, key or message does not', (build) => {
    const core = cores[build]!;
    const wrong: string[] = [];
    for (const { length, pub, sig, msg } of signed) {
      if (!core.ed25519Verify(pub, sig, msg)) wrong.push(`length ${length}: valid signature rejected`);
      const tampered: Array<[string, Uint8Array, Uint8Array, Uint8Array]> = [
        ['signature', pub, flip(sig, randomInt(512)), msg],
        ['key', flip(pub, randomInt(256)), sig, msg],
      ];
      if (length > 0) tampered.push(['message', pub, sig, flip(msg, randomInt(length * 8))]);
      for (const [what, p, s, m] of tampered) {
        const ours = core.ed25519Verify(p, s, m);
        if (ours) wrong.push(`length ${length}: flipped ${what} bit accepted`);
        if (ours !== nodeVerify(null, m, nodePublicKey(p), s)) wrong.push(`length ${length}: flipped ${what}: node:crypto disagrees`);
      }
    }
    expect(wrong).toEqual([]);
  }, 60_000);
});

describe('ed25519Verify edge cases (expected verdicts stated; @noble/curves with zip215: false agrees)', () => {
  const torsion = torsionPoints();
  const msg = new TextEncoder().encode('receipt 42');

  /** Checks one case in both builds and against noble. */
  function expectVerdict(what: string, pub: Uint8Array, sig: Uint8Array, m: Uint8Array, expected: boolean): void {
    for (const build of ['simd', 'scalar'] as const) expect.soft(cores[build]!.ed25519Verify(pub, sig, m), `${what} (${build})`).toBe(expected);
    expect.soft(nobleStrict(pub, sig, m), `${what} (noble)`).toBe(expected);
  }

  it('the torsion points found have orders 1, 8, 4, 8, 2, 8, 4, 8', () => {
    const order = (t: InstanceType<typeof Point>) => [1, 2, 4, 8].find((n) => t.multiplyUnsafe(BigInt(n)).is0());
    expect(torsion.map(order)).toEqual([1, 8, 4, 8, 2, 8, 4, 8]);
  });

  it('refuses every small-order public key, even with a signature the cofactored equation accepts for any message', () => {
    for (const t of torsion) {
      // A and R of small order, S = 0: [8]·0·B = [8]R + [8]k·A holds whatever the message
      for (const r of [Point.ZERO, t]) expectVerdict(`A = ${t.toHex()}, R = ${r.toHex()}, S = 0`, t.toBytes(), concat(r.toBytes(), new Uint8Array(32)), msg, false);
    }
  });

  it('accepts R and A with a small-order component when the cofactored equation holds (as RFC 8032 §5.1.7 states it)', () => {
    for (const t of torsion.slice(1)) {
      const mixedR = signWithTorsion(msg, Point.ZERO, t);
      expectVerdict(`R + ${t.toHex()}`, mixedR.pub, mixedR.sig, msg, true);
      const mixedA = signWithTorsion(msg, t, Point.ZERO);
      expectVerdict(`A + ${t.toHex()}`, mixedA.pub, mixedA.sig, msg, true);
      expectVerdict(`A + ${t.toHex()}, other message`, mixedA.pub, mixedA.sig, new TextEncoder().encode('receipt 43'), false);
    }
  });

  it('rejects S ≥ L without reducing it: S + L, S + 8L, L, S + 2^255, 2^256 − 1 (S just below L: Wycheproof tcId 84)', () => {
    const good = signWithTorsion(msg, Point.ZERO, Point.ZERO);
    const s = leNumber(good.sig.subarray(32));
    expectVerdict('the signature itself', good.pub, good.sig, msg, true);
    for (const [what, bad] of [['S + L', s + L], ['S + 8L', s + 8n * L], ['L', L], ['S + 2^255', s + (1n << 255n)], ['2^256 − 1', (1n << 256n) - 1n]] as const) {
      expectVerdict(what, good.pub, concat(good.sig.subarray(0, 32), leBytes(bad)), msg, false);
    }
  });

  it('rejects R encoded with y ≥ p where reducing y would verify (ZIP 215 accepts these), and accepts the canonical R', () => {
    // R = (0, 1) or (±√−1, 0), small order, so S = k·a satisfies the cofactored equation: [S]B = [k]A, [8]R = 0
    const a = randomScalar();
    const pub = Point.BASE.multiply(a).toBytes();
    for (const [y, sign] of [[1n, 0], [0n, 0], [0n, 0x80]] as const) {
      for (const encodedY of [y, y + P]) {
        const R = leBytes(encodedY);
        R[31]! |= sign;
        const k = leNumber(sha512(concat(R, pub, msg))) % L;
        const sig = concat(R, leBytes((k * a) % L));
        const what = `R = (${y === 1n ? '0, 1' : `${sign ? '−' : ''}√−1, 0`}) with y encoded as ${encodedY === y ? 'y' : 'y + p'}`;
        expect(ed25519.verify(sig, msg, pub, { zip215: true }), `${what}: ZIP 215`).toBe(true);
        expectVerdict(what, pub, sig, msg, encodedY === y);
      }
    }
  });

  it('rejects every y ≥ p in A or R, and x = 0 with the sign bit set', () => {
    const good = signWithTorsion(msg, Point.ZERO, Point.ZERO);
    const S = good.sig.subarray(32);
    for (let i = 0n; i < 19n; i++) {
      for (const sign of [0, 0x80]) {
        const e = leBytes(P + i);
        e[31]! |= sign;
        expectVerdict(`A: y = p + ${i}, sign ${sign >> 7}`, e, good.sig, msg, false);
        expectVerdict(`R: y = p + ${i}, sign ${sign >> 7}`, good.pub, concat(e, S), msg, false);
      }
    }
    // x = 0 only for y = ±1: (0, 1) and (0, −1) with the sign bit set have no encoding
    for (const y of [1n, P - 1n]) {
      const e = leBytes(y);
      e[31]! |= 0x80;
      expectVerdict(`A = (0, ${y === 1n ? '1' : '−1'}) with the sign bit`, e, good.sig, msg, false);
      expectVerdict(`R = (0, ${y === 1n ? '1' : '−1'}) with the sign bit`, good.pub, concat(e, S), msg, false);
    }
  });
});

describe('ed25519Verify boundary checks', () => {
  const pub = new Uint8Array(32), sig = new Uint8Array(64), msg = new Uint8Array(3);
  const code = (fn: () => unknown): string => {
    try {
      fn();
      return 'returned';
    } catch (e) {
      return isScanpayError(e) ? e.code : `not a ScanpayError: ${String(e)}`;
    }
  };

  it('refuses a key other than 32 bytes and a signature other than 64 with BAD_LENGTH', () => {
    const core = cores.simd!;
    for (const n of [0, 31, 33, 64]) expect(code(() => core.ed25519Verify(new Uint8Array(n), sig, msg)), `key of ${n}`).toBe('BAD_LENGTH');
    for (const n of [0, 32, 63, 65, 96]) expect(code(() => core.ed25519Verify(pub, new Uint8Array(n), msg)), `signature of ${n}`).toBe('BAD_LENGTH');
  });

  it('refuses what is not a Uint8Array with BAD_ARGUMENT, and a message over MAX_INPUT with TOO_LARGE', () => {
    const core = cores.simd!;
    const notBytes = [undefined, null, 'ab', Array.from(sig), sig.buffer] as unknown as Uint8Array[];
    for (const bad of notBytes) {
      expect(code(() => core.ed25519Verify(bad, sig, msg))).toBe('BAD_ARGUMENT');
      expect(code(() => core.ed25519Verify(pub, bad, msg))).toBe('BAD_ARGUMENT');
      expect(code(() => core.ed25519Verify(pub, sig, bad))).toBe('BAD_ARGUMENT');
    }
    expect(code(() => core.ed25519Verify(pub, sig, new Uint8Array(MAX_INPUT + 1)))).toBe('TOO_LARGE');
  });

  it('verifies views at odd offsets as the bytes they show, and leaves every input unchanged', () => {
    const privateKey = ed25519PrivateKey();
    const message = new Uint8Array(randomBytes(77));
    const backing = concat(new Uint8Array(1), ed25519RawPublicKey(privateKey), new Uint8Array(sign(null, message, privateKey)), message);
    const [p, s, m] = [backing.subarray(1, 33), backing.subarray(33, 97), backing.subarray(97)];
    const before = hex(backing);
    expect(cores.simd!.ed25519Verify(p, s, m)).toBe(true);
    expect(cores.scalar!.ed25519Verify(p, s, m)).toBe(true);
    expect(hex(backing)).toBe(before);
  });
});
