/**
 * Assembles one gateway process: crypto engine (worker pool), payment flow, scanner hub, HTTP routes
 * (the auth page, the merchant API, ops) and the uWS transport; and takes it down gracefully (no new work, in-flight payments finish).
 * @example
 *   const gateway = await startGateway({ store, keyRing, fleetKey, port: 8080 });
 *   console.log(gateway.url);
 *   await gateway.close();
 */
import { createHmac, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { unwatchFile, watchFile, type Stats } from 'node:fs';
import { ScanpayError } from '../core/errors.ts';
import { loadCore } from '../core/index.ts';
import type { CryptoCore } from '../core/types.ts';
import type { CardEngine } from '../issuer/card-engine.ts';
import type { IssuerKeyRing } from '../issuer/key-ring.ts';
import { KeyRingSource } from '../issuer/key-ring-source.ts';
import { MAX_HOLD_WINDOW_MS, type PinBudget, type RateLimit, type Store } from '../issuer/store/index.ts';
import { GATEWAY_DEFAULTS as D, type PageLimits } from './defaults.ts';
import { FLEET_KEY_BYTES } from '../protocol/fleet-key.ts';
import type { FlowDeps } from './flow/deps.ts';
import { authRoutes } from './http/auth-routes.ts';
import { receiptRoutes } from './http/receipt-routes.ts';
import { walletRoutes } from './http/wallet-routes.ts';
import { startReceiptLoop } from './ledger/receipt-loop.ts';
import { MERCHANT_LISTENER_ANSWERS } from './merchant-api/answers.ts';
import { MerchantAuth } from './merchant-api/authenticate.ts';
import { merchantApiRoutes } from './merchant-api/routes.ts';
import { DEFAULT_MERCHANT_POLICY, MerchantPolicies } from './flow/merchant-policies.ts';
import { HoldSweeper } from './hold-sweeper.ts';
import { opsRoutes, publicHealthRoutes, type OpsState } from './http/ops-routes.ts';
import { InFlight } from './in-flight.ts';
import { hostProblem, publicOrigin, tlsProblems } from './listen-checks.ts';
import { createLogger, type GatewayLogger } from './log.ts';
import { GatewayMetrics } from './metrics.ts';
import { CryptoPool } from './pool/crypto-pool.ts';
import { ScannerDirectory } from './scanners/directory.ts';
import { RevokedDevices } from './scanners/revoked-devices.ts';
import { ScannerHub } from './scanners/scanner-hub.ts';
import { CLOSE_DEVICE_REVOKED } from '../protocol/messages.ts';
import { PIN_ENTRIES, isPinEntry, type PinEntry } from '../protocol/values.ts';
import { startTransport, type TlsFiles } from './transport/uws-server.ts';
import { LocalPushBus, type Deliver, type PushBus } from './push/push-bus.ts';
import { SealerLoop } from './ledger/sealer-loop.ts';
import { WebhookDelivery, webhookSettingsProblem, type WebhookSettings } from './webhooks/delivery-loop.ts';
import { WebhookSecretBox } from './webhooks/secrets.ts';

/**
 * What startGateway takes. `store`, `fleetKey` and one of `keyRingFile` / `keyRing` are required; everything
 * else has a default (docs/embedding.md has the same list as a table). The checks at the boundary: host names,
 * `publicUrl`, the TLS files and the fleet key's length, each BAD_ARGUMENT with the reason.
 */
export interface GatewayOptions {
  /** Cards, sessions, the ledger, PIN counters and rate limits (`openStore()`: Redis, or the embedded store). The gateway uses it and never closes it. */
  store: Store;
  /**
   * The issuer key ring, which only the crypto engine's threads hold: a file (reloaded on `reloadKeys()`,
   * SIGHUP in `npm start`, and when the file changes; see `keyRingPollMs`) or a ring given inline (fixed until
   * restart). Exactly one of the two.
   */
  keyRingFile?: string;
  /** The issuer key ring given inline: fixed for the life of the gateway (a later change to the object is not seen). */
  keyRing?: IssuerKeyRing;
  /** The scanner fleet key, 32 bytes (`loadFleetKey()`): verifies scanner tokens, and keys the auth page tokens. */
  fleetKey: Uint8Array;
  /** Where scanners and the auth page connect: an IP address (IPv6 without brackets) or a host name. Default `127.0.0.1`. */
  host?: string;
  /** Default 8080; 0 picks a free port (`Gateway.port` says which). A port in use fails the start unless `sharedPort`. */
  port?: number;
  /** Share the port with other gateway processes (SO_REUSEPORT), as a `--processes N` group does. Default false: exclusive. */
  sharedPort?: boolean;
  /**
   * The origin scanners and holders reach the gateway at (scheme, host, port; a trailing `/` is dropped):
   * page URLs pushed to scanners start with it, and a PIN POST must come from it. Default `http(s)://host:port`.
   */
  publicUrl?: string;
  /** Serve `wss://` and `https://` (with HSTS) from this PEM certificate and unencrypted PEM key. Default: plain `ws://`, `http://`. */
  tls?: TlsFiles;
  /** The ops listener's host (`/metrics`, `/readyz` with detail, `/healthz`). Default `127.0.0.1`. */
  opsHost?: string;
  /** The ops listener's port. Default 0: a free port (`Gateway.opsUrl` says which). */
  opsPort?: number;
  /** The merchant API's host (docs/merchant-api.md): TLS as the scanners' port when `tls` is set. Default `127.0.0.1`. */
  merchantHost?: string;
  /** The merchant API's port. Default 0: a free port (`Gateway.merchantUrl` says which); shared with the group when `sharedPort`. */
  merchantPort?: number;
  /** Merchant API requests one caller address may fail to authenticate (in this process) before 429. Default `GATEWAY_DEFAULTS.merchantAuthFailures` (10/s, burst 50). */
  merchantAuthFailures?: RateLimit;
  /** Crypto worker threads. Default: one per core (`os.availableParallelism()`). */
  threads?: number;
  /**
   * A pool batch closes at `maxItems` requests, or `windowMs` after its first (0: the end of the current I/O turn),
   * and only when a worker is free. Default `GATEWAY_DEFAULTS.batch` (64, 0).
   */
  batch?: { maxItems: number; windowMs: number };
  /**
   * Build the crypto engine (default: the worker pool, `CryptoPool`, over `keys`). The benchmarks pass their
   * inline node:crypto engine (bench/baseline). `onError` logs and counts a pool fault (scanpay_pool_errors_total).
   */
  engine?: (context: EngineContext) => CardEngine;
  /**
   * How often merchants' journals are sealed and their new receipts signed (ms; docs/receipts.md). Default
   * `GATEWAY_DEFAULTS.receiptIntervalMs` (1000): a receipt is ready about this long after its payment.
   */
  receiptIntervalMs?: number;
  /** How often the key ring file is checked for a change (ms). Default 2000; 0: only `reloadKeys()`. */
  keyRingPollMs?: number;
  /** How long an auth session stays open for its PIN (ms). Default 120000. */
  sessionTtlMs?: number;
  /** Wrong PINs in a row that lock a card. Default 3. */
  pinLockAt?: number;
  /** Least time between two evaluated PIN attempts on one card (ms); one sooner gets RATE_LIMITED. Default 250. */
  pinPaceMs?: number;
  /**
   * Wrong PINs counted per scanner and per merchant within a window, each taken before the PIN is evaluated and
   * given back for a right one; past it, PIN_LIMIT. Default `GATEWAY_DEFAULTS.pinBudget` (10 an hour per scanner, 100 per
   * merchant); null: none.
   */
  pinBudget?: PinBudget | null;
  /** The auth page's budgets per client address and per session (docs/protocol.md §9). Default `GATEWAY_DEFAULTS.pageLimits` (5/s burst 20; 3 per session). */
  pageLimits?: PageLimits;
  /** Frames per second per scanner (every frame and every connection opened), kept in the store. Default 20. */
  framesPerSecond?: number;
  /** The burst over `framesPerSecond` a scanner may send. Default 40. */
  burst?: number;
  /** Seconds without traffic after which a scanner connection is closed (the gateway pings before it). Default 60. */
  idleTimeoutS?: number;
  /**
   * Seconds a scanner connection may last (SCANPAY_MAX_CONNECTION_AGE_S; default 3600): then it is closed with
   * 4001 (CLOSE_REAUTHENTICATE) and the scanner connects again with a fresh token. It bounds how long a socket of
   * a device revoked while this gateway missed the news stays open.
   */
  maxConnectionAgeS?: number;
  /** How often the revoked devices are read again from the store, besides the revocation feed (ms; default 30 000). */
  revocationRefreshMs?: number;
  /** Bytes queued for a scanner that does not read before its connection is closed (code 1008). Default 65536. */
  maxBackpressureBytes?: number;
  /** Where the gateway logs (a pino Logger is one). Default `createLogger()`: JSON lines on stdout at LOG_LEVEL, else info. */
  logger?: GatewayLogger;
  /** This thread's core (page-token and receipt MACs only); default: a fresh instance. Tests pass a counting one. */
  core?: CryptoCore;
  /**
   * How long a manual-capture hold lasts (ms) for a merchant the store has no record of (a merchant's record
   * carries its own window). Default `GATEWAY_DEFAULTS.holdWindowMs` (7 days); at most 30 days.
   */
  holdWindowMs?: number;
  /**
   * Where holders enter the PIN for a merchant whose record sets none (and for a merchant the store does not know):
   * `scanner` (default: a `pin` frame or the page the scanner shows) or `holder-device` (on the holder's own phone
   * only; every `pin` frame for such a session is refused). A merchant's own setting (`merchant create
   * --pin-entry`) wins.
   */
  pinEntry?: PinEntry;
  /**
   * How often this gateway releases the holds whose window has passed (ms; docs/operations.md). Several gateways
   * may sweep one store: each hold is released once. Default 60000; 0: this gateway never sweeps.
   */
  holdSweepMs?: number;
  /**
   * How often this gateway seals merchants' new events into their journals (ms; SCANPAY_SEALER_INTERVAL_MS). Default
   * `GATEWAY_DEFAULTS.sealerIntervalMs` (1000); 0: this gateway does not seal (another must).
   */
  sealerIntervalMs?: number;
  /**
   * Webhook delivery (docs/webhooks.md): any of the settings, the rest from `GATEWAY_DEFAULTS.webhooks`. `intervalMs: 0`:
   * this gateway delivers none (another must).
   */
  webhooks?: Partial<WebhookSettings>;
  /** With several gateways over Redis: where pushes travel (`RedisPushBus.connect`). Default: this process only (`LocalPushBus`). */
  pushBus?: (deliver: Deliver) => Promise<PushBus>;
}

export interface EngineContext {
  keys: KeyRingSource;
  core: CryptoCore;
  onBatch: (kind: string, size: number) => void;
  onError: (where: string, e: Error) => void;
}

/** A running gateway (startGateway's result). */
export interface Gateway {
  /** `http(s)://host:port`: the auth pages and `/healthz`, `/readyz` for load balancers. */
  readonly url: string;
  /** `ws(s)://host:port/scanner`: where scanners connect (docs/protocol.md). */
  readonly scannerUrl: string;
  /** The scanners' port (the one picked, for port 0). */
  readonly port: number;
  /** `http://opsHost:opsPort`: `/metrics` (Prometheus), `/readyz` with detail, `/healthz`. */
  readonly opsUrl: string;
  /** `http(s)://merchantHost:merchantPort`: the merchant API (`/v1/…`, docs/merchant-api.md). */
  readonly merchantUrl: string;
  /** What the gateway counts; `/metrics` on `opsUrl` serves the series. `npm start` adds its unhandled rejections here (`unhandledRejection()`). */
  readonly metrics: GatewayMetrics;
  /** Reads the key ring file again and has the engine use it (a rotated key works at once); KEYRING_INVALID if the file is bad or the ring was inline. */
  reloadKeys(): Promise<void>;
  /**
   * Stops taking work (new frames get SHUTTING_DOWN, new connections are refused), lets in-flight payments
   * finish (up to `drainMs`, default 10000) and answers them (merchant API requests too; new ones get 503
   * SHUTTING_DOWN), then closes scanner connections (code 1001),
   * the listeners, the sealer and webhook loops (a delivery in flight finishes, within its deadline; this
   * gateway's seal leases are released), the crypto workers and the push bus. The store is the caller's to close. It runs once: every
   * call, concurrent or later, resolves when that one shutdown is done.
   */
  close(drainMs?: number): Promise<void>;
}



export async function startGateway(opts: GatewayOptions): Promise<Gateway> {
  const host = opts.host ?? D.host;
  const opsHost = opts.opsHost ?? D.opsHost;
  const merchantHost = opts.merchantHost ?? D.merchantHost;
  // every option a listen or a page link depends on, checked before anything starts
  if (!opts.keyRingFile === !opts.keyRing) throw new ScanpayError('BAD_ARGUMENT', 'give the gateway keyRingFile or keyRing (one of the two)');
  if (!(opts.fleetKey instanceof Uint8Array) || opts.fleetKey.length !== FLEET_KEY_BYTES) {
    throw new ScanpayError('BAD_ARGUMENT', `fleetKey must be ${FLEET_KEY_BYTES} bytes (a Uint8Array, as loadFleetKey() gives)`);
  }
  const publicUrl = opts.publicUrl === undefined ? undefined : publicOrigin('publicUrl', opts.publicUrl);
  const problems = [
    hostProblem('host', host), hostProblem('opsHost', opsHost), hostProblem('merchantHost', merchantHost),
    publicUrl && 'problem' in publicUrl ? publicUrl.problem : null,
    ...(opts.tls ? tlsProblems({ cert: 'tls.certFile', key: 'tls.keyFile' }, opts.tls) : []),
    webhookSettingsProblem({ ...D.webhooks, ...opts.webhooks }),
    opts.sealerIntervalMs === undefined || (Number.isSafeInteger(opts.sealerIntervalMs) && opts.sealerIntervalMs >= 0) ? null
      : 'sealerIntervalMs must be a whole number of ms, 0 (no sealing) or more',
  ].filter((p) => p !== null);
  if (problems.length > 0) throw new ScanpayError('BAD_ARGUMENT', problems.join('; '));
  const log = opts.logger ?? createLogger();
  const core = opts.core ?? await loadCore();
  const keys = opts.keyRingFile ? KeyRingSource.file(opts.keyRingFile) : KeyRingSource.inline(opts.keyRing!);
  if (opts.keyRingFile) keys.read(); // a bad file fails the start here, not in a worker
  const maxConnectionAgeS = opts.maxConnectionAgeS ?? D.maxConnectionAgeS;
  if (!(maxConnectionAgeS > 0 && maxConnectionAgeS <= 604_800)) throw new ScanpayError('BAD_ARGUMENT', 'maxConnectionAgeS must be more than 0 and at most 604800 (a week)');
  const holdWindowMs = opts.holdWindowMs ?? D.holdWindowMs;
  if (!(Number.isSafeInteger(holdWindowMs) && holdWindowMs >= 1 && holdWindowMs <= MAX_HOLD_WINDOW_MS)) {
    throw new ScanpayError('BAD_ARGUMENT', `holdWindowMs must be a whole number of ms from 1 to ${MAX_HOLD_WINDOW_MS} (30 days)`);
  }
  const pinEntry = opts.pinEntry ?? D.pinEntry;
  if (!isPinEntry(pinEntry)) throw new ScanpayError('BAD_ARGUMENT', `pinEntry must be ${PIN_ENTRIES.join(' or ')}`);
  const holdSweepMs = opts.holdSweepMs ?? D.holdSweepMs;
  if (!(Number.isSafeInteger(holdSweepMs) && holdSweepMs >= 0 && holdSweepMs <= 86_400_000)) {
    throw new ScanpayError('BAD_ARGUMENT', 'holdSweepMs must be a whole number of ms from 0 (no sweeping) to 86400000 (a day)');
  }

  // built in dependency order, each part whole when the next takes it
  const metrics = new GatewayMetrics();
  // a worker that dies is replaced by piscina and its batch run again: logged and counted, never a crash
  const onPoolError = (where: string, e: Error) => {
    metrics.poolError(where);
    log.error({ event: 'pool.error', where, error: e.message }, 'crypto pool error');
  };
  const onBatch = (kind: string, size: number) => metrics.batch(kind, size);
  const engine = opts.engine?.({ keys, core, onBatch, onError: onPoolError })
    ?? new CryptoPool({ keys, threads: opts.threads, batch: opts.batch ?? D.batch, onBatch, onError: onPoolError });
  metrics.watchQueue(() => engine.queueDepth);
  const directory = new ScannerDirectory();
  // known before the first scanner connects; a revocation learnt later closes the device's sockets here at once
  const revoked = await RevokedDevices.watch(opts.store, {
    refreshMs: opts.revocationRefreshMs ?? D.revocationRefreshMs,
    onRevoked: (deviceId) => {
      const closed = directory.close(deviceId, CLOSE_DEVICE_REVOKED.code, CLOSE_DEVICE_REVOKED.reason);
      if (closed > 0) log.warn({ event: 'scanner.revoked', scanner: deviceId, closed }, 'revoked device: its connections closed');
    },
    onError: (e) => log.warn({ event: 'revocations.refresh-failed', error: e.message }, 'revoked devices not re-read; the next refresh tries again'),
  }).catch(async (e: unknown) => {
    await engine.close(); // e.g. Redis unreachable: nothing left running
    throw e;
  });
  const deliver: Deliver = (deviceId, frame) => directory.notify(deviceId, frame);
  const pushBus: PushBus = opts.pushBus
    ? await opts.pushBus(deliver).catch(async (e: unknown) => {
      await Promise.all([engine.close(), revoked.close()]); // e.g. Redis unreachable: nothing left running
      throw e;
    })
    : new LocalPushBus(deliver);
  // listen before the flow: the page URLs it hands out need the bound port (port 0 picks one)
  const transport = await startTransport({
    host, port: opts.port ?? D.port, sharedPort: opts.sharedPort, tls: opts.tls,
    ops: { host: opsHost, port: opts.opsPort ?? D.opsPort },
    merchant: { host: merchantHost, port: opts.merchantPort ?? D.merchantPort },
    idleTimeoutS: opts.idleTimeoutS ?? D.idleTimeoutS,
    maxBackpressureBytes: opts.maxBackpressureBytes ?? D.maxBackpressureBytes,
    onError: (where, e) => log.error({ where, error: (e as Error).message }, 'transport error'),
  }).catch(async (e: unknown) => {
    await Promise.all([engine.close(), pushBus.close(), revoked.close()]); // e.g. the port is in use: nothing left running
    throw e;
  });
  // from here to transport.serve nothing awaits, so no request can arrive before the handlers are attached
  const hostPort = (h: string, port: number) => `${h.includes(':') ? `[${h}]` : h}:${port}`;
  const url = `${opts.tls ? 'https' : 'http'}://${hostPort(host, transport.port)}`;
  const opsUrl = `http://${hostPort(opsHost, transport.opsPort)}`;
  const merchantUrl = `${opts.tls ? 'https' : 'http'}://${hostPort(merchantHost, transport.merchantPort)}`;

  const flow: FlowDeps = {
    core, engine, store: opts.store,
    pageKey: createHmac('sha256', opts.fleetKey).update('scanpay/v1/page-key').digest(),
    config: {
      publicUrl: publicUrl && 'origin' in publicUrl ? publicUrl.origin : url, sessionTtlMs: opts.sessionTtlMs ?? D.sessionTtlMs, pinLockAt: opts.pinLockAt ?? D.pinLockAt,
      pinPaceMs: opts.pinPaceMs ?? D.pinPaceMs, pinBudget: opts.pinBudget === null ? undefined : opts.pinBudget ?? D.pinBudget,
    },
    audit: log,
    metrics,
    notify: (deviceId, frame) => pushBus.publish(deviceId, frame),
    revokedDevices: revoked,
    merchantPolicies: new MerchantPolicies(opts.store.merchants, Date.now, { ...DEFAULT_MERCHANT_POLICY, holdWindowMs, pinEntry }),
    pinsInFlight: new Map(),
  };
  const inFlight = new InFlight();
  const hub = new ScannerHub(flow, directory, inFlight, {
    fleetKey: opts.fleetKey,
    framesPerSecond: opts.framesPerSecond ?? D.framesPerSecond,
    burst: opts.burst ?? D.burst,
    onRejectedFrame: (code) => metrics.rejectedFrame(code),
    onConnections: (n) => metrics.connections(n),
    onScannerPresence: (deviceId, present) => (present ? pushBus.watch(deviceId) : pushBus.unwatch(deviceId)),
    revoked,
    maxConnectionAgeMs: maxConnectionAgeS * 1000,
  });
  const ops: OpsState = { store: opts.store, metrics, poolReady: () => engine.ready, draining: () => hub.draining };
  const merchantAuth = new MerchantAuth(opts.store.merchants, opts.fleetKey, opts.merchantAuthFailures ?? D.merchantAuthFailures);
  const webhookSettings: WebhookSettings = { ...D.webhooks, ...opts.webhooks };
  const secretBox = WebhookSecretBox.fromFleetKey(opts.fleetKey);
  // the receipt keys' public halves, read with the ring (the ring itself stays in the workers), again on a reload
  let receiptKeys = keys.read().receiptPublicKeys();
  const merchantRoutes = merchantApiRoutes({
    store: opts.store, auth: merchantAuth, inFlight, draining: () => hub.draining, audit: log, metrics, receiptKeys: () => receiptKeys,
    webhooks: { box: secretBox, policy: { allowPrivate: webhookSettings.allowPrivate } },
    onError: (route, e) => log.error({ event: 'merchant-api.error', route, error: (e as Error).message }, 'merchant API error'),
  });
  transport.serve({
    hub,
    routes: [
      ...authRoutes(flow, inFlight, () => hub.draining, opts.pageLimits ?? D.pageLimits), ...publicHealthRoutes(ops),
      ...receiptRoutes({ flow, receiptKeys: () => receiptKeys, limits: opts.pageLimits ?? D.pageLimits }),
      ...walletRoutes(flow, inFlight, () => hub.draining, opts.pageLimits ?? D.pageLimits),
    ],
    opsRoutes: opsRoutes(ops),
    merchant: { routes: merchantRoutes, answers: MERCHANT_LISTENER_ANSWERS },
  });
  // receipts: the journal sealed and its receipts signed (in the workers) a round at a time, off the payments' path
  const receiptLoop = startReceiptLoop({
    store: opts.store, sign: (request) => engine.signReceipts(request), owner: `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`,
    intervalMs: opts.receiptIntervalMs ?? D.receiptIntervalMs,
    onError: (merchant, e) => log.warn({ event: 'receipts.round-failed', merchant, error: e.message }, 'receipt round failed: the next round tries again'),
  });
  const sweeper = new HoldSweeper(opts.store.payments, {
    intervalMs: holdSweepMs,
    onSweep: (result) => metrics.holdSweep(result),
    onError: (e) => log.warn({ event: 'holds.sweep-failed', error: e.message }, 'hold expiry sweep failed; the next one tries again'),
  });
  if (holdSweepMs > 0) sweeper.start();
  // this process's id as the holder of seal leases and delivery claims
  const owner = `gw:${randomBytes(8).toString('hex')}`;
  const sealerIntervalMs = opts.sealerIntervalMs ?? D.sealerIntervalMs;
  const sealer = sealerIntervalMs > 0 ? SealerLoop.start({
    events: opts.store.events, owner, intervalMs: sealerIntervalMs,
    onError: (e) => log.warn({ event: 'sealer.error', error: e.message }, 'sealing round failed; the next one retries'),
    onSealed: (_, records) => metrics.sealed(records),
  }) : null;
  const delivery = webhookSettings.intervalMs > 0 ? WebhookDelivery.start({
    ...webhookSettings, store: opts.store, box: secretBox, owner,
    onError: (e) => log.warn({ event: 'webhook.error', error: e.message }, 'webhook round failed; the next one retries'),
    onAttempt: (a) => {
      metrics.webhookAttempt(a.result.delivered ? 'delivered' : a.gaveUp ? 'given_up' : 'failed');
      const fields = { event: 'webhook.attempt', merchant: a.merchant, endpoint: a.endpoint, eventId: a.event, attempt: a.attempt, delivered: a.result.delivered, gaveUp: a.gaveUp };
      if (a.result.delivered) log.debug({ ...fields, status: a.result.status }, 'webhook delivered');
      else log.info({ ...fields, reason: a.result.reason, status: a.result.status }, a.gaveUp ? 'webhook given up' : 'webhook failed; retried later');
    },
  }) : null;
  let closing: Promise<void> | undefined; // one shutdown, however many callers ask for it
  log.info({ event: 'gateway.started', url, ops: opsUrl, merchantApi: merchantUrl, store: opts.store.description, keys: keys.description }, 'gateway started');

  const reloadKeys = async () => {
    await engine.reloadKeys();
    receiptKeys = keys.read().receiptPublicKeys();
    log.info({ event: 'keys.reloaded', keys: keys.description, generation: keys.generation }, 'issuer key ring reloaded');
  };
  // a rotation written by `scanpay keys rotate` (temp file + rename) is picked up by polling the file's stat
  const pollMs = opts.keyRingPollMs ?? D.keyRingPollMs;
  const onKeyFileChange = (now: Stats, before: Stats) => {
    if (now.mtimeMs === before.mtimeMs && now.ino === before.ino && now.size === before.size) return;
    reloadKeys().catch((e: Error) => log.error({ event: 'keys.reload-failed', error: e.message }, 'issuer key ring not reloaded: the running ring stays'));
  };
  if (opts.keyRingFile && pollMs > 0) watchFile(opts.keyRingFile, { interval: pollMs, persistent: false }, onKeyFileChange);

  return {
    url,
    opsUrl,
    merchantUrl,
    scannerUrl: `${url.replace(/^http/, 'ws')}/scanner`,
    port: transport.port,
    metrics,
    reloadKeys,
    close(drainMs = 10_000) {
      closing ??= (async () => {
        if (opts.keyRingFile) unwatchFile(opts.keyRingFile, onKeyFileChange);
        hub.draining = true;
        transport.stopListening();
        await sweeper.stop(); // no sweep starts now; one running ends before the store is the caller's again
        const drained = await inFlight.drain(drainMs);
        if (!drained) log.warn({ event: 'gateway.drain-timeout', inFlight: inFlight.count }, 'in-flight payments did not finish in time');
        await new Promise((resolve) => setImmediate(resolve)); // let the drained work send its answers (they follow in later microtasks)
        hub.stop();
        await receiptLoop.close();
        await transport.closeConnections();
        merchantAuth.close();
        await Promise.all([sealer?.close(), delivery?.close()]);
        secretBox.close();
        await Promise.all([engine.close(), pushBus.close(), revoked.close()]);
        log.info({ event: 'gateway.stopped' }, 'gateway stopped');
      })();
      return closing;
    },
  };
}
