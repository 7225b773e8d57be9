/**
 * Issue 25, item 3: how many payments/s a gateway process, and N of them on a host of C cores, can carry, from
 * per-thread CPU costs per payment that bench:e2e measures on its 2 vCPUs. A bound model, no queueing:
 *
 *   main thread (serial):   one per process, so a process carries at most 1e6 / mainUs payments/s;
 *   workers + other (parallel): the crypto workers and V8's helper threads of the process, spread over its
 *                           threads (cores ÷ processes, at least 1, as `--processes` gives each process);
 *   cores:                  everything that runs on the host's cores per payment (main + parallel, plus what
 *                           else is co-located: on the benchmark box the load generator and the Redis server)
 *                           fits in cores × 1e6 µs per second;
 *   Redis (shared):         one redis-server runs on one thread, for every gateway process together, so the
 *                           whole deployment carries at most shards × 1e6 / redisUs payments/s (a cluster
 *                           spreads payments over its masters by card).
 *
 * A prediction is the least of those caps, times `efficiency`: the share of the bound a closed loop reached
 * where it was measured (1: the ideal bound). The generator is no part of a deployment: leave `colocatedUs` at 0
 * for a gateway host. The model knows nothing of contention (locks, cache, the kernel's share of the NIC), so
 * it is an upper bound that the `--processes` rows of bench:e2e check on this machine.
 *
 *   npx tsx bench/e2e/scaling-model.ts [bench/results/e2e.json]   the sizing table and, when the file holds
 *                                                                 `--processes` rows, prediction against measurement
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** CPU per payment, µs, by where it runs. */
export interface PaymentCosts {
  /** The gateway's main thread (uWS, the flow, the Redis client): serial within a process. */
  mainUs: number;
  /** The rest of the gateway process (crypto workers, GC and compiler threads): parallel within a process. */
  parallelUs: number;
  /** The Redis server's own CPU: one single-threaded server shared by every gateway process. */
  redisUs: number;
  /** Anything else on the same cores per payment (the load generator on the benchmark box); 0 on a gateway host. */
  colocatedUs?: number;
}

export interface Host {
  /** Cores the gateway processes may use (whole cores; the benchmark box: 2 vCPUs). */
  cores: number;
  /** Gateway processes (`--processes N`). */
  processes: number;
  /** Does the Redis server run on these same cores (the benchmark box) or elsewhere (a sized deployment)? */
  redisOnHost: boolean;
  /** Redis masters the payments spread over (default 1: one redis-server). */
  redisShards?: number;
  /** The share of the bound reached where it was measured, 0 < efficiency ≤ 1 (default 1). */
  efficiency?: number;
}

export type Bound = 'main thread' | 'workers' | 'cores' | 'redis';

export interface Prediction {
  /** The whole host, payments/s (the least cap, times efficiency). */
  paymentsPerS: number;
  /** One process's share of it. */
  perProcessPerS: number;
  /** The cap that set it. */
  bound: Bound;
  /** Each cap, payments/s, before efficiency. */
  caps: Record<Bound, number>;
  /** Crypto threads each process gets (cores ÷ processes, at least 1). */
  threadsPerProcess: number;
}

/** A bad model input: a typed error, nothing computed. */
export class ModelInputError extends Error {
  override name = 'ModelInputError';
}

function check(costs: PaymentCosts, host: Host): void {
  const positive = (x: number) => Number.isFinite(x) && x > 0;
  if (!positive(costs.mainUs)) throw new ModelInputError(`mainUs must be > 0 µs (got ${costs.mainUs})`);
  if (!(Number.isFinite(costs.parallelUs) && costs.parallelUs >= 0)) throw new ModelInputError(`parallelUs must be ≥ 0 µs (got ${costs.parallelUs})`);
  if (!positive(costs.redisUs)) throw new ModelInputError(`redisUs must be > 0 µs (got ${costs.redisUs})`);
  if (!(Number.isFinite(costs.colocatedUs ?? 0) && (costs.colocatedUs ?? 0) >= 0)) throw new ModelInputError(`colocatedUs must be ≥ 0 µs (got ${costs.colocatedUs})`);
  if (!(Number.isSafeInteger(host.cores) && host.cores >= 1)) throw new ModelInputError(`cores must be a whole number ≥ 1 (got ${host.cores})`);
  if (!(Number.isSafeInteger(host.processes) && host.processes >= 1)) throw new ModelInputError(`processes must be a whole number ≥ 1 (got ${host.processes})`);
  const shards = host.redisShards ?? 1;
  if (!(Number.isSafeInteger(shards) && shards >= 1)) throw new ModelInputError(`redisShards must be a whole number ≥ 1 (got ${shards})`);
  const e = host.efficiency ?? 1;
  if (!(Number.isFinite(e) && e > 0 && e <= 1)) throw new ModelInputError(`efficiency must be in (0, 1] (got ${e})`);
}

/** Payments/s of `host.processes` gateway processes on `host.cores` cores, and which resource caps it. */
export function predict(costs: PaymentCosts, host: Host): Prediction {
  check(costs, host);
  const threadsPerProcess = Math.max(1, Math.floor(host.cores / host.processes));
  const onCores = costs.mainUs + costs.parallelUs + (costs.colocatedUs ?? 0) + (host.redisOnHost ? costs.redisUs : 0);
  const caps: Record<Bound, number> = {
    'main thread': (host.processes * 1e6) / costs.mainUs,
    workers: costs.parallelUs > 0 ? (host.processes * threadsPerProcess * 1e6) / costs.parallelUs : Infinity,
    cores: (host.cores * 1e6) / onCores,
    redis: ((host.redisShards ?? 1) * 1e6) / costs.redisUs,
  };
  // ties go to the first named: the main thread, then the workers, the cores, Redis
  const bound = (Object.keys(caps) as Bound[]).reduce((a, b) => (caps[b] < caps[a] ? b : a));
  const paymentsPerS = caps[bound] * (host.efficiency ?? 1);
  return { paymentsPerS, perProcessPerS: paymentsPerS / host.processes, bound, caps, threadsPerProcess };
}

export interface SizingRow {
  cores: number;
  /** The fewest processes that reach the host's best figure without Redis in the way. */
  processes: number;
  /** The gateway host alone (Redis not capping: enough shards), and its bound. */
  gatewayPerS: number;
  gatewayBound: Bound;
  perProcessPerS: number;
  /** Over one redis-server (off the host): the same host capped by Redis. */
  oneRedisPerS: number;
  oneRedisBound: Bound;
  /** Redis masters needed so that Redis does not cap the host. */
  redisShardsNeeded: number;
}

/**
 * The sizing table: for each core count, the processes that serve it best (1 … cores, the fewest reaching the
 * most), with Redis off the host; the host alone, and over one redis-server.
 */
export function sizingTable(costs: PaymentCosts, cores: readonly number[], efficiency = 1): SizingRow[] {
  return cores.map((c) => {
    let best: { processes: number; p: Prediction } | null = null;
    for (let n = 1; n <= c; n++) {
      const p = predict(costs, { cores: c, processes: n, redisOnHost: false, redisShards: Number.MAX_SAFE_INTEGER, efficiency });
      if (!best || p.paymentsPerS > best.p.paymentsPerS * (1 + 1e-9)) best = { processes: n, p };
    }
    const { processes, p } = best!;
    const one = predict(costs, { cores: c, processes, redisOnHost: false, efficiency });
    return {
      cores: c, processes, gatewayPerS: p.paymentsPerS, gatewayBound: p.bound, perProcessPerS: p.perProcessPerS,
      oneRedisPerS: one.paymentsPerS, oneRedisBound: one.bound,
      redisShardsNeeded: Math.max(1, Math.ceil(p.paymentsPerS / (one.caps.redis * efficiency))),
    };
  });
}

/** The model's inputs from one measured phase of bench:e2e (e2e.json `cpu.figures.peak` and its run). */
export function costsOfPhase(phase: { cpu: { mainUs: number; workersUs: number; otherUs: number } | null; redisServerUs?: number | null }, generatorUs = 0): PaymentCosts {
  if (!phase.cpu) throw new ModelInputError('the phase has no CPU figures');
  if (phase.redisServerUs == null) throw new ModelInputError('the phase has no Redis server CPU (a shared Redis?)');
  return { mainUs: phase.cpu.mainUs, parallelUs: phase.cpu.workersUs + phase.cpu.otherUs, redisUs: phase.redisServerUs, colocatedUs: generatorUs };
}

export const SIZING_CORES = [4, 8, 16, 32] as const;

// ---- CLI ---------------------------------------------------------------------------------------------------

/* eslint-disable @typescript-eslint/no-explicit-any -- reads our own JSON (bench/e2e/run.ts's report) */
function main(file: string): void {
  const report = JSON.parse(readFileSync(file, 'utf8')) as any;
  const fmt = (x: number, d = 0) => (Number.isFinite(x) ? x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : '∞');
  const peak = report.cpu?.figures?.peak;
  if (!peak) throw new ModelInputError(`${file}: no pool peak figures (cpu.figures.peak)`);
  // reports before the Redis server's CPU per payment was kept: from the peak run's Redis CPU share
  const peakRun = (report.runs ?? []).find((r: any) => r.target === 'pool' && r.kind === 'peak' && r.connections === peak.connections && r.load?.paymentsPerS === peak.paymentsPerS);
  const redisFromShare = peak.redisServerUs == null && peakRun?.cpuPercent?.redis != null ? (peakRun.cpuPercent.redis / 100) * 1e6 / peak.paymentsPerS : null;
  const costs = costsOfPhase({ ...peak, redisServerUs: peak.redisServerUs ?? redisFromShare });
  console.log(`${file} (${report.mode}, ${report.date}): pool peak ${fmt(peak.paymentsPerS)} payments/s; per payment main ${fmt(costs.mainUs)} µs, `
    + `workers + other ${fmt(costs.parallelUs)} µs, Redis server ${fmt(costs.redisUs)} µs${redisFromShare !== null ? ' (from the Redis server\'s CPU share over the peak window)' : ''}`);
  console.table(sizingTable(costs, SIZING_CORES).map((r) => ({
    cores: r.cores, processes: r.processes, 'per process /s': fmt(r.perProcessPerS), 'host alone /s': fmt(r.gatewayPerS), bound: r.gatewayBound,
    'over one Redis /s': fmt(r.oneRedisPerS), 'bound ': r.oneRedisBound, 'Redis masters needed': r.redisShardsNeeded,
  })));
  const check = report.processes?.check;
  if (check) {
    console.log('\nprediction against the --processes runs of the same report (this box: 2 vCPUs, generator and Redis on them):');
    console.table(check.rows.map((r: any) => ({
      processes: r.processes, 'bound /s': fmt(r.boundPerS), bound: r.bound, 'predicted /s': fmt(r.predictedPerS), 'measured /s': fmt(r.measuredPerS), 'measured ÷ predicted': fmt(r.measuredPerS / r.predictedPerS, 2),
    })));
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv[2] ?? fileURLToPath(new URL('../results/e2e.json', import.meta.url)));
}
