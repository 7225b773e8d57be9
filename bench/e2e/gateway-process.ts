/**
 * One gateway under test, as its own process: `node --import tsx gateway-process.ts pool|baseline|floor`, started by
 * spawn-gateway.ts (for run.ts, cluster.ts, profile.ts). The gateway is the one `npm run bench:serve` serves
 * (bench/serve/start.ts), configured from the environment as `npm start` is (readStartConfig; spawn-gateway.ts
 * sets every variable); `floor` is the architecture's floor instead (bench/floor/server.ts, from the same
 * variables: readFloorConfig), which answers every command below but `stats` (no batch metrics: zeros). Plus
 * these for the bench alone:
 *   BENCH_MAX_LIFETIME_S exits by itself after this long (default 1800)
 *   BENCH_REDIS_AUTOPIPELINE=1  experiment only: the Redis store on an ioredis client with enableAutoPipelining
 *                        (commands issued in the same tick share one socket write), instead of openStore()
 *   BENCH_CARDS, BENCH_CARDS_FILE  with no REDIS_URL (the embedded store, which lives in this process): issue
 *                        this many cards into it before starting and write them to the file ([{ payload, pin }])
 * No REDIS_URL (nor REDIS_CLUSTER_NODES): the embedded in-memory store, as `npm start` without Redis.
 * Logs are silent.
 * stdout: {"event":"ready","port":…} then answers to stdin commands, one per line:
 *   mem    → {"event":"mem", rss, heapUsed, external, arrayBuffers}  (after a full GC when run with --expose-gc)
 *   stats  → {"event":"stats", connections, batches: {kind: {count, sum}}}
 *   profile-start / profile-stop FILE → V8 CPU profile of the main thread written to FILE (.cpuprofile)
 *   heap-start / heap-stop FILE → sampling heap profile of the main thread (objects collected since included) written to FILE
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
import { Redis } from 'ioredis';
import { readStartConfig } from '../../gateway/config.ts';
import type { Gateway } from '../../gateway/server.ts';
import { createLogger } from '../../gateway/log.ts';
import { RedisStore } from '../../issuer/store/index.ts';
import { engineNamed, openServedStore, startServedGateway } from '../serve/start.ts';
import { readFloorConfig } from '../floor/config.ts';
import { startFloor } from '../floor/server.ts';
import { emit, exitWithParent } from '../../test/support/child-process.ts';
import { THREAD_TAG_CHANNEL, type ClientCounts } from './cpu.ts';

const env = process.env;
const int = (name: string, fallback: number) => (env[name] ? Number.parseInt(env[name]!, 10) : fallback);
const floor = process.argv[2] === 'floor';
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

/** What this process serves: a gateway (its engine named) or the floor. */
interface Served {
  port: number;
  description: string;
  usesRedis: boolean;
  close(): Promise<void>;
  metrics: Gateway['metrics'] | null; // the gateway's (batch sizes, connections); the floor has none
  info: Record<string, unknown>;
}

async function serveGateway(): Promise<Served> {
  const engine = engineNamed(process.argv[2]);
  const config = readStartConfig(env, []);
  const store = env.BENCH_REDIS_AUTOPIPELINE === '1' && config.redisUrl
    ? new RedisStore(new Redis(config.redisUrl, { enableAutoPipelining: true }), { prefix: config.redisPrefix })
    : await openServedStore(config);
  const usesRedis = Boolean(config.redisUrl || config.clusterNodes);
  const gateway = await startServedGateway(engine, config, {
    store, logger: createLogger({ level: 'silent' }),
    // the embedded store is in this process: the load generator's cards are issued here
    cards: !usesRedis && env.BENCH_CARDS_FILE ? { count: int('BENCH_CARDS', 2_000), file: env.BENCH_CARDS_FILE } : undefined,
  });
  return {
    port: gateway.port, description: store.description, usesRedis, metrics: gateway.metrics, info: { engine },
    close: () => gateway.close(5_000).then(() => store.close()),
  };
}

async function serveFloor(): Promise<Served> {
  const f = await startFloor(readFloorConfig(env));
  return { port: f.port, description: 'the floor over Redis', usesRedis: true, metrics: null, info: { engine: 'floor' }, close: f.close };
}

const served = floor ? await serveFloor() : await serveGateway();
const usesRedis = served.usesRedis;
let closing: Promise<void> | undefined;
const close = () => (closing ??= served.close().catch(() => {}));
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
    } else if (command === 'heap-start') {
      profiler = new Session();
      profiler.connect();
      await profiler.post('HeapProfiler.enable');
      await profiler.post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
      emit({ event: 'heap-started' });
    } else if (command === 'heap-stop' && profiler && arg) {
      const { profile } = await profiler.post('HeapProfiler.getSamplingProfile');
      await profiler.post('HeapProfiler.stopSampling');
      writeFileSync(arg, JSON.stringify(profile));
      profiler.disconnect();
      profiler = undefined;
      emit({ event: 'heap-stopped', file: arg });
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
      const metrics = (await served.metrics?.registry.getMetricsAsJSON()) ?? [];
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

emit({ event: 'ready', port: served.port, ...served.info, pid: process.pid, store: served.description });
