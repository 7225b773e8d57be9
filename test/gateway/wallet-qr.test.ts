/**
 * The wallet page's QR encoder (gateway/wallet-page/qr-matrix.ts), read back with jsqr (the decoder the CLI uses):
 * every length 1 to its maximum of the alphanumeric set, one-time code texts (62 base45 characters), and bad input refused.
 */
import * as jsqrModule from 'jsqr';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { encodeBase45 } from '../../core/base45.ts';
import { QR_MAX_ALPHANUMERIC, qrMatrix } from '../../gateway/wallet-page/qr-matrix.ts';

// jsqr is a UMD bundle: under Node ESM its function arrives as the CommonJS default (as issuer/qr.ts takes it)
const jsQR = jsqrModule.default as unknown as typeof jsqrModule.default.default;
const ALPHANUMERIC = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:';

/** The modules drawn 4 pixels each with a 4-module quiet zone, decoded by jsqr. */
function decoded(modules: boolean[][]): string | null {
  const scale = 4;
  const quiet = 4;
  const side = (modules.length + 2 * quiet) * scale;
  const rgba = new Uint8ClampedArray(side * side * 4).fill(255);
  modules.forEach((row, y) => row.forEach((dark, x) => {
    if (!dark) return;
    for (let dy = 0; dy < scale; dy++) for (let dx = 0; dx < scale; dx++) {
      const at = (((y + quiet) * scale + dy) * side + (x + quiet) * scale + dx) * 4;
      rgba[at] = rgba[at + 1] = rgba[at + 2] = 0;
    }
  }));
  return jsQR(rgba, side, side)?.data ?? null;
}

const random = (n: number) => Array.from(randomBytes(n), (b) => ALPHANUMERIC[b % ALPHANUMERIC.length]).join('');

describe('qrMatrix', () => {
  it('reads back for every length of the alphanumeric set it takes, at versions 1 to 6', () => {
    const sizes = new Set<number>();
    for (let n = 1; n <= QR_MAX_ALPHANUMERIC; n++) {
      const text = random(n);
      const modules = qrMatrix(text);
      sizes.add(modules.length);
      expect(decoded(modules), `length ${n}`).toBe(text);
    }
    expect([...sizes].sort((a, b) => a - b)).toEqual([21, 25, 29, 33, 37, 41]);
  });

  it('reads back one-time code texts (62 base45 characters: version 4)', () => {
    for (let i = 0; i < 50; i++) {
      const text = encodeBase45(new Uint8Array(randomBytes(41)));
      expect(text).toHaveLength(62);
      const modules = qrMatrix(text);
      expect(modules).toHaveLength(33);
      expect(decoded(modules)).toBe(text);
    }
  });

  it('refuses what it cannot encode', () => {
    for (const bad of ['', 'lowercase', 'A'.repeat(QR_MAX_ALPHANUMERIC + 1), 'É', 42 as unknown as string]) expect(() => qrMatrix(bad)).toThrow(RangeError);
  });
});
