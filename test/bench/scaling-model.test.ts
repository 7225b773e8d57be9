/**
 * The scaling model of bench/e2e/scaling-model.ts (issue 25, item 3): its caps by hand-computed cases, the
 * sizing table's choice of processes, the check against `--processes` rows, and bad inputs refused.
 */
import { describe, expect, it } from 'vitest';
import { checkModel, type ProcessesRow } from '../../bench/e2e/processes.ts';
import { costsOfPhase, ModelInputError, predict, sizingTable } from '../../bench/e2e/scaling-model.ts';

describe('predict', () => {
  it('caps a process at its main thread: 1e6 / mainUs payments/s each', () => {
    // 200 µs serial, 50 µs parallel, Redis 50 µs: on 32 cores one process is main-thread bound at 5,000/s
    const p = predict({ mainUs: 200, parallelUs: 50, redisUs: 50 }, { cores: 32, processes: 1, redisOnHost: false });
    expect(p.bound).toBe('main thread');
    expect(p.paymentsPerS).toBeCloseTo(5_000, 6);
    expect(p.threadsPerProcess).toBe(32);
    expect(p.caps.cores).toBeCloseTo(32e6 / 250, 6);
    expect(p.caps.redis).toBeCloseTo(20_000, 6);
  });

  it('caps the host at its cores: cores × 1e6 / (everything on them)', () => {
    // 4 processes on 4 cores: main cap 20,000, cores cap 4e6 / 250 = 16,000
    const p = predict({ mainUs: 200, parallelUs: 50, redisUs: 10 }, { cores: 4, processes: 4, redisOnHost: false });
    expect(p.bound).toBe('cores');
    expect(p.paymentsPerS).toBeCloseTo(16_000, 6);
    expect(p.perProcessPerS).toBeCloseTo(4_000, 6);
    expect(p.threadsPerProcess).toBe(1);
  });

  it('counts Redis and co-located work on the cores only when they are there', () => {
    const costs = { mainUs: 200, parallelUs: 50, redisUs: 100, colocatedUs: 50 };
    const here = predict(costs, { cores: 2, processes: 2, redisOnHost: true });
    expect(here.caps.cores).toBeCloseTo(2e6 / 400, 6);
    const away = predict({ ...costs, colocatedUs: 0 }, { cores: 2, processes: 2, redisOnHost: false });
    expect(away.caps.cores).toBeCloseTo(2e6 / 250, 6);
  });

  it('caps the whole deployment at one Redis, times its masters', () => {
    const costs = { mainUs: 100, parallelUs: 20, redisUs: 80 };
    const one = predict(costs, { cores: 32, processes: 16, redisOnHost: false });
    expect(one.bound).toBe('redis');
    expect(one.paymentsPerS).toBeCloseTo(12_500, 6);
    const three = predict(costs, { cores: 32, processes: 16, redisOnHost: false, redisShards: 3 });
    expect(three.paymentsPerS).toBeCloseTo(37_500, 6);
  });

  it('caps a process at its workers when cores ÷ processes leaves cores unused', () => {
    // 3 processes on 5 cores: 1 crypto thread each, 3 of the 5 cores for the parallel part
    const p = predict({ mainUs: 10, parallelUs: 400, redisUs: 1 }, { cores: 5, processes: 3, redisOnHost: false });
    expect(p.bound).toBe('workers');
    expect(p.threadsPerProcess).toBe(1);
    expect(p.paymentsPerS).toBeCloseTo((3 * 1e6) / 400, 6);
  });

  it('scales the bound by the efficiency', () => {
    const p = predict({ mainUs: 200, parallelUs: 50, redisUs: 50 }, { cores: 32, processes: 1, redisOnHost: false, efficiency: 0.8 });
    expect(p.paymentsPerS).toBeCloseTo(4_000, 6);
    expect(p.caps['main thread']).toBeCloseTo(5_000, 6);
  });

  it('refuses bad inputs with a ModelInputError', () => {
    const ok = { mainUs: 100, parallelUs: 10, redisUs: 10 };
    const host = { cores: 4, processes: 1, redisOnHost: false };
    for (const [costs, h] of [
      [{ ...ok, mainUs: 0 }, host], [{ ...ok, mainUs: Number.NaN }, host], [{ ...ok, parallelUs: -1 }, host], [{ ...ok, redisUs: 0 }, host],
      [{ ...ok, colocatedUs: -5 }, host], [ok, { ...host, cores: 0 }], [ok, { ...host, cores: 2.5 }], [ok, { ...host, processes: 0 }],
      [ok, { ...host, redisShards: 0 }], [ok, { ...host, efficiency: 0 }], [ok, { ...host, efficiency: 1.5 }],
    ] as const) {
      expect(() => predict(costs, h)).toThrow(ModelInputError);
    }
  });
});

describe('sizingTable', () => {
  it('picks the fewest processes that reach the host\'s best, and the Redis masters it needs', () => {
    // main 200, parallel 100: 4 cores → cores cap 13,333; 2 processes give 10,000 (main), 3 give 13,333
    const rows = sizingTable({ mainUs: 200, parallelUs: 100, redisUs: 100 }, [4, 8]);
    expect(rows[0]).toMatchObject({ cores: 4, processes: 3, gatewayBound: 'cores', oneRedisBound: 'redis', redisShardsNeeded: 2 });
    expect(rows[0]!.gatewayPerS).toBeCloseTo(4e6 / 300, 6);
    expect(rows[0]!.oneRedisPerS).toBeCloseTo(10_000, 6);
    expect(rows[1]).toMatchObject({ cores: 8, processes: 6, redisShardsNeeded: 3 });
    expect(rows[1]!.gatewayPerS).toBeCloseTo(8e6 / 300, 6);
  });
});

describe('costsOfPhase', () => {
  it('takes main as serial, workers + other as parallel, the Redis server as shared', () => {
    expect(costsOfPhase({ cpu: { mainUs: 197, workersUs: 39, otherUs: 28 }, redisServerUs: 84 }, 50))
      .toEqual({ mainUs: 197, parallelUs: 67, redisUs: 84, colocatedUs: 50 });
  });
  it('refuses a phase without CPU or Redis server figures', () => {
    expect(() => costsOfPhase({ cpu: null, redisServerUs: 84 })).toThrow(ModelInputError);
    expect(() => costsOfPhase({ cpu: { mainUs: 1, workersUs: 1, otherUs: 1 }, redisServerUs: null })).toThrow(ModelInputError);
  });
});

describe('checkModel', () => {
  const row = (processes: number, paymentsPerS: number, round = 1): ProcessesRow => ({
    processes, round, threadsEach: 2 / processes, paymentsPerS, p50Ms: 1, p99Ms: 2, errors: {}, mainUs: 200, restUs: 100, generatorUs: 50, redisUs: 50, mainPercent: [],
  });
  it('calibrates on the single-process rows and predicts the others from the same inputs', () => {
    // on 2 cores: main cap 5,000 (1 process), cores cap 2e6 / 400 = 5,000; measured 4,000 → efficiency 0.8
    const check = checkModel([row(1, 4_000), row(2, 3_000), row(1, 4_000, 2), row(2, 3_400, 2)], 2)!;
    expect(check.inputs).toEqual({ mainUs: 200, parallelUs: 100, redisUs: 50, colocatedUs: 50 });
    expect(check.efficiency).toBeCloseTo(0.8, 9);
    expect(check.rows).toHaveLength(2);
    expect(check.rows[1]).toMatchObject({ processes: 2, bound: 'cores', measuredPerS: 3_200 });
    expect(check.rows[1]!.predictedPerS).toBeCloseTo(4_000, 6);
  });
  it('has nothing to say without a measured single-process row', () => {
    expect(checkModel([row(2, 3_000)], 2)).toBeNull();
    expect(checkModel([{ ...row(1, 3_000), mainUs: null }], 2)).toBeNull();
  });
});
