/**
 * Times DVD-1 implementations per record with tinybench: one task per (implementation, batch size),
 * each call runs one batch, and the per-record cost is the call latency divided by the batch size.
 * Successive calls walk through the record pool batch by batch, so no call repeats the previous inputs.
 */
import { Bench } from 'tinybench';
import type { Dvd1Record, Dvd1Result } from '../../core/types.ts';

export interface Dvd1Implementation {
  name: string;
  run(records: readonly Dvd1Record[]): Dvd1Result[];
}

/** tinybench budgets: per-task measured time and minimum calls, and the same for warmup (if any). */
export interface Budget {
  timeMs: number;
  iterations: number;
  warmup: boolean;
  warmupTimeMs: number;
  warmupIterations: number;
}

export interface Measurement {
  implementation: string;
  batch: number;
  usPerRecord: number; // mean call latency / batch
  p50UsPerRecord: number; // median call latency / batch
  rmePercent: number; // relative margin of error of the mean (95%)
  calls: number;
}

/** Consecutive batches of `size` records covering `pool` (whose length must be a multiple of size). */
function batches(pool: readonly Dvd1Record[], size: number): Dvd1Record[][] {
  if (pool.length % size !== 0) throw new RangeError(`pool of ${pool.length} is not a multiple of batch ${size}`);
  const out: Dvd1Record[][] = [];
  for (let i = 0; i < pool.length; i += size) out.push(pool.slice(i, i + size));
  return out;
}

export async function measure(
  implementations: readonly Dvd1Implementation[],
  batchSizes: readonly number[],
  pool: readonly Dvd1Record[],
  budget: Budget,
): Promise<Measurement[]> {
  const bench = new Bench({
    name: 'DVD-1 per record',
    time: budget.timeMs,
    iterations: budget.iterations,
    warmup: budget.warmup,
    warmupTime: budget.warmupTimeMs,
    warmupIterations: budget.warmupIterations,
    throws: true,
  });
  const keys = new Map<string, { implementation: string; batch: number }>();
  for (const batch of batchSizes) {
    const inputs = batches(pool, batch);
    for (const impl of implementations) {
      const key = `${impl.name} ×${batch}`;
      keys.set(key, { implementation: impl.name, batch });
      let next = 0;
      bench.add(
        key,
        () => {
          impl.run(inputs[next]!);
          next = (next + 1) % inputs.length;
        },
        { async: false },
      );
    }
  }
  await bench.run();

  return bench.tasks.map((task) => {
    const { implementation, batch } = keys.get(task.name)!;
    const result = task.result;
    if (result.state !== 'completed') throw new Error(`${task.name}: tinybench state ${result.state}`);
    return {
      implementation,
      batch,
      usPerRecord: (result.latency.mean * 1000) / batch,
      p50UsPerRecord: (result.latency.p50 * 1000) / batch,
      rmePercent: result.latency.rme,
      calls: result.latency.samplesCount,
    };
  });
}

/** One function of pre-packed batches (each call takes the next one), timed like `measure`: µs per record. */
export async function measurePackedBatches(
  run: (packed: Uint8Array, count: number) => unknown,
  batches: readonly Uint8Array[],
  batch: number,
  budget: Budget,
): Promise<{ batch: number; usPerRecord: number; p50UsPerRecord: number }> {
  const bench = new Bench({
    name: 'DVD-1 per record, packed',
    time: budget.timeMs,
    iterations: budget.iterations,
    warmup: budget.warmup,
    warmupTime: budget.warmupTimeMs,
    warmupIterations: budget.warmupIterations,
    throws: true,
  });
  let next = 0;
  bench.add('packed', () => {
    run(batches[next]!, batch);
    next = (next + 1) % batches.length;
  }, { async: false });
  await bench.run();
  const result = bench.tasks[0]!.result;
  if (result.state !== 'completed') throw new Error(`packed: tinybench state ${result.state}`);
  return { batch, usPerRecord: (result.latency.mean * 1000) / batch, p50UsPerRecord: (result.latency.p50 * 1000) / batch };
}
