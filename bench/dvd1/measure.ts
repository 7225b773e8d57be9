/**
 * Times DVD-1 implementations per record with tinybench: one task per (implementation, batch size),
 * each call runs one batch, and the per-record cost is the call latency divided by the batch size.
 * Successive calls walk through the record pool batch by batch, so no call repeats the previous inputs.
 *
 * The machine is shared and its speed moves minute to minute, so the time of each task is split into
 * rounds, and every round runs every task once, in a new shuffled order: a slow spell lands on all of
 * them alike instead of on whichever task it happened to meet. A task's median is the median of its
 * per-round medians.
 */
import { Bench } from 'tinybench';
import type { Dvd1Record, Dvd1Result } from '../../core/types.ts';
import { median } from '../lib/stats.ts';

export interface Dvd1Implementation {
  name: string;
  run(records: readonly Dvd1Record[]): Dvd1Result[];
}

/** Something else to time beside the implementations: `call` gets each of `inputs` in turn. */
export interface ExtraTask<T> {
  implementation: string;
  batch: number; // records per call
  inputs: readonly T[];
  call(input: T): unknown;
}

/**
 * tinybench budgets: per-task measured time (split over `rounds`) and minimum calls per round, and
 * the warmup before the first round (if any).
 */
export interface Budget {
  timeMs: number;
  rounds: number;
  iterations: number;
  warmup: boolean;
  warmupTimeMs: number;
  warmupIterations: number;
}

export interface Measurement {
  implementation: string;
  batch: number;
  usPerRecord: number; // mean call latency / batch (mean of the rounds' means)
  p50UsPerRecord: number; // median call latency / batch (median of the rounds' medians)
  rmePercent: number; // relative margin of error of the mean (95%), largest of the rounds
  calls: number;
}

interface Task {
  key: string;
  implementation: string;
  batch: number;
  call: () => void;
}

/** Consecutive batches of `size` records covering `pool` (whose length must be a multiple of size). */
function batches(pool: readonly Dvd1Record[], size: number): Dvd1Record[][] {
  if (pool.length % size !== 0) throw new RangeError(`pool of ${pool.length} is not a multiple of batch ${size}`);
  const out: Dvd1Record[][] = [];
  for (let i = 0; i < pool.length; i += size) out.push(pool.slice(i, i + size));
  return out;
}

/** A call that takes the next input each time. */
function cycling<T>(inputs: readonly T[], call: (input: T) => unknown): () => void {
  let next = 0;
  return () => {
    call(inputs[next]!);
    next = (next + 1) % inputs.length;
  };
}

function shuffled<T>(xs: readonly T[]): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

export async function measure(
  implementations: readonly Dvd1Implementation[],
  batchSizes: readonly number[],
  pool: readonly Dvd1Record[],
  budget: Budget,
  extra: readonly ExtraTask<unknown>[] = [],
): Promise<Measurement[]> {
  const tasks: Task[] = [];
  for (const batch of batchSizes) {
    const inputs = batches(pool, batch);
    for (const impl of implementations) {
      tasks.push({ key: `${impl.name} ×${batch}`, implementation: impl.name, batch, call: cycling(inputs, (records) => impl.run(records)) });
    }
  }
  for (const x of extra) tasks.push({ key: `${x.implementation} ×${x.batch}`, implementation: x.implementation, batch: x.batch, call: cycling(x.inputs, x.call) });

  const rounds = new Map(tasks.map((t) => [t.key, { means: [] as number[], p50s: [] as number[], rme: 0, calls: 0 }]));
  for (let round = 0; round < budget.rounds; round++) {
    const warmup = budget.warmup && round === 0;
    const bench = new Bench({
      name: `DVD-1 per record, round ${round + 1}`,
      time: budget.timeMs / budget.rounds,
      iterations: budget.iterations,
      warmup,
      warmupTime: budget.warmupTimeMs,
      warmupIterations: budget.warmupIterations,
      throws: true,
    });
    for (const task of shuffled(tasks)) bench.add(task.key, task.call, { async: false });
    await bench.run();
    for (const t of bench.tasks) {
      const result = t.result;
      if (result.state !== 'completed') throw new Error(`${t.name}: tinybench state ${result.state}`);
      const r = rounds.get(t.name)!;
      r.means.push(result.latency.mean);
      r.p50s.push(result.latency.p50);
      r.rme = Math.max(r.rme, result.latency.rme);
      r.calls += result.latency.samplesCount;
    }
  }

  return tasks.map((task) => {
    const r = rounds.get(task.key)!;
    return {
      implementation: task.implementation,
      batch: task.batch,
      usPerRecord: (r.means.reduce((a, b) => a + b, 0) / r.means.length * 1000) / task.batch,
      p50UsPerRecord: (median(r.p50s) * 1000) / task.batch,
      rmePercent: r.rme,
      calls: r.calls,
    };
  });
}
