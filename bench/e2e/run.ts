/**
 * `npm run bench:e2e`: the end-to-end benchmark (issue parts 3–6). Orchestrates child processes on 127.0.0.1:
 *
 *   redis-server (private, free port; or REDIS_URL under a per-run prefix that is deleted afterwards)
 *   → cards issued into it here, with the Issuer (large balances, EUR, so none runs out)
 *   → for each target — echo (bare uWS echo-server.ts), baseline gateway (node:crypto inline, no pool),
 *     pool gateway (WASM core in the piscina pool) — the server as one child (gateway-process.ts) and
 *     the load generator as another (load.ts):
 *       closed loop at several connection counts → the peak;
 *       open loop at 20/40/60/70/80/100% of that peak → payments/s against p99 (the chart), p99 at 70%;
 *   → idle connections: 10,000 authenticated scanners held open on a fresh pool gateway: RSS per connection,
 *     and payments still flowing while they are open.
 * Writes bench/results/e2e.json, bench/results/e2e-latency.svg and bench/RESULTS.md (smoke: e2e.smoke.json
 * and e2e-latency.smoke.svg; partial or experimental runs: *.partial.*; RESULTS.md only from a full default run). Every child is stopped on exit, error or Ctrl-C; the
 * whole run has a deadline.
 *
 *   npx tsx bench/e2e/run.ts                    full run (about 8 minutes)
 *   npx tsx bench/e2e/run.ts --smoke            every part for a second or two (CI)
 *   npx tsx bench/e2e/run.ts --only pool,idle   some parts: echo, baseline, pool, idle
 *   npx tsx bench/e2e/run.ts --threads 1 --batch-max 32 --batch-window 0   pool settings, for experiments
 *   npx tsx bench/e2e/run.ts --autopipeline     experiment: both gateways' Redis clients with ioredis auto-pipelining
 *   npx tsx bench/e2e/run.ts --cluster [--smoke]  1 gateway over 1 Redis next to 2 gateways over a Redis Cluster (cluster.ts)
 */
import { randomBytes, randomInt } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { loadCore } from '../../core/index.ts';
import { Issuer } from '../../issuer/issuer.ts';
import { IssuerKeyRing } from '../../issuer/key-ring.ts';
import { openStore } from '../../issuer/store/index.ts';
import { DEFAULT_BATCH } from '../../gateway/server.ts';
import { machine } from '../dvd1/report.ts';
import { cpuMsOf, deadline, fileLimits, installCleanup, removeOnExit, rssOf, spawnChild, type Child, type Message } from './children.ts';
import type { LoadConfig, LoadResult } from './load.ts';
import { benchRedis, type BenchRedis } from './redis.ts';
import { writeChart, writeResultsMd } from './results-md.ts';

if (process.argv.includes('--cluster')) {
  await import('./cluster.ts'); // one gateway over one Redis next to two over a cluster; exits by itself
}
type Mode = 'smoke' | 'full';
type Target = 'echo' | 'baseline' | 'pool';
const MODE: Mode = process.argv.includes('--smoke') || process.env.BENCH_SMOKE === '1' ? 'smoke' : 'full';
const onlyArg = process.argv.find((a) => a.startsWith('--only='))?.slice(7) ?? process.argv[process.argv.indexOf('--only') + 1];
const option = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
};
/** Pool settings for experiments (default: the gateway's own defaults). */
const POOL_ENV: Record<string, string> = {
  ...(option('threads') ? { BENCH_THREADS: option('threads')! } : {}),
  ...(option('batch-max') ? { BENCH_BATCH_MAX: option('batch-max')! } : {}),
  ...(option('batch-window') ? { BENCH_BATCH_WINDOW_MS: option('batch-window')! } : {}),
};
const PARTS = new Set((process.argv.some((a) => a.startsWith('--only')) ? onlyArg ?? '' : 'echo,baseline,pool,idle').split(',').filter(Boolean));
/** Only a full run of every part with the gateway's own settings writes e2e.json, the chart and RESULTS.md. */
const PARTIAL = PARTS.size < 4 || Object.keys(POOL_ENV).length > 0 || process.argv.includes('--autopipeline');
const suffix = MODE === 'smoke' ? '.smoke' : PARTIAL ? '.partial' : '';

const PLAN = {
  full: {
    cards: 2_000, warmupS: 4, rampS: 3, peakS: 15, peakConnections: [16, 32, 64], sweepS: 10, sweepRampS: 2,
    sweepShares: [0.2, 0.4, 0.6, 0.7, 0.8, 1.0], maxPayments: 3_000_000, requestTimeoutMs: 10_000,
    idleConnections: 10_000, idleOpenConcurrency: 64, idlePaymentConnections: 8, idlePaymentsS: 8, deadlineMin: 30,
  },
  smoke: {
    cards: 64, warmupS: 0, rampS: 0.3, peakS: 1, peakConnections: [16], sweepS: 1, sweepRampS: 0.2,
    sweepShares: [0.7], maxPayments: 100_000, requestTimeoutMs: 5_000,
    idleConnections: 300, idleOpenConcurrency: 64, idlePaymentConnections: 4, idlePaymentsS: 1, deadlineMin: 4,
  },
}[MODE];
const TARGET_RATIO_BASELINE = 3;
const TARGET_P99_MS = 25;
const TARGET_BYTES_PER_CONNECTION = 8 * 1024;
const RESULTS = new URL('../results/', import.meta.url);
const HERE = (file: string) => fileURLToPath(new URL(`./${file}`, import.meta.url));


const say = (line = '') => process.stdout.write(`${line}\n`);
const fmt = (x: number | null | undefined, d = 0) => (x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(d));

// ---- setup -----------------------------------------------------------------------------------------------

let redis: BenchRedis | undefined;
let workDir: string | undefined;
installCleanup(async () => {
  await redis?.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});
deadline(PLAN.deadlineMin * 60_000);

const startedAt = new Date();
const loadAtStart = loadavg();
say(`scanpay e2e benchmark (${MODE}) — parts: ${[...PARTS].join(', ')}; load average at start ${loadAtStart.map((x) => x.toFixed(2)).join(' ')}`);
redis = await benchRedis();
say(`redis: ${redis.shared ? `REDIS_URL, keys under ${redis.prefix} (deleted afterwards)` : `private redis-server, ${redis.url}`}`);
workDir = await mkdtemp(join(tmpdir(), 'scanpay-bench-e2e-'));
removeOnExit(workDir);
const keyRing = IssuerKeyRing.generate();
const fleetKey = randomBytes(32);

async function issueCards(count: number): Promise<string> {
  const store = await openStore({ redisUrl: redis!.url, prefix: redis!.prefix });
  try {
    const issuer = new Issuer({ core: await loadCore(), store, keyRing });
    const cards: { payload: string; pin: string }[] = [];
    let next = 0;
    await Promise.all(Array.from({ length: 16 }, async () => {
      while (next < count) {
        next++;
        const pin = String(randomInt(0, 10_000)).padStart(4, '0');
        const card = await issuer.issueCard({ pin, limit: 1_000_000, balance: 1_000_000_000_000, currency: 'EUR' });
        cards.push({ payload: card.payloadText, pin });
      }
    }));
    const file = join(workDir!, 'cards.json');
    await writeFile(file, JSON.stringify(cards), { mode: 0o600 });
    return file;
  } finally {
    await store.close();
  }
}
const issueStarted = performance.now();
const cardsFile = await issueCards(PLAN.cards);
say(`issued ${PLAN.cards} cards in ${fmt((performance.now() - issueStarted) / 1000, 1)} s`);

// ---- children --------------------------------------------------------------------------------------------

const limits = fileLimits();
/** A soft fd limit high enough for `connections` sockets plus slack, or undefined if the inherited one is. */
function nofileFor(connections: number): number | undefined {
  const need = connections + 1_024;
  if (limits.soft >= need) return undefined;
  if (limits.hard < need) throw new Error(`open-file hard limit ${limits.hard} < ${need} needed for ${connections} connections: raise it (ulimit -Hn) or lower the count`);
  return need;
}

interface Server {
  target: Target;
  child: Child;
  port: number;
  url: string;
}

async function startServer(target: Target, opts: { connections?: number; exposeGc?: boolean } = {}): Promise<Server> {
  const child = target === 'echo'
    ? spawnChild('echo-server', HERE('echo-server.ts'), { nofile: nofileFor(opts.connections ?? 0) })
    : spawnChild(`gateway-${target}`, HERE('gateway-process.ts'), {
      nodeFlags: opts.exposeGc ? ['--expose-gc'] : [],
      nofile: nofileFor(opts.connections ?? 0),
      env: {
        SCANPAY_KEYRING: keyRing.serialize(),
        SCANPAY_FLEET_KEY: fleetKey.toString('hex'),
        REDIS_URL: redis!.url,
        SCANPAY_REDIS_PREFIX: redis!.prefix,
        BENCH_ENGINE: target,
        BENCH_REDIS_AUTOPIPELINE: process.argv.includes('--autopipeline') ? '1' : '',
        ...(target === 'pool' ? POOL_ENV : {}),
        BENCH_MAX_LIFETIME_S: String(PLAN.deadlineMin * 60),
        SCANPAY_KEYRING_FILE: '',
        SCANPAY_FLEET_KEY_FILE: '',
      },
    });
  const ready = await child.waitFor<Message & { port: number }>('ready', 60_000);
  return { target, child, port: ready.port, url: `ws://127.0.0.1:${ready.port}/scanner` };
}

interface Run {
  target: Target;
  kind: 'warmup' | 'peak' | 'open' | 'idle-payments';
  connections: number;
  load: LoadResult;
  cpuPercent: { server: number | null; generator: number | null; redis: number | null };
}
const runs: Run[] = [];
let runNo = 0;

async function runLoad(server: Server, kind: Run['kind'], cfg: Partial<LoadConfig> & { connections: number; durationS: number; rampS: number }): Promise<Run> {
  runNo++;
  const config: LoadConfig = {
    mode: server.target === 'echo' ? 'echo' : 'payments',
    url: server.url,
    fleetKeyHex: fleetKey.toString('hex'),
    cardsFile,
    devicePrefix: `load${runNo}-`,
    maxPayments: PLAN.maxPayments,
    requestTimeoutMs: PLAN.requestTimeoutMs,
    openConcurrency: 32,
    ...cfg,
  };
  const child = spawnChild(`load-${server.target}-${kind}`, HERE('load.ts'), { env: { BENCH_LOAD: JSON.stringify(config) }, nofile: nofileFor(config.connections) });
  const pids = { server: server.child.pid, generator: child.pid, redis: redis!.pid };
  type Sample = { at: number; server: number | null; generator: number | null; redis: number | null };
  const sample = (): Sample => ({ at: performance.now(), server: cpuMsOf(pids.server), generator: cpuMsOf(pids.generator), redis: cpuMsOf(pids.redis) });
  const timeoutMs = (config.rampS + config.durationS) * 1000 + config.requestTimeoutMs + 90_000;
  // CPU time of every process over exactly the measurement window (the generator announces it)
  const windowStart = child.waitFor('window-start', timeoutMs).then(sample, () => null);
  const windowEnd = child.waitFor('window-end', timeoutMs).then(sample, () => null);
  const load = (await child.waitFor('result', timeoutMs)) as unknown as LoadResult;
  const [s0, s1] = [await windowStart, await windowEnd];
  await child.stop(10_000);
  const pct = (key: 'server' | 'generator' | 'redis') => {
    if (!s0 || !s1) return null;
    const a = s0[key];
    const b = s1[key];
    return a === null || b === null ? null : ((b - a) / (s1.at - s0.at)) * 100;
  };
  const run: Run = {
    target: server.target, kind, connections: config.connections, load,
    cpuPercent: { server: pct('server'), generator: pct('generator'), redis: pct('redis') },
  };
  runs.push(run);
  const l = load.latency;
  const errs = Object.entries(load.errors).map(([k, v]) => `${k}×${v}`).join(' ');
  say(`  ${server.target.padEnd(8)} ${kind.padEnd(13)} ${String(config.connections).padStart(5)} conns ${load.targetPerS ? `${fmt(load.targetPerS)}/s offered` : 'closed loop'}: `
    + `${fmt(load.paymentsPerS)} payments/s, payment p50 ${fmt(l.payment.p50Ms, 2)} p99 ${fmt(l.payment.p99Ms, 2)} p99.9 ${fmt(l.payment.p999Ms, 2)} ms`
    + ` | cpu gw ${fmt(run.cpuPercent.server)}% gen ${fmt(run.cpuPercent.generator)}% redis ${fmt(run.cpuPercent.redis)}%${errs ? ` | errors ${errs}` : ''}${load.saturated ? ' | OVER CAPACITY (arrivals dropped)' : ''}`);
  return run;
}

async function batchStats(server: Server): Promise<Record<string, { count: number; sum: number }> | null> {
  if (server.target !== 'pool') return null;
  const stats = await server.child.command<Message & { batches: Record<string, { count: number; sum: number }> }>('stats', 'stats', 10_000);
  return stats?.batches ?? null;
}

// ---- throughput targets ----------------------------------------------------------------------------------

interface TargetSummary {
  target: Target;
  peak: { paymentsPerS: number; roundTripsPerS: number; connections: number; latency: LoadResult['latency'] };
  sweep: { share: number; offeredPerS: number; paymentsPerS: number; p50Ms: number; p99Ms: number; p999Ms: number; saturated: boolean; errors: number }[];
  /** At 70% of its own peak; for echo: at the pool's 70% rate (the generator and transport floor). */
  at70: { offeredPerS: number; paymentsPerS: number; latency: LoadResult['latency']; errors: Record<string, number> } | null;
  meanBatch?: Record<string, number>;
}
const summaries: TargetSummary[] = [];

async function measureTarget(target: Target): Promise<void> {
  say(`\n${target}:`);
  const server = await startServer(target);
  try {
    if (PLAN.warmupS > 0) await runLoad(server, 'warmup', { connections: 16, rampS: PLAN.rampS / 2, durationS: PLAN.warmupS });
    const before = await batchStats(server);
    const peaks: Run[] = [];
    for (const connections of PLAN.peakConnections) {
      peaks.push(await runLoad(server, 'peak', { connections, rampS: PLAN.rampS, durationS: PLAN.peakS }));
    }
    const after = await batchStats(server);
    const best = peaks.reduce((a, b) => (b.load.paymentsPerS > a.load.paymentsPerS ? b : a));
    const summary: TargetSummary = {
      target,
      peak: { paymentsPerS: best.load.paymentsPerS, roundTripsPerS: best.load.roundTripsPerS, connections: best.connections, latency: best.load.latency },
      sweep: [],
      at70: null,
    };
    if (before && after) {
      summary.meanBatch = Object.fromEntries(Object.keys(after).map((k) => [k,
        (after[k]!.sum - (before[k]?.sum ?? 0)) / Math.max(1, after[k]!.count - (before[k]?.count ?? 0))]));
    }
    const pool70 = summaries.find((x) => x.target === 'pool')?.at70?.offeredPerS;
    if (target === 'echo' && pool70) {
      // the floor: generator + loopback + WebSocket framing alone, at the rate of the pool's 70% point
      const run = await runLoad(server, 'open', { connections: best.connections, rampS: PLAN.sweepRampS, durationS: PLAN.sweepS, ratePerS: pool70 });
      summary.at70 = { offeredPerS: pool70, paymentsPerS: run.load.paymentsPerS, latency: run.load.latency, errors: run.load.errors };
    }
    if (target !== 'echo') {
      for (const share of PLAN.sweepShares) {
        const rate = Math.max(10, Math.round(best.load.paymentsPerS * share));
        const run = await runLoad(server, 'open', { connections: best.connections, rampS: PLAN.sweepRampS, durationS: PLAN.sweepS, ratePerS: rate });
        const errors = Object.values(run.load.errors).reduce((a, b) => a + b, 0);
        summary.sweep.push({
          share, offeredPerS: rate, paymentsPerS: run.load.paymentsPerS, p50Ms: run.load.latency.payment.p50Ms,
          p99Ms: run.load.latency.payment.p99Ms, p999Ms: run.load.latency.payment.p999Ms, saturated: run.load.saturated, errors,
        });
        if (share === 0.7) summary.at70 = { offeredPerS: rate, paymentsPerS: run.load.paymentsPerS, latency: run.load.latency, errors: run.load.errors };
      }
    }
    summaries.push(summary);
  } finally {
    await server.child.stop();
  }
}

// echo last: its open-loop run uses the pool's 70% rate
for (const target of ['baseline', 'pool', 'echo'] as const) if (PARTS.has(target)) await measureTarget(target);

// ---- idle connections ------------------------------------------------------------------------------------

interface IdleSummary {
  connections: number;
  deviceIds: string;
  opened: number;
  failed: number;
  openSeconds: number;
  rssBefore: number;
  rssWithIdle: number;
  rssAfterPayments: number;
  bytesPerConnection: number; // (RSS with N open − RSS before) ÷ N
  slopeBytesPerConnection: number | null; // least-squares slope of RSS over the stages
  heapSlopeBytesPerConnection: number | null;
  points: { connections: number; rss: number; heapUsed: number }[];
  heapBytesPerConnection: number;
  procRssBytesPerConnection: number | null;
  gcBeforeMeasuring: boolean;
  paymentsWhileOpen: { paymentsPerS: number; approved: number; latency: LoadResult['latency']; errors: Record<string, number> };
  closedEarly: number;
  fileLimit: { soft: number; hard: number };
}
let idle: IdleSummary | null = null;
const IDLE_STAGES = 4;

/** Least-squares slope of y over x (null with fewer than two distinct x). */
function slope(points: [number, number][]): number | null {
  const n = points.length;
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  const sxx = points.reduce((a, [x]) => a + (x - mx) ** 2, 0);
  return sxx === 0 ? null : points.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0) / sxx;
}

if (PARTS.has('idle')) {
  const n = PLAN.idleConnections;
  say(`\nidle connections (${n}, pool gateway):`);
  const server = await startServer('pool', { connections: n, exposeGc: true });
  try {
    // always warm up here: the first RSS reading must not carry the start-up garbage
    await runLoad(server, 'warmup', { connections: PLAN.idlePaymentConnections, rampS: 0.2, durationS: Math.max(PLAN.warmupS, 0.5) });
    type Mem = Message & { rss: number; heapUsed: number; gc: boolean };
    /** Median of three readings half a second apart (after forced GCs), to damp RSS noise. */
    const memory = async (): Promise<Mem> => {
      const readings: Mem[] = [];
      for (let i = 0; i < 3; i++) {
        if (i > 0) await sleep(500);
        readings.push((await server.child.command<Mem>('mem', 'mem'))!);
      }
      return readings.sort((a, b) => a.rss - b.rss)[1]!;
    };
    const mem0 = await memory();
    const proc0 = rssOf(server.child.pid);
    const holder = spawnChild('load-idle', HERE('load.ts'), {
      nofile: nofileFor(n),
      env: {
        BENCH_LOAD: JSON.stringify({
          mode: 'idle', url: server.url, fleetKeyHex: fleetKey.toString('hex'), connections: n, devicePrefix: 'idle-',
          rampS: 0, durationS: 0, maxPayments: 0, requestTimeoutMs: 10_000, openConcurrency: PLAN.idleOpenConcurrency, holdS: 300, stages: IDLE_STAGES,
        } satisfies LoadConfig),
      },
    });
    try {
      // RSS at 0, N/4, N/2, 3N/4, N connections: the slope of a least-squares line is the cost per connection,
      // steadier than one before/after difference (RSS moves by megabytes on its own).
      const points: { connections: number; rss: number; heapUsed: number }[] = [{ connections: 0, rss: mem0.rss, heapUsed: mem0.heapUsed }];
      type Opened = Message & { opened: number; failed: number; openMs: number; stage: number };
      let opened: Opened | undefined;
      for (let stage = 1; stage <= IDLE_STAGES; stage++) {
        opened = await holder.waitFor<Opened>('opened', 240_000);
        await sleep(MODE === 'full' ? 1_500 : 300);
        const m = await memory();
        points.push({ connections: opened.opened, rss: m.rss, heapUsed: m.heapUsed });
        if (stage < IDLE_STAGES) await holder.command('next');
      }
      opened = opened!;
      say(`  opened ${opened.opened} idle connections (${opened.failed} failed) in ${fmt(opened.openMs / 1000, 1)} s; RSS ${points.map((p) => `${p.connections}: ${fmt(p.rss / 2 ** 20, 1)} MiB`).join(', ')}`);
      const mem1 = { rss: points.at(-1)!.rss, heapUsed: points.at(-1)!.heapUsed };
      const proc1 = rssOf(server.child.pid);
      const payments = await runLoad(server, 'idle-payments', { connections: PLAN.idlePaymentConnections, rampS: 0.2, durationS: PLAN.idlePaymentsS });
      const mem2 = await memory();
      await holder.command('close');
      const closed = await holder.waitFor<Message & LoadResult>('result', 60_000);
      idle = {
        connections: n,
        deviceIds: 'one device id per connection (idle-0 … idle-9999): each has its own token nonce in the replay guard and its own hub entry; no rate-limit bucket (one is made at a scanner\'s first frame)',
        opened: opened.opened,
        failed: opened.failed,
        openSeconds: opened.openMs / 1000,
        rssBefore: mem0.rss,
        rssWithIdle: mem1.rss,
        rssAfterPayments: mem2.rss,
        bytesPerConnection: (mem1.rss - mem0.rss) / Math.max(1, opened.opened),
        slopeBytesPerConnection: slope(points.map((p) => [p.connections, p.rss])),
        heapSlopeBytesPerConnection: slope(points.map((p) => [p.connections, p.heapUsed])),
        points,
        heapBytesPerConnection: (mem1.heapUsed - mem0.heapUsed) / Math.max(1, opened.opened),
        procRssBytesPerConnection: proc0 !== null && proc1 !== null ? (proc1 - proc0) / Math.max(1, opened.opened) : null,
        gcBeforeMeasuring: mem0.gc,
        paymentsWhileOpen: { paymentsPerS: payments.load.paymentsPerS, approved: payments.load.payments.approvedInWindow, latency: payments.load.latency, errors: payments.load.errors },
        closedEarly: closed.connections.closedEarly,
        fileLimit: limits,
      };
      say(`  gateway RSS ${fmt(mem0.rss / 2 ** 20, 1)} MiB → ${fmt(mem1.rss / 2 ** 20, 1)} MiB with ${opened.opened} idle connections: ${fmt(idle.bytesPerConnection)} B per connection`
        + ` (slope over ${IDLE_STAGES} steps ${fmt(idle.slopeBytesPerConnection)} B; JS heap ${fmt(idle.heapBytesPerConnection)} B); ${idle.closedEarly} closed early; payments while open: ${fmt(payments.load.paymentsPerS)}/s`);
    } finally {
      await holder.stop(10_000);
    }
  } finally {
    await server.child.stop();
  }
}

// ---- report ----------------------------------------------------------------------------------------------

const byTarget = (t: Target) => summaries.find((s) => s.target === t);
const echo = byTarget('echo');
const baseline = byTarget('baseline');
const pool = byTarget('pool');
const ratio = (a?: number, b?: number) => (a && b ? a / b : null);
const echoPaymentsPerS = echo ? echo.peak.roundTripsPerS / 2 : undefined; // a payment is two round trips
const report = {
  benchmark: 'e2e',
  mode: MODE,
  date: startedAt.toISOString(),
  durationS: (Date.now() - startedAt.getTime()) / 1000,
  machine: machine(),
  loadAverageAtStart: loadAtStart,
  command: `npm run bench:e2e${MODE === 'smoke' ? ' -- --smoke' : ''}`,
  setup: {
    plan: PLAN,
    redis: redis.shared ? 'Redis from REDIS_URL (shared server, per-run key prefix)' : 'A private redis-server on 127.0.0.1 (no persistence)',
    cards: PLAN.cards,
    note: 'generator, gateway (main thread + 2 pool workers), and Redis all share the same 2 vCPUs; on this VM the vCPUs are also shared with other tenants',
    poolOverrides: POOL_ENV,
    redisAutoPipelining: process.argv.includes('--autopipeline'),
    gateway: `startGateway via bench/e2e/gateway-process.ts: 127.0.0.1, silent logs, per-scanner rate limit raised to 1e6 frames/s; pool: default threads (one per core) and batch (${DEFAULT_BATCH.maxItems} items / ${DEFAULT_BATCH.windowMs} ms window, at most one batch per worker running) unless overridden; baseline: NodeCryptoEngine`,
  },
  targets: summaries,
  headline: {
    echoRoundTripsPerS: echo?.peak.roundTripsPerS ?? null,
    echoPaymentsPerS: echoPaymentsPerS ?? null,
    baselinePaymentsPerS: baseline?.peak.paymentsPerS ?? null,
    poolPaymentsPerS: pool?.peak.paymentsPerS ?? null,
    poolOverBaseline: ratio(pool?.peak.paymentsPerS, baseline?.peak.paymentsPerS),
    poolOverEcho: ratio(pool?.peak.paymentsPerS, echoPaymentsPerS),
    baselineOverEcho: ratio(baseline?.peak.paymentsPerS, echoPaymentsPerS),
    poolP99At70Ms: pool?.at70?.latency.payment.p99Ms ?? null,
    baselineP99At70Ms: baseline?.at70?.latency.payment.p99Ms ?? null,
    targets: {
      poolOverBaselineAtLeast3: ratio(pool?.peak.paymentsPerS, baseline?.peak.paymentsPerS) === null ? null : ratio(pool?.peak.paymentsPerS, baseline?.peak.paymentsPerS)! >= TARGET_RATIO_BASELINE,
      poolP99At70Under25Ms: pool?.at70 ? pool.at70.latency.payment.p99Ms < TARGET_P99_MS : null,
      idleBytesPerConnectionUnder8KiB: idle ? Math.max(idle.bytesPerConnection, idle.slopeBytesPerConnection ?? 0) < TARGET_BYTES_PER_CONNECTION : null,
    },
  },
  idle,
  runs,
};

say('\nsummary');
console.table(summaries.map((s) => ({
  target: s.target,
  'peak payments/s': fmt(s.peak.paymentsPerS),
  'round trips/s': fmt(s.peak.roundTripsPerS),
  conns: s.peak.connections,
  '÷ echo': s.target === 'echo' ? '1.00' : fmt(ratio(s.peak.paymentsPerS, echoPaymentsPerS), 2),
  '÷ baseline': fmt(ratio(s.peak.paymentsPerS, baseline?.peak.paymentsPerS), 2),
  'peak p50 ms': fmt(s.peak.latency.payment.p50Ms, 2),
  'peak p99 ms': fmt(s.peak.latency.payment.p99Ms, 2),
  '70%: p50 / p99 / p99.9 ms': s.at70 ? `${fmt(s.at70.latency.payment.p50Ms, 2)} / ${fmt(s.at70.latency.payment.p99Ms, 2)} / ${fmt(s.at70.latency.payment.p999Ms, 2)}` : '—',
  '70%: scan p99 / pin p99 ms': s.at70 ? `${fmt(s.at70.latency.scan.p99Ms, 2)} / ${fmt(s.at70.latency.pin.p99Ms, 2)}` : '—',
})));
say(`echo: a "payment" is 2 round trips, so the ceiling for this flow is ${fmt(echoPaymentsPerS)} payments/s; its "70%" column is the generator + transport floor at the pool's 70% rate`);
say(`targets: pool ÷ baseline ≥ ${TARGET_RATIO_BASELINE}: ${fmt(report.headline.poolOverBaseline, 2)}; pool p99 at 70% < ${TARGET_P99_MS} ms: ${fmt(report.headline.poolP99At70Ms, 2)} ms; idle < 8 KiB/conn: ${idle ? fmt(idle.bytesPerConnection) : '—'} B`);

mkdirSync(RESULTS, { recursive: true });
const jsonFile = new URL(`e2e${suffix}.json`, RESULTS);
writeFileSync(jsonFile, `${JSON.stringify(report, null, 2)}\n`);
say(`wrote ${fileURLToPath(jsonFile)}`);
const svgFile = new URL(`e2e-latency${suffix}.svg`, RESULTS);
if (writeChart(report, svgFile)) say(`wrote ${fileURLToPath(svgFile)}`);
if (MODE === 'full' && !PARTIAL) say(`wrote ${writeResultsMd()}`);

await redis.stop();
await rm(workDir, { recursive: true, force: true });
process.exit(0);
