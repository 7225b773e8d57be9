/**
 * What the machine leaves for the gateway's main thread at the rate each throughput target asks for.
 *
 * In bench:e2e the load generator, Redis and the gateway share the same vCPUs, so a rate of R payments/s gives
 * every payment at most cores × 1 s ÷ R of CPU time, all processes together. From that budget this subtracts the
 * CPU per payment measured, in the same run, outside the gateway's main thread: the generator, the Redis server,
 * and the pool gateway's workers and other threads. Each is taken at its cheapest per payment over the run's
 * Redis peak and open-loop runs, the most favourable figure measured (per-payment costs fall as load rises,
 * because each wakeup then serves more work). What is left is all the main thread could spend; it is set beside
 * the least the same frames have been measured to cost a thread that does nothing else: the bare echo server's
 * CPU per payment-equivalent (two round trips). When the budget is spent before the main thread runs at all,
 * no gateway design reaches the target on this machine.
 */

import { TARGETS, type Figures } from './cpu-targets.ts';

/** The fields of a bench/e2e/run.ts `Run` that the budget reads (e2e.json `runs[]`). */
export interface BudgetRun {
  target: 'echo' | 'baseline' | 'pool';
  store: 'redis' | 'embedded' | null;
  kind: string; // 'peak' | 'open' | …
  load: { paymentsPerS: number; roundTripsPerS: number; windowS: number; saturated: boolean; payments: { completedInWindow: number } };
  cpuPercent: { server: number | null; generator: number | null; redis: number | null };
  cpu: { mainUs: number; workersUs: number; otherUs: number } | null;
}

export interface BudgetRow {
  target: string;
  ratePerS: number; // the payments/s the target asks for
  budgetUs: number; // CPU per payment the machine has at that rate, all processes together
  generatorUs: number | null;
  redisUs: number | null; // the Redis server process
  workersAndOtherUs: number | null; // the pool gateway's threads but the main one
  leftForMainUs: number | null; // budget − the three above
  mainFloorUs: number | null; // the echo server's CPU per payment-equivalent: transport alone
  mainMeasuredUs: number | null; // the pool gateway's main thread at its peak, this run
  /** false: what is left is below the transport floor, so the target is out of reach on this machine. */
  reachable: boolean | null;
}

/** Runs that measure a steady load over Redis (or the echo server): peaks and open-loop shares that kept up. */
const steady = (r: BudgetRun) => (r.kind === 'peak' || r.kind === 'open') && !r.load.saturated && r.load.payments.completedInWindow >= 1_000;

/** CPU µs per payment of a process, from its share of one vCPU over the run's window. */
export function perPaymentUs(percent: number | null, paymentsPerS: number): number | null {
  return percent === null || !(paymentsPerS > 0) ? null : (percent / 100) * (1e6 / paymentsPerS);
}

const cheapest = (xs: (number | null)[]): number | null => {
  const known = xs.filter((x): x is number => x !== null && Number.isFinite(x));
  return known.length === 0 ? null : Math.min(...known);
};

/** The rows for the two throughput targets (cpu-targets.ts TARGETS), from a run's `runs` and its figures. */
export function budgetRows(runs: readonly BudgetRun[], cores: number,
  figures: Pick<Figures, 'baselinePaymentsPerS' | 'echoPaymentsPerS' | 'peak'>, targets: { poolOverBaseline: number; poolOverEcho: number } = TARGETS): BudgetRow[] {
  const overRedis = runs.filter((r) => r.target !== 'echo' && r.store === 'redis' && steady(r));
  const pool = overRedis.filter((r) => r.target === 'pool');
  const generatorUs = cheapest(overRedis.map((r) => perPaymentUs(r.cpuPercent.generator, r.load.paymentsPerS)));
  const redisUs = cheapest(overRedis.map((r) => perPaymentUs(r.cpuPercent.redis, r.load.paymentsPerS)));
  const workersAndOtherUs = cheapest(pool.map((r) => (r.cpu ? r.cpu.workersUs + r.cpu.otherUs : null)));
  // an echo "payment" is two round trips
  const mainFloorUs = cheapest(runs.filter((r) => r.target === 'echo' && steady(r)).map((r) => perPaymentUs(r.cpuPercent.server, r.load.roundTripsPerS / 2)));
  const row = (target: string, ratePerS: number | null): BudgetRow | null => {
    if (ratePerS === null || !(ratePerS > 0)) return null;
    const budgetUs = (cores * 1e6) / ratePerS;
    const outside = generatorUs === null || redisUs === null || workersAndOtherUs === null ? null : generatorUs + redisUs + workersAndOtherUs;
    const leftForMainUs = outside === null ? null : budgetUs - outside;
    return {
      target, ratePerS, budgetUs, generatorUs, redisUs, workersAndOtherUs, leftForMainUs, mainFloorUs, mainMeasuredUs: figures.peak?.cpu?.mainUs ?? null,
      reachable: leftForMainUs === null || mainFloorUs === null ? null : leftForMainUs >= mainFloorUs,
    };
  };
  return [
    row(`pool peak ≥ ${targets.poolOverBaseline} × baseline peak`, figures.baselinePaymentsPerS === null ? null : targets.poolOverBaseline * figures.baselinePaymentsPerS),
    row(`pool peak ≥ ${targets.poolOverEcho} × echo ceiling`, figures.echoPaymentsPerS === null ? null : targets.poolOverEcho * figures.echoPaymentsPerS),
  ].filter((r): r is BudgetRow => r !== null);
}
