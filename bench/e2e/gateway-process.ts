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
 * Listens on 127.0.0.1, a free port; logs are silent; the per-scanner rate limit is raised out of the way.
 * stdout: {"event":"ready","port":…} then answers to stdin commands, one per line:
 *   mem    → {"event":"mem", rss, heapUsed, external, arrayBuffers}  (after a full GC when run with --expose-gc)
 *   stats  → {"event":"stats", connections, batches: {kind: {count, sum}}}
 *   profile-start / profile-stop FILE → V8 CPU profile of the main thread written to FILE (.cpuprofile)
 * Closing stdin (or SIGTERM) closes the gateway gracefully and exits.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { createInterface } from 'node:readline';
import { NodeCryptoEngine } from '../../gateway/baseline/node-crypto-engine.ts';
import { createLogger } from '../../gateway/log.ts';
import { DEFAULT_BATCH, startGateway } from '../../gateway/server.ts';
import { IssuerKeyRing } from '../../issuer/key-ring.ts';
import { Redis } from 'ioredis';
import { openStore, RedisStore } from '../../issuer/store/index.ts';
import { loadFleetKey } from '../../protocol/fleet-key.ts';
import { emit, exitWithParent } from './children.ts';

const env = process.env;
const int = (name: string, fallback: number) => (env[name] ? Number.parseInt(env[name]!, 10) : fallback);
const engineKind = env.BENCH_ENGINE === 'baseline' ? 'baseline' : 'pool';

const keyRing = await IssuerKeyRing.load();
const fleetKey = loadFleetKey();
const store = env.BENCH_REDIS_AUTOPIPELINE === '1' && env.REDIS_URL
  ? new RedisStore(new Redis(env.REDIS_URL, { enableAutoPipelining: true }), { prefix: env.SCANPAY_REDIS_PREFIX })
  : await openStore({
    redisUrl: env.REDIS_URL || undefined, clusterNodes: env.REDIS_CLUSTER_NODES || undefined, prefix: env.SCANPAY_REDIS_PREFIX,
    waitReplicas: env.SCANPAY_REDIS_WAIT_REPLICAS ? Number(env.SCANPAY_REDIS_WAIT_REPLICAS) : 0,
  });
const gateway = await startGateway({
  store, keyRing, fleetKey,
  host: '127.0.0.1',
  port: 0,
  threads: env.BENCH_THREADS ? int('BENCH_THREADS', 2) : undefined,
  batch: { maxItems: int('BENCH_BATCH_MAX', DEFAULT_BATCH.maxItems), windowMs: int('BENCH_BATCH_WINDOW_MS', DEFAULT_BATCH.windowMs) },
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
