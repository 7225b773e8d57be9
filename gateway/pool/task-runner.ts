/**
 * What a crypto worker does with one task (tasks.ts): the batch through CardCrypto as it arrived (the records
 * get their keys in place and go to the core as they are), the answers into one fresh buffer. worker.ts runs
 * it on a piscina thread with that thread's key ring; it is a module of its own so that the pool benchmark
 * can time the same work on a thread of its choosing.
 */
import type { CardCrypto } from '../../issuer/card-crypto.ts';
import { ANSWER_SIZE, type PoolTask, type PoolTaskResult } from './tasks.ts';

/** Runs `task` and zeroes its request buffer, whatever happens. */
export function runPoolTask(crypto: CardCrypto, task: PoolTask): PoolTaskResult {
  const packed = new Uint8Array(task.packed);
  const { kind, count } = task;
  try {
    const answers = new Uint8Array(count * ANSWER_SIZE[kind]);
    if (kind === 'open') crypto.openBatch(packed, count, answers);
    else if (kind === 'pin') crypto.checkPinBatch(packed, count, answers);
    else if (kind === 'enrol') crypto.checkEnrolmentBatch(packed, count, answers);
    else crypto.checkCodeBatch(packed, count, answers);
    return answers.buffer;
  } finally {
    packed.fill(0);
  }
}
