/**
 * Scanner tokens (protocol/scanner-token.ts, docs/protocol.md §Authentication): the worked example of
 * the doc as a fixed vector, sign/verify, every tampered field, the clock window and malformed tokens.
 * (One-time use is the store's: Store.acceptDeviceToken, in the store contract suite.)
 */
import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { TOKEN_WINDOW_S, deviceSecret, signScannerToken, verifyScannerToken } from '../../protocol/scanner-token.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

// The worked example in docs/protocol.md: change one, change the other.
const EXAMPLE = {
  fleetKey: '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f',
  deviceId: 'till-0042',
  secret: '8065368e15f4905f526e357dc011ac8cc1d99b4d5c40e4c9bf9112917898dc9b',
  now: Date.UTC(2026, 0, 1), // issuedAt 1767225600
  nonce: '00112233445566778899aabbccddeeff',
  token: 'v1.till-0042.1767225600.00112233445566778899aabbccddeeff.9a99ee68259a107222562f85440c7f6d4feb1c465f9c891f5efe6810203d198e',
};

const fleetKey = new Uint8Array(randomBytes(32));
const DEVICE = 'scanner_7-A';
const secret = deviceSecret(fleetKey, DEVICE);
const NOW = 1_780_000_000_000;

/** Replaces segment i (0 = "v1", 1 = device, 2 = issuedAt, 3 = nonce, 4 = mac) of a token. */
function withSegment(token: string, i: number, value: string): string {
  const parts = token.split('.');
  parts[i] = value;
  return parts.join('.');
}

function flipHexChar(s: string, at: number): string {
  return s.slice(0, at) + (s[at] === '0' ? '1' : '0') + s.slice(at + 1);
}

describe('the documented example', () => {
  const key = new Uint8Array(Buffer.from(EXAMPLE.fleetKey, 'hex'));

  it('device secret = HMAC-SHA256(fleetKey, "scanpay/v1/device:" ‖ deviceId)', () => {
    expect(hex(deviceSecret(key, EXAMPLE.deviceId))).toBe(EXAMPLE.secret);
    expect(createHmac('sha256', key).update(`scanpay/v1/device:${EXAMPLE.deviceId}`).digest('hex')).toBe(EXAMPLE.secret);
  });

  it('token with a fixed clock and nonce', () => {
    const token = signScannerToken(EXAMPLE.deviceId, Buffer.from(EXAMPLE.secret, 'hex'), EXAMPLE.now, EXAMPLE.nonce);
    expect(token).toBe(EXAMPLE.token);
    const mac = createHmac('sha256', Buffer.from(EXAMPLE.secret, 'hex')).update(`scanpay-scanner-v1\n${EXAMPLE.deviceId}\n1767225600\n${EXAMPLE.nonce}`).digest('hex');
    expect(token.endsWith(`.${mac}`)).toBe(true);
    expect(verifyScannerToken(token, key, EXAMPLE.now + 30_000)).toEqual({ ok: true, deviceId: EXAMPLE.deviceId, nonce: EXAMPLE.nonce, issuedAt: 1767225600 });
  });
});

describe('sign and verify', () => {
  it('a fresh token verifies and names its device', () => {
    const token = signScannerToken(DEVICE, secret, NOW);
    const check = verifyScannerToken(token, fleetKey, NOW);
    expect(check).toMatchObject({ ok: true, deviceId: DEVICE, issuedAt: Math.floor(NOW / 1000) });
    expect(token).toMatch(/^v1\.scanner_7-A\.[0-9]+\.[0-9a-f]{32}\.[0-9a-f]{64}$/);
  });

  it('each token has a fresh nonce', () => {
    const nonces = new Set(Array.from({ length: 100 }, () => signScannerToken(DEVICE, secret, NOW).split('.')[3]));
    expect(nonces.size).toBe(100);
  });

  it('device secrets differ per device and per fleet key', () => {
    expect(hex(deviceSecret(fleetKey, 'a'))).not.toBe(hex(deviceSecret(fleetKey, 'b')));
    expect(hex(deviceSecret(fleetKey, 'a'))).not.toBe(hex(deviceSecret(randomBytes(32), 'a')));
  });

  it('signing refuses a device id or nonce that would make a malformed token', () => {
    for (const id of ['', 'a.b', 'a b', 'x'.repeat(65), 'tïll']) expect(() => signScannerToken(id, secret, NOW)).toThrow(RangeError);
    for (const nonce of ['', 'abc', 'A'.repeat(32), '0'.repeat(33)]) expect(() => signScannerToken(DEVICE, secret, NOW, nonce)).toThrow(RangeError);
    expect(() => deviceSecret(fleetKey, 'a.b')).toThrow(RangeError);
  });
});

describe('tampering', () => {
  const token = signScannerToken(DEVICE, secret, NOW);

  it('any changed mac digit → bad-mac', () => {
    const mac = token.split('.')[4];
    for (const at of [0, 1, 31, 62, 63]) {
      expect(verifyScannerToken(withSegment(token, 4, flipHexChar(mac, at)), fleetKey, NOW)).toEqual({ ok: false, reason: 'bad-mac' });
    }
  });

  it('a changed device id, issuedAt or nonce → bad-mac', () => {
    expect(verifyScannerToken(withSegment(token, 1, 'scanner_7-B'), fleetKey, NOW)).toEqual({ ok: false, reason: 'bad-mac' });
    expect(verifyScannerToken(withSegment(token, 2, String(Math.floor(NOW / 1000) + 1)), fleetKey, NOW)).toEqual({ ok: false, reason: 'bad-mac' });
    expect(verifyScannerToken(withSegment(token, 3, flipHexChar(token.split('.')[3], 5)), fleetKey, NOW)).toEqual({ ok: false, reason: 'bad-mac' });
  });

  it("another device's secret, or another fleet key → bad-mac", () => {
    const forged = signScannerToken(DEVICE, deviceSecret(fleetKey, 'other'), NOW);
    expect(verifyScannerToken(forged, fleetKey, NOW)).toEqual({ ok: false, reason: 'bad-mac' });
    expect(verifyScannerToken(token, new Uint8Array(randomBytes(32)), NOW)).toEqual({ ok: false, reason: 'bad-mac' });
  });
});

describe('clock window', () => {
  const token = signScannerToken(DEVICE, secret, NOW);
  const issuedMs = Math.floor(NOW / 1000) * 1000;

  it(`accepted within ±${TOKEN_WINDOW_S} s of the gateway clock`, () => {
    for (const skewS of [-TOKEN_WINDOW_S, -1, 0, 1, TOKEN_WINDOW_S]) {
      expect(verifyScannerToken(token, fleetKey, issuedMs + skewS * 1000).ok).toBe(true);
    }
  });

  it('expired (or from the future) beyond the window', () => {
    for (const skewS of [-TOKEN_WINDOW_S - 1, TOKEN_WINDOW_S + 1, 86_400, -86_400]) {
      expect(verifyScannerToken(token, fleetKey, issuedMs + skewS * 1000)).toEqual({ ok: false, reason: 'expired' });
    }
  });

  it('an expired token is refused before its mac is looked at', () => {
    const stale = withSegment(token, 4, '0'.repeat(64));
    expect(verifyScannerToken(stale, fleetKey, NOW + (TOKEN_WINDOW_S + 5) * 1000)).toEqual({ ok: false, reason: 'expired' });
  });
});

describe('malformed', () => {
  const token = signScannerToken(DEVICE, secret, NOW);
  const [, , issuedAt, nonce, mac] = token.split('.');

  it.each([
    ['empty', ''],
    ['wrong version', `v2.${token.slice(3)}`],
    ['missing mac', token.split('.').slice(0, 4).join('.')],
    ['extra segment', `${token}.00`],
    ['Bearer prefix left on', `Bearer ${token}`],
    ['trailing newline', `${token}\n`],
    ['uppercase mac', withSegment(token, 4, mac.toUpperCase())],
    ['short mac', withSegment(token, 4, mac.slice(2))],
    ['short nonce', withSegment(token, 3, nonce.slice(2))],
    ['device id with a dot', `v1.a.b.${issuedAt}.${nonce}.${mac}`],
    ['device id too long', withSegment(token, 1, 'x'.repeat(65))],
    ['empty device id', withSegment(token, 1, '')],
    ['issuedAt not digits', withSegment(token, 2, '-1')],
    ['issuedAt 13 digits', withSegment(token, 2, '1'.repeat(13))],
    ['issuedAt with a leading zero (§3: no leading zeros)', withSegment(token, 2, `0${token.split('.')[2]}`)],
    ['huge', 'v1.' + 'x'.repeat(100_000)],
  ])('%s → malformed', (_name, bad) => {
    expect(verifyScannerToken(bad, fleetKey, NOW)).toEqual({ ok: false, reason: 'malformed' });
  });
});
