/** The fleet key loader (protocol/fleet-key.ts): file, env file, env hex; typed errors that never echo the key. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isScanpayError } from '../../core/errors.ts';
import { FLEET_KEY_BYTES, loadFleetKey } from '../../protocol/fleet-key.ts';

const KEY = '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f';
const OTHER = 'ff'.repeat(32);
const dir = mkdtempSync(join(tmpdir(), 'scanpay-fleet-'));
const file = (name: string, content: string): string => {
  const path = join(dir, name);
  writeFileSync(path, content, { mode: 0o600 });
  return path;
};
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function failure(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (e) {
    if (isScanpayError(e)) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error('did not throw');
}

describe('loadFleetKey', () => {
  it('reads 64 hex digits from a file (trailing newline, either case)', () => {
    expect(hex(loadFleetKey({ file: file('k1', `${KEY}\n`), env: {} }))).toBe(KEY);
    expect(hex(loadFleetKey({ file: file('k2', `  ${KEY.toUpperCase()}\r\n`), env: {} }))).toBe(KEY);
    expect(loadFleetKey({ file: file('k3', KEY), env: {} })).toHaveLength(FLEET_KEY_BYTES);
  });

  it('file option, then SCANPAY_FLEET_KEY_FILE, then SCANPAY_FLEET_KEY', () => {
    const keyFile = file('k4', KEY);
    const otherFile = file('k5', OTHER);
    expect(hex(loadFleetKey({ file: keyFile, env: { SCANPAY_FLEET_KEY_FILE: otherFile, SCANPAY_FLEET_KEY: OTHER } }))).toBe(KEY);
    expect(hex(loadFleetKey({ env: { SCANPAY_FLEET_KEY_FILE: keyFile, SCANPAY_FLEET_KEY: OTHER } }))).toBe(KEY);
    expect(hex(loadFleetKey({ env: { SCANPAY_FLEET_KEY: KEY } }))).toBe(KEY);
  });

  it('none configured → FLEET_KEY_INVALID saying how to configure one', () => {
    const f = failure(() => loadFleetKey({ env: {} }));
    expect(f.code).toBe('FLEET_KEY_INVALID');
    expect(f.message).toContain('SCANPAY_FLEET_KEY');
  });

  it('unreadable file → FLEET_KEY_INVALID', () => {
    expect(failure(() => loadFleetKey({ file: join(dir, 'missing'), env: {} }))).toMatchObject({ code: 'FLEET_KEY_INVALID' });
    expect(failure(() => loadFleetKey({ file: dir, env: {} }))).toMatchObject({ code: 'FLEET_KEY_INVALID' });
  });

  it.each([
    ['short', KEY.slice(2)],
    ['long', `${KEY}00`],
    ['not hex', KEY.replace(/a/g, 'g')],
    ['base64', Buffer.from(KEY, 'hex').toString('base64')],
    ['two lines', `${KEY.slice(0, 32)}\n${KEY.slice(32)}`],
    ['empty', ''],
  ])('%s content → FLEET_KEY_INVALID, content not echoed', (_name, content) => {
    for (const f of [failure(() => loadFleetKey({ file: file('bad', content), env: {} })), failure(() => loadFleetKey({ env: { SCANPAY_FLEET_KEY: content || ' ' } }))]) {
      expect(f.code).toBe('FLEET_KEY_INVALID');
      if (content.length > 8) expect(f.message).not.toContain(content.slice(0, 16));
    }
  });
});
