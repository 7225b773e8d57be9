/**
 * `npm run bench:e2e`: the end-to-end benchmark (issue parts 3–6). Orchestrates child processes on 127.0.0.1:
 *
 *   redis-server (private, free port; or REDIS_URL under a per-run prefix that is deleted afterwards)
 *   → cards issued into it here, with the Issuer (large balances, EUR, so none runs out)
 *   → for each target — echo (bare uWS echo-server.ts), baseline gateway (node:crypto inline, no pool),
 *     pool gateway (WASM core in the piscina pool), the architecture's floor (bench/floor: the same two
 *     frames, three EVALSHA round trips and two batched worker hops per payment, nothing else) — the server as
 *     one child (gateway-process.ts) and the load generator as another (load.ts):
 *       closed loop at several connection counts → the peak;
 *       open loop at 20/40/60/70/80/100% of that peak → payments/s against p99 (the chart), p99 at 70%
 *       (the floor instead: at 70% of its own peak, and at the pool's 70% and peak rates, so the two compare at
 *       one arrival rate; echo: at the pool's 70% rate);
 *   → light load: a fresh pool gateway on the embedded store (cards issued inside it) and one over
 *     Redis, each warmed up, then 2 payments in flight with 250 ms pauses between pairs, 200 payments measured;
 *   → profile: a V8 CPU profile of a pool gateway's main thread under closed-loop load, top five costs kept;
 *   → idle connections: 10,000 authenticated scanners held open on a fresh pool gateway: RSS per connection,
 *     and payments still flowing while they are open;
 *   → processes: `npm start -- --processes N` (gateway/main.ts as an operator runs it) for N = 1 and 2, in
 *     alternating rounds, closed loop: payments/s and CPU per payment by thread kind (processes.ts), and the
 *     scaling model (scaling-model.ts) fed the N = 1 rows' costs, its predictions next to the measurements.
 * Over every measurement window against a gateway: its CPU time thread by thread (main thread, crypto workers,
 * the rest) per completed payment, from /proc/<pid>/task/*; over Redis also the commands per payment, from the
 * gateway's client (sent) and INFO commandstats (run by the server, inside scripts too), and the private Redis
 * server's own CPU per payment. The report divides the pool's and the baseline's CPU per payment at their peaks
 * (all gateway threads; the Redis server's) by the floor's at its peak, and the pool's at 70% of its peak by the
 * floor's at that same arrival rate (open loop both: the same batching and wake-up regime).
 * Then one receipt's signature as a crypto worker makes it (receipt-cost.ts: work each captured payment adds to
 * the floor's), and issue 25's targets, every figure with its verdict and the floor's own figure in one table (targets.ts), written to
 * bench/results/e2e-targets.json and the e2e-targets section of bench/RESULTS.md by a quick or full run of every part.
 * Writes bench/results/e2e.json, bench/results/e2e-latency.svg and bench/RESULTS.md (smoke: e2e.smoke.json
 * and e2e-latency.smoke.svg; partial or experimental runs: *.partial.*; the whole RESULTS.md only from a full default run). Every child is stopped on exit, error or Ctrl-C; the
 * whole run has a deadline.
 *
 *   npx tsx bench/e2e/run.ts                    full run (about 10 minutes; 12 on a busy machine)
 *   npx tsx bench/e2e/run.ts --quick            every part, shorter (about 6 minutes): e2e.quick.json, e2e-targets.json,
 *                                               of RESULTS.md only the e2e-targets section
 *   npx tsx bench/e2e/run.ts --smoke            every part for a second or two (CI)
 *   npx tsx bench/e2e/run.ts --only pool,idle   some parts: echo, baseline, pool, floor, light, profile, idle, processes
 *   npx tsx bench/e2e/run.ts --threads 1 --batch-max 32 --batch-window 0   pool settings, for experiments
 *   npx tsx bench/e2e/run.ts --autopipeline     experiment: both gateways' Redis clients with ioredis auto-pipelining
 *   npx tsx bench/e2e/run.ts --cluster [--smoke]  1 gateway over 1 Redis next to 2 gateways over a Redis Cluster (cluster.ts)
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { loadCore } from '../../core/index.ts';
import { Issuer } from '../../issuer/issuer.ts';
import { issueBenchCards } from '../serve/cards.ts';
import { IssuerKeyRing } from '../../issuer/key-ring.ts';
import { openStore } from '../../issuer/store/index.ts';
import { GATEWAY_DEFAULTS } from '../../gateway/defaults.ts';
import { isSmoke } from '../lib/mode.ts';
import { codeProvenance, machine } from '../lib/provenance.ts';
import { slope } from '../lib/stats.ts';
import { Redis } from 'ioredis';
import { spawnChild, type Child, type Message } from '../../test/support/child-process.ts';
import { deadline, fileLimits, installCleanup, removeOnExit, rssOf } from './children.ts';
import {
  cpuMsOf, parseCommandstats, perPayment, readThreads, redisPerPayment, splitCpu, threadTagNodeOptions,
  type ClientCounts, type CpuPerPayment, type Figures, type Phase, type ProcessTimes, type RedisPerPayment,
} from './cpu.ts';
import type { LoadConfig, LoadResult } from './load.ts';
import { formatTop, summarizeProfile, type CpuProfile } from './profile-summary.ts';
import { benchRedis, type BenchRedis } from './redis.ts';
import { writeChart, writeResultsMd } from './results-md.ts';
import { spawnGateway } from './spawn-gateway.ts';
import { measureProcesses, type ProcessesReport } from './processes.ts';
import { costsOfPhase, sizingTable, SIZING_CORES } from './scaling-model.ts';
import { issue25Verdicts, targetsMarkdown, type TargetInputs } from './targets.ts';
import { receiptSigningUs } from './receipt-cost.ts';
import { writeResultsSection } from '../results-sections.ts';

if (process.argv.includes('--cluster')) {
  await import('./cluster.ts'); // one gateway over one Redis next to two over a cluster; exits by itself
}
type Mode = 'smoke' | 'quick' | 'full';
type Target = 'echo' | 'baseline' | 'pool' | 'floor';
const MODE: Mode = isSmoke() ? 'smoke' : process.argv.includes('--quick') ? 'quick' : 'full';
const onlyArg = process.argv.find((a) => a.startsWith('--only='))?.slice(7) ?? process.argv[process.argv.indexOf('--only') + 1];
const option = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
};
/** Pool settings for experiments (default: the gateway's own defaults). */
const POOL_ENV: Record<string, string> = {
  ...(option('threads') ? { SCANPAY_THREADS: option('threads')! } : {}),
  ...(option('batch-max') ? { SCANPAY_BATCH_MAX: option('batch-max')! } : {}),
  ...(option('batch-window') ? { SCANPAY_BATCH_WINDOW_MS: option('batch-window')! } : {}),
};
const ALL_PARTS = ['echo', 'baseline', 'pool', 'floor', 'light', 'profile', 'idle', 'processes'];
const PARTS = new Set((process.argv.some((a) => a.startsWith('--only')) ? onlyArg ?? '' : ALL_PARTS.join(',')).split(',').filter(Boolean));
for (const part of PARTS) if (!ALL_PARTS.includes(part)) throw new Error(`--only: unknown part "${part}" (parts: ${ALL_PARTS.join(', ')})`);
/** Only a full run of every part with the gateway's own settings writes e2e.json, the chart and RESULTS.md. */
const PARTIAL = PARTS.size < ALL_PARTS.length || Object.keys(POOL_ENV).length > 0 || process.argv.includes('--autopipeline') || option('light-warmup') !== undefined;
const suffix = MODE === 'smoke' ? '.smoke' : PARTIAL ? '.partial' : MODE === 'quick' ? '.quick' : '';

/** Light load: groups of `inFlight` payments, `pauseMs` between groups, after a closed-loop warm-up. */
const LIGHT = { inFlight: 2, pauseMs: 250, warmupPayments: 20, payments: 200, closedWarmupS: 3, closedWarmupConnections: 8 };
/** --light-warmup S: the closed-loop warm-up before the light-load phases (0: none, only the light-load payments). */
const LIGHT_WARMUP_S = option('light-warmup') === undefined ? undefined : Number(option('light-warmup'));
if (LIGHT_WARMUP_S !== undefined && !(LIGHT_WARMUP_S >= 0)) throw new Error('--light-warmup takes seconds ≥ 0');
const PLAN = {
  full: {
    cards: 2_000, warmupS: 4, rampS: 3, peakS: 15, peakConnections: [16, 32, 64], sweepS: 10, sweepRampS: 2,
    sweepShares: [0.2, 0.4, 0.6, 0.7, 0.8, 1.0], maxPayments: 3_000_000, requestTimeoutMs: 10_000,
    idleConnections: 10_000, idleOpenConcurrency: 64, idlePaymentConnections: 8, idlePaymentsS: 8, deadlineMin: 30,
    light: LIGHT, profile: { connections: 32, warmupS: 3, seconds: 6 },
    processes: { counts: [1, 2], rounds: 2, connections: 64, warmupS: 3, rampS: 2, durationS: 12, maxPayments: 3_000_000, requestTimeoutMs: 10_000, deadlineS: 600 },
  },
  quick: {
    cards: 2_000, warmupS: 3, rampS: 2, peakS: 8, peakConnections: [32, 64], sweepS: 6, sweepRampS: 1.5,
    sweepShares: [0.2, 0.7, 1.0], maxPayments: 3_000_000, requestTimeoutMs: 10_000,
    idleConnections: 10_000, idleOpenConcurrency: 64, idlePaymentConnections: 8, idlePaymentsS: 4, deadlineMin: 20,
    light: LIGHT, profile: { connections: 32, warmupS: 2, seconds: 4 },
    processes: { counts: [1, 2], rounds: 1, connections: 64, warmupS: 2, rampS: 2, durationS: 8, maxPayments: 3_000_000, requestTimeoutMs: 10_000, deadlineS: 600 },
  },
  smoke: {
    cards: 64, warmupS: 0, rampS: 0.3, peakS: 1, peakConnections: [16], sweepS: 1, sweepRampS: 0.2,
    sweepShares: [0.7], maxPayments: 100_000, requestTimeoutMs: 5_000,
    idleConnections: 300, idleOpenConcurrency: 64, idlePaymentConnections: 4, idlePaymentsS: 1, deadlineMin: 4,
    light: { ...LIGHT, warmupPayments: 4, payments: 10, closedWarmupS: 0.5, closedWarmupConnections: 4 },
    profile: { connections: 8, warmupS: 0.3, seconds: 1 },
    processes: { counts: [1, 2], rounds: 1, connections: 8, warmupS: 0, rampS: 0.3, durationS: 1, maxPayments: 100_000, requestTimeoutMs: 5_000, deadlineS: 240 },
  },
}[MODE];
if (LIGHT_WARMUP_S !== undefined) PLAN.light = { ...PLAN.light, closedWarmupS: LIGHT_WARMUP_S };
const TARGET_RATIO_BASELINE = 3;
const TARGET_P99_MS = 25;
/** Issue 25: the gateway's CPU per payment (all threads) at most this many times the architecture floor's. */
const TARGET_CPU_OVER_FLOOR = 1.5;
const TARGET_BYTES_PER_CONNECTION = 8 * 1024;
const RESULTS = new URL('../results/', import.meta.url);
const HERE = (file: string) => fileURLToPath(new URL(`./${file}`, import.meta.url));


const say = (line = '') => process.stdout.write(`${line}\n`);
const fmt = (x: number | null | undefined, d = 0) => (x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(d));

// ---- setup -----------------------------------------------------------------------------------------------

let redis: BenchRedis | undefined;
let admin: Redis | undefined;
let workDir: string | undefined;
installCleanup(async () => {
  admin?.disconnect();
  await redis?.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});
deadline(PLAN.deadlineMin * 60_000);

const startedAt = new Date();
const loadAtStart = loadavg();
say(`scanpay e2e benchmark (${MODE}) — parts: ${[...PARTS].join(', ')}; load average at start ${loadAtStart.map((x) => x.toFixed(2)).join(' ')}`);
redis = await benchRedis();
say(`redis: ${redis.shared ? `REDIS_URL, keys under ${redis.prefix} (deleted afterwards)` : `private redis-server, ${redis.url}`}`);
if (!redis.shared) { // INFO commandstats is server-wide: only on our own server does it count the gateway's commands alone
  admin = new Redis(redis.url, { maxRetriesPerRequest: 1, lazyConnect: true });
  admin.on('error', () => {});
  await admin.connect();
}
workDir = await mkdtemp(join(tmpdir(), 'scanpay-bench-e2e-'));
removeOnExit(workDir);
const keyRing = IssuerKeyRing.generate();
// before any server runs, in a young process: one receipt's signature as a worker makes it, work each captured payment adds to the floor's
const receiptSignUs = receiptSigningUs(keyRing, MODE === 'smoke' ? { receipts: 100, rounds: 1 } : {});
say(`one receipt's signature (bench/e2e/receipt-cost.ts, as a crypto worker makes it; the least of its rounds): ${fmt(receiptSignUs, 1)} µs of CPU`);
const fleetKey = randomBytes(32);

async function issueCards(count: number): Promise<string> {
  const store = await openStore({ redisUrl: redis!.url, prefix: redis!.prefix });
  try {
    const issuer = new Issuer({ core: await loadCore(), store, keyRing });
    const cards = await issueBenchCards(issuer, count);
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
  store: 'redis' | 'embedded' | null; // null: the echo server (the floor: 'redis')
  child: Child;
  port: number;
  url: string;
  cardsFile: string;
}

let embeddedCards = 0;
async function startServer(target: Target, opts: { connections?: number; exposeGc?: boolean; store?: 'redis' | 'embedded' } = {}): Promise<Server> {
  const store = target === 'echo' ? null : opts.store ?? 'redis';
  // the embedded store lives in the gateway process: it issues its own cards (gateway-process.ts)
  const ownCards = store === 'embedded' ? join(workDir!, `cards-embedded-${++embeddedCards}.json`) : undefined;
  const child = target === 'echo'
    ? spawnChild('echo-server', HERE('echo-server.ts'), { nofile: nofileFor(opts.connections ?? 0) })
    : spawnGateway(`${target === 'floor' ? 'floor' : `gateway-${target}`}${store === 'embedded' ? '-embedded' : ''}`, target, {
      keyRing, fleetKey,
      store: store === 'redis' ? { REDIS_URL: redis!.url, SCANPAY_REDIS_PREFIX: redis!.prefix } : {},
      nodeFlags: opts.exposeGc ? ['--expose-gc'] : [],
      nofile: nofileFor(opts.connections ?? 0),
      env: {
        NODE_OPTIONS: threadTagNodeOptions(), // each crypto worker reports its thread id (thread-tag.mjs)
        BENCH_CARDS: String(PLAN.cards),
        BENCH_CARDS_FILE: ownCards ?? '',
        BENCH_REDIS_AUTOPIPELINE: process.argv.includes('--autopipeline') ? '1' : '',
        ...(target === 'pool' || target === 'floor' ? POOL_ENV : {}), // the floor's pool: the same settings
        BENCH_MAX_LIFETIME_S: String(PLAN.deadlineMin * 60),
      },
    });
  const ready = await child.waitFor<Message & { port: number }>('ready', 120_000);
  return { target, store, child, port: ready.port, url: `ws://127.0.0.1:${ready.port}/scanner`, cardsFile: ownCards ?? cardsFile };
}

interface Run {
  target: Target;
  store: Server['store'];
  kind: 'warmup' | 'peak' | 'open' | 'idle-payments' | 'light' | 'profile';
  connections: number;
  load: LoadResult;
  cpuPercent: { server: number | null; generator: number | null; redis: number | null };
  /** The server process's CPU per payment completed in the window, thread by thread (cpu.ts). */
  cpu: CpuPerPayment | null;
  /** Over Redis: commands per payment completed in the window, sent by the gateway and run by the server. */
  redis: RedisPerPayment | null;
  /** The private Redis server's CPU per payment completed in the window, µs (null on a shared server or without payments). */
  redisServerUs: number | null;
}
const runs: Run[] = [];
let runNo = 0;

type Sample = {
  at: number; server: number | null; generator: number | null; redis: number | null;
  threads: ProcessTimes | null; workers: number[]; client: ClientCounts | null; commandstats: Record<string, number> | null;
};

async function runLoad(server: Server, kind: Run['kind'], cfg: Partial<LoadConfig> & { connections: number; durationS: number; rampS: number },
  hooks: { windowStart?: () => Promise<void>; windowEnd?: () => Promise<void> } = {}): Promise<Run> {
  runNo++;
  const config: LoadConfig = {
    mode: server.target === 'echo' ? 'echo' : 'payments',
    url: server.url,
    fleetKeyHex: fleetKey.toString('hex'),
    cardsFile: server.cardsFile,
    devicePrefix: `load${runNo}-`,
    maxPayments: PLAN.maxPayments,
    requestTimeoutMs: PLAN.requestTimeoutMs,
    openConcurrency: 32,
    ...cfg,
  };
  const child = spawnChild(`load-${server.target}-${kind}`, HERE('load.ts'), { env: { BENCH_LOAD: JSON.stringify(config) }, nofile: nofileFor(config.connections) });
  const pids = { server: server.child.pid, generator: child.pid, redis: redis!.pid };
  const gateway = server.target !== 'echo';
  /** /proc first (synchronously, at the generator's mark), then what has to be asked for: the gateway's counters, INFO. */
  const sample = async (): Promise<Sample> => {
    const s = { at: performance.now(), server: cpuMsOf(pids.server), generator: cpuMsOf(pids.generator), redis: cpuMsOf(pids.redis), threads: readThreads(pids.server) };
    const [counters, info] = await Promise.all([
      gateway ? server.child.command<Message & { workers: number[]; redis: ClientCounts | null }>('counters', 'counters', 10_000).catch(() => undefined) : undefined,
      server.store === 'redis' && admin ? admin.info('commandstats').catch(() => null) : null,
    ]);
    return { ...s, workers: counters?.workers ?? [], client: counters?.redis ?? null, commandstats: info ? parseCommandstats(info) : null };
  };
  const timeoutMs = (config.rampS + config.durationS) * 1000 + config.requestTimeoutMs + 90_000;
  // CPU time of every process over exactly the measurement window (the generator announces it)
  const windowStart = child.waitFor('window-start', timeoutMs).then(async () => {
    const x = await sample();
    await hooks.windowStart?.();
    return x;
  }).catch(() => null);
  const windowEnd = child.waitFor('window-end', timeoutMs).then(async () => {
    await hooks.windowEnd?.(); // after the generator's mark, before the reading: a hook's own cost (the profiler's) stays in
    return sample();
  }).catch(() => null);
  const load = (await child.waitFor('result', timeoutMs)) as unknown as LoadResult;
  const [s0, s1] = [await windowStart, await windowEnd];
  await child.stop(10_000);
  const pct = (key: 'server' | 'generator' | 'redis') => {
    if (!s0 || !s1) return null;
    const a = s0[key];
    const b = s1[key];
    return a === null || b === null ? null : ((b - a) / (s1.at - s0.at)) * 100;
  };
  const payments = load.payments.completedInWindow;
  const cpu = s0?.threads && s1?.threads ? perPayment(splitCpu(s0.threads, s1.threads, s1.workers), payments) : null;
  const redisServerUs = gateway && server.store === 'redis' && s0?.redis != null && s1?.redis != null && payments > 0 ? ((s1.redis - s0.redis) * 1000) / payments : null;
  const redisCounts = gateway && server.store === 'redis' && s0 && s1
    ? redisPerPayment(
      s0.commandstats && s1.commandstats ? { before: s0.commandstats, after: s1.commandstats } : null,
      s0.client && s1.client ? { before: s0.client, after: s1.client } : null,
      payments,
    )
    : null;
  const run: Run = {
    target: server.target, store: server.store, kind, connections: config.connections, load,
    cpuPercent: { server: pct('server'), generator: pct('generator'), redis: pct('redis') },
    cpu, redis: redisCounts, redisServerUs,
  };
  runs.push(run);
  const l = load.latency;
  const errs = Object.entries(load.errors).map(([k, v]) => `${k}×${v}`).join(' ');
  const offered = config.light ? `light (${config.light.inFlight} in flight, ${config.light.pauseMs} ms pauses)` : load.targetPerS ? `${fmt(load.targetPerS)}/s offered` : 'closed loop';
  const perPay = cpu && gateway
    ? ` | µs/payment main ${fmt(cpu.mainUs)} workers ${fmt(cpu.workersUs)} other ${fmt(cpu.otherUs)}${cpu.sched ? `, main woken ${fmt(cpu.sched.mainWakeups, 1)}×` : ''}${redisCounts?.sent != null ? `, redis ${fmt(redisCounts.sent, 2)} sent` : ''}${redisServerUs !== null ? `, redis server ${fmt(redisServerUs)} µs` : ''}`
    : '';
  say(`  ${`${server.target}${server.store === 'embedded' ? '/mem' : ''}`.padEnd(12)} ${kind.padEnd(13)} ${String(config.connections).padStart(5)} conns ${offered}: `
    + `${fmt(load.paymentsPerS)} payments/s, payment p50 ${fmt(l.payment.p50Ms, 2)} p99 ${fmt(l.payment.p99Ms, 2)} p99.9 ${fmt(l.payment.p999Ms, 2)} ms`
    + ` | cpu gw ${fmt(run.cpuPercent.server)}% gen ${fmt(run.cpuPercent.generator)}% redis ${fmt(run.cpuPercent.redis)}%${perPay}${errs ? ` | errors ${errs}` : ''}${load.saturated ? ' | OVER CAPACITY (arrivals dropped)' : ''}`);
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
  /** The floor: open loop at the pool's 70% rate and at the pool's peak rate (when the pool was measured). */
  atPool70?: { offeredPerS: number; paymentsPerS: number; latency: LoadResult['latency']; errors: Record<string, number> };
  atPoolPeak?: { offeredPerS: number; paymentsPerS: number; latency: LoadResult['latency']; errors: Record<string, number> };
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
    const poolSummary = summaries.find((x) => x.target === 'pool');
    const pool70 = poolSummary?.at70?.offeredPerS;
    if (target === 'echo' && pool70) {
      // the floor: generator + loopback + WebSocket framing alone, at the rate of the pool's 70% point
      const run = await runLoad(server, 'open', { connections: best.connections, rampS: PLAN.sweepRampS, durationS: PLAN.sweepS, ratePerS: pool70 });
      summary.at70 = { offeredPerS: pool70, paymentsPerS: run.load.paymentsPerS, latency: run.load.latency, errors: run.load.errors };
    }
    if (target === 'floor' && poolSummary) {
      // the floor is an anchor, not a target: besides its peak and its own 70%, its cost at the pool's arrival rates
      const rates = [['atPool70', pool70], ['atPoolPeak', Math.round(poolSummary.peak.paymentsPerS)]] as const;
      for (const [key, rate] of rates) {
        if (!rate) continue;
        const run = await runLoad(server, 'open', { connections: best.connections, rampS: PLAN.sweepRampS, durationS: PLAN.sweepS, ratePerS: rate });
        summary[key] = { offeredPerS: rate, paymentsPerS: run.load.paymentsPerS, latency: run.load.latency, errors: run.load.errors };
      }
    }
    if (target !== 'echo') {
      for (const share of target === 'floor' ? PLAN.sweepShares.filter((x) => x === 0.7) : PLAN.sweepShares) {
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
for (const target of ['baseline', 'pool', 'floor', 'echo'] as const) if (PARTS.has(target)) await measureTarget(target);

// ---- light load --------------------------------------------------------------------------------------------

/**
 * A fresh pool gateway, a closed-loop warm-up, then the light-load pattern; then the same pairs with no pause
 * (for reference: the pause's share of the cost). The CPU and Redis counts of their windows.
 */
async function measureLight(store: 'embedded' | 'redis'): Promise<{ paused: Run; noPause: Run }> {
  const p = PLAN.light;
  say(`\nlight load, pool gateway, ${store === 'embedded' ? 'embedded store (no Redis)' : 'over Redis'}:`);
  const server = await startServer('pool', { store });
  try {
    if (p.closedWarmupS > 0) await runLoad(server, 'warmup', { connections: p.closedWarmupConnections, rampS: 0.3, durationS: p.closedWarmupS });
    const groups = (p.warmupPayments + p.payments) / p.inFlight;
    const pattern = { inFlight: p.inFlight, pauseMs: p.pauseMs, warmupPayments: p.warmupPayments, payments: p.payments };
    const paused = await runLoad(server, 'light', { connections: p.inFlight, rampS: 0, durationS: Math.ceil(groups * (p.pauseMs + 100) / 1000), light: pattern });
    const noPause = await runLoad(server, 'light', { connections: p.inFlight, rampS: 0, durationS: Math.ceil(groups * 100 / 1000), light: { ...pattern, pauseMs: 0 } });
    return { paused, noPause };
  } finally {
    await server.child.stop();
  }
}
const light: Record<'embedded' | 'redis', { paused: Run; noPause: Run } | null> = { embedded: null, redis: null };
if (PARTS.has('light')) {
  light.embedded = await measureLight('embedded');
  light.redis = await measureLight('redis');
}

// ---- profile of the main thread --------------------------------------------------------------------------

type ProfileFigures = NonNullable<Figures['profile']>;
let profileFigures: ProfileFigures | null = null;
if (PARTS.has('profile')) {
  const p = PLAN.profile;
  say(`\nprofile: V8 CPU profile of a pool gateway's main thread, ${p.connections} connections, closed loop, over Redis:`);
  const server = await startServer('pool');
  const file = option('profile-out') ?? join(workDir, 'pool.cpuprofile');
  try {
    await runLoad(server, 'warmup', { connections: p.connections, rampS: 0.5, durationS: p.warmupS });
    const run = await runLoad(server, 'profile', { connections: p.connections, rampS: 0.5, durationS: p.seconds }, {
      windowStart: async () => void (await server.child.command('profile-start', 'profile-started')),
      windowEnd: async () => void (await server.child.command(`profile-stop ${file}`, 'profile-stopped', 60_000)),
    });
    const summary = summarizeProfile(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, 10);
    profileFigures = {
      connections: p.connections, paymentsPerS: run.load.paymentsPerS, busyShare: summary.wallMs > 0 ? summary.busyMs / summary.wallMs : 0,
      byFunction: summary.byFunction, byFile: summary.byFile,
    };
    for (const line of formatTop(summary, 5)) say(`  ${line}`);
    if (option('profile-out')) say(`  profile written to ${file}`);
  } finally {
    await server.child.stop();
  }
}

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

// ---- gateway processes (npm start -- --processes N) and the scaling model ----------------------------------

let processes: ProcessesReport | null = null;
if (PARTS.has('processes')) {
  if (redis.shared) {
    say('\nprocesses: skipped (needs the private redis-server: its CPU is one of the model\'s inputs)');
  } else {
    say(`\nprocesses: npm start -- --processes N over Redis, ${PLAN.processes.connections} connections, closed loop (load average now ${loadavg().map((l) => l.toFixed(2)).join(' ')}):`);
    processes = await measureProcesses({
      redisUrl: redis.url, redisPrefix: redis.prefix, redisPid: redis.pid, keyRing, fleetKey, cardsFile, cores: availableParallelism(), say,
    }, PLAN.processes);
    const c = processes.check;
    if (c) {
      say(`  the model (bench/e2e/scaling-model.ts), fed the --processes 1 rows: main ${fmt(c.inputs.mainUs)} µs, rest ${fmt(c.inputs.parallelUs)} µs, Redis ${fmt(c.inputs.redisUs)} µs, generator ${fmt(c.inputs.colocatedUs)} µs per payment, all on ${c.cores} cores; efficiency ${fmt(c.efficiency, 2)}`);
      for (const r of c.rows) {
        say(`  --processes ${r.processes}: bound ${fmt(r.boundPerS)}/s (${r.bound}), predicted ${fmt(r.predictedPerS)}/s, measured ${fmt(r.measuredPerS)}/s: measured ÷ predicted ${fmt(r.measuredPerS / r.predictedPerS, 2)}`);
      }
    }
  }
}

// ---- report ----------------------------------------------------------------------------------------------

const byTarget = (t: Target) => summaries.find((s) => s.target === t);
const echo = byTarget('echo');
const baseline = byTarget('baseline');
const pool = byTarget('pool');
const floor = byTarget('floor');
const ratio = (a?: number, b?: number) => (a && b ? a / b : null);
const echoPaymentsPerS = echo ? echo.peak.roundTripsPerS / 2 : undefined; // a payment is two round trips

// the gateway's CPU and Redis commands per payment, phase by phase
const phaseOf = (run: Run | undefined | null, loop: string): Phase | null => (!run ? null : {
  store: run.store === 'embedded' ? 'embedded' : 'redis', loop, connections: run.connections,
  payments: run.load.payments.completedInWindow, paymentsPerS: run.load.paymentsPerS, windowS: run.load.windowS,
  cpu: run.cpu, redis: run.redis, redisServerUs: run.redisServerUs, p50Ms: run.load.latency.payment.p50Ms, p99Ms: run.load.latency.payment.p99Ms,
  errors: Object.values(run.load.errors).reduce((a, b) => a + b, 0),
});
const peakRunOf = (t: Target) => {
  const s = byTarget(t);
  return s ? runs.find((r) => r.target === t && r.kind === 'peak' && r.connections === s.peak.connections && r.load.paymentsPerS === s.peak.paymentsPerS) : undefined;
};
/** The floor's open-loop run at this rate (the first: its own 70% may equal a pool rate only by chance). */
const floorOpenRun = (at: { offeredPerS: number } | null | undefined) => (at ? runs.find((r) => r.target === 'floor' && r.kind === 'open' && r.load.targetPerS === at.offeredPerS) : undefined);
const at70Run = pool?.at70 ? runs.find((r) => r.target === 'pool' && r.kind === 'open' && r.load.targetPerS === pool.at70!.offeredPerS) : undefined;
const lightLoop = `light: ${PLAN.light.inFlight} in flight, ${PLAN.light.pauseMs} ms pauses`;
const noPauseLoop = `light: ${PLAN.light.inFlight} in flight, no pause`;
const figures: Figures = {
  lightEmbedded: phaseOf(light.embedded?.paused, lightLoop),
  lightRedis: phaseOf(light.redis?.paused, lightLoop),
  noPauseEmbedded: phaseOf(light.embedded?.noPause, noPauseLoop),
  noPauseRedis: phaseOf(light.redis?.noPause, noPauseLoop),
  peak: phaseOf(peakRunOf('pool'), `closed loop, ${pool?.peak.connections} conns`),
  at70: phaseOf(at70Run, `open loop, ${fmt(pool?.at70?.offeredPerS)}/s`),
  baselinePeak: phaseOf(peakRunOf('baseline'), `closed loop, ${baseline?.peak.connections} conns`),
  floorPeak: phaseOf(peakRunOf('floor'), `closed loop, ${floor?.peak.connections} conns`),
  floorAtPoolRate: phaseOf(floorOpenRun(floor?.atPool70), `open loop, ${fmt(floor?.atPool70?.offeredPerS)}/s (the pool's 70% rate)`),
  floorAtPoolPeakRate: phaseOf(floorOpenRun(floor?.atPoolPeak), `open loop, ${fmt(floor?.atPoolPeak?.offeredPerS)}/s (the pool's peak rate)`),
  floorAt70: phaseOf(floorOpenRun(floor?.at70), `open loop, ${fmt(floor?.at70?.offeredPerS)}/s (70% of its own peak)`),
  poolPaymentsPerS: pool?.peak.paymentsPerS ?? null,
  baselinePaymentsPerS: baseline?.peak.paymentsPerS ?? null,
  echoPaymentsPerS: echoPaymentsPerS ?? null,
  poolOverBaseline: ratio(pool?.peak.paymentsPerS, baseline?.peak.paymentsPerS),
  poolOverEcho: ratio(pool?.peak.paymentsPerS, echoPaymentsPerS),
  poolP99At70Ms: pool?.at70?.latency.payment.p99Ms ?? null,
  profile: profileFigures,
};
/** A gateway's costs per payment ÷ the floor's (same generator, same run): by default the floor at its peak. */
const overFloor = (ph: Phase | null, f: Phase | null | undefined = figures.floorPeak) => {
  if (!ph || !f) return null;
  return {
    totalCpu: ratio(ph.cpu?.totalUs, f.cpu?.totalUs), mainCpu: ratio(ph.cpu?.mainUs, f.cpu?.mainUs), workersCpu: ratio(ph.cpu?.workersUs, f.cpu?.workersUs),
    redisServerCpu: ratio(ph.redisServerUs ?? undefined, f.redisServerUs ?? undefined), redisServerCalls: ratio(ph.redis?.serverCalls, f.redis?.serverCalls),
  };
};
const floorAnchor = figures.floorPeak ? {
  floorPaymentsPerS: floor?.peak.paymentsPerS ?? null,
  floorCpuUs: figures.floorPeak.cpu?.totalUs ?? null,
  floorRedisServerUs: figures.floorPeak.redisServerUs ?? null,
  poolOverFloor: overFloor(figures.peak),
  baselineOverFloor: overFloor(figures.baselinePeak),
  floorAtPoolRateCpuUs: figures.floorAtPoolRate?.cpu?.totalUs ?? null,
  poolOverFloorAtPoolRate: overFloor(figures.at70, figures.floorAtPoolRate), // both open loop at one rate
  target: `pool CPU per payment, all threads, ≤ ${TARGET_CPU_OVER_FLOOR}× the floor's`,
} : null;
/** The core bench's last object-API and packed-path figures at batch 256 (bench/results/core.json), if any. */
function objectApiFigures(): TargetInputs['objectApi'] {
  try {
    /* eslint-disable-next-line @typescript-eslint/no-explicit-any -- our own JSON (bench/core.bench.ts) */
    const core = JSON.parse(readFileSync(new URL('core.json', RESULTS), 'utf8')) as any;
    const objectUs = Number(core.headline?.[0]?.oursUsPerRecord);
    const packedUs = Number(core.packed?.p50UsPerRecord ?? core.packed?.usPerRecord);
    return core.headlineBatch === 256 && core.packed?.batch === 256 && objectUs > 0 && packedUs > 0 ? { objectUs, packedUs, date: String(core.date) } : null;
  } catch {
    return null;
  }
}
const echoPeakRun = peakRunOf('echo');
const targetInputs: TargetInputs = {
  poolPeak: figures.peak ? {
    paymentsPerS: figures.peak.paymentsPerS, totalUs: figures.peak.cpu?.totalUs ?? null, mainUs: figures.peak.cpu?.mainUs ?? null,
    redisServerCalls: figures.peak.redis?.serverCalls ?? null, redisServerUs: figures.peak.redisServerUs ?? null,
  } : null,
  baselineTotalUs: figures.baselinePeak?.cpu?.totalUs ?? null,
  floorTotalUs: figures.floorPeak?.cpu?.totalUs ?? null,
  floor: figures.floorPeak ? {
    paymentsPerS: figures.floorPeak.paymentsPerS, mainUs: figures.floorPeak.cpu?.mainUs ?? null, redisServerCalls: figures.floorPeak.redis?.serverCalls ?? null,
    p99At70Ms: figures.floorAt70?.p99Ms ?? null,
    atPoolRate: figures.floorAtPoolRate ? { totalUs: figures.floorAtPoolRate.cpu?.totalUs ?? null } : null,
    atPoolPeakRate: figures.floorAtPoolPeakRate ? { paymentsPerS: figures.floorAtPoolPeakRate.paymentsPerS, redisServerUs: figures.floorAtPoolPeakRate.redisServerUs ?? null } : null,
  } : null,
  poolAt70TotalUs: figures.at70?.cpu?.totalUs ?? null,
  receiptSignUs,
  echo: echo && echoPaymentsPerS ? { paymentsPerS: echoPaymentsPerS, cpuUs: echoPeakRun?.cpu?.totalUs ?? null } : null,
  poolP99At70Ms: pool?.at70?.latency.payment.p99Ms ?? null,
  light: light.embedded || light.redis ? { embeddedMainUs: figures.lightEmbedded?.cpu?.mainUs ?? null, redisMainUs: figures.lightRedis?.cpu?.mainUs ?? null } : null,
  objectApi: objectApiFigures(),
};
const verdicts = issue25Verdicts(targetInputs);
/** The scaling model fed the pool's peak (generator and Redis left out: a gateway host), for 4 … 32 cores. */
const sizing = figures.peak?.cpu && figures.peak.redisServerUs != null ? (() => {
  const costs = costsOfPhase(figures.peak!);
  return { inputs: costs, source: 'the pool gateway at its closed-loop peak (cpu.figures.peak): main thread serial, workers + other parallel, the Redis server shared', rows: sizingTable(costs, SIZING_CORES) };
})() : null;
const loadAtEnd = loadavg();
const report = {
  benchmark: 'e2e',
  mode: MODE,
  date: startedAt.toISOString(),
  durationS: (Date.now() - startedAt.getTime()) / 1000,
  machine: machine(),
  loadAverageAtStart: loadAtStart,
  loadAverageAtEnd: loadAtEnd,
  command: `npm run bench:e2e${MODE === 'smoke' ? ' -- --smoke' : MODE === 'quick' ? ' -- --quick' : ''}`,
  setup: {
    plan: PLAN,
    redis: redis.shared ? 'Redis from REDIS_URL (shared server, per-run key prefix)' : 'A private redis-server on 127.0.0.1 (no persistence)',
    cards: PLAN.cards,
    note: 'generator, gateway (main thread + 2 pool workers), and Redis all share the same 2 vCPUs; on this VM the vCPUs are also shared with other tenants',
    poolOverrides: POOL_ENV,
    redisAutoPipelining: process.argv.includes('--autopipeline'),
    gateway: `startGateway via bench/e2e/gateway-process.ts: 127.0.0.1, silent logs, per-scanner rate limit raised to 1e6 frames/s; pool: default threads (one per core) and batch (${GATEWAY_DEFAULTS.batch.maxItems} items / ${GATEWAY_DEFAULTS.batch.windowMs} ms window, at most one batch per worker running) unless overridden; baseline: the NodeCryptoEngine of bench/baseline (both served as by npm run bench:serve)`,
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
    floorPaymentsPerS: floor?.peak.paymentsPerS ?? null,
    floorP99At70Ms: floor?.at70?.latency.payment.p99Ms ?? null,
    floorAnchor,
    targets: {
      poolCpuOverFloorAtMost1_5: floorAnchor?.poolOverFloor?.totalCpu == null ? null : floorAnchor.poolOverFloor.totalCpu <= TARGET_CPU_OVER_FLOOR,
      poolOverBaselineAtLeast3: ratio(pool?.peak.paymentsPerS, baseline?.peak.paymentsPerS) === null ? null : ratio(pool?.peak.paymentsPerS, baseline?.peak.paymentsPerS)! >= TARGET_RATIO_BASELINE,
      poolP99At70Under25Ms: pool?.at70 ? pool.at70.latency.payment.p99Ms < TARGET_P99_MS : null,
      idleBytesPerConnectionUnder8KiB: idle ? Math.max(idle.bytesPerConnection, idle.slopeBytesPerConnection ?? 0) < TARGET_BYTES_PER_CONNECTION : null,
    },
  },
  idle,
  issue25: { inputs: targetInputs, verdicts },
  processes,
  sizing,
  cpu: {
    note: 'gateway CPU per completed payment, thread by thread (utime+stime from /proc/<pid>/task/<tid>/stat; schedstat ns as a cross-check), '
      + 'and Redis commands per payment (sent: counted on the gateway\'s client; server: INFO commandstats, commands inside scripts included)',
    provenance: codeProvenance(),
    figures,
  },
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
say(`issue 10's targets (its throughput ones withdrawn by issue 25, whose targets close this output): pool ÷ baseline ≥ ${TARGET_RATIO_BASELINE}: ${fmt(report.headline.poolOverBaseline, 2)}; pool p99 at 70% < ${TARGET_P99_MS} ms: ${fmt(report.headline.poolP99At70Ms, 2)} ms; idle < 8 KiB/conn: ${idle ? fmt(idle.bytesPerConnection) : '—'} B`);

say('\ngateway CPU per payment (µs; stat ticks, schedstat in brackets) and Redis commands per payment:');
const us = (x: number | undefined | null) => fmt(x);
console.table(([['light, embedded', figures.lightEmbedded], ['light, Redis', figures.lightRedis], ['no pause, embedded', figures.noPauseEmbedded], ['no pause, Redis', figures.noPauseRedis], ['pool peak', figures.peak], ['pool 70%', figures.at70], ['baseline peak', figures.baselinePeak], ['floor peak', figures.floorPeak ?? null], ['floor at pool 70% rate', figures.floorAtPoolRate ?? null],
  ['floor at pool peak rate', figures.floorAtPoolPeakRate ?? null], ['floor at its own 70%', figures.floorAt70 ?? null]] as const)
  .filter(([, ph]) => ph).map(([name, ph]) => ({
    phase: name,
    payments: ph!.payments,
    'payments/s': fmt(ph!.paymentsPerS),
    main: `${us(ph!.cpu?.mainUs)} [${us(ph!.cpu?.sched?.mainUs)}]`,
    workers: `${us(ph!.cpu?.workersUs)} [${us(ph!.cpu?.sched?.workersUs)}]`,
    other: `${us(ph!.cpu?.otherUs)} [${us(ph!.cpu?.sched?.otherUs)}]`,
    total: us(ph!.cpu?.totalUs),
    'main % core': fmt(ph!.cpu?.mainPercent, 1),
    'main woken': fmt(ph!.cpu?.sched?.mainWakeups, 1),
    'redis sent': fmt(ph!.redis?.sent, 2),
    'redis writes': fmt(ph!.redis?.writes, 2),
    'redis server calls': fmt(ph!.redis?.serverCalls, 2),
    'redis server µs': us(ph!.redisServerUs),
    'p99 ms': fmt(ph!.p99Ms, 2),
  })));

if (floorAnchor) {
  const fl = figures.floorPeak!;
  const x = (r: number | null | undefined) => (r == null ? '—' : `${fmt(r, 2)}×`);
  say(`\nthe architecture's floor (bench/floor: 2 frames, 3 EVALSHA round trips, 2 batched worker hops per payment; same generator, same run, each server at its closed-loop peak; load average now ${loadavg().map((l) => l.toFixed(2)).join(' ')}):`);
  say(`  floor: ${fmt(floorAnchor.floorPaymentsPerS)} payments/s; CPU per payment main ${us(fl.cpu?.mainUs)} + workers ${us(fl.cpu?.workersUs)} + other ${us(fl.cpu?.otherUs)} = ${us(fl.cpu?.totalUs)} µs; Redis server ${us(fl.redisServerUs)} µs, ${fmt(fl.redis?.serverCalls, 2)} calls`);
  for (const [name, ph, r] of [['pool', figures.peak, floorAnchor.poolOverFloor], ['baseline', figures.baselinePeak, floorAnchor.baselineOverFloor]] as const) {
    if (!ph || !r) continue;
    say(`  ${name} ÷ floor: CPU per payment, all gateway threads ${us(ph.cpu?.totalUs)} ÷ ${us(fl.cpu?.totalUs)} µs = ${x(r.totalCpu)} (main ${x(r.mainCpu)}, workers ${x(r.workersCpu)}); `
      + `Redis server CPU ${us(ph.redisServerUs)} ÷ ${us(fl.redisServerUs)} µs = ${x(r.redisServerCpu)}; Redis server calls ${fmt(ph.redis?.serverCalls, 2)} ÷ ${fmt(fl.redis?.serverCalls, 2)} = ${x(r.redisServerCalls)}`
      + (name === 'pool' ? `; target ≤ ${TARGET_CPU_OVER_FLOOR}×: ${r.totalCpu == null ? '—' : r.totalCpu <= TARGET_CPU_OVER_FLOOR ? 'met' : 'not met'}` : ''));
  }
  const same = floorAnchor.poolOverFloorAtPoolRate;
  const fr = figures.floorAtPoolRate;
  if (same && fr) {
    say(`  pool ÷ floor at one arrival rate (open loop, the pool's 70% rate, ${fmt(fr.paymentsPerS)}/s achieved by the floor): CPU per payment ${us(figures.at70?.cpu?.totalUs)} ÷ ${us(fr.cpu?.totalUs)} µs = ${x(same.totalCpu)} `
      + `(main ${x(same.mainCpu)}, workers ${x(same.workersCpu)}); Redis server CPU ${us(figures.at70?.redisServerUs)} ÷ ${us(fr.redisServerUs)} µs = ${x(same.redisServerCpu)}`);
  }
}

if (sizing) {
  const c = sizing.inputs;
  say(`\nthe scaling model (bench/e2e/scaling-model.ts) fed the pool's peak: main ${fmt(c.mainUs)} µs serial, workers + other ${fmt(c.parallelUs)} µs parallel, Redis server ${fmt(c.redisUs)} µs shared, per payment; Redis off the host, no generator:`);
  console.table(sizing.rows.map((r) => ({
    cores: r.cores, processes: r.processes, 'per process /s': fmt(r.perProcessPerS), 'host alone /s': fmt(r.gatewayPerS), 'host bound': r.gatewayBound,
    'over one Redis /s': fmt(r.oneRedisPerS), 'bound': r.oneRedisBound, 'Redis masters needed': r.redisShardsNeeded,
  })));
}

const verdictNote = `the ${MODE} run of ${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC, load average ${loadAtStart.map((l) => l.toFixed(2)).join(' ')} at start and ${loadAtEnd.map((l) => l.toFixed(2)).join(' ')} at the end (1, 5, 15 min; 2 vCPUs)`;
say(`\nissue 25's targets (${verdictNote}):`);
console.table(verdicts.map((r) => ({
  target: r.target, measured: r.value === null ? '—' : r.unit === '×' ? `${fmt(r.value, 2)}×` : `${r.value.toLocaleString('en-US', { maximumFractionDigits: r.unit === 'µs' ? 0 : 2, minimumFractionDigits: r.unit === 'µs' ? 0 : 2 })} ${r.unit}`, from: r.detail,
  'the floor': r.floor ? `${fmt(r.floor.value, r.unit === 'µs' ? 0 : 2)}${r.unit === '×' ? '×' : ` ${r.unit}`} (${r.floor.detail})` : '—', verdict: r.verdict,
})));
const idsWith = (verdict: string) => verdicts.filter((r) => r.verdict === verdict).map((r) => r.id).join(', ') || 'none';
say(`met ${verdicts.filter((r) => r.verdict === 'met').length} of ${verdicts.length}; not met: ${idsWith('not met')}; out of reach (the floor misses it too): ${idsWith('out of reach')}; not measured: ${idsWith('not measured')}`);

mkdirSync(RESULTS, { recursive: true });
if (MODE !== 'smoke' && !PARTIAL) {
  // the verdicts of the last quick or full run of every part: bench/results/e2e-targets.json and RESULTS.md's e2e-targets section
  const targetsFile = new URL('e2e-targets.json', RESULTS);
  writeFileSync(targetsFile, `${JSON.stringify({ benchmark: 'e2e-targets', mode: MODE, date: startedAt.toISOString(), command: report.command, loadAverageAtStart: loadAtStart, loadAverageAtEnd: loadAtEnd, provenance: report.cpu.provenance, inputs: targetInputs, verdicts, processes: processes?.check ?? null, sizing }, null, 2)}\n`);
  say(`wrote ${fileURLToPath(targetsFile)}`);
}
const jsonFile = new URL(`e2e${suffix}.json`, RESULTS);
writeFileSync(jsonFile, `${JSON.stringify(report, null, 2)}\n`);
say(`wrote ${fileURLToPath(jsonFile)}`);
const svgFile = new URL(`e2e-latency${suffix}.svg`, RESULTS);
if (writeChart(report, svgFile)) say(`wrote ${fileURLToPath(svgFile)}`);
if (MODE === 'full' && !PARTIAL) say(`wrote ${writeResultsMd()}`);
if (MODE !== 'smoke' && !PARTIAL) {
  writeResultsSection('e2e-targets', 'bench/e2e/run.ts', targetsMarkdown({ command: report.command, date: report.date, note: verdictNote, verdicts, processes, sizing }));
  say('wrote the e2e-targets section of bench/RESULTS.md');
}

admin?.disconnect();
await redis.stop();
await rm(workDir, { recursive: true, force: true });
process.exit(0);
