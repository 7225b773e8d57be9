/**
 * Scanner side of the WebSocket protocol v1 (docs/protocol.md): one authenticated connection to the
 * gateway, requests correlated by id, every request with a timeout, and the results the gateway pushes
 * when the holder pays on the authentication page.
 * @example
 *   const client = await ScannerClient.connect({ url: 'ws://gw:8080/scanner', deviceId: 'till-0042', secret });
 *   const auth = await client.scan({ payload, amount: 1250, currency: 'EUR', merchant: 'cafe-7' });
 *   const result = await client.submitPin(auth.session, '1234');   // or client.waitForResult(auth.session, 120_000)
 */
import { randomBytes } from 'node:crypto';
import WebSocket, { type RawData } from 'ws';
import {
  MAX_FRAME_BYTES, PROTOCOL_VERSION, SUBPROTOCOL, parseGatewayFrame, parseScannerFrame, type ScannerFrame,
  type AuthRequiredFrame, type ErrorFrame, type GatewayFrame, type PaymentResultFrame, type PongFrame, type WelcomeFrame,
} from '../protocol/messages.ts';
import { isDeviceId, signScannerToken } from '../protocol/scanner-token.ts';
import { FramePacer } from './frame-pacer.ts';
import { ScannerError, scannerErrorFromFrame } from './scanner-error.ts';

export interface ScannerClientOptions {
  /** The gateway's scanner endpoint, e.g. `ws://gateway:8080/scanner` (ws: or wss:). */
  url: string;
  deviceId: string;
  /** The 32-byte device secret, as bytes or 64 hex digits (`scanpay scanner provision`). */
  secret: Uint8Array | string;
  /** Connect timeout, and the default timeout of each request (ms). Default 10 s. */
  timeoutMs?: number;
  /** Sends wait while more than this many bytes are queued on the socket. Default 64 KiB. */
  maxBufferedBytes?: number;
  /** Pace frames to the rate the gateway advertises in `welcome` (default true), so RATE_LIMITED never happens. */
  pace?: boolean;
}

export interface ScanRequest {
  payload: string; // the card payload text as read from the QR code
  amount: number; // minor units
  currency: string; // ISO 4217, e.g. "EUR"
  merchant: string;
}

/** Frames the gateway sends on its own (`id: null`): page-flow results, connection-level errors. */
export type PushFrame = PaymentResultFrame | ErrorFrame;

interface ClientEvents {
  push: (frame: PushFrame) => void;
  close: (error: ScannerError) => void;
}

type Expected = 'auth-required' | 'payment-result' | 'pong';
interface Pending {
  expect: Expected;
  resolve: (frame: GatewayFrame) => void;
  reject: (error: ScannerError) => void;
  timer: NodeJS.Timeout;
}
interface ResultWaiter {
  resolve: (frame: PaymentResultFrame) => void;
  reject: (error: ScannerError) => void;
  timer: NodeJS.Timeout;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_BUFFERED = 64 * 1024;
/** Largest frame accepted from the gateway: its frames are small; this only bounds a misbehaving peer. */
const MAX_INBOUND_BYTES = 64 * 1024;
/** Results kept per connection so waitForResult sees a push that arrived before it was called. */
const RECENT_RESULTS = 256;
const SESSION_ID = /^[0-9a-f]{32}$/;

function secretBytes(secret: Uint8Array | string): Uint8Array {
  if (typeof secret !== 'string') {
    if (!(secret instanceof Uint8Array) || secret.length !== 32) throw new RangeError('secret must be 32 bytes');
    return secret;
  }
  if (!/^[0-9a-fA-F]{64}$/.test(secret.trim())) throw new RangeError('secret must be 64 hex digits');
  return new Uint8Array(Buffer.from(secret.trim(), 'hex'));
}

function upgradeError(status: number | undefined, cause: Error): ScannerError {
  if (status === 401) return new ScannerError('UNAUTHORIZED', 'gateway refused the device token (HTTP 401): check device id, secret and clock');
  if (status === 429) return new ScannerError('RATE_LIMITED', 'gateway refused the connection (HTTP 429)');
  if (status === 503) return new ScannerError('BUSY', 'gateway refused the connection (HTTP 503)');
  if (status !== undefined) return new ScannerError('CLOSED', `gateway refused the upgrade (HTTP ${status})`);
  return new ScannerError('CLOSED', `cannot connect: ${cause.message}`);
}

/** The `id` of a frame that failed validation, if it had a usable one (to fail the matching request). */
function idOf(text: string): string | null {
  try {
    const value: unknown = JSON.parse(text);
    const id = (value as { id?: unknown } | null)?.id;
    return typeof id === 'string' ? id : null;
  } catch {
    return null;
  }
}

export class ScannerClient {
  readonly welcome: WelcomeFrame;
  readonly #ws: WebSocket;
  readonly #timeoutMs: number;
  readonly #maxBuffered: number;
  readonly #idPrefix = randomBytes(4).toString('hex');
  #nextId = 1;
  readonly #pending = new Map<string, Pending>();
  readonly #resultWaiters = new Map<string, Set<ResultWaiter>>();
  readonly #recentResults = new Map<string, PaymentResultFrame>();
  /** Frames waiting for their turn (pacing) or for the socket's queue to drain, in order. */
  #outbox: Array<{ id: string; text: string; onSent?: () => void }> = [];
  #outboxHead = 0;
  readonly #onWritten = () => this.#flush();
  readonly #pacer: FramePacer | null;
  #flushTimer: NodeJS.Timeout | undefined;
  readonly #listeners: { [E in keyof ClientEvents]: Set<ClientEvents[E]> } = { push: new Set(), close: new Set() };
  #closedBy: ScannerError | null = null;

  private constructor(ws: WebSocket, welcome: WelcomeFrame, opts: ScannerClientOptions) {
    this.#ws = ws;
    this.welcome = welcome;
    this.#timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#maxBuffered = opts.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED;
    this.#pacer = opts.pace === false ? null : FramePacer.forLimits(welcome.limits);
    ws.on('message', (data, isBinary) => this.#onMessage(data, isBinary));
    ws.on('error', () => {}); // 'close' follows and carries the outcome
    ws.on('close', (code, reason) => {
      this.#shutdown(new ScannerError('CLOSED', `connection closed (${code}${reason.length ? ` ${reason.toString()}` : ''})`));
    });
  }

  /**
   * Opens an authenticated connection and resolves once the gateway's `welcome` arrives. Rejects with
   * ScannerError UNAUTHORIZED (HTTP 401), TIMEOUT, or CLOSED (refused, unreachable, closed early).
   */
  static connect(opts: ScannerClientOptions): Promise<ScannerClient> {
    if (!isDeviceId(opts.deviceId)) return Promise.reject(new RangeError('deviceId must be 1-64 of [A-Za-z0-9_-]'));
    let secret: Uint8Array;
    try {
      secret = secretBytes(opts.secret);
      const { protocol } = new URL(opts.url);
      if (protocol !== 'ws:' && protocol !== 'wss:') throw new RangeError('url must be ws:// or wss://');
    } catch (e) {
      return Promise.reject(e);
    }
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const ws = new WebSocket(opts.url, SUBPROTOCOL, {
      headers: { authorization: `Bearer ${signScannerToken(opts.deviceId, secret)}` }, // one timer (below) covers handshake and welcome
      maxPayload: MAX_INBOUND_BYTES,
      perMessageDeflate: false,
    });
    return new Promise((resolve, reject) => {
      let status: number | undefined;
      const detach = () => {
        clearTimeout(timer);
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
      const onClose = (code: number) => fail(new ScannerError('CLOSED', `gateway closed the connection before welcome (${code})`));
      const onMessage = (data: RawData, isBinary: boolean) => {
        const parsed = isBinary ? null : parseGatewayFrame(data.toString());
        if (parsed?.ok && parsed.frame.type === 'welcome') {
          detach();
          resolve(new ScannerClient(ws, parsed.frame, opts));
        } else if (parsed?.ok && parsed.frame.type === 'error') {
          fail(scannerErrorFromFrame(parsed.frame.code, parsed.frame.message));
        } else {
          fail(new ScannerError('BAD_FRAME', 'gateway did not start with a welcome frame'));
        }
      };
      const timer = setTimeout(() => fail(new ScannerError('TIMEOUT', `no welcome from the gateway within ${timeoutMs} ms`)), timeoutMs);
      ws.on('unexpected-response', onResponse).on('error', onError).on('close', onClose).on('message', onMessage);
    });
  }

  /** True until the connection closes. */
  get isOpen(): boolean {
    return this.#closedBy === null;
  }

  /** Bytes queued on the socket and not yet written (sends wait while this is above maxBufferedBytes). */
  get bufferedAmount(): number {
    return this.#ws.bufferedAmount;
  }

  /** S21: sends a scan; resolves with the authentication session the gateway opened (S24). */
  scan(request: ScanRequest, opts: { timeoutMs?: number } = {}): Promise<AuthRequiredFrame> {
    const { payload, amount, currency, merchant } = request;
    return this.#request({ v: PROTOCOL_VERSION, type: 'scan', id: this.#newId(), payload, amount, currency, merchant }, 'auth-required', opts.timeoutMs);
  }

  /** S25: the holder's PIN for a session; resolves with the outcome (approved or declined, e.g. PIN_WRONG). */
  submitPin(session: string, pin: string, opts: { timeoutMs?: number } = {}): Promise<PaymentResultFrame> {
    return this.#request({ v: PROTOCOL_VERSION, type: 'pin', id: this.#newId(), session, pin }, 'payment-result', opts.timeoutMs);
  }

  /** Round-trip time of a protocol ping in ms, from the moment it is written (not counting time spent paced). */
  async ping(opts: { timeoutMs?: number } = {}): Promise<number> {
    let sentAt = performance.now();
    await this.#request<PongFrame>({ v: PROTOCOL_VERSION, type: 'ping', id: this.#newId() }, 'pong', opts.timeoutMs, () => (sentAt = performance.now()));
    return performance.now() - sentAt;
  }

  /**
   * Page flow: resolves with the payment-result for `session` (pushed when the holder pays on the
   * authentication page), including one that arrived before this call. Rejects TIMEOUT or CLOSED.
   */
  waitForResult(session: string, timeoutMs: number): Promise<PaymentResultFrame> {
    if (!SESSION_ID.test(session)) return Promise.reject(new ScannerError('BAD_FRAME', 'session must be 32 hex digits'));
    const seen = this.#recentResults.get(session);
    if (seen) return Promise.resolve(seen);
    if (this.#closedBy) return Promise.reject(this.#closedBy);
    return new Promise((resolve, reject) => {
      const waiters = this.#resultWaiters.get(session) ?? new Set<ResultWaiter>();
      const waiter: ResultWaiter = {
        resolve, reject,
        timer: setTimeout(() => {
          waiters.delete(waiter);
          if (waiters.size === 0) this.#resultWaiters.delete(session);
          reject(new ScannerError('TIMEOUT', `no result for session ${session} within ${timeoutMs} ms`));
        }, timeoutMs),
      };
      waiters.add(waiter);
      this.#resultWaiters.set(session, waiters);
    });
  }

  /** Subscribes to pushed frames or to the close of the connection; returns the unsubscribe function. */
  on<E extends keyof ClientEvents>(event: E, listener: ClientEvents[E]): () => void {
    const set = this.#listeners[event] as Set<ClientEvents[E]>;
    set.add(listener);
    return () => set.delete(listener);
  }

  /** Closes the connection; every pending request and waiter rejects with CLOSED. */
  close(): Promise<void> {
    this.#shutdown(new ScannerError('CLOSED', 'client closed the connection'));
    if (this.#ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      const force = setTimeout(() => this.#ws.terminate(), 2_000);
      force.unref();
      this.#ws.once('close', () => {
        clearTimeout(force);
        resolve();
      });
      if (this.#ws.readyState === WebSocket.OPEN) this.#ws.close(1000, 'bye');
    });
  }

  #newId(): string {
    return `${this.#idPrefix}.${this.#nextId++}`;
  }

  #request<T extends GatewayFrame>(frame: ScannerFrame, expect: Expected, timeoutMs = this.#timeoutMs, onSent?: () => void): Promise<T> {
    if (this.#closedBy) return Promise.reject(this.#closedBy);
    let text: string;
    try {
      text = encode(frame);
    } catch (e) {
      return Promise.reject(e);
    }
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(frame.id);
        reject(new ScannerError('TIMEOUT', `no answer to ${frame.type} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(frame.id, { expect, resolve: resolve as (f: GatewayFrame) => void, reject, timer });
      this.#outbox.push({ id: frame.id, text, onSent });
      this.#flush();
    });
  }

  /**
   * Writes queued frames, in order, while the pacer has a token and the socket's queue is at most
   * maxBufferedBytes; the rest wait for a token (timer) or a completed write (a slow link makes frames
   * wait here, bounded by their timeouts, instead of piling up in the socket). A frame whose request
   * already timed out is dropped, not sent late.
   */
  #flush(): void {
    const ws = this.#ws;
    while (this.#outboxHead < this.#outbox.length && ws.bufferedAmount <= this.#maxBuffered && ws.readyState === WebSocket.OPEN) {
      const { id, text, onSent } = this.#outbox[this.#outboxHead];
      if (!this.#pending.has(id)) {
        this.#outboxHead++;
        continue;
      }
      const waitMs = this.#pacer?.take() ?? 0;
      if (waitMs > 0) {
        this.#flushTimer ??= setTimeout(() => {
          this.#flushTimer = undefined;
          this.#flush();
        }, waitMs);
        break;
      }
      this.#outboxHead++;
      onSent?.();
      ws.send(text, this.#onWritten);
    }
    if (this.#outboxHead === this.#outbox.length) {
      this.#outbox = [];
      this.#outboxHead = 0;
    }
  }

  #take(id: string): Pending | undefined {
    const pending = this.#pending.get(id);
    if (pending) {
      this.#pending.delete(id);
      clearTimeout(pending.timer);
    }
    return pending;
  }

  #onMessage(data: RawData, isBinary: boolean): void {
    if (isBinary) return; // v1 is text frames only
    const text = data.toString();
    const parsed = parseGatewayFrame(text);
    if (!parsed.ok) {
      const id = idOf(text);
      if (id !== null) this.#take(id)?.reject(new ScannerError('BAD_FRAME', `gateway sent an invalid frame: ${parsed.message}`));
      return;
    }
    const frame = parsed.frame;
    if (frame.type === 'welcome') return;
    if (frame.type === 'payment-result') this.#deliverResult(frame);
    if (frame.id === null) {
      if (frame.type === 'payment-result' || frame.type === 'error') for (const fn of this.#listeners.push) fn(frame);
      return;
    }
    const pending = this.#take(frame.id);
    if (!pending) return; // a late answer to a request that timed out (its payment-result is kept for waitForResult)
    if (frame.type === 'error') pending.reject(scannerErrorFromFrame(frame.code, frame.message));
    else if (frame.type === pending.expect) pending.resolve(frame);
    else pending.reject(new ScannerError('BAD_FRAME', `expected ${pending.expect}, gateway sent ${frame.type}`));
  }

  #deliverResult(frame: PaymentResultFrame): void {
    this.#recentResults.delete(frame.session);
    this.#recentResults.set(frame.session, frame);
    if (this.#recentResults.size > RECENT_RESULTS) this.#recentResults.delete(this.#recentResults.keys().next().value!);
    const waiters = this.#resultWaiters.get(frame.session);
    if (!waiters) return;
    this.#resultWaiters.delete(frame.session);
    for (const w of waiters) {
      clearTimeout(w.timer);
      w.resolve(frame);
    }
  }

  #shutdown(error: ScannerError): void {
    if (this.#closedBy) return;
    this.#closedBy = error;
    for (const id of [...this.#pending.keys()]) this.#take(id)!.reject(error);
    for (const waiters of this.#resultWaiters.values()) {
      for (const w of waiters) {
        clearTimeout(w.timer);
        w.reject(error);
      }
    }
    this.#resultWaiters.clear();
    this.#outbox = [];
    this.#outboxHead = 0;
    clearTimeout(this.#flushTimer);
    for (const fn of this.#listeners.close) fn(error);
  }
}

/**
 * Validates an outgoing frame exactly as the gateway will (parseScannerFrame: schema, then size); throws
 * ScannerError BAD_FRAME or FRAME_TOO_LARGE instead of sending a frame the gateway would refuse.
 */
function encode(frame: ScannerFrame): string {
  const text = JSON.stringify(frame);
  const checked = parseScannerFrame(text);
  if (!checked.ok) throw new ScannerError(checked.code, `invalid ${frame.type} frame: ${checked.message}`);
  if (Buffer.byteLength(text) > MAX_FRAME_BYTES) throw new ScannerError('FRAME_TOO_LARGE', `${frame.type} frame exceeds ${MAX_FRAME_BYTES} bytes`);
  return text;
}
