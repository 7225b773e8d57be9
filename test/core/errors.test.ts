/**
 * Typed errors at the core's boundary (core/errors.ts), and that a failed call leaves the module
 * usable: bad lengths, oversized inputs, HKDF length limit, short sealed buffers, load failures.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { CORE_WASM_PATH, MAX_INPUT, loadCore, loadCoreSync } from '../../core/index.ts';
import { isScanpayError } from '../../core/errors.ts';
import type { CryptoCore, Dvd1Record } from '../../core/types.ts';
import { issueCard, nodeHkdf, nodeSeal } from '../support/dvd1-fixture.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const rnd = (n: number): Uint8Array => new Uint8Array(randomBytes(n));
const EMPTY = new Uint8Array(0);

/** The ScanpayError code fn threw, 'returned' if it did not throw, or a description of a foreign throw. */
function outcome(fn: () => unknown): string {
  try {
    fn();
    return 'returned';
  } catch (e) {
    return isScanpayError(e) ? e.code : `not a ScanpayError: ${String(e)}`;
  }
}

let core: CryptoCore;
beforeAll(async () => {
  core = await loadCore();
});

describe('AEAD key and nonce lengths', () => {
  const BAD_KEYS = [0, 1, 16, 31, 33, 64];
  const BAD_NONCES = [0, 8, 11, 13, 16, 24];

  it.each(BAD_KEYS)('key of %i bytes: seal and open throw BAD_LENGTH', (n) => {
    const nonce = rnd(12);
    const sealed = core.seal(rnd(32), nonce, rnd(10));
    expect(outcome(() => core.seal(rnd(n), nonce, rnd(10)))).toBe('BAD_LENGTH');
    expect(outcome(() => core.open(rnd(n), nonce, sealed))).toBe('BAD_LENGTH');
  });

  it.each(BAD_NONCES)('nonce of %i bytes: seal and open throw BAD_LENGTH', (n) => {
    const key = rnd(32);
    const sealed = core.seal(key, rnd(12), rnd(10));
    expect(outcome(() => core.seal(key, rnd(n), rnd(10)))).toBe('BAD_LENGTH');
    expect(outcome(() => core.open(key, rnd(n), sealed))).toBe('BAD_LENGTH');
  });

  it.each([0, 1, 8, 15])('sealed of %i bytes (shorter than a tag) throws BAD_LENGTH', (n) => {
    expect(outcome(() => core.open(rnd(32), rnd(12), rnd(n)))).toBe('BAD_LENGTH');
    expect(outcome(() => core.open(rnd(32), rnd(12), rnd(n), rnd(5)))).toBe('BAD_LENGTH');
  });

  it('sealed of exactly 16 bytes is a tag check, not a length error', () => {
    expect(outcome(() => core.open(rnd(32), rnd(12), rnd(16)))).toBe('AEAD_TAG_INVALID');
  });

  it('a non-Uint8Array argument throws a ScanpayError, not a TypeError from deep inside', () => {
    const bogus = 'x'.repeat(32) as unknown as Uint8Array;
    const code = outcome(() => core.seal(bogus, rnd(12), rnd(1)));
    expect(['BAD_ARGUMENT', 'BAD_LENGTH']).toContain(code);
  });
});

describe('inputs larger than MAX_INPUT', () => {
  it('MAX_INPUT is 1 MiB', () => {
    expect(MAX_INPUT).toBe(1024 * 1024);
  });

  it('seal: message or aad of MAX_INPUT + 1 throws TOO_LARGE', () => {
    const key = rnd(32);
    const nonce = rnd(12);
    expect(outcome(() => core.seal(key, nonce, new Uint8Array(MAX_INPUT + 1)))).toBe('TOO_LARGE');
    expect(outcome(() => core.seal(key, nonce, rnd(1), new Uint8Array(MAX_INPUT + 1)))).toBe('TOO_LARGE');
  });

  it('open: ciphertext or aad of MAX_INPUT + 1 throws TOO_LARGE', () => {
    const key = rnd(32);
    const nonce = rnd(12);
    expect(outcome(() => core.open(key, nonce, new Uint8Array(MAX_INPUT + 1 + 16)))).toBe('TOO_LARGE');
    expect(outcome(() => core.open(key, nonce, rnd(16), new Uint8Array(MAX_INPUT + 1)))).toBe('TOO_LARGE');
  });

  it('sha256 and hmacSha256: message of MAX_INPUT + 1 throws TOO_LARGE', () => {
    const big = new Uint8Array(MAX_INPUT + 1);
    expect(outcome(() => core.sha256(big))).toBe('TOO_LARGE');
    expect(outcome(() => core.hmacSha256(rnd(32), big))).toBe('TOO_LARGE');
  });

  it('exactly MAX_INPUT is accepted and round-trips (message and aad)', () => {
    const key = rnd(32);
    const nonce = rnd(12);
    const msg = rnd(MAX_INPUT);
    const aad = rnd(MAX_INPUT);
    const sealed = core.seal(key, nonce, msg, aad);
    expect(hex(sealed)).toBe(hex(nodeSeal(key, nonce, msg, aad)));
    expect(hex(core.open(key, nonce, sealed, aad))).toBe(hex(msg));
    expect(hex(core.sha256(msg))).toBe(createHash('sha256').update(msg).digest('hex'));
  });
});

describe('HKDF output length', () => {
  const ikm = rnd(32);
  const salt = rnd(16);
  const info = rnd(10);

  it('8160 works and matches node:crypto; 8161 throws HKDF_LENGTH (hkdf and hkdfExpand)', () => {
    expect(hex(core.hkdf(ikm, salt, info, 8160))).toBe(hex(nodeHkdf(ikm, salt, info, 8160)));
    expect(outcome(() => core.hkdf(ikm, salt, info, 8161))).toBe('HKDF_LENGTH');
    expect(outcome(() => core.hkdf(ikm, salt, info, 1 << 20))).toBe('HKDF_LENGTH');
    const prk = core.hkdfExtract(salt, ikm);
    expect(hex(core.hkdfExpand(prk, info, 8160))).toBe(hex(nodeHkdf(ikm, salt, info, 8160)));
    expect(outcome(() => core.hkdfExpand(prk, info, 8161))).toBe('HKDF_LENGTH');
  });

  // L = 0 is left undefined by the contract (RFC 5869 only bounds L above), so it is not tested.
  it.each([-1, 1.5, Number.NaN])('length %s throws a ScanpayError', (L) => {
    expect(outcome(() => core.hkdf(ikm, salt, info, L))).toMatch(/^(HKDF_LENGTH|BAD_ARGUMENT|BAD_LENGTH)$/);
  });
});

describe('dvd1Batch input validation', () => {
  const withField = (patch: Partial<Dvd1Record>): Dvd1Record[] => [{ ...issueCard().record, ...patch }];

  it('an empty batch returns no results', () => {
    expect(core.dvd1Batch([])).toEqual([]);
  });

  it.each([
    ['kek', { kek: rnd(31) }],
    ['hdr', { hdr: rnd(7) }],
    ['n1', { n1: rnd(11) }],
    ['c1', { c1: rnd(31) }],
    ['n2', { n2: rnd(13) }],
    ['c2', { c2: rnd(47) }],
    ['storedBasicKey', { storedBasicKey: rnd(33) }],
    ['storedPvv', { storedPvv: rnd(16) }],
    ['pin', { pin: new Uint8Array(Buffer.from('123')) }],
    ['sid', { sid: rnd(15) }],
    ['merchant', { merchant: rnd(17) }],
  ] as const)('a record with a wrong-length %s throws BAD_LENGTH', (_name, patch) => {
    expect(outcome(() => core.dvd1Batch(withField(patch)))).toBe('BAD_LENGTH');
  });

  it.each([-1n, 2n ** 64n])('amount %s (outside u64) throws a ScanpayError instead of wrapping', (amount) => {
    expect(outcome(() => core.dvd1Batch(withField({ amount })))).toMatch(/^(BAD_ARGUMENT|TOO_LARGE|BAD_LENGTH)$/);
  });
});

describe('module state after failures', () => {
  it('a failed open throws (returns nothing) and the next valid open still works', () => {
    const key = rnd(32);
    const nonce = rnd(12);
    const msg = rnd(200);
    const aad = rnd(20);
    const sealed = core.seal(key, nonce, msg, aad);
    const bad = sealed.slice();
    bad[bad.length - 1] ^= 0x80;
    for (let i = 0; i < 50; i++) {
      let returned: Uint8Array | undefined;
      expect(outcome(() => (returned = core.open(key, nonce, bad, aad)))).toBe('AEAD_TAG_INVALID');
      expect(returned).toBeUndefined();
      expect(hex(core.open(key, nonce, sealed, aad))).toBe(hex(msg));
    }
  });

  it('every kind of rejected call leaves the module usable', () => {
    const key = rnd(32);
    const nonce = rnd(12);
    const msg = rnd(77);
    const sealed = core.seal(key, nonce, msg);
    const failures: Array<() => unknown> = [
      () => core.seal(rnd(31), nonce, msg),
      () => core.open(key, rnd(11), sealed),
      () => core.open(key, nonce, rnd(15)),
      () => core.seal(key, nonce, new Uint8Array(MAX_INPUT + 1)),
      () => core.hkdf(key, EMPTY, EMPTY, 8161),
      () => core.open(key, nonce, sealed, rnd(1)),
    ];
    for (const fail of failures) {
      expect(outcome(fail)).not.toBe('returned');
      expect(hex(core.open(key, nonce, sealed))).toBe(hex(msg));
      expect(hex(core.sha256(msg))).toBe(createHash('sha256').update(msg).digest('hex'));
    }
    expect(core.selftest()).toBe(0);
  });

  it('results are copies: later calls (including ones that grow memory) do not change them', () => {
    const a = rnd(100);
    const b = rnd(100);
    const ha = core.sha256(a);
    const key = rnd(32);
    const nonce = rnd(12);
    const sa = core.seal(key, nonce, a);
    core.sha256(b);
    core.seal(key, nonce, b);
    core.seal(key, nonce, rnd(MAX_INPUT), rnd(MAX_INPUT)); // the largest call: may grow linear memory
    expect(hex(ha)).toBe(createHash('sha256').update(a).digest('hex'));
    expect(hex(sa)).toBe(hex(nodeSeal(key, nonce, a, EMPTY)));
  });

  it('inputs are not modified', () => {
    const key = rnd(32);
    const nonce = rnd(12);
    const msg = rnd(64);
    const aad = rnd(16);
    const copies = [key, nonce, msg, aad].map(hex);
    const sealed = core.seal(key, nonce, msg, aad);
    const sealedHex = hex(sealed);
    core.open(key, nonce, sealed, aad);
    const bad = sealed.slice();
    bad[0] ^= 1;
    const badHex = hex(bad);
    outcome(() => core.open(key, nonce, bad, aad));
    expect([key, nonce, msg, aad].map(hex)).toEqual(copies);
    expect(hex(sealed)).toBe(sealedHex);
    expect(hex(bad)).toBe(badHex);
  });
});

describe('loading', () => {
  it('loadCoreSync with garbage bytes throws CORE_LOAD_FAILED', () => {
    expect(outcome(() => loadCoreSync(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8])))).toBe('CORE_LOAD_FAILED');
    expect(outcome(() => loadCoreSync(new Uint8Array(0)))).toBe('CORE_LOAD_FAILED');
    const truncated = new Uint8Array(readFileSync(CORE_WASM_PATH)).subarray(0, 100);
    expect(outcome(() => loadCoreSync(truncated))).toBe('CORE_LOAD_FAILED');
  });

  it('loadCoreSync loads the built module from bytes or from CORE_WASM_PATH', () => {
    const fromBytes = loadCoreSync(new Uint8Array(readFileSync(CORE_WASM_PATH)));
    const fromPath = loadCoreSync();
    for (const c of [fromBytes, fromPath]) {
      expect(c.selftest()).toBe(0);
      expect(hex(c.sha256(new Uint8Array(Buffer.from('abc'))))).toBe(
        'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
      );
    }
  });

  it('two instances do not share state', () => {
    const other = loadCoreSync();
    const key = rnd(32);
    const nonce = rnd(12);
    const msg = rnd(50);
    const sealed = other.seal(key, nonce, msg);
    expect(outcome(() => core.open(key, nonce, sealed.map((x, i) => (i === 0 ? x ^ 1 : x))))).toBe('AEAD_TAG_INVALID');
    expect(hex(other.open(key, nonce, sealed))).toBe(hex(msg));
  });
});
