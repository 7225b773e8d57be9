/**
 * Every Wycheproof case for the core's primitives (test/vectors/wycheproof): ChaCha20-Poly1305,
 * HMAC-SHA256, HKDF-SHA256. One it() per test group; each failure names its tcId, and each file's
 * processed count must equal its numberOfTests so no case is silently skipped.
 *
 * `acceptable` cases (none in the current files): either outcome is allowed; if the core accepts,
 * its output must still equal the expected one. They are counted like the others.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadCore } from '../../core/index.ts';
import { isScanpayError, type ErrorCode } from '../../core/errors.ts';
import type { CryptoCore } from '../../core/types.ts';

const VECTORS = new URL('../vectors/wycheproof/', import.meta.url);

interface WycheproofFile<T> {
  algorithm: string;
  numberOfTests: number;
  testGroups: Array<Record<string, unknown> & { tests: T[] }>;
}
interface Case {
  tcId: number;
  comment: string;
  flags: string[];
  result: 'valid' | 'invalid' | 'acceptable';
}
interface AeadCase extends Case {
  key: string;
  iv: string;
  aad: string;
  msg: string;
  ct: string;
  tag: string;
}
interface MacCase extends Case {
  key: string;
  msg: string;
  tag: string;
}
interface HkdfCase extends Case {
  ikm: string;
  salt: string;
  info: string;
  size: number;
  okm: string;
}

function load<T>(name: string): WycheproofFile<T> {
  return JSON.parse(readFileSync(new URL(name, VECTORS), 'utf8')) as WycheproofFile<T>;
}
const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const label = (t: Case): string => `tcId ${t.tcId} (${t.result}; ${t.comment}; ${t.flags.join(',')})`;

const RETURNED = 'returned without throwing';
/** Runs fn, returns the ScanpayError code it threw, RETURNED if it returned, or a description of any other throw. */
function thrownCode(fn: () => unknown): ErrorCode | string {
  try {
    fn();
    return RETURNED;
  } catch (e) {
    return isScanpayError(e) ? e.code : `not a ScanpayError: ${String(e)}`;
  }
}

/** Runs one case; an unexpected exception is recorded against its tcId and the group goes on. */
function runCase(id: string, fn: () => void): void {
  try {
    fn();
  } catch (e) {
    expect.soft(`threw ${String(e)}`, id).toBe('no exception');
  }
}

let core: CryptoCore;
beforeAll(async () => {
  core = await loadCore();
});

const aead = load<AeadCase>('chacha20_poly1305_test.json');
const mac = load<MacCase>('hmac_sha256_test.json');
const hkdf = load<HkdfCase>('hkdf_sha256_test.json');

describe(`Wycheproof ${aead.algorithm}`, () => {
  const seen = new Set<number>();

  it.each(aead.testGroups.map((g, i) => [i, g] as const))('group %i', (_i, group) => {
    const ivBytes = Number(group.ivSize) / 8;
    for (const t of group.tests) {
      seen.add(t.tcId);
      const id = label(t);
      runCase(id, () => {
        const [key, iv, aad, msg] = [unhex(t.key), unhex(t.iv), unhex(t.aad), unhex(t.msg)];
        const sealed = unhex(t.ct + t.tag);
        expect(iv.length, id).toBe(ivBytes);

        if (t.result === 'valid') {
          expect.soft(hex(core.seal(key, iv, msg, aad)), `${id}: seal`).toBe(t.ct + t.tag);
          expect.soft(hex(core.open(key, iv, sealed, aad)), `${id}: open`).toBe(t.msg);
        } else if (t.result === 'invalid') {
          if (iv.length !== 12) {
            // InvalidNonceSize: both directions refuse the nonce
            expect.soft(thrownCode(() => core.seal(key, iv, msg, aad)), `${id}: seal`).toBe('BAD_LENGTH');
            expect.soft(thrownCode(() => core.open(key, iv, sealed, aad)), `${id}: open`).toBe('BAD_LENGTH');
          } else {
            expect(sealed.length, id).toBeGreaterThanOrEqual(16);
            expect.soft(thrownCode(() => core.open(key, iv, sealed, aad)), `${id}: open`).toBe('AEAD_TAG_INVALID');
          }
        } else {
          let out: Uint8Array | undefined;
          const code = thrownCode(() => (out = core.open(key, iv, sealed, aad)));
          if (code === RETURNED) expect.soft(hex(out!), `${id}: acceptable, accepted`).toBe(t.msg);
          else expect.soft(['AEAD_TAG_INVALID', 'BAD_LENGTH'], `${id}: acceptable, rejected`).toContain(code);
        }
      });
    }
  });

  it('processed every case exactly once', () => {
    expect(seen.size).toBe(aead.numberOfTests);
  });
});

describe(`Wycheproof ${mac.algorithm}`, () => {
  const seen = new Set<number>();

  it.each(mac.testGroups.map((g, i) => [i, g] as const))('group %i', (_i, group) => {
    const tagBytes = Number(group.tagSize) / 8;
    const keyBytes = Number(group.keySize) / 8;
    for (const t of group.tests) {
      seen.add(t.tcId);
      const id = label(t);
      runCase(id, () => {
        const key = unhex(t.key);
        const expected = unhex(t.tag);
        expect(key.length, id).toBe(keyBytes);
        expect(expected.length, id).toBe(tagBytes);
        const full = core.hmacSha256(key, unhex(t.msg));
        expect(full.length, id).toBe(32);
        const got = full.slice(0, tagBytes);
        if (t.result === 'valid') {
          expect.soft(hex(got), id).toBe(t.tag);
          expect.soft(core.constantTimeEqual(got, expected), `${id}: verify`).toBe(true);
        } else if (t.result === 'invalid') {
          expect.soft(hex(got), id).not.toBe(t.tag);
          expect.soft(core.constantTimeEqual(got, expected), `${id}: verify`).toBe(false);
        } else {
          // acceptable: no expectation on the verdict, but verify must agree with byte equality
          expect.soft(core.constantTimeEqual(got, expected), id).toBe(hex(got) === t.tag);
        }
      });
    }
  });

  it('processed every case exactly once', () => {
    expect(seen.size).toBe(mac.numberOfTests);
  });
});

describe(`Wycheproof ${hkdf.algorithm}`, () => {
  const seen = new Set<number>();

  it.each(hkdf.testGroups.map((g, i) => [i, g] as const))('group %i', (_i, group) => {
    for (const t of group.tests) {
      seen.add(t.tcId);
      const id = label(t);
      runCase(id, () => {
        const [ikm, salt, info] = [unhex(t.ikm), unhex(t.salt), unhex(t.info)];
        if (t.result === 'valid') {
          expect.soft(hex(core.hkdf(ikm, salt, info, t.size)), id).toBe(t.okm);
          // and extract-then-expand agrees with the one-shot
          const prk = core.hkdfExtract(salt, ikm);
          expect.soft(hex(core.hkdfExpand(prk, info, t.size)), `${id}: extract+expand`).toBe(t.okm);
        } else if (t.result === 'invalid') {
          expect(t.flags, id).toContain('SizeTooLarge');
          expect.soft(thrownCode(() => core.hkdf(ikm, salt, info, t.size)), id).toBe('HKDF_LENGTH');
          const prk = core.hkdfExtract(salt, ikm);
          expect.soft(thrownCode(() => core.hkdfExpand(prk, info, t.size)), `${id}: expand`).toBe('HKDF_LENGTH');
        } else {
          let out: Uint8Array | undefined;
          const code = thrownCode(() => (out = core.hkdf(ikm, salt, info, t.size)));
          if (code === RETURNED) expect.soft(hex(out!), id).toBe(t.okm);
        }
      });
    }
  });

  it('processed every case exactly once', () => {
    expect(seen.size).toBe(hkdf.numberOfTests);
  });
});
