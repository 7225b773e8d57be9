/**
 * Assembles one gateway process: crypto engine (worker pool), payment flow, scanner hub, HTTP routes
 * and the uWS transport; and takes it down gracefully (no new work, in-flight payments finish).
 * @example
 *   const gateway = await startGateway({ store, keyRing, fleetKey, port: 8080 });
 *   console.log(gateway.url);
 *   await gateway.close();
 */
import { createHmac } from 'node:crypto';
import { unwatchFile, watchFile, type Stats } from 'node:fs';
import { ScanpayError } from '../core/errors.ts';
import { loadCore } from '../core/index.ts';
import type { CryptoCore } from '../core/types.ts';
import type { CardEngine } from '../issuer/card-engine.ts';
import type { IssuerKeyRing } from '../issuer/key-ring.ts';
import { KeyRingSource } from '../issuer/key-ring-source.ts';
import { DEFAULT_PIN_BUDGET, type PinBudget, type Store } from '../issuer/store/types.ts';
import type { FlowDeps } from './flow/deps.ts';
import { authRoutes, DEFAULT_PAGE_LIMITS, type PageLimits } from './http/auth-routes.ts';
import { opsRoutes, publicHealthRoutes, type OpsState } from './http/ops-routes.ts';
import { InFlight } from './in-flight.ts';
import { createLogger, type GatewayLogger } from './log.ts';
import { GatewayMetrics } from './metrics.ts';
import { CryptoPool } from './pool/crypto-pool.ts';
import { ScannerDirectory } from './scanners/directory.ts';
import { DEFAULT_REVOCATION_REFRESH_MS, RevokedDevices } from './scanners/revoked-devices.ts';
import { ScannerHub } from './scanners/scanner-hub.ts';
import { CLOSE_DEVICE_REVOKED } from '../protocol/messages.ts';
import { DEFAULT_MAX_CONNECTION_AGE_S } from './config.ts';
import { startTransport, type TlsFiles } from './transport/uws-server.ts';
import { LocalPushBus, type Deliver, type PushBus } from './push/push-bus.ts';

export interface GatewayOptions {
  store: Store;
  /**
   * The issuer key ring, which only the crypto engine's threads hold: a file (reloaded on `reloadKeys()`,
   * SIGHUP, and when the file changes) or a ring given inline (fixed until restart). One of the two.
   */
  keyRingFile?: string;
  keyRing?: IssuerKeyRing;
  fleetKey: Uint8Array; // verifies scanner tokens; also keys the auth page tokens
  host?: string; // default 127.0.0.1
  port?: number; // default 8080; 0 picks a free port
  sharedPort?: boolean; // a process of a `--processes N` group: share the port (default: exclusive, in use fails)
  publicUrl?: string; // base URL scanners reach the auth page at; default http(s)://host:port
  tls?: TlsFiles; // serve wss:// and https:// (with HSTS) from this certificate and key
  opsHost?: string; // the ops listener (/metrics, /readyz detail); default 127.0.0.1
  opsPort?: number; // default 0: any free port (Gateway.opsUrl says which)
  threads?: number; // crypto workers; default: one per core
  batch?: { maxItems: number; windowMs: number };
  /**
   * Build the crypto engine (default: the worker pool over `keys`). The baseline mode passes its inline engine.
   * `onError` logs and counts a pool fault (scanpay_pool_errors_total).
   */
  engine?: (context: EngineContext) => CardEngine;
  /** How often the key ring file is checked for a change (ms; default 2000; 0: only reloadKeys and SIGHUP). */
  keyRingPollMs?: number;
  sessionTtlMs?: number;
  pinLockAt?: number;
  pinPaceMs?: number; // least time between two evaluated PIN attempts on one card; default 250
  /** Wrong PINs per scanner and per merchant within a window (types.ts PinBudget); default DEFAULT_PIN_BUDGET; null: none. */
  pinBudget?: PinBudget | null;
  pageLimits?: PageLimits; // page POSTs per client address and per session
  framesPerSecond?: number;
  burst?: number;
  idleTimeoutS?: number;
  /**
   * Seconds a scanner connection may last (SCANPAY_MAX_CONNECTION_AGE_S; default 3600): then it is closed with
   * 4001 (CLOSE_REAUTHENTICATE) and the scanner connects again with a fresh token. It bounds how long a socket of
   * a device revoked while this gateway missed the news stays open.
   */
  maxConnectionAgeS?: number;
  /** How often the revoked devices are read again from the store, besides the revocation feed (ms; default 30 000). */
  revocationRefreshMs?: number;
  maxBackpressureBytes?: number;
  logger?: GatewayLogger;
  /** This thread's core (page-token and receipt MACs only); default: a fresh instance. Tests pass a counting one. */
  core?: CryptoCore;
  /** With several gateways over Redis: where pushes travel (RedisPushBus). Default: this process only. */
  pushBus?: (deliver: Deliver) => Promise<PushBus>;
}

export interface EngineContext {
  keys: KeyRingSource;
  core: CryptoCore;
  onBatch: (kind: string, size: number) => void;
  onError: (where: string, e: Error) => void;
}

export interface Gateway {
  readonly url: string; // http(s)://host:port
  readonly scannerUrl: string; // ws(s)://host:port/scanner
  readonly port: number;
  readonly opsUrl: string; // http://opsHost:opsPort: /metrics, /readyz, /healthz
  readonly metrics: GatewayMetrics;
  /** Reads the key ring file again and has the engine use it (a rotated key works at once); KEYRING_INVALID if the file is bad or the ring was inline. */
  reloadKeys(): Promise<void>;
  /** Stops taking work, lets in-flight payments finish (up to drainMs), closes sockets and workers. */
  close(drainMs?: number): Promise<void>;
}

export const DEFAULT_BATCH = { maxItems: 64, windowMs: 0 };


export async function startGateway(opts: GatewayOptions): Promise<Gateway> {
  const host = opts.host ?? '127.0.0.1';
  const log = opts.logger ?? createLogger();
  const core = opts.core ?? await loadCore();
  if (!opts.keyRingFile === !opts.keyRing) throw new ScanpayError('BAD_ARGUMENT', 'give the gateway keyRingFile or keyRing (one of the two)');
  const keys = opts.keyRingFile ? KeyRingSource.file(opts.keyRingFile) : KeyRingSource.inline(opts.keyRing!);
  if (opts.keyRingFile) keys.read(); // a bad file fails the start here, not in a worker
  const maxConnectionAgeS = opts.maxConnectionAgeS ?? DEFAULT_MAX_CONNECTION_AGE_S;
  if (!(maxConnectionAgeS > 0 && maxConnectionAgeS <= 604_800)) throw new ScanpayError('BAD_ARGUMENT', 'maxConnectionAgeS must be more than 0 and at most 604800 (a week)');

  // built in dependency order, each part whole when the next takes it
  const metrics = new GatewayMetrics();
  // a worker that dies is replaced by piscina and its batch run again: logged and counted, never a crash
  const onPoolError = (where: string, e: Error) => {
    metrics.poolError(where);
    log.error({ event: 'pool.error', where, error: e.message }, 'crypto pool error');
  };
  const onBatch = (kind: string, size: number) => metrics.batch(kind, size);
  const engine = opts.engine?.({ keys, core, onBatch, onError: onPoolError })
    ?? new CryptoPool({ keys, threads: opts.threads, batch: opts.batch ?? DEFAULT_BATCH, onBatch, onError: onPoolError });
  metrics.watchQueue(() => engine.queueDepth);
  const directory = new ScannerDirectory();
  // known before the first scanner connects; a revocation learnt later closes the device's sockets here at once
  const revoked = await RevokedDevices.watch(opts.store, {
    refreshMs: opts.revocationRefreshMs ?? DEFAULT_REVOCATION_REFRESH_MS,
    onRevoked: (deviceId) => {
      const closed = directory.close(deviceId, CLOSE_DEVICE_REVOKED.code, CLOSE_DEVICE_REVOKED.reason);
      if (closed > 0) log.warn({ event: 'scanner.revoked', scanner: deviceId, closed }, 'revoked device: its connections closed');
    },
    onError: (e) => log.warn({ event: 'revocations.refresh-failed', error: e.message }, 'revoked devices not re-read; the next refresh tries again'),
  }).catch(async (e: unknown) => {
    await engine.close(); // e.g. Redis unreachable: nothing left running
    throw e;
  });
  const deliver: Deliver = (scannerId, frame) => directory.notify(scannerId, frame);
  const pushBus: PushBus = opts.pushBus
    ? await opts.pushBus(deliver).catch(async (e: unknown) => {
      await Promise.all([engine.close(), revoked.close()]); // e.g. Redis unreachable: nothing left running
      throw e;
    })
    : new LocalPushBus(deliver);
  // listen before the flow: the page URLs it hands out need the bound port (port 0 picks one)
  const opsHost = opts.opsHost ?? '127.0.0.1';
  const transport = await startTransport({
    host, port: opts.port ?? 8080, sharedPort: opts.sharedPort, tls: opts.tls,
    ops: { host: opsHost, port: opts.opsPort ?? 0 },
    idleTimeoutS: opts.idleTimeoutS ?? 60,
    maxBackpressureBytes: opts.maxBackpressureBytes ?? 64 * 1024,
    onError: (where, e) => log.error({ where, error: (e as Error).message }, 'transport error'),
  }).catch(async (e: unknown) => {
    await Promise.all([engine.close(), pushBus.close(), revoked.close()]); // e.g. the port is in use: nothing left running
    throw e;
  });
  // from here to transport.serve nothing awaits, so no request can arrive before the handlers are attached
  const hostPort = (h: string, port: number) => `${h.includes(':') ? `[${h}]` : h}:${port}`;
  const url = `${opts.tls ? 'https' : 'http'}://${hostPort(host, transport.port)}`;
  const opsUrl = `http://${hostPort(opsHost, transport.opsPort)}`;

  const flow: FlowDeps = {
    core, engine, store: opts.store,
    pageKey: createHmac('sha256', opts.fleetKey).update('scanpay/v1/page-key').digest(),
    config: {
      publicUrl: opts.publicUrl ?? url, sessionTtlMs: opts.sessionTtlMs ?? 120_000, pinLockAt: opts.pinLockAt ?? 3, pinPaceMs: opts.pinPaceMs ?? 250,
      pinBudget: opts.pinBudget === null ? undefined : opts.pinBudget ?? DEFAULT_PIN_BUDGET,
    },
    audit: log,
    metrics,
    notify: (scannerId, frame) => pushBus.publish(scannerId, frame),
    revokedDevices: revoked,
    pinsInFlight: new Map(),
  };
  const inFlight = new InFlight();
  const hub = new ScannerHub(flow, directory, inFlight, {
    fleetKey: opts.fleetKey,
    framesPerSecond: opts.framesPerSecond ?? 20,
    burst: opts.burst ?? 40,
    onRejectedFrame: (code) => metrics.rejectedFrame(code),
    onConnections: (n) => metrics.connections(n),
    onScannerPresence: (scannerId, present) => (present ? pushBus.watch(scannerId) : pushBus.unwatch(scannerId)),
    revoked,
    maxConnectionAgeMs: maxConnectionAgeS * 1000,
  });
  const ops: OpsState = { store: opts.store, metrics, poolReady: () => engine.ready, draining: () => hub.draining };
  transport.serve({
    hub,
    routes: [...authRoutes(flow, inFlight, () => hub.draining, opts.pageLimits ?? DEFAULT_PAGE_LIMITS), ...publicHealthRoutes(ops)],
    opsRoutes: opsRoutes(ops),
  });
  let closed = false;
  log.info({ event: 'gateway.started', url, ops: opsUrl, store: opts.store.description, keys: keys.description }, 'gateway started');

  const reloadKeys = async () => {
    await engine.reloadKeys();
    log.info({ event: 'keys.reloaded', keys: keys.description, generation: keys.generation }, 'issuer key ring reloaded');
  };
  // a rotation written by `scanpay keys rotate` (temp file + rename) is picked up by polling the file's stat
  const pollMs = opts.keyRingPollMs ?? 2_000;
  const onKeyFileChange = (now: Stats, before: Stats) => {
    if (now.mtimeMs === before.mtimeMs && now.ino === before.ino && now.size === before.size) return;
    reloadKeys().catch((e: Error) => log.error({ event: 'keys.reload-failed', error: e.message }, 'issuer key ring not reloaded: the running ring stays'));
  };
  if (opts.keyRingFile && pollMs > 0) watchFile(opts.keyRingFile, { interval: pollMs, persistent: false }, onKeyFileChange);

  return {
    url,
    opsUrl,
    scannerUrl: `${url.replace(/^http/, 'ws')}/scanner`,
    port: transport.port,
    metrics,
    reloadKeys,
    async close(drainMs = 10_000) {
      if (closed) return;
      if (opts.keyRingFile) unwatchFile(opts.keyRingFile, onKeyFileChange);
      hub.draining = true;
      transport.stopListening();
      const drained = await inFlight.drain(drainMs);
      if (!drained) log.warn({ event: 'gateway.drain-timeout', inFlight: inFlight.count }, 'in-flight payments did not finish in time');
      await new Promise((resolve) => setImmediate(resolve)); // let the drained work send its answers (they follow in later microtasks)
      transport.closeConnections();
      hub.stop();
      closed = true;
      await Promise.all([engine.close(), pushBus.close(), revoked.close()]);
      log.info({ event: 'gateway.stopped' }, 'gateway stopped');
    },
  };
}
