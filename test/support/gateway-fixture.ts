/**
 * A real gateway for end-to-end tests: startGateway on port 0 over a given store, a fresh issuer key ring
 * and fleet key, a small crypto pool, a silent logger (or one writing to memory), an Issuer on the same
 * store, and scanners that connect with real device tokens — raw `ws` clients (RawScanner, for frames
 * the SDK would refuse to send) or the SDK's ScannerClient. Everything opened is closed by close().
 * @example
 *   const fx = await startGatewayFixture({ store: new MemoryStore() });
 *   const card = await fx.issue();
 *   const scanner = await fx.scanner();
 *   const auth = await scanner.scan(card.payloadText, 1250);
 *   await fx.close();
 */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import WebSocket, { type RawData } from 'ws';
import { loadCore, type CryptoCore } from '../../core/index.ts';
import { createLogger, type ScanpayLogger as Logger } from '../../gateway/log.ts';
import { startGateway, type Gateway, type GatewayOptions } from '../../gateway/server.ts';
import { Issuer, type IssueCardInput, type IssuedCard } from '../../issuer/issuer.ts';
import { IssuerKeyRing } from '../../issuer/key-ring.ts';
import { MemoryStore, RedisStore, type LedgerRecord, type Store } from '../../issuer/store/index.ts';
import {
  SUBPROTOCOL,
  type AuthRequiredFrame, type ErrorFrame, type GatewayFrame, type PaymentResultFrame, type Receipt, type WelcomeFrame,
} from '../../protocol/messages.ts';
import { deviceSecret, signScannerToken } from '../../protocol/scanner-token.ts';
import { ScannerClient } from '../../sdk/index.ts';
import { deleteKeys, testKeyPrefix, type TestRedis } from './redis.ts';
import { inspectOutput, registerSecret } from './secret-sink.ts';
import { parsePayload } from '../../issuer/payload.ts';

export const PIN = '1234';
export const WRONG_PIN = '9999';
export const MERCHANT = 'corner-cafe';

/** A store for one test file, and how to open it again (Redis: a second connection on the same prefix). */
export interface TestStore {
  kind: 'memory' | 'redis';
  store: Store;
  /** Another handle on the same data (MemoryStore: the same instance). Closed by dispose(). */
  reopen(): Promise<Store>;
  /** Closes every handle; Redis: deletes every key under this store's prefix. */
  dispose(): Promise<void>;
}

export async function memoryTestStore(): Promise<TestStore> {
  const store = new MemoryStore();
  return { kind: 'memory', store, reopen: async () => store, dispose: async () => store.close() };
}

export async function redisTestStore(redis: TestRedis): Promise<TestStore> {
  const prefix = testKeyPrefix();
  const handles: Store[] = [];
  const open = async () => {
    const s = await RedisStore.connect(redis.url, { prefix });
    handles.push(s);
    return s;
  };
  return {
    kind: 'redis',
    store: await open(),
    reopen: open,
    async dispose() {
      await Promise.all(handles.map((h) => h.close()));
      await deleteKeys(redis.url, prefix);
    },
  };
}

/** A pino logger whose output stays in memory, for asserting what the gateway logs. */
export function memoryLogger(level = 'debug'): { logger: Logger; text(): string; lines(): Record<string, unknown>[] } {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(chunk.toString());
      inspectOutput('log', chunk.toString());
      done();
    },
  });
  const logger = createLogger({ level, destination });
  const text = () => chunks.join('');
  return {
    logger,
    text,
    lines: () => text().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

type Predicate = (frame: GatewayFrame) => boolean;

/**
 * A scanner on a raw `ws` socket: sends anything (including frames the protocol refuses) and collects
 * every frame the gateway sends; next() takes the first unconsumed frame matching a predicate.
 */
/** A scan's request fields a test may set (default EUR, MERCHANT, the merchant's capture method). */
export interface ScanOptions { currency?: string; merchant?: string; capture?: 'automatic' | 'manual' }

export class RawScanner {
  readonly deviceId: string;
  readonly welcome: WelcomeFrame;
  readonly #ws: WebSocket;
  readonly #inbox: GatewayFrame[] = [];
  readonly #waiters = new Set<{ match: Predicate; resolve(frame: GatewayFrame): void }>();
  #ids = 0;
  closed: { code: number; reason: string } | null = null;

  private constructor(ws: WebSocket, deviceId: string, welcome: WelcomeFrame) {
    this.#ws = ws;
    this.deviceId = deviceId;
    this.welcome = welcome;
    ws.on('message', (data, isBinary) => this.#receive(data, isBinary));
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
    });
    ws.on('error', () => {});
  }

  static async connect(url: string, deviceId: string, token: string): Promise<RawScanner> {
    const ws = new WebSocket(url, SUBPROTOCOL, { headers: { authorization: `Bearer ${token}` }, perMessageDeflate: false });
    return new Promise((resolve, reject) => {
      ws.once('unexpected-response', (_req, res) => {
        res.resume();
        reject(new Error(`upgrade refused: HTTP ${res.statusCode}`));
      });
      ws.once('error', reject);
      ws.once('message', (data) => {
        const frame = JSON.parse(data.toString()) as GatewayFrame;
        if (frame.type !== 'welcome') reject(new Error(`expected welcome, got ${data.toString()}`));
        else resolve(new RawScanner(ws, deviceId, frame));
      });
    });
  }

  get isOpen(): boolean {
    return this.#ws.readyState === WebSocket.OPEN;
  }

  newId(): string {
    return `r${++this.#ids}`;
  }

  /** Sends text as is, or an object as JSON, or bytes as a binary frame. */
  send(frame: string | object | Uint8Array): void {
    if (frame instanceof Uint8Array) this.#ws.send(frame, { binary: true });
    else this.#ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** The first frame (already received or still to come) matching `match`, consumed. */
  next<T extends GatewayFrame = GatewayFrame>(match: Predicate = () => true, timeoutMs = 5_000): Promise<T> {
    const i = this.#inbox.findIndex(match);
    if (i >= 0) return Promise.resolve(this.#inbox.splice(i, 1)[0] as T);
    return new Promise<T>((resolve, reject) => {
      const waiter = {
        match,
        resolve: (frame: GatewayFrame) => {
          clearTimeout(timer);
          resolve(frame as T);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new Error(`${this.deviceId}: no matching frame within ${timeoutMs} ms; unconsumed: ${JSON.stringify(this.#inbox)}`));
      }, timeoutMs);
      this.#waiters.add(waiter);
    });
  }

  /** The answer to request `id`. */
  answer<T extends GatewayFrame = GatewayFrame>(id: string, timeoutMs?: number): Promise<T> {
    return this.next<T>((f) => 'id' in f && f.id === id, timeoutMs);
  }

  /** Frames received and not consumed yet (removed from the inbox). */
  drain(): GatewayFrame[] {
    return this.#inbox.splice(0);
  }

  async scan(payload: string, amount: number, opts: ScanOptions & { id?: string } = {}): Promise<AuthRequiredFrame | ErrorFrame> {
    const id = opts.id ?? this.newId();
    const capture = opts.capture ? { capture: opts.capture } : {};
    this.send({ v: 1, type: 'scan', id, payload, amount, currency: opts.currency ?? 'EUR', merchant: opts.merchant ?? MERCHANT, ...capture });
    return this.answer(id);
  }

  /** A scan that must open a session. */
  async open(payload: string, amount: number, opts: ScanOptions = {}): Promise<AuthRequiredFrame> {
    const answer = await this.scan(payload, amount, opts);
    if (answer.type !== 'auth-required') throw new Error(`scan refused: ${JSON.stringify(answer)}`);
    return answer;
  }

  sendPin(session: string, pin: string, id = this.newId()): string {
    this.send({ v: 1, type: 'pin', id, session, pin });
    return id;
  }

  async pin(session: string, pin: string): Promise<PaymentResultFrame | ErrorFrame> {
    return this.answer(this.sendPin(session, pin));
  }

  /** Resolves when the socket is closed (by either side). */
  waitClosed(timeoutMs = 5_000): Promise<{ code: number; reason: string }> {
    if (this.closed) return Promise.resolve(this.closed);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.deviceId}: socket still open after ${timeoutMs} ms`)), timeoutMs);
      this.#ws.once('close', (code, reason) => {
        clearTimeout(timer);
        resolve({ code, reason: reason.toString() });
      });
    });
  }

  async close(): Promise<void> {
    if (this.#ws.readyState === WebSocket.CLOSED) return;
    const closed = new Promise<void>((resolve) => this.#ws.once('close', () => resolve()));
    if (this.#ws.readyState === WebSocket.OPEN) this.#ws.close(1000, 'bye');
    else this.#ws.terminate();
    const force = setTimeout(() => this.#ws.terminate(), 2_000);
    await closed;
    clearTimeout(force);
  }

  #receive(data: RawData, isBinary: boolean): void {
    if (isBinary) throw new Error('the gateway sent a binary frame');
    inspectOutput('frame', data.toString());
    const frame = JSON.parse(data.toString()) as GatewayFrame;
    for (const waiter of this.#waiters) {
      if (waiter.match(frame)) {
        this.#waiters.delete(waiter);
        waiter.resolve(frame);
        return;
      }
    }
    this.#inbox.push(frame);
  }
}

export interface FixtureOptions {
  store: Store;
  threads?: 1 | 2;
  logger?: Logger;
  keyRing?: IssuerKeyRing; // default: a fresh one
  fleetKey?: Uint8Array; // default: 32 random bytes
  gateway?: Partial<GatewayOptions>;
}

export interface GatewayFixture {
  gateway: Gateway;
  store: Store;
  keyRing: IssuerKeyRing;
  fleetKey: Uint8Array;
  issuer: Issuer;
  core: CryptoCore;
  /** A card on this gateway's store, PIN 1234, EUR, generous limit and balance unless overridden. */
  issue(input?: Partial<IssueCardInput>): Promise<IssuedCard>;
  /** A fresh, single-use device token. */
  token(deviceId: string, now?: number): string;
  /** A raw scanner; a unique device id unless one is given. */
  scanner(deviceId?: string): Promise<RawScanner>;
  /** The SDK client; a unique device id unless one is given. */
  client(deviceId?: string): Promise<ScannerClient>;
  metrics(): Promise<string>;
  /** The gateway's key ring file (the gateway reads it; its workers load it). */
  keyRingFile: string;
  /** Writes `keyRing` (changed by rotate/retire) to the gateway's key ring file and has the gateway reload it. */
  saveKeys(): Promise<void>;
  /** Closes scanners, then the gateway (idempotent). The store is the caller's. */
  close(): Promise<void>;
}

export const uniqueDevice = (name = 'till'): string => `${name}-${randomUUID().slice(0, 8)}`;

export async function startGatewayFixture(opts: FixtureOptions): Promise<GatewayFixture> {
  const keyRing = opts.keyRing ?? IssuerKeyRing.generate();
  const fleetKey = opts.fleetKey ?? new Uint8Array(randomBytes(32));
  const core = await loadCore();
  // the production path: only the gateway's crypto workers read the key ring, from its file
  const keyDir = await mkdtemp(join(tmpdir(), 'scanpay-fixture-keys-'));
  const keyRingFile = join(keyDir, 'keyring.json');
  await keyRing.save(keyRingFile);
  const gateway = await startGateway({
    store: opts.store, keyRingFile, keyRingPollMs: 0, fleetKey, port: 0, threads: opts.threads ?? 1,
    logger: opts.logger ?? inspectedLogger(),
    pinPaceMs: 0, // tests that are about pacing set it; the others send PINs back to back
    ...opts.gateway,
  });
  const issuer = new Issuer({ core, store: opts.store, keyRing });
  registerSecret('storage key', keyRing.storageKey);
  registerSecret('fleet key', fleetKey);
  const scanners: RawScanner[] = [];
  const clients: ScannerClient[] = [];
  const token = (deviceId: string, now = Date.now()) => {
    const secret = deviceSecret(fleetKey, deviceId);
    registerSecret(`device secret of ${deviceId}`, secret);
    return signScannerToken(deviceId, secret, now);
  };
  let closed = false;

  return {
    gateway, store: opts.store, keyRing, keyRingFile, fleetKey, issuer, core,
    async issue(input = {}) {
      const card = await issuer.issueCard({ pin: PIN, limit: 1_000_000, balance: 1_000_000, currency: 'EUR', ...input });
      registerCard(core, keyRing, card);
      return card;
    },
    token,
    async saveKeys() {
      await keyRing.save(keyRingFile);
      await gateway.reloadKeys();
    },
    async scanner(deviceId = uniqueDevice()) {
      const s = await RawScanner.connect(gateway.scannerUrl, deviceId, token(deviceId));
      scanners.push(s);
      return s;
    },
    async client(deviceId = uniqueDevice()) {
      const c = await ScannerClient.connect({ url: gateway.scannerUrl, deviceId, secret: deviceSecret(fleetKey, deviceId), timeoutMs: 5_000 });
      clients.push(c);
      return c;
    },
    async metrics() {
      const res = await fetch(`${gateway.opsUrl}/metrics`);
      const text = await res.text();
      inspectOutput('metrics', text);
      return text;
    },
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all([...scanners.map((s) => s.close()), ...clients.map((c) => c.close())]);
      await gateway.close(5_000);
      await rm(keyDir, { recursive: true, force: true });
    },
  };
}

/**
 * Posts a PIN the way the page's form does: a URL-encoded form from the page's own origin. `headers`
 * overrides or adds headers (e.g. a foreign Origin); returns the response.
 */
export async function postPin(
  pageUrl: string, pin: string, headers: Record<string, string> = {}, token = new URL(pageUrl).searchParams.get('t') ?? '', fields: Record<string, string> = {},
): Promise<Response> {
  const url = new URL(pageUrl);
  const res = await fetch(`${url.origin}${url.pathname}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: url.origin, ...headers },
    body: new URLSearchParams({ t: token, pin, ...fields }).toString(),
  });
  inspectOutput('page', await res.clone().text());
  return res;
}

/** A pino logger for test gateways: every line it writes is checked by the suite's secret sink, then dropped. */
export function inspectedLogger(level = 'debug'): Logger {
  return createLogger({ level, destination: new Writable({ write(chunk, _encoding, done) { inspectOutput('log', chunk.toString()); done(); } }) });
}

/** Registers a test card's PAN, basic key and the issuer key it was sealed under with the secret sink. */
export function registerCard(core: CryptoCore, keyRing: IssuerKeyRing, card: IssuedCard): void {
  registerSecret(`PAN …${card.pan.slice(-4)}`, card.pan);
  const parsed = parsePayload(card.payload);
  const kek = keyRing.keyForOpening(parsed.keyId);
  registerSecret(`issuer key ${parsed.keyId}`, kek);
  const [opened] = core.dvd1OpenBatch([{ kek, ...parsed.fields }]);
  if (opened.basicKey) registerSecret(`basic key of card …${card.pan.slice(-4)}`, opened.basicKey);
}

/** Recomputes a receipt's MAC the issuer's way: HMAC-SHA256(cryptogram, receipt text) with node:crypto. */
export function expectedReceiptMac(receipt: Receipt, record: LedgerRecord): string {
  const text = ['scanpay-receipt-v1', receipt.session, receipt.merchant, receipt.amount, receipt.currency, receipt.maskedPan,
    receipt.outcome, receipt.reason ?? '', receipt.at].join('\n');
  return createHmac('sha256', Buffer.from(record.cryptogram, 'hex')).update(text).digest('hex');
}

/** The value of one Prometheus sample (0 when absent), e.g. metric(text, 'scanpay_illegal_scans_total', { reason: 'CARD_UNKNOWN' }). */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const m = /^([^{ ]+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const found = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) return Number(m[3]);
  }
  return 0;
}

/**
 * How an upgrade to the scanner endpoint ends: 'open', the HTTP status that refused it, or 'error' (no connection).
 * `localAddress` (e.g. 127.0.0.2) connects from another loopback address: another caller, as the gateway sees it.
 */
export function upgradeOutcome(url: string, headers: Record<string, string> = {}, localAddress?: string): Promise<number | 'open' | 'error'> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, SUBPROTOCOL, { headers, perMessageDeflate: false, ...(localAddress ? { localAddress } : {}) });
    ws.on('unexpected-response', (_req, res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('open', () => {
      resolve('open');
      ws.close();
    });
    ws.on('error', () => resolve('error'));
  });
}
