/**
 * Scanner authentication at WebSocket upgrade (docs/protocol.md §Authentication).
 *
 * Each scanner is provisioned with a device id and a 32-byte device secret,
 *   deviceSecret = HMAC-SHA256(fleetKey, "scanpay/v1/device:" ‖ deviceId),
 * so the gateway needs only the fleet key, not a table of secrets. At each connection the scanner sends
 *   token = "v1." ‖ deviceId ‖ "." ‖ issuedAt (unix seconds) ‖ "." ‖ nonce (32 hex) ‖ "." ‖ mac (64 hex)
 *   mac   = HMAC-SHA256(deviceSecret, "scanpay-scanner-v1\n" ‖ deviceId ‖ "\n" ‖ issuedAt ‖ "\n" ‖ nonce)
 * in the `Authorization: Bearer <token>` header (or `?token=` for clients that cannot set headers).
 * The gateway accepts a token within ±TOKEN_WINDOW_S of its clock, once: its nonce is kept in the store for the
 * window (Redis SET NX), so the token opens one connection across gateway restarts and processes.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { isDeviceId } from './values.ts';

export const TOKEN_WINDOW_S = 120;
const TOKEN = /^v1\.([A-Za-z0-9_-]{1,64})\.(0|[1-9][0-9]{0,11})\.([0-9a-f]{32})\.([0-9a-f]{64})$/;

export { isDeviceId };

export function deviceSecret(fleetKey: Uint8Array, deviceId: string): Uint8Array {
  if (!isDeviceId(deviceId)) throw new RangeError('device id must be 1-64 of [A-Za-z0-9_-]');
  return createHmac('sha256', fleetKey).update(`scanpay/v1/device:${deviceId}`).digest();
}

function mac(secret: Uint8Array, deviceId: string, issuedAt: string, nonce: string): Buffer {
  return createHmac('sha256', secret).update(`scanpay-scanner-v1\n${deviceId}\n${issuedAt}\n${nonce}`).digest();
}

/**
 * Scanner side: a fresh single-use token. `nonce` (32 hex) is for test vectors only; leave it to the CSPRNG.
 * @example
 *   const token = signScannerToken('till-0042', secret); // Authorization: Bearer <token>
 */
export function signScannerToken(deviceId: string, secret: Uint8Array, now = Date.now(), nonce = randomBytes(16).toString('hex')): string {
  if (!isDeviceId(deviceId)) throw new RangeError('device id must be 1-64 of [A-Za-z0-9_-]');
  if (!/^[0-9a-f]{32}$/.test(nonce)) throw new RangeError('nonce must be 32 lowercase hex digits');
  const issuedAt = String(Math.floor(now / 1000));
  return `v1.${deviceId}.${issuedAt}.${nonce}.${mac(secret, deviceId, issuedAt, nonce).toString('hex')}`;
}

export type TokenCheck = { ok: true; deviceId: string; nonce: string; issuedAt: number } | { ok: false; reason: 'malformed' | 'expired' | 'bad-mac' };

/** Gateway side: shape, clock window and MAC (constant-time). Replay is the caller's check (Store.acceptDeviceToken). */
export function verifyScannerToken(token: string, fleetKey: Uint8Array, now = Date.now()): TokenCheck {
  const m = TOKEN.exec(token);
  if (!m) return { ok: false, reason: 'malformed' };
  const [, deviceId, issuedAt, nonce, macHex] = m;
  const issuedAtS = Number(issuedAt);
  if (Math.abs(now / 1000 - issuedAtS) > TOKEN_WINDOW_S) return { ok: false, reason: 'expired' };
  const expected = mac(deviceSecret(fleetKey, deviceId), deviceId, issuedAt, nonce);
  if (!timingSafeEqual(expected, Buffer.from(macHex, 'hex'))) return { ok: false, reason: 'bad-mac' };
  return { ok: true, deviceId, nonce, issuedAt: issuedAtS };
}
