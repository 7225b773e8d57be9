/**
 * Issue 25's verdict table (bench/e2e/targets.ts): every target judged from its figures, the boundaries, and a
 * figure the run did not measure reported as such, never as met; a target the architecture floor itself misses in
 * the same run, judged the same way, as out of reach.
 */
import { describe, expect, it } from 'vitest';
import { issue25Verdicts, TARGETS, targetsMarkdown, verdictMarkdown, type TargetInputs } from '../../bench/e2e/targets.ts';

const today: TargetInputs = { // the issue's "today" figures
  poolPeak: { paymentsPerS: 2_707, totalUs: 379, mainUs: 288, redisServerCalls: 28, redisServerUs: 91 },
  baselineTotalUs: 322,
  floorTotalUs: 150,
  floor: null,
  poolAt70TotalUs: null,
  receiptSignUs: null,
  echo: { paymentsPerS: 22_000, cpuUs: 24 },
  poolP99At70Ms: 33,
  light: { embeddedMainUs: 1_300, redisMainUs: 2_350 },
  objectApi: { objectUs: 3.61, packedUs: 2.28, date: '2026-12-02T04:14:28.125Z' },
};

describe('issue25Verdicts', () => {
  it('judges every target, in the issue\'s order, from the same figures', () => {
    const rows = issue25Verdicts(today);
    expect(rows.map((r) => r.id)).toEqual(Object.keys(TARGETS));
    const byId = Object.fromEntries(rows.map((r) => [r.id, r]));
    expect(byId.poolCpuOverBaseline!.value).toBeCloseTo(379 / 322, 9);
    expect(byId.poolCpuOverBaseline!.verdict).toBe('not met');
    expect(byId.poolCpuOverFloor!.value).toBeCloseTo(379 / 150, 9);
    expect(byId.redisCallsPerPayment).toMatchObject({ value: 28, verdict: 'not met' });
    expect(byId.redisUsPerPayment).toMatchObject({ value: 91, limit: 45.5, verdict: 'not met' });
    expect(byId.mainOverEchoCpu!.value).toBeCloseTo(12, 9);
    expect(byId.poolOverEchoCeiling!.value).toBeCloseTo(2_707 / 22_000, 9);
    expect(byId.poolOverEchoCeiling!.verdict).toBe('not met');
    expect(byId.p99At70Ms).toMatchObject({ value: 33, verdict: 'not met' });
    expect(byId.objectOverPacked!.value).toBeCloseTo(3.61 / 2.28, 9);
    expect(byId.lightMainUs).toMatchObject({ value: 1_300, verdict: 'met' }); // "≤ 1.3 ms": the limit itself meets it
  });

  it('meets each target at its boundary the way the issue words it (≤, ≥, and < for the p99)', () => {
    const rows = issue25Verdicts({
      poolPeak: { paymentsPerS: 5_500, totalUs: 150, mainUs: 96, redisServerCalls: 12, redisServerUs: 45.5 },
      baselineTotalUs: 200, floorTotalUs: 100, floor: null, poolAt70TotalUs: null, receiptSignUs: null, echo: { paymentsPerS: 22_000, cpuUs: 24 }, poolP99At70Ms: 25,
      light: { embeddedMainUs: 900, redisMainUs: null }, objectApi: { objectUs: 2.3, packedUs: 2, date: '2026-12-06' },
    });
    const verdict = Object.fromEntries(rows.map((r) => [r.id, r.verdict]));
    expect(verdict).toEqual({
      poolCpuOverBaseline: 'met', poolCpuOverFloor: 'met', redisCallsPerPayment: 'met', redisUsPerPayment: 'met', mainOverEchoCpu: 'met',
      poolOverEchoCeiling: 'met', p99At70Ms: 'not met', objectOverPacked: 'met', lightMainUs: 'met',
    });
    expect(issue25Verdicts({ ...today, poolP99At70Ms: 24.99 }).find((r) => r.id === 'p99At70Ms')!.verdict).toBe('met');
  });

  it('says "not measured" for what the run left out, never "met"', () => {
    const rows = issue25Verdicts({ poolPeak: null, baselineTotalUs: null, floorTotalUs: null, floor: null, poolAt70TotalUs: null, receiptSignUs: null, echo: null, poolP99At70Ms: null, light: null, objectApi: null });
    expect(rows.every((r) => r.verdict === 'not measured' && r.value === null)).toBe(true);
    const noBaseline = issue25Verdicts({ ...today, baselineTotalUs: null, echo: { paymentsPerS: 22_000, cpuUs: null } });
    expect(noBaseline.find((r) => r.id === 'poolCpuOverBaseline')!.verdict).toBe('not measured');
    expect(noBaseline.find((r) => r.id === 'mainOverEchoCpu')!.verdict).toBe('not measured');
    expect(noBaseline.find((r) => r.id === 'poolOverEchoCeiling')!.verdict).toBe('not met');
  });
});

describe('the floor beside each target', () => {
  // the full run of 2026-12-06 16:41 with the floor's own figures of a later run
  const run: TargetInputs = {
    ...today,
    poolPeak: { paymentsPerS: 2_040, totalUs: 448, mainUs: 305, redisServerCalls: 38.4, redisServerUs: 232 },
    floorTotalUs: 98, poolAt70TotalUs: 688, receiptSignUs: 47, echo: { paymentsPerS: 26_793, cpuUs: 20.7 }, poolP99At70Ms: 49.6,
    floor: { paymentsPerS: 9_675, mainUs: 84, redisServerCalls: 6, p99At70Ms: 29.7, atPoolRate: { totalUs: 401 }, atPoolPeakRate: { paymentsPerS: 2_040, redisServerUs: 90 } },
  };
  const byId = (inputs: TargetInputs) => Object.fromEntries(issue25Verdicts(inputs).map((r) => [r.id, r]));

  it('calls a target the floor misses too "out of reach", judged as the target is; one the floor meets stays "not met"', () => {
    const rows = byId(run);
    expect(rows.p99At70Ms).toMatchObject({ value: 49.6, floor: { value: 29.7 }, verdict: 'out of reach' });
    expect(rows.mainOverEchoCpu!.floor!.value).toBeCloseTo(84 / 20.7, 9); // 4.06: the floor alone misses ≤ 4
    expect(rows.mainOverEchoCpu!.verdict).toBe('out of reach');
    expect(rows.redisUsPerPayment).toMatchObject({ floor: { value: 90 }, verdict: 'out of reach' });
    expect(rows.redisCallsPerPayment).toMatchObject({ floor: { value: 6 }, verdict: 'not met' });
    expect(rows.poolOverEchoCeiling!.floor!.value).toBeCloseTo(9_675 / 26_793, 9); // ≥ 0.25: the floor reaches it
    expect(rows.poolOverEchoCeiling!.verdict).toBe('not met');
    expect(rows.poolCpuOverBaseline!.floor).toBeNull();
    // the floor plus the one signature each captured payment needs: (98 + 47) ÷ 98 = 1.48 ≤ 1.5, so not out of reach
    expect(rows.poolCpuOverFloor).toMatchObject({ floor: { value: (98 + 47) / 98 }, verdict: 'not met' });
    expect(byId({ ...run, receiptSignUs: 52 }).poolCpuOverFloor).toMatchObject({ floor: { value: 150 / 98 }, verdict: 'out of reach' });
    expect(rows.poolCpuOverFloor!.detail).toBe('448 ÷ 98 µs; at one arrival rate, the pool\'s 70 %: 688 ÷ 401 µs = 1.72×');
  });

  it('never lets the floor turn a met target or an unmeasured one into anything else', () => {
    const met = byId({ ...run, poolP99At70Ms: 20 });
    expect(met.p99At70Ms!.verdict).toBe('met');
    const unmeasured = byId({ ...run, poolPeak: null });
    expect(unmeasured.mainOverEchoCpu!.verdict).toBe('not measured');
    // the floor's p99 below the limit: the pool's miss is its own
    expect(byId({ ...run, floor: { ...run.floor!, p99At70Ms: 24.99 } }).p99At70Ms!.verdict).toBe('not met');
    // at the limit the floor misses "< 25 ms" as the pool would
    expect(byId({ ...run, floor: { ...run.floor!, p99At70Ms: 25 } }).p99At70Ms!.verdict).toBe('out of reach');
    expect(byId({ ...run, floor: null }).p99At70Ms).toMatchObject({ floor: null, verdict: 'not met' });
  });

  it('shows the floor\'s figure in its own column', () => {
    const md = verdictMarkdown(issue25Verdicts(run));
    expect(md).toContain('| 49.60 ms | open loop, latency from each payment\'s scheduled start | 29.70 ms (29.70 ms at 70 % of its own peak) | **out of reach** |');
    expect(md).toContain('| 4.06× (84 ÷ 21 µs at its peak) | **out of reach** |');
  });
});

describe('the Markdown', () => {
  it('has one row per target with its measured figure and verdict', () => {
    const md = verdictMarkdown(issue25Verdicts(today));
    const lines = md.split('\n');
    expect(lines).toHaveLength(2 + Object.keys(TARGETS).length);
    expect(md).toContain('| 1.18× | 379 ÷ 322 µs | — | **not met** |');
    expect(md).toContain('| 28.00 calls |');
    expect(md).toContain('| 1,300 µs |');
  });
  it('places the verdicts, the --processes rows against the model and the sizing table in the section', () => {
    const md = targetsMarkdown({
      command: 'npm run bench:e2e -- --quick', date: '2026-12-06T10:00:00.000Z', note: 'the quick run of 2026-12-06 10:00 UTC, load average 1 1 1',
      verdicts: issue25Verdicts(today),
      processes: {
        plan: { counts: [1, 2], rounds: 1, connections: 64, warmupS: 2, rampS: 2, durationS: 8, maxPayments: 1, requestTimeoutMs: 1, deadlineS: 1 },
        rows: [{ processes: 1, round: 1, threadsEach: 2, paymentsPerS: 1_000, p50Ms: 1, p99Ms: 2, errors: {}, mainUs: 500, restUs: 100, generatorUs: 50, redisUs: 100, mainPercent: [50] }],
        check: { inputs: { mainUs: 500, parallelUs: 100, redisUs: 100, colocatedUs: 50 }, cores: 2, efficiency: 0.5, note: 'n', rows: [{ processes: 1, boundPerS: 2_000, bound: 'main thread', predictedPerS: 1_000, measuredPerS: 1_000 }] },
      },
      sizing: { inputs: { mainUs: 500, parallelUs: 100, redisUs: 100 }, rows: [{ cores: 4, processes: 4, gatewayPerS: 6_667, gatewayBound: 'cores', perProcessPerS: 1_667, oneRedisPerS: 6_667, oneRedisBound: 'cores', redisShardsNeeded: 1 }] },
    });
    expect(md).toMatch(/^## Issue 25's targets — 2026-12-06\n/);
    expect(md).toContain('`npm run bench:e2e -- --quick`, the quick run of 2026-12-06 10:00 UTC, load average 1 1 1');
    expect(md).toContain('| 1 | 1 | 2 | 1,000 | 1.0 / 2.0 | 500 | 100 | 50 | 100 | 50 |');
    expect(md).toContain('| 1 | 2,000 | main thread | 1,000 | 1,000 | 1.00 |');
    expect(md).toContain('| 4 | 4 | 1,667 | 6,667 | cores | 6,667 | cores | 1 |');
  });
});
