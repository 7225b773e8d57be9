/**
 * Issue 25's targets, judged from one bench:e2e run (and the core bench's last object-API figures): every
 * figure with its limit and a verdict, the table `npm run bench:e2e` prints and writes to
 * bench/results/e2e-targets.json and the `e2e-targets` section of bench/RESULTS.md.
 * A figure the run did not measure (a part left out, a shared Redis) is "not measured", never met. Beside each
 * figure, where it means something, the architecture floor's own (bench/floor: the same two frames, three Redis
 * round trips and two worker hops per payment, nothing else; same run): a target the floor itself misses, judged
 * as the target is, is "out of reach" — no gateway that does a payment's work on this architecture meets it on
 * this machine.
 * @example
 *   const rows = issue25Verdicts(figuresOfRun);
 *   console.table(rows.map((r) => ({ target: r.target, measured: r.measured, verdict: r.verdict })));
 */
import type { ProcessesReport } from './processes.ts';
import type { PaymentCosts, SizingRow } from './scaling-model.ts';

/** The issue's "today": Redis server CPU per payment, µs (its Redis CPU target is half of it). */
export const REDIS_US_TODAY = 91;

export const TARGETS = {
  poolCpuOverBaseline: 0.75,
  poolCpuOverFloor: 1.5,
  redisCallsPerPayment: 12,
  redisUsPerPayment: REDIS_US_TODAY / 2,
  mainOverEchoCpu: 4,
  poolOverEchoCeiling: 0.25,
  p99At70Ms: 25,
  objectOverPacked: 1.15,
  lightMainUs: 1_300,
} as const;

/** What the verdicts are judged from; null where the run did not measure it. CPU in µs per payment. */
export interface TargetInputs {
  /** The pool gateway at its closed-loop peak over Redis. */
  poolPeak: { paymentsPerS: number; totalUs: number | null; mainUs: number | null; redisServerCalls: number | null; redisServerUs: number | null } | null;
  /** The baseline gateway at its closed-loop peak: all its threads. */
  baselineTotalUs: number | null;
  /** The architecture's floor at its closed-loop peak: all its threads. */
  floorTotalUs: number | null;
  /**
   * The floor's own figures: at its closed-loop peak (payments/s, main thread µs, Redis calls), its p99 in open loop
   * at 70 % of that peak, its CPU (all threads) at the pool's 70 % rate and its Redis CPU at the pool's peak rate.
   */
  floor: {
    paymentsPerS: number; mainUs: number | null; redisServerCalls: number | null; p99At70Ms: number | null;
    atPoolRate: { totalUs: number | null } | null; atPoolPeakRate: { paymentsPerS: number; redisServerUs: number | null } | null;
  } | null;
  /** The pool at 70 % of its peak, open loop: all its threads (beside the floor's at that rate). */
  poolAt70TotalUs: number | null;
  /** CPU per receipt of a worker's signing (receipt-cost.ts), same run: work each captured payment adds to the floor's. */
  receiptSignUs: number | null;
  /** The echo server at its closed-loop peak: payments/s (round trips ÷ 2) and its CPU per payment-equivalent. */
  echo: { paymentsPerS: number; cpuUs: number | null } | null;
  /** p99 of a whole payment, open loop at 70 % of the pool's peak. */
  poolP99At70Ms: number | null;
  /** The pool gateway at light load: main-thread CPU per payment, embedded store (the target) and over Redis. */
  light: { embeddedMainUs: number | null; redisMainUs: number | null } | null;
  /** The core bench (bench/results/core.json): µs per record at batch 256, object API and packed path. */
  objectApi: { objectUs: number; packedUs: number; date: string } | null;
}

export type Verdict = 'met' | 'not met' | 'out of reach' | 'not measured';

export interface TargetRow {
  id: keyof typeof TARGETS;
  target: string;
  /** The figure judged (a ratio or a quantity, in `unit`). */
  value: number | null;
  unit: string;
  limit: number;
  /** The figures the value comes from, same run. */
  detail: string;
  /** The floor's figure for the same target (same run), where it has one: "out of reach" when it misses too. */
  floor: { value: number; detail: string } | null;
  verdict: Verdict;
}

const n = (x: number | null | undefined, d = 0): string =>
  x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
const finite = (x: number | null | undefined): x is number => x !== null && x !== undefined && Number.isFinite(x);
const div = (a: number | null | undefined, b: number | null | undefined) => (finite(a) && finite(b) && b > 0 ? a / b : null);
function judge(value: number | null, limit: number, atLeast = false): Verdict {
  if (value === null) return 'not measured';
  return (atLeast ? value >= limit : value <= limit) ? 'met' : 'not met';
}

/** Every target of issue 25 with its figure and verdict, in the issue's order. */
export function issue25Verdicts(x: TargetInputs): TargetRow[] {
  const p = x.poolPeak;
  const rows: TargetRow[] = [];
  const f = x.floor;
  /**
   * `atLeast`: the target is "≥ limit" (else "≤"); `strict`: "< limit"; `floor`: the floor's figure, judged as the
   * target is (same limit, same sense).
   */
  const add = (id: TargetRow['id'], target: string, value: number | null, unit: string, detail: string,
    { atLeast = false, strict = false, floor = null }: { atLeast?: boolean; strict?: boolean; floor?: { value: number | null | undefined; detail: string } | null } = {}) => {
    const limit = TARGETS[id];
    const verdictOf = (v: number | null) => (strict && v !== null && v >= limit ? 'not met' : judge(v, limit, atLeast)); // strict: "< limit"
    let verdict = verdictOf(value);
    const floorValue = floor && finite(floor.value) ? floor.value : null;
    if (verdict === 'not met' && floorValue !== null && verdictOf(floorValue) === 'not met') verdict = 'out of reach';
    rows.push({ id, target, value, unit, limit, detail, floor: floorValue === null ? null : { value: floorValue, detail: floor!.detail }, verdict });
  };
  add('poolCpuOverBaseline', `gateway CPU per payment, all threads: pool ≤ ${TARGETS.poolCpuOverBaseline}× the baseline's (each at its peak)`,
    div(p?.totalUs, x.baselineTotalUs), '×', `${n(p?.totalUs)} ÷ ${n(x.baselineTotalUs)} µs`);
  const atOneRate = div(x.poolAt70TotalUs, f?.atPoolRate?.totalUs);
  add('poolCpuOverFloor', `gateway CPU per payment, all threads: pool ≤ ${TARGETS.poolCpuOverFloor}× the architecture floor's (each at its peak)`,
    div(p?.totalUs, x.floorTotalUs), '×', `${n(p?.totalUs)} ÷ ${n(x.floorTotalUs)} µs`
    + (atOneRate === null ? '' : `; at one arrival rate, the pool's 70 %: ${n(x.poolAt70TotalUs)} ÷ ${n(f?.atPoolRate?.totalUs)} µs = ${n(atOneRate, 2)}×`), { floor: {
      value: div(finite(x.floorTotalUs) && finite(x.receiptSignUs) ? x.floorTotalUs + x.receiptSignUs : null, x.floorTotalUs),
      detail: `at least: its ${n(x.floorTotalUs)} µs and a receipt's signature, ${n(x.receiptSignUs)} µs, ÷ ${n(x.floorTotalUs)} µs`,
    } });
  add('redisCallsPerPayment', `Redis server calls per payment ≤ ${TARGETS.redisCallsPerPayment} (pool peak; inside scripts too)`,
    finite(p?.redisServerCalls) ? p.redisServerCalls : null, 'calls', `INFO commandstats over the pool's peak window`,
    { floor: { value: f?.redisServerCalls, detail: `${n(f?.redisServerCalls, 2)} calls at its peak` } });
  add('redisUsPerPayment', `Redis server CPU per payment ≤ ${n(TARGETS.redisUsPerPayment, 1)} µs (half of the issue's ${REDIS_US_TODAY} µs; pool peak)`,
    finite(p?.redisServerUs) ? p.redisServerUs : null, 'µs', `redis-server utime + stime over the pool's peak window ÷ payments`,
    { floor: { value: f?.atPoolPeakRate?.redisServerUs, detail: `${n(f?.atPoolPeakRate?.redisServerUs)} µs in open loop at the pool's peak rate (${n(f?.atPoolPeakRate?.paymentsPerS)}/s)` } });
  add('mainOverEchoCpu', `main-thread CPU per payment at the pool's peak ≤ ${TARGETS.mainOverEchoCpu}× the echo server's CPU per payment-equivalent`,
    div(p?.mainUs, x.echo?.cpuUs), '×', `${n(p?.mainUs)} ÷ ${n(x.echo?.cpuUs)} µs (echo at its peak, 2 round trips = 1 payment)`,
    { floor: { value: div(f?.mainUs, x.echo?.cpuUs), detail: `${n(f?.mainUs)} ÷ ${n(x.echo?.cpuUs)} µs at its peak` } });
  add('poolOverEchoCeiling', `pool peak payments/s ≥ ${TARGETS.poolOverEchoCeiling}× the echo ceiling`,
    div(p?.paymentsPerS, x.echo?.paymentsPerS), '×', `${n(p?.paymentsPerS)} ÷ ${n(x.echo?.paymentsPerS)} payments/s`,
    { atLeast: true, floor: { value: div(f?.paymentsPerS, x.echo?.paymentsPerS), detail: `${n(f?.paymentsPerS)} ÷ ${n(x.echo?.paymentsPerS)} payments/s` } });
  add('p99At70Ms', `p99 of a whole payment at 70 % of the pool's peak < ${TARGETS.p99At70Ms} ms (open loop)`,
    finite(x.poolP99At70Ms) ? x.poolP99At70Ms : null, 'ms', 'open loop, latency from each payment\'s scheduled start',
    { strict: true, floor: { value: f?.p99At70Ms, detail: `${n(f?.p99At70Ms, 2)} ms at 70 % of its own peak` } });
  const o = x.objectApi;
  add('objectOverPacked', `core object API ≤ ${TARGETS.objectOverPacked}× the packed path's µs/record at batch 256`,
    div(o?.objectUs, o?.packedUs), '×', o ? `${n(o.objectUs, 2)} ÷ ${n(o.packedUs, 2)} µs/record (bench/core.bench.ts, ${o.date.slice(0, 10)}: not this run)` : 'no bench/results/core.json');
  add('lightMainUs', `light load: main-thread CPU per payment ≤ ${n(TARGETS.lightMainUs)} µs (pool gateway, embedded store)`,
    finite(x.light?.embeddedMainUs) ? x.light.embeddedMainUs : null, 'µs', `2 in flight, 250 ms pauses; over Redis ${n(x.light?.redisMainUs)} µs (no target)`);
  return rows;
}

/** The rows as a Markdown table (RESULTS.md). */
export function verdictMarkdown(rows: readonly TargetRow[]): string {
  const fmtValue = (r: TargetRow) => (r.value === null ? '—' : r.unit === '×' ? `${n(r.value, 2)}×` : `${n(r.value, r.unit === 'calls' || r.unit === 'ms' ? 2 : 0)} ${r.unit}`);
  const fmtFloor = (r: TargetRow) => (r.floor === null ? '—' : `${r.unit === '×' ? `${n(r.floor.value, 2)}×` : `${n(r.floor.value, r.unit === 'µs' ? 0 : 2)} ${r.unit}`} (${r.floor.detail})`);
  const lines = ['| target | measured | from (same run) | the floor (same run) | verdict |', '| --- | ---: | --- | --- | --- |'];
  for (const r of rows) lines.push(`| ${r.target} | ${fmtValue(r)} | ${r.detail} | ${fmtFloor(r)} | **${r.verdict}** |`);
  return lines.join('\n');
}

/** RESULTS.md's e2e-targets section: the verdicts, the `--processes` rows against the model, the sizing table. */
export function targetsMarkdown(x: {
  command: string;
  date: string; // ISO
  note: string;
  verdicts: readonly TargetRow[];
  processes: ProcessesReport | null;
  sizing: { inputs: PaymentCosts; rows: SizingRow[] } | null;
}): string {
  const out = [`## Issue 25's targets — ${x.date.slice(0, 10)}`, '',
    `\`${x.command}\`, ${x.note}, prints this table at its end (bench/e2e/targets.ts; bench/results/e2e-targets.json). Every figure is from that one run but the object API's, `
    + 'which is bench/core.bench.ts\'s last result. Other sessions were using the same 2 vCPUs when the load average is high: absolute figures then fall, ratios less so.', '',
    verdictMarkdown(x.verdicts), ''];
  const c = x.processes?.check;
  if (x.processes && x.processes.rows.length > 0) {
    out.push('`npm start -- --processes N` over the run\'s Redis, one load generator, closed loop at '
      + `${x.processes.plan.connections} connections, ${x.processes.plan.durationS} s per row (bench/e2e/processes.ts); CPU per payment from /proc over the window:`, '');
    out.push('| processes | round | crypto threads each | payments/s | p50 / p99 ms | gateway main threads µs | rest of the gateways µs | generator µs | Redis µs | main threads, % of a core |',
      '| ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | --- |');
    for (const r of x.processes.rows) {
      out.push(`| ${r.processes} | ${r.round} | ${r.threadsEach} | ${n(r.paymentsPerS)} | ${n(r.p50Ms, 1)} / ${n(r.p99Ms, 1)} | ${n(r.mainUs)} | ${n(r.restUs)} | ${n(r.generatorUs)} | ${n(r.redisUs)} | ${r.mainPercent.map((p) => n(p)).join(' + ')} |`);
    }
    out.push('');
  }
  if (c) {
    out.push(`The scaling model (bench/e2e/scaling-model.ts) fed the \`--processes 1\` rows (${c.note}): main ${n(c.inputs.mainUs)} µs, rest ${n(c.inputs.parallelUs)} µs, `
      + `Redis ${n(c.inputs.redisUs)} µs, generator ${n(c.inputs.colocatedUs)} µs per payment; efficiency ${n(c.efficiency, 2)}.`, '');
    out.push('| processes | model bound /s | bound by | predicted /s (bound × efficiency) | measured /s | measured ÷ predicted |', '| ---: | ---: | --- | ---: | ---: | ---: |');
    for (const r of c.rows) out.push(`| ${r.processes} | ${n(r.boundPerS)} | ${r.bound} | ${n(r.predictedPerS)} | ${n(r.measuredPerS)} | ${n(r.measuredPerS / r.predictedPerS, 2)} |`);
    out.push('');
  }
  if (x.sizing) {
    const s = x.sizing.inputs;
    out.push(`The model fed this run's pool peak (main ${n(s.mainUs)} µs serial, workers + other ${n(s.parallelUs)} µs parallel, Redis server ${n(s.redisUs)} µs shared, per payment), `
      + 'for a gateway host of C cores with Redis elsewhere and no generator (bounds, efficiency 1):', '');
    out.push('| cores | processes | per process /s | host alone /s | bound by | over one Redis /s | bound by | Redis masters needed |', '| ---: | ---: | ---: | ---: | --- | ---: | --- | ---: |');
    for (const r of x.sizing.rows) out.push(`| ${r.cores} | ${r.processes} | ${n(r.perProcessPerS)} | ${n(r.gatewayPerS)} | ${r.gatewayBound} | ${n(r.oneRedisPerS)} | ${r.oneRedisBound} | ${r.redisShardsNeeded} |`);
    out.push('');
  }
  return out.join('\n');
}
