/**
 * SHA-512 in the core (FIPS 180-4), both builds: FIPS 180-2 appendix C answers, every length 0..1024
 * against node:crypto (OpenSSL), lengths around the block and padding boundaries, a message read from an
 * unaligned offset, and the wrapper's boundary checks.
 */
import { createHash, randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadCore, MAX_INPUT, type CoreBuild, type WasmCryptoCore } from '../../core/index.ts';
import { isScanpayError } from '../../core/errors.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const ascii = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));
const nodeSha512 = (m: Uint8Array): string => createHash('sha512').update(m).digest('hex');

// FIPS 180-2 appendix C (C.1, C.2, C.3) and the empty message
const KNOWN: Array<[string, Uint8Array, string]> = [
  ['empty', new Uint8Array(0), 'cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e'],
  ['C.1 "abc"', ascii('abc'), 'ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f'],
  ['C.2 896 bits', ascii('abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu'),
    '8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909'],
  ['C.3 a million "a"', ascii('a'.repeat(1_000_000)),
    'e718483d0ce769644e2e42c7bc15b4638e1f98b13b2044285632a803afa973ebde0ff244877ea60a4cb0432ce577c31beb009c5c2c49aa2e4eadb217ad8cc09b'],
];

const cores: Partial<Record<CoreBuild, WasmCryptoCore>> = {};
beforeAll(async () => {
  for (const build of ['simd', 'scalar'] as const) cores[build] = await loadCore(undefined, { build });
});

for (const build of ['simd', 'scalar'] as const) {
  describe(`sha512, ${build} build`, () => {
    it.each(KNOWN)('FIPS 180-2: %s', (_name, msg, digest) => {
      expect(hex(cores[build]!.sha512(msg))).toBe(digest);
    });

    it('equals node:crypto on random messages of every length 0..1024', () => {
      const core = cores[build]!;
      const wrong: number[] = [];
      for (let len = 0; len <= 1024; len++) {
        const msg = new Uint8Array(randomBytes(len));
        if (hex(core.sha512(msg)) !== nodeSha512(msg)) wrong.push(len);
      }
      expect(wrong).toEqual([]);
    });

    it('equals node:crypto around the padding boundaries of longer messages and at the 1 MiB limit', () => {
      const core = cores[build]!;
      for (const len of [111, 112, 113, 127, 128, 129, 239, 240, 255, 256, 4095, 4096, 4097, 65_536 + 111, MAX_INPUT]) {
        const msg = new Uint8Array(randomBytes(len));
        expect(hex(core.sha512(msg)), `length ${len}`).toBe(nodeSha512(msg));
      }
    });

    it('hashes a view at an odd offset as the bytes it shows, and leaves the input as it was', () => {
      const backing = new Uint8Array(randomBytes(300));
      const view = backing.subarray(3, 3 + 201);
      const before = hex(backing);
      expect(hex(cores[build]!.sha512(view))).toBe(nodeSha512(view));
      expect(hex(backing)).toBe(before);
    });
  });
}

describe('sha512 boundary checks', () => {
  const code = (fn: () => unknown): string => {
    try {
      fn();
      return 'returned';
    } catch (e) {
      return isScanpayError(e) ? e.code : `not a ScanpayError: ${String(e)}`;
    }
  };

  it('refuses a non-Uint8Array with BAD_ARGUMENT and more than MAX_INPUT bytes with TOO_LARGE', () => {
    const core = cores.simd!;
    expect(code(() => core.sha512('abc' as unknown as Uint8Array))).toBe('BAD_ARGUMENT');
    expect(code(() => core.sha512([1, 2, 3] as unknown as Uint8Array))).toBe('BAD_ARGUMENT');
    expect(code(() => core.sha512(new Uint8Array(MAX_INPUT + 1)))).toBe('TOO_LARGE');
  });
});
