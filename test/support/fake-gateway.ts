/**
 * A tiny in-test gateway speaking protocol v1 (docs/protocol.md) over the `ws` package, for SDK and CLI
 * tests: real token check at upgrade (verifyScannerToken + a one-time nonce → HTTP 401), welcome, scan →
 * auth-required / error, pin → payment-result (PIN "1234" approves; a session's result is replayed),
 * ping → pong, and `payOnPage` to push a page-flow result. Payloads with special names misbehave:
 *   "BLOCKED" → error CARD_BLOCKED; "SILENT" → no answer; "WRONG-TYPE" → answers with a pong; "PAID-CODE" → a
 *   one-time code paid at its scan (v1.6): the scan is answered by an approved payment-result.
 * A scan for the merchant "holder-shop" opens a holder-device session (v1.4 pinEntry): its pin frames get
 * PIN_ENTRY_HOLDER_DEVICE, and only payOnPage pays it.
 */
import { createServer, type Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  MAX_FRAME_BYTES, PROTOCOL_VERSION, SUBPROTOCOL, parseScannerFrame,
  type GatewayFrame, type PaymentResultFrame, type ReversalAction, type ScanFrame, type ScannerFrame,
} from '../../protocol/messages.ts';
import { verifyScannerToken } from '../../protocol/scanner-token.ts';

/** Scans for this merchant open holder-device sessions (the fake's stand-in for the merchant policy). */
export const HOLDER_DEVICE_MERCHANT = 'holder-shop';

/** The fake's frame limit: a plain in-memory token bucket per device (the real gateway keeps its limit in the store). */
class TokenBuckets {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  constructor(private readonly perSecond: number, private readonly burst: number) {}
  take(key: string, now = performance.now()): boolean {
    const b = this.#buckets.get(key) ?? { tokens: this.burst, at: now };
    b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.perSecond);
    b.at = now;
    this.#buckets.set(key, b);
    return b.tokens >= 1 && b.tokens-- >= 1;
  }
}

export const FAKE_PIN = '1234';
export const FAKE_MASKED_PAN = '•••• •••• •••• 7893';

interface FakeSession {
  id: string;
  deviceId: string;
  scan: ScanFrame;
  wrongPins: number;
  result: PaymentResultFrame | null;
  reversal?: ReversalAction;
}

export interface FakeGatewayOptions {
  fleetKey: Uint8Array;
  /** false: accept the upgrade but never send welcome. */
  welcome?: boolean;
  /** Per-scanner limit, advertised in welcome and enforced like the gateway (RATE_LIMITED, id null). Default: none. */
  rateLimit?: { framesPerSecond: number; burst: number; advertiseBurst?: boolean };
}

const UNLIMITED = 1_000_000;

export class FakeGateway {
  readonly received: ScannerFrame[] = [];
  readonly sessions = new Map<string, FakeSession>();
  readonly #http: Server;
  readonly #wss: WebSocketServer;
  readonly #sockets = new Map<WebSocket, string>(); // socket → device id
  readonly #nonces = new Set<string>();
  readonly #rate: TokenBuckets | null;
  rateLimited = 0;
  #url = '';

  private constructor(readonly opts: FakeGatewayOptions) {
    this.#rate = opts.rateLimit ? new TokenBuckets(opts.rateLimit.framesPerSecond, opts.rateLimit.burst) : null;
    this.#http = createServer((_req, res) => res.writeHead(404).end());
    this.#wss = new WebSocketServer({
      server: this.#http,
      path: '/scanner',
      maxPayload: MAX_FRAME_BYTES * 2,
      handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
      verifyClient: (info, done) => {
        const header = info.req.headers.authorization ?? '';
        const query = new URL(info.req.url ?? '/', 'http://x').searchParams.get('token');
        const token = header.startsWith('Bearer ') ? header.slice(7) : query ?? '';
        const check = verifyScannerToken(token, opts.fleetKey);
        if (!check.ok || this.#nonces.has(check.nonce)) return done(false, 401, 'Unauthorized');
        this.#nonces.add(check.nonce);
        (info.req as { deviceId?: string }).deviceId = check.deviceId;
        done(true);
      },
    });
    this.#wss.on('connection', (ws, req) => {
      const deviceId = (req as { deviceId?: string }).deviceId!;
      this.#sockets.set(ws, deviceId);
      ws.on('close', () => this.#sockets.delete(ws));
      ws.on('message', (data) => this.#onFrame(ws, deviceId, data.toString()));
      if (opts.welcome !== false) {
        const { rateLimit } = opts;
        const limits = { maxFrameBytes: MAX_FRAME_BYTES, framesPerSecond: rateLimit?.framesPerSecond ?? UNLIMITED, ...(rateLimit?.advertiseBurst ? { burst: rateLimit.burst } : {}) };
        this.#send(ws, { v: 1, type: 'welcome', scanner: deviceId, limits });
      }
    });
  }

  static async start(opts: FakeGatewayOptions): Promise<FakeGateway> {
    const gateway = new FakeGateway(opts);
    await new Promise<void>((resolve) => gateway.#http.listen(0, '127.0.0.1', resolve));
    gateway.#url = `ws://127.0.0.1:${(gateway.#http.address() as AddressInfo).port}/scanner`;
    return gateway;
  }

  get url(): string {
    return this.#url;
  }

  get connections(): number {
    return this.#sockets.size;
  }

  /** The holder pays on the auth page: the result is pushed (id null) to the scanner that opened the session. */
  payOnPage(sessionId: string, pin = FAKE_PIN): PaymentResultFrame {
    const session = this.sessions.get(sessionId);
    if (!session) throw new Error(`no session ${sessionId}`);
    const result = this.#pay(session, pin, null);
    for (const [ws, deviceId] of this.#sockets) if (deviceId === session.deviceId) this.#send(ws, result);
    return result;
  }

  /** Stops (or resumes) reading from every scanner socket, so their send buffers fill up. */
  pauseReading(paused: boolean): void {
    for (const ws of this.#sockets.keys()) if (paused) ws.pause(); else ws.resume();
  }

  /** Closes every scanner connection from the gateway side. */
  dropConnections(code = 1001): void {
    for (const ws of this.#sockets.keys()) ws.close(code, 'going away');
  }

  async close(): Promise<void> {
    for (const ws of this.#sockets.keys()) ws.terminate();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
    await new Promise<void>((resolve) => this.#http.close(() => resolve()));
  }

  #send(ws: WebSocket, frame: GatewayFrame): void {
    ws.send(JSON.stringify(frame));
  }

  /** The gateway's own token bucket: false when this frame is over the limit. */
  #withinRate(deviceId: string): boolean {
    return this.#rate ? this.#rate.take(deviceId) : true;
  }

  #onFrame(ws: WebSocket, deviceId: string, text: string): void {
    if (!this.#withinRate(deviceId)) {
      this.rateLimited++;
      return this.#send(ws, { v: 1, type: 'error', id: null, code: 'RATE_LIMITED', message: 'too many frames; slow down' });
    }
    const parsed = parseScannerFrame(text);
    if (!parsed.ok) {
      this.#send(ws, { v: 1, type: 'error', id: null, code: parsed.code, message: parsed.message });
      return;
    }
    const frame = parsed.frame;
    this.received.push(frame);
    if (frame.type === 'ping') return this.#send(ws, { v: 1, type: 'pong', id: frame.id });
    if (frame.type === 'scan') {
      if (frame.payload === 'SILENT') return;
      if (frame.payload === 'WRONG-TYPE') return this.#send(ws, { v: 1, type: 'pong', id: frame.id });
      if (frame.payload === 'BLOCKED') {
        return this.#send(ws, { v: 1, type: 'error', id: frame.id, code: 'CARD_BLOCKED', message: 'card is blocked' });
      }
      const session: FakeSession = { id: randomBytes(16).toString('hex'), deviceId, scan: frame, wrongPins: 0, result: null };
      this.sessions.set(session.id, session);
      if (frame.payload === 'PAID-CODE') return this.#send(ws, this.#pay(session, FAKE_PIN, frame.id));
      const { amount, currency, merchant } = frame;
      return this.#send(ws, {
        v: 1, type: 'auth-required', id: frame.id, session: session.id, url: `http://127.0.0.1/pay/${session.id}`,
        expiresAt: Date.now() + 120_000, merchant, amount, currency, maskedPan: FAKE_MASKED_PAN,
        pinEntry: merchant === HOLDER_DEVICE_MERCHANT ? 'holder-device' : 'scanner',
      });
    }
    const session = this.sessions.get(frame.session);
    if (!session) return this.#send(ws, { v: 1, type: 'error', id: frame.id, code: 'SESSION_UNKNOWN', message: 'no such session' });
    if (session.deviceId !== deviceId) {
      return this.#send(ws, { v: 1, type: 'error', id: frame.id, code: 'SESSION_WRONG_SCANNER', message: 'session belongs to another scanner' });
    }
    if (frame.type === 'status') {
      const done = session.result;
      return this.#send(ws, {
        v: 1, type: 'session-status', id: frame.id, session: session.id, state: done ? 'done' : 'open', expiresAt: Date.now() + 120_000,
        result: done && { outcome: done.outcome, reason: done.reason, receipt: done.receipt },
      });
    }
    if (frame.type === 'reverse') {
      // as the gateway: the first reversal decides (an approved payment is voided), a later one answers the same
      const replayed = session.reversal !== undefined;
      session.reversal ??= session.result?.outcome === 'approved' ? 'voided' : 'none';
      return this.#send(ws, { v: 1, type: 'reversal', id: frame.id, session: session.id, action: session.reversal, replayed });
    }
    if (session.scan.merchant === HOLDER_DEVICE_MERCHANT) {
      return this.#send(ws, { v: 1, type: 'error', id: frame.id, code: 'PIN_ENTRY_HOLDER_DEVICE', message: 'the holder enters the PIN on their own phone' });
    }
    this.#send(ws, this.#pay(session, frame.pin, frame.id));
  }

  #pay(session: FakeSession, pin: string, id: string | null): PaymentResultFrame {
    if (session.result) return { ...session.result, id, replayed: true };
    const { amount, currency, merchant } = session.scan;
    const base = { v: PROTOCOL_VERSION as 1, type: 'payment-result' as const, id, session: session.id, replayed: false };
    if (pin !== FAKE_PIN) {
      session.result = { ...base, outcome: 'declined', reason: 'PIN_WRONG', attemptsLeft: 2, receipt: null };
    } else {
      session.result = {
        ...base, outcome: 'approved', reason: null,
        receipt: {
          session: session.id, merchant, amount, currency, maskedPan: FAKE_MASKED_PAN, outcome: 'approved', reason: null,
          at: Date.now(), mac: randomBytes(32).toString('hex'),
        },
      };
    }
    return session.result;
  }
}
