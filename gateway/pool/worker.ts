/**
 * A piscina worker: instantiates the WASM core once, then runs packed DVD-1 batches. Inputs arrive as
 * transferred buffers (no copy), outputs leave the same way; every buffer that held secrets is zeroed.
 */
import { move } from 'piscina';
import { loadCoreSync } from '../../core/index.ts';
import { OUTPUT_SIZE, type PoolTask, type PoolTaskResult } from './tasks.ts';

const core = loadCoreSync();

export default function runTask(task: PoolTask): PoolTaskResult {
  const packed = new Uint8Array(task.packed);
  try {
    const { outputs, statuses } = task.kind === 'dvd1'
      ? (({ cryptograms, statuses }) => ({ outputs: cryptograms, statuses }))(core.dvd1BatchPacked(packed, task.count))
      : (({ opened, statuses }) => ({ outputs: opened, statuses }))(core.dvd1OpenBatchPacked(packed, task.count));
    const result = new Uint8Array(task.count * (OUTPUT_SIZE[task.kind] + 1));
    result.set(outputs);
    result.set(statuses, outputs.length);
    outputs.fill(0);
    return move(result.buffer) as PoolTaskResult;
  } finally {
    packed.fill(0);
  }
}
