/**
 * One connection attempt to the gateway's scanner endpoint: a fresh single-use device token, the upgrade,
 * and the `welcome` frame. Every failure is a ScannerError (UNAUTHORIZED, RATE_LIMITED, BUSY, TIMEOUT,
 * CLOSED, DEVICE_REVOKED for a 4003 close, or the code of an error frame); the client calls this once per (re)connection attempt.
 * @example
 *   const { ws, welcome } = await openGatewaySocket({ url, deviceId, secret: secretBytes(hex), timeoutMs: 10_000 });
 */
import WebSocket, { type RawData } from 'ws';
import { CLOSE_DEVICE_REVOKED, SUBPROTOCOL, parseGatewayFrame, type WelcomeFrame } from '../protocol/messages.ts';
import { isDeviceId, signScannerToken } from '../protocol/scanner-token.ts';
import { ScannerError, scannerErrorFromFrame } from './scanner-error.ts';

/** Largest frame accepted from the gateway: its frames are small; this only bounds a misbehaving peer. */
const MAX_INBOUND_BYTES = 64 * 1024;

export interface SocketTarget {
  url: string;
  deviceId: string;
  secret: Uint8Array;
  timeoutMs: number;
}

export function secretBytes(secret: Uint8Array | string): Uint8Array {
  if (typeof secret !== 'string') {
    if (!(secret instanceof Uint8Array) || secret.length !== 32) throw new RangeError('secret must be 32 bytes');
    return secret;
  }
  if (!/^[0-9a-fA-F]{64}$/.test(secret.trim())) throw new RangeError('secret must be 64 hex digits');
  return new Uint8Array(Buffer.from(secret.trim(), 'hex'));
}

/** Checks what connect() is given before any network traffic; throws RangeError. */
export function socketTarget(opts: { url: string; deviceId: string; secret: Uint8Array | string }, timeoutMs: number): SocketTarget {
  if (!isDeviceId(opts.deviceId)) throw new RangeError('deviceId must be 1-64 of [A-Za-z0-9_-]');
  const secret = secretBytes(opts.secret);
  const { protocol } = new URL(opts.url);
  if (protocol !== 'ws:' && protocol !== 'wss:') throw new RangeError('url must be ws:// or wss://');
  return { url: opts.url, deviceId: opts.deviceId, secret, timeoutMs };
}

function upgradeError(status: number | undefined, cause: Error): ScannerError {
  if (status === 401) return new ScannerError('UNAUTHORIZED', 'gateway refused the device token (HTTP 401): check device id, secret and clock');
  if (status === 429) return new ScannerError('RATE_LIMITED', 'gateway refused the connection (HTTP 429)');
  if (status === 503) return new ScannerError('BUSY', 'gateway refused the connection (HTTP 503)');
  if (status !== undefined) return new ScannerError('CLOSED', `gateway refused the upgrade (HTTP ${status})`);
  return new ScannerError('CLOSED', `cannot connect: ${cause.message}`);
}

/**
 * Resolves with the open socket once the gateway's `welcome` arrives; one timer covers handshake and
 * welcome. `signal` abandons the attempt (CLOSED), for a client closed while reconnecting.
 */
export function openGatewaySocket(target: SocketTarget, signal?: AbortSignal): Promise<{ ws: WebSocket; welcome: WelcomeFrame }> {
  const ws = new WebSocket(target.url, SUBPROTOCOL, {
    headers: { authorization: `Bearer ${signScannerToken(target.deviceId, target.secret)}` }, // tokens are single-use: a new one per attempt
    maxPayload: MAX_INBOUND_BYTES,
    perMessageDeflate: false,
  });
  return new Promise((resolve, reject) => {
    let status: number | undefined;
    const onAbort = () => fail(new ScannerError('CLOSED', 'client closed the connection'));
    const detach = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      ws.off('unexpected-response', onResponse).off('error', onError).off('close', onClose).off('message', onMessage);
    };
    const fail = (error: ScannerError) => {
      detach();
      ws.on('error', () => {});
      ws.terminate();
      reject(error);
    };
    const onResponse = (_req: unknown, res: { statusCode?: number; resume(): void }) => {
      status = res.statusCode;
      res.resume();
      fail(upgradeError(status, new Error('refused')));
    };
    const onError = (e: Error) => fail(upgradeError(status, e));
    const onClose = (code: number) => fail(code === CLOSE_DEVICE_REVOKED.code
      ? new ScannerError('DEVICE_REVOKED', `gateway closed the connection before welcome: this device is revoked (${code})`)
      : new ScannerError('CLOSED', `gateway closed the connection before welcome (${code})`));
    const onMessage = (data: RawData, isBinary: boolean) => {
      const parsed = isBinary ? null : parseGatewayFrame(data.toString());
      if (parsed?.ok && parsed.frame.type === 'welcome') {
        detach();
        resolve({ ws, welcome: parsed.frame });
      } else if (parsed?.ok && parsed.frame.type === 'error') {
        fail(scannerErrorFromFrame(parsed.frame.code, parsed.frame.message));
      } else {
        fail(new ScannerError('BAD_FRAME', 'gateway did not start with a welcome frame'));
      }
    };
    const timer = setTimeout(() => fail(new ScannerError('TIMEOUT', `no welcome from the gateway within ${target.timeoutMs} ms`)), target.timeoutMs);
    ws.on('unexpected-response', onResponse).on('error', onError).on('close', onClose).on('message', onMessage);
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort);
  });
}
