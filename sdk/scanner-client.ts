/**
 * Scanner side of the WebSocket protocol v1 (docs/protocol.md): one authenticated connection to the
 * gateway, requests correlated by id, every request with a timeout, and the results the gateway pushes
 * when the holder pays on the authentication page.
 * @example
 *   const client = await ScannerClient.connect({ url: 'ws://gw:8080/scanner', deviceId: 'till-0042', secret });
 *   const auth = await client.scan({ payload, amount: 1250, currency: 'EUR', merchant: 'cafe-7' });
 *   const result = await client.submitPin(auth.session, '1234');   // or client.waitForResult(auth.session, 120_000)
 *
 * With `reconnect` set, a dropped connection is re-opened on its own (docs/protocol.md §7.1): exponential
 * backoff with jitter, a fresh device token per attempt; requests not yet written wait for the new
 * connection, a `pin` on the wire is resumed (sent again: the gateway answers a used session with its
 * recorded outcome), and so is a `reverse` (idempotent); any other request on the wire rejects DISCONNECTED (retryable).
 * Two close codes are acted on whatever `reconnect` says: 4001 (the connection reached the gateway's maximum
 * age) is re-opened with a fresh token (up to RENEWAL_ATTEMPTS without `reconnect`); 4003 (the device was revoked)
 * is final: the client closes with DEVICE_REVOKED and never tries again.
 */
import { randomBytes } from 'node:crypto';
import WebSocket, { type RawData } from 'ws';
import {
  CLOSE_DEVICE_REVOKED, CLOSE_REAUTHENTICATE, MAX_FRAME_BYTES, PROTOCOL_VERSION, parseGatewayFrame, parseScannerFrame, type ScannerFrame,
  type AuthRequiredFrame, type ErrorFrame, type GatewayFrame, type PaymentResultFrame, type PongFrame, type ReversalFrame, type SessionStatusFrame,
  type WelcomeFrame,
} from '../protocol/messages.ts';
import { isSessionId } from '../protocol/values.ts';
import { Backoff, type ReconnectOptions } from './backoff.ts';
import { FramePacer } from './frame-pacer.ts';
import { openGatewaySocket, socketTarget, type SocketTarget } from './gateway-socket.ts';
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
  /**
   * Re-open a dropped connection on its own (default off: a drop closes the client, as before). `true`
   * for the default backoff (250 ms doubling to 10 s, with jitter, no attempt limit). The first connect()
   * is never retried: bad credentials or a wrong URL fail at once. A 401 on reconnect stops the attempts.
   * A 4001 close (the gateway's maximum connection age) is re-opened even without it; a 4003 (revoked) never is.
   */
  reconnect?: boolean | ReconnectOptions;
}

/** `open`: connected; `reconnecting`: the connection dropped and attempts are under way; `closed`: for good. */
export type ConnectionState = 'open' | 'reconnecting' | 'closed';

export interface ScanRequest {
  payload: string; // the card payload text as read from the QR code
  amount: number; // minor units
  currency: string; // ISO 4217, e.g. "EUR"
  merchant: string;
}

/**
 * What `scan` resolves with: the gateway's `auth-required`, and `holderUrl` — the page the holder opens on their
 * own phone when the merchant takes the PIN there (protocol v1.4 `pinEntry` `holder-device`): show it as a QR
 * code (holderQrSvg, holderQrTerminal), do not ask for the PIN (submitPin refuses it), and waitForResult.
 * Null when the scanner may take the PIN (`pinEntry` `scanner`, or an older gateway that sends none).
 */
export type ScanSession = AuthRequiredFrame & { holderUrl: string | null };

/**
 * What `scanOrPay` resolves with (protocol v1.6): a ScanSession (`type` 'auth-required') as `scan` gives, or the
 * `payment-result` of a wallet's one-time code that stood in for the PIN (the payment is decided: show the outcome,
 * keep the receipt; nothing more to send).
 */
export type ScanAnswer = ScanSession | PaymentResultFrame;

/** Frames the gateway sends on its own (`id: null`): page-flow results, connection-level errors. */
export type PushFrame = PaymentResultFrame | ErrorFrame;

interface ClientEvents {
  push: (frame: PushFrame) => void;
  /** The connection is gone for good (close(), a drop without `reconnect`, or reconnection given up). */
  close: (error: ScannerError) => void;
  /** The connection dropped; reconnection attempts start. */
  disconnected: (error: ScannerError) => void;
  /** A reconnection attempt failed; the next one follows in `retryInMs` (null: none, the client closes). */
  'reconnect-failed': (error: ScannerError, attempt: number, retryInMs: number | null) => void;
  /** Connected again after `attempts` attempts; `resumed` pin requests were sent again. */
  reconnected: (info: { welcome: WelcomeFrame; attempts: number; resumed: number }) => void;
}

/** 'scan-answer': a scan's, `auth-required` or (v1.6, a one-time code paid at once) `payment-result`. */
type Expected = 'auth-required' | 'payment-result' | 'pong' | 'session-status' | 'reversal' | 'scan-answer';
interface Pending {
  expect: Expected;
  resolve: (frame: GatewayFrame) => void;
  reject: (error: ScannerError) => void;
  timer: NodeJS.Timeout;
  /** The frame as sent, for a pin (resumed after a drop); other requests are not resent. */
  resume?: string;
  /** Written to a socket (so a drop leaves its outcome unknown). */
  sent: boolean;
  /** Sent again after a drop. */
  resumed?: boolean;
}
type Outgoing = { id: string; text: string; onSent?: () => void };
interface ResultWaiter {
  resolve: (frame: PaymentResultFrame) => void;
  reject: (error: ScannerError) => void;
  timer: NodeJS.Timeout;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_BUFFERED = 64 * 1024;
/** Without `reconnect`: attempts to re-open a connection the gateway closed at its maximum age (4001). */
const RENEWAL_ATTEMPTS = 3;
/** Results kept per connection so waitForResult sees a push that arrived before it was called. */
const RECENT_RESULTS = 256;
/** Holder-device sessions remembered, so submitPin refuses their PIN without sending it (the oldest go first). */
const HOLDER_SESSIONS = 1_024;

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
  #welcome: WelcomeFrame;
  #ws: WebSocket;
  readonly #target: SocketTarget;
  readonly #timeoutMs: number;
  readonly #maxBuffered: number;
  readonly #pace: boolean;
  readonly #backoff: Backoff | null;
  /** Without `reconnect`: the attempts re-opening a connection closed at its maximum age, while they run. */
  #renewal: Backoff | null = null;
  readonly #idPrefix = randomBytes(4).toString('hex');
  #nextId = 1;
  readonly #pending = new Map<string, Pending>();
  readonly #resultWaiters = new Map<string, Set<ResultWaiter>>();
  readonly #recentResults = new Map<string, PaymentResultFrame>();
  /** Sessions whose PIN the holder enters on their own phone (auth-required pinEntry holder-device). */
  readonly #holderSessions = new Set<string>();
  /** Frames waiting for their turn (pacing), for the socket's queue to drain, or for a reconnection, in order. */
  #outbox: Outgoing[] = [];
  #outboxHead = 0;
  readonly #onWritten = () => this.#flush();
  #pacer: FramePacer | null;
  #flushTimer: NodeJS.Timeout | undefined;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #attempt: AbortController | null = null;
  #resumed = 0;
  readonly #listeners: { [E in keyof ClientEvents]: Set<ClientEvents[E]> } = {
    push: new Set(), close: new Set(), disconnected: new Set(), 'reconnect-failed': new Set(), reconnected: new Set(),
  };
  #state: ConnectionState = 'open';
  #closedBy: ScannerError | null = null;

  private constructor(ws: WebSocket, welcome: WelcomeFrame, target: SocketTarget, opts: ScannerClientOptions) {
    this.#target = target;
    this.#timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#maxBuffered = opts.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED;
    this.#pace = opts.pace !== false;
    this.#backoff = opts.reconnect ? new Backoff(opts.reconnect === true ? {} : opts.reconnect) : null;
    this.#ws = ws;
    this.#welcome = welcome;
    this.#pacer = null;
    this.#attach(ws, welcome);
  }

  #attach(ws: WebSocket, welcome: WelcomeFrame): void {
    this.#ws = ws;
    this.#welcome = welcome;
    this.#pacer = this.#pace ? FramePacer.forLimits(welcome.limits) : null;
    ws.on('message', (data, isBinary) => this.#onMessage(data, isBinary));
    ws.on('error', () => {}); // 'close' follows and carries the outcome
    ws.on('close', (code, reason) => {
      if (ws !== this.#ws || this.#closedBy) return;
      const why = `${code}${reason.length ? ` ${reason.toString()}` : ''}`;
      if (code === CLOSE_DEVICE_REVOKED.code) return this.#shutdown(new ScannerError('DEVICE_REVOKED', `the gateway closed the connection: this device is revoked (${why})`));
      const error = new ScannerError('CLOSED', `connection closed (${why})`);
      if (code === CLOSE_REAUTHENTICATE.code && !this.#backoff) this.#renewal = new Backoff({ maxAttempts: RENEWAL_ATTEMPTS });
      if (this.#retries) this.#onDrop(error);
      else this.#shutdown(error);
    });
  }

  /** The backoff of the attempts under way: `reconnect`'s, or a renewal's after a 4001 without it. */
  get #retries(): Backoff | null {
    return this.#backoff ?? this.#renewal;
  }

  #emit<E extends keyof ClientEvents>(event: E, ...args: Parameters<ClientEvents[E]>): void {
    for (const fn of this.#listeners[event]) (fn as (...a: Parameters<ClientEvents[E]>) => void)(...args);
  }

  /**
   * The connection dropped and `reconnect` is on. Frames still in the outbox were never written: they wait.
   * Requests written to the lost socket have an unknown outcome: a pin is queued to be sent again first
   * (the gateway answers a used session with its recorded result, §7), and so is a reverse (idempotent); a scan,
   * ping or status rejects DISCONNECTED.
   */
  #onDrop(error: ScannerError): void {
    this.#state = 'reconnecting';
    clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    const resumed: Outgoing[] = [];
    for (const [id, p] of this.#pending) {
      if (!p.sent) continue;
      if (p.resume) {
        p.sent = false;
        p.resumed = true;
        resumed.push({ id, text: p.resume });
      } else {
        this.#take(id)!.reject(new ScannerError('DISCONNECTED', `connection lost with the ${({ pong: 'ping', 'session-status': 'status' } as Record<string, string>)[p.expect] ?? 'scan'} in flight (${error.message}): send it again`));
      }
    }
    this.#outbox = [...resumed, ...this.#outbox.slice(this.#outboxHead)];
    this.#outboxHead = 0;
    this.#resumed = resumed.length;
    this.#emit('disconnected', error);
    this.#retryLater(error, false);
  }

  /** Schedules the next attempt after the backoff delay, or closes for good when the attempts are spent. */
  #retryLater(error: ScannerError, announce: boolean): void {
    const backoff = this.#retries!;
    const delay = backoff.next();
    if (announce) this.#emit('reconnect-failed', error, backoff.attempts, delay);
    if (delay === null) {
      this.#shutdown(new ScannerError('CLOSED', `gave up reconnecting after ${backoff.attempts} attempts: ${error.message}`));
      return;
    }
    this.#reconnectTimer = setTimeout(() => void this.#reconnect(), delay);
  }

  async #reconnect(): Promise<void> {
    this.#reconnectTimer = undefined;
    const attempt = (this.#attempt = new AbortController());
    let opened: { ws: WebSocket; welcome: WelcomeFrame };
    try {
      opened = await openGatewaySocket(this.#target, attempt.signal);
    } catch (e) {
      this.#attempt = null;
      if (this.#closedBy) return;
      const error = e instanceof ScannerError ? e : new ScannerError('CLOSED', `cannot connect: ${(e as Error).message}`);
      if (error.code === 'UNAUTHORIZED' || error.code === 'DEVICE_REVOKED') { // revoked, or a wrong secret: retrying cannot help
        this.#emit('reconnect-failed', error, this.#retries!.attempts, null);
        this.#shutdown(error);
        return;
      }
      this.#retryLater(error, true);
      return;
    }
    this.#attempt = null;
    if (this.#closedBy) {
      opened.ws.terminate();
      return;
    }
    const attempts = this.#retries!.attempts;
    this.#retries!.reset();
    this.#renewal = null; // without `reconnect`, the next drop closes the client again
    this.#state = 'open';
    this.#attach(opened.ws, opened.welcome);
    this.#emit('reconnected', { welcome: opened.welcome, attempts, resumed: this.#resumed });
    this.#flush();
  }

  /**
   * Opens an authenticated connection and resolves once the gateway's `welcome` arrives. Rejects with
   * ScannerError UNAUTHORIZED (HTTP 401), TIMEOUT, or CLOSED (refused, unreachable, closed early); this
   * first attempt is not retried, whatever `reconnect` says.
   */
  static async connect(opts: ScannerClientOptions): Promise<ScannerClient> {
    const target = socketTarget(opts, opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    if (opts.reconnect && typeof opts.reconnect === 'object') new Backoff(opts.reconnect); // bad options fail here, not at the first drop
    const { ws, welcome } = await openGatewaySocket(target);
    return new ScannerClient(ws, welcome, target, opts);
  }

  /** The `welcome` of the current connection (limits may differ after a reconnection). */
  get welcome(): WelcomeFrame {
    return this.#welcome;
  }

  /** True while connected; false while reconnecting and once closed. */
  get isOpen(): boolean {
    return this.#state === 'open';
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /** Bytes queued on the socket and not yet written (sends wait while this is above maxBufferedBytes). */
  get bufferedAmount(): number {
    return this.#ws.bufferedAmount;
  }

  /**
   * S21: sends a scan; resolves with the authentication session the gateway opened (S24), and its `holderUrl`
   * when the holder must enter the PIN on their own phone (ScanSession).
   */
  async scan(request: ScanRequest, opts: { timeoutMs?: number } = {}): Promise<ScanSession> {
    const answer = await this.scanOrPay(request, opts);
    if (answer.type === 'auth-required') return answer;
    throw new ScannerError('PAID_AT_SCAN', `the scanned code paid at once (${answer.outcome}${answer.reason ? ` ${answer.reason}` : ''}, session ${answer.session}): use scanOrPay to take wallet codes; waitForResult(session) has the result`);
  }

  /**
   * S21 for any card the holder shows: the printed card's QR or a wallet's one-time code (protocol v1.6). Resolves
   * with the ScanSession (`type` 'auth-required') as `scan` does, or with the `payment-result` when the gateway
   * paid at once on a one-time code standing in for the PIN (the card's no-PIN limit). A code above that limit
   * gets a holder-device session: show `holderUrl` as a QR code and waitForResult.
   * @example
   *   const answer = await client.scanOrPay({ payload, amount: 450, currency: 'EUR', merchant: 'cafe-7' });
   *   const result = answer.type === 'payment-result' ? answer : await client.waitForResult(answer.session, 120_000);
   */
  async scanOrPay(request: ScanRequest, opts: { timeoutMs?: number } = {}): Promise<ScanAnswer> {
    const { payload, amount, currency, merchant } = request;
    const answer = await this.#request<AuthRequiredFrame | PaymentResultFrame>({ v: PROTOCOL_VERSION, type: 'scan', id: this.#newId(), payload, amount, currency, merchant }, 'scan-answer', opts.timeoutMs);
    if (answer.type === 'payment-result') return answer;
    const auth = answer;
    if (auth.pinEntry !== 'holder-device') return { ...auth, holderUrl: null };
    this.#holderSessions.add(auth.session);
    if (this.#holderSessions.size > HOLDER_SESSIONS) this.#holderSessions.delete(this.#holderSessions.values().next().value!);
    return { ...auth, holderUrl: auth.url };
  }

  /**
   * S25: the holder's PIN for a session; resolves with the outcome (approved or declined, e.g. PIN_WRONG). For a
   * session whose PIN the holder enters on their own phone (ScanSession.holderUrl) it rejects
   * PIN_ENTRY_HOLDER_DEVICE at once and sends nothing (the gateway would refuse the frame all the same).
   */
  submitPin(session: string, pin: string, opts: { timeoutMs?: number } = {}): Promise<PaymentResultFrame> {
    if (this.#holderSessions.has(session)) {
      return Promise.reject(new ScannerError('PIN_ENTRY_HOLDER_DEVICE', 'the holder enters the PIN on their own phone: show holderUrl as a QR code and waitForResult; the PIN was not sent'));
    }
    return this.#request({ v: PROTOCOL_VERSION, type: 'pin', id: this.#newId(), session, pin }, 'payment-result', opts.timeoutMs);
  }

  /**
   * Protocol v1.1: where one of this scanner's sessions stands (open, pending, done with its result and
   * receipt). Reads only: use it after a reconnect to learn a page payment's outcome. A v1.0 gateway
   * answers BAD_FRAME.
   */
  status(session: string, opts: { timeoutMs?: number } = {}): Promise<SessionStatusFrame> {
    return this.#request({ v: PROTOCOL_VERSION, type: 'status', id: this.#newId(), session }, 'session-status', opts.timeoutMs);
  }

  /**
   * Protocol v1.3: reverses the payment of one of this scanner's sessions whose answer was lost (ISO 8583 0400):
   * resolves with what was done — `voided` (the hold released), `refunded` (what was captured, given back) or
   * `none` (nothing was held, or a payment not yet decided will hold nothing) — and `replayed` when an earlier
   * reversal decided it. Safe to repeat: every reversal of a session answers the first one's action, so a
   * dropped connection resumes it like a `pin`. Rejects SESSION_UNKNOWN for a session this scanner did not open
   * (or one past its retention); a v1.2 gateway answers BAD_FRAME.
   */
  reverse(session: string, opts: { timeoutMs?: number } = {}): Promise<ReversalFrame> {
    return this.#request({ v: PROTOCOL_VERSION, type: 'reverse', id: this.#newId(), session }, 'reversal', opts.timeoutMs);
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
    if (!isSessionId(session)) return Promise.reject(new ScannerError('BAD_FRAME', 'session must be 32 hex digits'));
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

  /** Closes the connection (and stops reconnecting); every pending request and waiter rejects with CLOSED. */
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
      const resume = frame.type === 'pin' || frame.type === 'reverse' ? text : undefined; // idempotent: sent again after a drop
      this.#pending.set(frame.id, { expect, resolve: resolve as (f: GatewayFrame) => void, reject, timer, resume, sent: false });
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
      const pending = this.#pending.get(id);
      if (!pending) {
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
      pending.sent = true;
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
      if (frame.type === 'payment-result' || frame.type === 'error') this.#emit('push', frame);
      return;
    }
    const pending = this.#take(frame.id);
    if (!pending) return; // a late answer to a request that timed out (its payment-result is kept for waitForResult)
    if (frame.type === 'error' && frame.code === 'SESSION_USED' && pending.resumed) {
      // a resumed pin whose first attempt left no ledger record: nothing was paid (§7)
      pending.reject(new ScannerError('SESSION_USED', `${frame.message} (the connection dropped during this PIN attempt; no payment was recorded for it)`));
    } else if (frame.type === 'error') pending.reject(scannerErrorFromFrame(frame.code, frame.message));
    else if (frame.type === pending.expect || (pending.expect === 'scan-answer' && (frame.type === 'auth-required' || frame.type === 'payment-result'))) pending.resolve(frame);
    else pending.reject(new ScannerError('BAD_FRAME', `expected ${pending.expect === 'scan-answer' ? 'auth-required' : pending.expect}, gateway sent ${frame.type}`));
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
    this.#state = 'closed';
    clearTimeout(this.#reconnectTimer);
    this.#attempt?.abort();
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
    this.#emit('close', error);
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
