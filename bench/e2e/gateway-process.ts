/**
 * One gateway under test, as its own process (started by bench/e2e/run.ts). Configured from the environment:
 *   SCANPAY_KEYRING      the issuer key ring JSON (IssuerKeyRing.serialize())
 *   SCANPAY_FLEET_KEY    64 hex digits
 *   REDIS_URL (or REDIS_CLUSTER_NODES), SCANPAY_REDIS_PREFIX, SCANPAY_REDIS_WAIT_REPLICAS
 *   BENCH_ENGINE         "pool" (WASM core in the piscina pool) or "baseline" (node:crypto inline, no pool)
 *   BENCH_THREADS, BENCH_BATCH_MAX, BENCH_BATCH_WINDOW_MS   pool settings (defaults: gateway defaults)
 *   BENCH_MAX_LIFETIME_S exits by itself after this long (default 1800)
 *   BENCH_REDIS_AUTOPIPELINE=1  experiment only: the Redis store on an ioredis client with enableAutoPipelining
 *                        (commands issued in the same tick share one socket write), instead of openStore()
 *   BENCH_CARDS, BENCH_CARDS_FILE  with no REDIS_URL (the embedded store, which lives in this process): issue
 *                        this many cards into it before starting and write them to the file ([{ payload, pin }])
 * No REDIS_URL (nor REDIS_CLUSTER_NODES): the embedded in-memory store, as `npm start` without Redis.
 * Listens on 127.0.0.1, a free port; logs are silent; the per-scanner rate limit is raised out of the way.
 * stdout: {"event":"ready","port":…} then answers to stdin commands, one per line:
 *   mem    → {"event":"mem", rss, heapUsed, external, arrayBuffers}  (after a full GC when run with --expose-gc)
 *   stats  → {"event":"stats", connections, batches: {kind: {count, sum}}}
 *   profile-start / profile-stop FILE → V8 CPU profile of the main thread written to FILE (.cpuprofile)
 *   counters → {"event":"counters", workers: [tid…], otherWorkers: [{tid, script}…], redis: {commands: {name: n}, writes} | null}:
 *              the crypto workers' thread ids (reported by thread-tag.mjs when it is preloaded through NODE_OPTIONS;
 *              otherWorkers: worker threads that are not piscina's, e.g. tsx's esbuild) and
 *              what this process's Redis client has sent so far (each command, MULTI/EXEC and scripts counted
 *              once; socket writes, of which auto-pipelining makes fewer than commands)
 * Closing stdin (or SIGTERM) closes the gateway gracefully and exits.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { createInterface } from 'node:readline';
import { loadCore } from '../../core/index.ts';
import { Issuer } from '../../issuer/issuer.ts';
import { issueBenchCards } from './cards.ts';
import { NodeCryptoEngine } from '../../gateway/baseline/node-crypto-engine.ts';
import { createLogger } from '../../gateway/log.ts';
import { startGateway } from '../../gateway/server.ts';
import { GATEWAY_DEFAULTS } from '../../gateway/defaults.ts';
import { IssuerKeyRing } from '../../issuer/key-ring.ts';
import { Redis } from 'ioredis';
import { openStore, RedisStore } from '../../issuer/store/index.ts';
import { loadFleetKey } from '../../protocol/fleet-key.ts';
import { emit, exitWithParent } from './children.ts';
import { THREAD_TAG_CHANNEL, type ClientCounts } from './cpu.ts';

const env = process.env;
const int = (name: string, fallback: number) => (env[name] ? Number.parseInt(env[name]!, 10) : fallback);
const engineKind = env.BENCH_ENGINE === 'baseline' ? 'baseline' : 'pool';

// The crypto workers' thread ids, posted by thread-tag.mjs from each worker thread: the piscina workers (the
// logger writes in this thread; the other worker threads here are tsx's esbuild ones, counted as "other").
const workerTids = new Set<number>();
const otherWorkers: { tid: number; script: string }[] = [];
const tags = new BroadcastChannel(THREAD_TAG_CHANNEL);
tags.onmessage = (event) => {
  const { tid, script } = (event as MessageEvent<{ tid: number; script: string }>).data;
  if (!Number.isSafeInteger(tid)) return;
  if (/[\\/]piscina[\\/]/.test(script)) workerTids.add(tid);
  else otherWorkers.push({ tid, script: script.replace(/^.*[\\/]node_modules[\\/]/, '') });
};
(tags as unknown as { unref(): void }).unref();

// What the Redis client sends: every command goes through Redis#sendCommand once (pipelined and auto-pipelined
// ones too); the socket writes are counted on the client's stream.
const redisCounts: ClientCounts = { commands: {}, writes: 0 };
const counted = new WeakSet<object>();
const sendCommand = Redis.prototype.sendCommand;
Redis.prototype.sendCommand = function (this: Redis, ...args: Parameters<typeof sendCommand>) {
  const name = String(args[0].name).toLowerCase();
  redisCounts.commands[name] = (redisCounts.commands[name] ?? 0) + 1;
  const socket = (this as unknown as { stream?: { write: (...a: unknown[]) => boolean } }).stream;
  if (socket && !counted.has(socket)) {
    counted.add(socket);
    const write = socket.write;
    socket.write = function (this: unknown, ...a: unknown[]) {
      redisCounts.writes++;
      return write.apply(this, a);
    };
  }
  return sendCommand.apply(this, args);
} as typeof sendCommand;

const keyRing = await IssuerKeyRing.load();
const fleetKey = loadFleetKey();
const store = env.BENCH_REDIS_AUTOPIPELINE === '1' && env.REDIS_URL
  ? new RedisStore(new Redis(env.REDIS_URL, { enableAutoPipelining: true }), { prefix: env.SCANPAY_REDIS_PREFIX })
  : await openStore({
    redisUrl: env.REDIS_URL || undefined, clusterNodes: env.REDIS_CLUSTER_NODES || undefined, prefix: env.SCANPAY_REDIS_PREFIX,
    waitReplicas: env.SCANPAY_REDIS_WAIT_REPLICAS ? Number(env.SCANPAY_REDIS_WAIT_REPLICAS) : 0,
  });
const usesRedis = Boolean(env.REDIS_URL || env.REDIS_CLUSTER_NODES);
if (!usesRedis && env.BENCH_CARDS_FILE) {
  // the embedded store is in this process: the load generator's cards are issued here
  const issuer = new Issuer({ core: await loadCore(), store, keyRing });
  const cards = await issueBenchCards(issuer, int('BENCH_CARDS', 2_000));
  writeFileSync(env.BENCH_CARDS_FILE, JSON.stringify(cards), { mode: 0o600 });
}
const gateway = await startGateway({
  store, keyRing, fleetKey,
  host: '127.0.0.1',
  port: 0,
  threads: env.BENCH_THREADS ? int('BENCH_THREADS', 2) : undefined,
  batch: { maxItems: int('BENCH_BATCH_MAX', GATEWAY_DEFAULTS.batch.maxItems), windowMs: int('BENCH_BATCH_WINDOW_MS', GATEWAY_DEFAULTS.batch.windowMs) },
  engine: engineKind === 'baseline' ? ({ core, keys }) => new NodeCryptoEngine(core, keys) : undefined,
  framesPerSecond: 1_000_000,
  burst: 1_000_000,
  logger: createLogger({ level: 'silent' }),
});
let closing: Promise<void> | undefined;
const close = () => (closing ??= gateway.close(5_000).then(() => store.close()).catch(() => {}));
exitWithParent(close);
setTimeout(() => {
  process.stderr.write('gateway-process: lifetime over, exiting\n');
  void close().finally(() => process.exit(0));
}, int('BENCH_MAX_LIFETIME_S', 1800) * 1000).unref();

let profiler: Session | undefined;
createInterface({ input: process.stdin }).on('line', (line) => {
  void (async () => {
    const [command, arg] = line.trim().split(/\s+/, 2);
    if (command === 'profile-start') {
      profiler = new Session();
      profiler.connect();
      await profiler.post('Profiler.enable');
      await profiler.post('Profiler.start');
      emit({ event: 'profile-started' });
    } else if (command === 'profile-stop' && profiler && arg) {
      const { profile } = await profiler.post('Profiler.stop');
      writeFileSync(arg, JSON.stringify(profile));
      profiler.disconnect();
      profiler = undefined;
      emit({ event: 'profile-stopped', file: arg });
    } else if (command === 'mem') {
      const gc = (globalThis as { gc?: () => void }).gc;
      if (gc) for (let i = 0; i < 3; i++) gc();
      const m = process.memoryUsage();
      emit({ event: 'mem', gc: Boolean(gc), rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers });
    } else if (command === 'counters') {
      emit({ event: 'counters', workers: [...workerTids], otherWorkers, redis: usesRedis ? { commands: { ...redisCounts.commands }, writes: redisCounts.writes } : null });
    } else if (command === 'stats') {
      const batches: Record<string, { count: number; sum: number }> = {};
      let connections = 0;
      const metrics = await gateway.metrics.registry.getMetricsAsJSON();
      for (const metric of metrics) {
        if (metric.name === 'scanpay_scanner_connections') connections = Number(metric.values[0]?.value ?? 0);
        if (metric.name !== 'scanpay_batch_size') continue;
        for (const v of metric.values as { metricName?: string; labels: Record<string, string | number>; value: number }[]) {
          const kind = String(v.labels.kind);
          batches[kind] ??= { count: 0, sum: 0 };
          if (v.metricName?.endsWith('_count')) batches[kind].count = v.value;
          if (v.metricName?.endsWith('_sum')) batches[kind].sum = v.value;
        }
      }
      emit({ event: 'stats', connections, batches });
    }
  })();
});

emit({ event: 'ready', port: gateway.port, engine: engineKind, pid: process.pid, store: store.description });
