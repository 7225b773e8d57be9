/**
 * The arithmetic of bench/e2e/budget.ts: what the machine's vCPUs leave for the gateway's main thread at the
 * rate a throughput target asks for. No timing here: the inputs are made-up runs.
 */
import { describe, expect, it } from 'vitest';
import { budgetRows, perPaymentUs, type BudgetRun } from '../../bench/e2e/budget.ts';
import type { Phase } from '../../bench/e2e/cpu-targets.ts';

/** The pool's peak phase, as far as the budget reads it: its main thread's CPU per payment. */
const peakWithMain = (mainUs: number) => ({ cpu: { mainUs } }) as Phase;

const run = (over: Partial<BudgetRun> & Pick<BudgetRun, 'target'>, perS: number, pct: BudgetRun['cpuPercent'], cpu: BudgetRun['cpu'] = null): BudgetRun => ({
  store: over.target === 'echo' ? null : 'redis', kind: 'peak',
  load: { paymentsPerS: perS, roundTripsPerS: perS * 2, windowS: 10, saturated: false, payments: { completedInWindow: perS * 10 } },
  cpuPercent: pct, cpu, ...over,
});

describe('perPaymentUs', () => {
  it('turns a share of one vCPU into µs per payment', () => {
    expect(perPaymentUs(20, 4_000)).toBeCloseTo(50); // 0.2 s of CPU per second over 4,000 payments
    expect(perPaymentUs(null, 4_000)).toBeNull();
    expect(perPaymentUs(20, 0)).toBeNull();
  });
});

describe('budgetRows', () => {
  const targets = { poolOverBaseline: 2.5, poolOverEcho: 0.35 };
  const runs: BudgetRun[] = [
    run({ target: 'baseline' }, 4_000, { server: 100, generator: 20, redis: 28 }, { mainUs: 230, workersUs: 0, otherUs: 20 }), // gen 50, redis 70
    run({ target: 'pool' }, 3_000, { server: 100, generator: 18, redis: 30 }, { mainUs: 220, workersUs: 50, otherUs: 30 }), // gen 60, redis 100
    run({ target: 'pool', kind: 'open' }, 1_000, { server: 60, generator: 15, redis: 20 }, { mainUs: 500, workersUs: 150, otherUs: 50 }),
    // ignored: over capacity, too short, light, embedded
    run({ target: 'pool', kind: 'open', load: { paymentsPerS: 3_500, roundTripsPerS: 7_000, windowS: 10, saturated: true, payments: { completedInWindow: 35_000 } } }, 0, { server: 100, generator: 1, redis: 1 }, { mainUs: 1, workersUs: 1, otherUs: 1 }),
    run({ target: 'pool', kind: 'light', load: { paymentsPerS: 8, roundTripsPerS: 16, windowS: 25, saturated: false, payments: { completedInWindow: 200 } } }, 0, { server: 1, generator: 0.01, redis: 0.01 }, { mainUs: 900, workersUs: 1, otherUs: 1 }),
    run({ target: 'pool', store: 'embedded' }, 3_600, { server: 120, generator: 1, redis: 0 }, { mainUs: 160, workersUs: 1, otherUs: 1 }),
    run({ target: 'echo' }, 30_000, { server: 60, generator: 100, redis: 0 }), // 60 % over 30,000 two-round-trip payments: 20 µs
  ];

  it('subtracts the cheapest measured cost outside the main thread from what the vCPUs give at the target rate', () => {
    const rows = budgetRows(runs, 2, { baselinePaymentsPerS: 4_000, echoPaymentsPerS: 30_000, peak: peakWithMain(220) }, targets);
    expect(rows.map((r) => r.target)).toEqual(['pool peak ≥ 2.5 × baseline peak', 'pool peak ≥ 0.35 × echo ceiling']);
    const [vsBaseline, vsEcho] = rows;
    expect(vsBaseline!.ratePerS).toBe(10_000);
    expect(vsBaseline!.budgetUs).toBeCloseTo(200);
    expect(vsBaseline!.generatorUs).toBeCloseTo(50);
    expect(vsBaseline!.redisUs).toBeCloseTo(70);
    expect(vsBaseline!.workersAndOtherUs).toBeCloseTo(80);
    expect(vsBaseline!.leftForMainUs).toBeCloseTo(0);
    expect(vsBaseline!.mainFloorUs).toBeCloseTo(20);
    expect(vsBaseline!.mainMeasuredUs).toBe(220);
    expect(vsBaseline!.reachable).toBe(false);
    expect(vsEcho!.ratePerS).toBe(10_500);
    expect(vsEcho!.leftForMainUs).toBeCloseTo(2e6 / 10_500 - 200);
    expect(vsEcho!.reachable).toBe(false);
  });

  it('calls a target within reach when what is left covers the transport floor', () => {
    const [row] = budgetRows(runs, 4, { baselinePaymentsPerS: 4_000, echoPaymentsPerS: null, peak: null }, targets);
    expect(row!.budgetUs).toBeCloseTo(400);
    expect(row!.leftForMainUs).toBeCloseTo(200);
    expect(row!.reachable).toBe(true);
  });

  it('gives no verdict without the figures it needs', () => {
    expect(budgetRows(runs, 2, { baselinePaymentsPerS: null, echoPaymentsPerS: null, peak: null }, targets)).toEqual([]);
    const [row] = budgetRows(runs.filter((r) => r.target !== 'echo'), 2, { baselinePaymentsPerS: 4_000, echoPaymentsPerS: null, peak: null });
    expect(row!.mainFloorUs).toBeNull();
    expect(row!.reachable).toBeNull();
  });
});
