/**
 * bench:e2e's `processes` part (issue 25, item 3): `npm start -- --processes N` as an operator runs it —
 * gateway/main.ts, its supervisor and N gateway processes sharing one port (SO_REUSEPORT), each with cores ÷ N
 * crypto threads — over the run's private Redis, under the closed-loop load of one generator; N = 1 and 2,
 * alternating, in rounds. Over each measurement window: payments/s, and CPU per payment of the gateways' main
 * threads (tid = pid of each gateway process), the rest of the gateway processes (workers, GC; the supervisor's
 * few ticks counted here too), the generator and the Redis server, from /proc.
 *
 * The scaling model (scaling-model.ts) is then checked against these rows in the same run: its inputs are the
 * N = 1 rows' costs (generator and Redis co-located, as they are here), its efficiency the N = 1 rows' measured
 * share of the bound, and it predicts every N from them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import type { IssuerKeyRing } from '../../issuer/key-ring.ts';
import { spawnChild, type Child, type Message } from '../../test/support/child-process.ts';
import { BENCH_PIN_BUDGETS } from './spawn-gateway.ts';
import { cpuMsOf, readThreads, CLK_TCK, type ProcessTimes } from './cpu.ts';
import type { LoadConfig, LoadResult } from './load.ts';
import { predict, type Bound, type PaymentCosts } from './scaling-model.ts';

const MAIN = fileURLToPath(new URL('../../gateway/main.ts', import.meta.url));
const LOAD = fileURLToPath(new URL('./load.ts', import.meta.url));

export interface ProcessesPlan {
  counts: number[]; // gateway processes per group, e.g. [1, 2]
  rounds: number; // each count measured this many times, counts alternating
  connections: number;
  warmupS: number;
  rampS: number;
  durationS: number;
  maxPayments: number;
  requestTimeoutMs: number;
  deadlineS: number; // BENCH lifetime of a group (it is stopped long before)
}

export interface ProcessesContext {
  redisUrl: string;
  redisPrefix: string;
  redisPid: number | undefined;
  keyRing: IssuerKeyRing;
  fleetKey: Uint8Array;
  cardsFile: string;
  cores: number;
  say: (line: string) => void;
}

export interface ProcessesRow {
  processes: number;
  round: number;
  threadsEach: number;
  paymentsPerS: number;
  p50Ms: number;
  p99Ms: number;
  errors: Record<string, number>;
  /** CPU per payment, µs: the gateways' main threads together, the rest of the gateway processes, the generator, Redis. */
  mainUs: number | null;
  restUs: number | null;
  generatorUs: number | null;
  redisUs: number | null;
  /** Each gateway process's main thread, % of a core over the window. */
  mainPercent: number[];
}

export interface ProcessesCheckRow {
  processes: number;
  boundPerS: number;
  bound: Bound;
  predictedPerS: number;
  measuredPerS: number; // median over the rounds
}

export interface ProcessesReport {
  plan: ProcessesPlan;
  rows: ProcessesRow[];
  check: {
    inputs: PaymentCosts;
    cores: number;
    efficiency: number;
    note: string;
    rows: ProcessesCheckRow[];
  } | null;
}

/** A base port with `count` free ports from it on 127.0.0.1 (the ops listeners are OPS_PORT + i). */
async function freePortRange(count: number): Promise<number> {
  const free = (port: number) => new Promise<boolean>((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen({ host: '127.0.0.1', port, exclusive: true }, () => probe.close(() => resolve(true)));
  });
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 40_000);
    let ok = true;
    for (let i = 0; i < count && ok; i++) ok = await free(base + i);
    if (ok) return base;
  }
  throw new Error(`no ${count} free consecutive ports found`);
}

/** The pids whose parent is `pid` (the gateway processes of a group), from /proc. */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(name));
    } catch {
      // gone
    }
  }
  return out;
}

async function ready(url: string, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    try {
      if ((await fetch(url, { signal: AbortSignal.timeout(2_000) })).status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
}

interface Group {
  supervisor: Child;
  gateways: number[]; // pids
  port: number;
  threadsEach: number;
}

async function startGroup(n: number, ctx: ProcessesContext, plan: ProcessesPlan): Promise<Group> {
  const [port, merchantPort, opsBase] = [await freePortRange(1), await freePortRange(1), await freePortRange(n)];
  const threadsEach = Math.max(1, Math.floor(ctx.cores / n)); // what gateway/processes.ts gives each (and npm start alone: one per core)
  const supervisor = spawnChild(`gateway-group-${n}`, MAIN, {
    args: ['--processes', String(n)],
    env: {
      PATH: process.env.PATH, TMPDIR: process.env.TMPDIR, HOME: process.env.HOME,
      HOST: '127.0.0.1', PORT: String(port), OPS_PORT: String(opsBase), MERCHANT_PORT: String(merchantPort),
      REDIS_URL: ctx.redisUrl, SCANPAY_REDIS_PREFIX: ctx.redisPrefix,
      SCANPAY_KEYRING: ctx.keyRing.serialize(), SCANPAY_FLEET_KEY: Buffer.from(ctx.fleetKey).toString('hex'),
      SCANPAY_RATE_PER_SEC: '1000000', SCANPAY_RATE_BURST: '1000000', ...BENCH_PIN_BUDGETS, LOG_LEVEL: 'silent',
    },
  });
  try {
    for (let i = 0; i < n; i++) await ready(`http://127.0.0.1:${opsBase + i}/readyz`, 120_000);
    const pid = supervisor.pid!;
    const gateways = n === 1 ? [pid] : childrenOf(pid);
    if (gateways.length !== n) throw new Error(`--processes ${n}: found ${gateways.length} gateway processes under pid ${pid}`);
    return { supervisor, gateways, port, threadsEach };
  } catch (e) {
    await supervisor.stop(15_000, 'SIGTERM');
    throw new Error(`--processes ${n} did not start: ${(e as Error).message}\n${supervisor.stderr}`);
  }
}

let loadNo = 0;
async function load(group: Group, ctx: ProcessesContext, plan: ProcessesPlan, durationS: number, measure: boolean): Promise<{ result: LoadResult; cpu: Omit<ProcessesRow, 'processes' | 'round' | 'threadsEach' | 'paymentsPerS' | 'p50Ms' | 'p99Ms' | 'errors'> | null }> {
  const config: LoadConfig = {
    mode: 'payments', url: `ws://127.0.0.1:${group.port}/scanner`, fleetKeyHex: Buffer.from(ctx.fleetKey).toString('hex'), cardsFile: ctx.cardsFile,
    connections: plan.connections, devicePrefix: `procs${++loadNo}-`, rampS: plan.rampS, durationS, maxPayments: plan.maxPayments,
    requestTimeoutMs: plan.requestTimeoutMs, openConcurrency: 32,
  };
  const child = spawnChild(`load-processes-${loadNo}`, LOAD, { env: { BENCH_LOAD: JSON.stringify(config) } });
  const timeoutMs = (plan.rampS + durationS) * 1000 + plan.requestTimeoutMs + 90_000;
  type Reading = { at: number; gateways: (ProcessTimes | null)[]; supervisor: number | null; generator: number | null; redis: number | null };
  const read = (): Reading => ({
    at: performance.now(), gateways: group.gateways.map((pid) => readThreads(pid)),
    supervisor: group.gateways.includes(group.supervisor.pid!) ? 0 : cpuMsOf(group.supervisor.pid), generator: cpuMsOf(child.pid), redis: cpuMsOf(ctx.redisPid),
  });
  const start = child.waitFor('window-start', timeoutMs).then(read).catch(() => null);
  const end = child.waitFor('window-end', timeoutMs).then(read).catch(() => null);
  const result = (await child.waitFor('result', timeoutMs)) as unknown as LoadResult;
  const [a, b] = [await start, await end];
  await child.stop(10_000);
  const payments = result.payments.completedInWindow;
  if (!measure || !a || !b || payments <= 0 || a.gateways.some((g) => !g) || b.gateways.some((g) => !g)) return { result, cpu: null };
  const tickMs = 1000 / CLK_TCK;
  const mainTicks = (t: ProcessTimes) => t.threads.find((x) => x.tid === t.pid)?.ticks ?? 0;
  let mainMs = 0;
  let totalMs = 0;
  const mainPercent: number[] = [];
  for (let i = 0; i < group.gateways.length; i++) {
    const [x, y] = [a.gateways[i]!, b.gateways[i]!];
    const m = (mainTicks(y) - mainTicks(x)) * tickMs;
    mainMs += m;
    totalMs += (y.processTicks - x.processTicks) * tickMs;
    mainPercent.push((m / (b.at - a.at)) * 100);
  }
  totalMs += (b.supervisor ?? 0) - (a.supervisor ?? 0);
  const perPayment = (ms: number | null) => (ms === null ? null : (ms * 1000) / payments);
  const diff = (k: 'generator' | 'redis') => (a[k] === null || b[k] === null ? null : b[k]! - a[k]!);
  return {
    result,
    cpu: { mainUs: perPayment(mainMs), restUs: perPayment(totalMs - mainMs), generatorUs: perPayment(diff('generator')), redisUs: perPayment(diff('redis')), mainPercent },
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** Measures every count of the plan, rounds alternating, then checks the model against it. */
export async function measureProcesses(ctx: ProcessesContext, plan: ProcessesPlan): Promise<ProcessesReport> {
  const rows: ProcessesRow[] = [];
  const fmt = (x: number | null | undefined, d = 0) => (x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(d));
  for (let round = 1; round <= plan.rounds; round++) {
    for (const n of plan.counts) {
      const group = await startGroup(n, ctx, plan);
      try {
        if (plan.warmupS > 0) await load(group, ctx, plan, plan.warmupS, false);
        const { result, cpu } = await load(group, ctx, plan, plan.durationS, true);
        const row: ProcessesRow = {
          processes: n, round, threadsEach: group.threadsEach, paymentsPerS: result.paymentsPerS, p50Ms: result.latency.payment.p50Ms, p99Ms: result.latency.payment.p99Ms,
          errors: result.errors, mainUs: cpu?.mainUs ?? null, restUs: cpu?.restUs ?? null, generatorUs: cpu?.generatorUs ?? null, redisUs: cpu?.redisUs ?? null, mainPercent: cpu?.mainPercent ?? [],
        };
        rows.push(row);
        const errs = Object.entries(result.errors).map(([k, v]) => `${k}×${v}`).join(' ');
        ctx.say(`  --processes ${n} (${group.threadsEach} crypto thread${group.threadsEach > 1 ? 's' : ''} each), round ${round}: ${fmt(row.paymentsPerS)} payments/s, p50 ${fmt(row.p50Ms, 2)} p99 ${fmt(row.p99Ms, 2)} ms`
          + ` | µs/payment: gateway main threads ${fmt(row.mainUs)} + rest ${fmt(row.restUs)}, generator ${fmt(row.generatorUs)}, Redis ${fmt(row.redisUs)}`
          + ` | main threads ${row.mainPercent.map((p) => `${fmt(p)}%`).join(' + ')} of a core${errs ? ` | errors ${errs}` : ''}`);
      } finally {
        await group.supervisor.stop(15_000, 'SIGTERM');
      }
    }
  }
  return { plan, rows, check: checkModel(rows, ctx.cores) };
}

/**
 * The model against the rows: inputs the medians of the single-process rows' costs (generator and Redis on the
 * same cores, as here), efficiency their measured payments/s ÷ the model's bound for one process; then a
 * prediction for every count measured.
 */
export function checkModel(rows: ProcessesRow[], cores: number): ProcessesReport['check'] {
  const ones = rows.filter((r) => r.processes === 1 && r.mainUs !== null && r.restUs !== null && r.redisUs !== null);
  if (ones.length === 0) return null;
  const inputs: PaymentCosts = {
    mainUs: median(ones.map((r) => r.mainUs!)), parallelUs: median(ones.map((r) => r.restUs!)),
    redisUs: median(ones.map((r) => r.redisUs!)), colocatedUs: median(ones.map((r) => r.generatorUs ?? 0)),
  };
  const measured = (n: number) => median(rows.filter((r) => r.processes === n).map((r) => r.paymentsPerS));
  const oneBound = predict(inputs, { cores, processes: 1, redisOnHost: true }).paymentsPerS;
  const efficiency = Math.min(1, measured(1) / oneBound);
  const counts = [...new Set(rows.map((r) => r.processes))].sort((x, y) => x - y);
  return {
    inputs, cores, efficiency,
    note: `inputs: the --processes 1 rows' CPU per payment (medians); generator and Redis on the same ${cores} cores; efficiency: the --processes 1 rows' payments/s ÷ the model's bound for 1 process`,
    rows: counts.map((n) => {
      const bound = predict(inputs, { cores, processes: n, redisOnHost: true });
      return { processes: n, boundPerS: bound.paymentsPerS, bound: bound.bound, predictedPerS: bound.paymentsPerS * efficiency, measuredPerS: measured(n) };
    }),
  };
}
