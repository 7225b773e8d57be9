/**
 * What a crypto worker does with one task (tasks.ts): the batch's requests through CardCrypto, the answers
 * into one fresh buffer. worker.ts runs it on a piscina thread with that thread's key ring; it is a module of
 * its own so that the pool benchmark can time the same work on a thread of its choosing.
 */
import type { CardCrypto } from '../../issuer/card-crypto.ts';
import {
  ANSWER_SIZE, REQUEST_SIZE, decodeOpenRequest, decodePinRequest, encodeOpenAnswer, encodePinAnswer,
  type PoolTask, type PoolTaskResult,
} from './tasks.ts';

/** Runs `task` and zeroes its request buffer, whatever happens. */
export function runPoolTask(crypto: CardCrypto, task: PoolTask): PoolTaskResult {
  const packed = new Uint8Array(task.packed);
  const { kind, count } = task;
  try {
    const size = REQUEST_SIZE[kind];
    const answerSize = ANSWER_SIZE[kind];
    const answers = new Uint8Array(count * answerSize);
    if (kind === 'open') {
      const payloads = Array.from({ length: count }, (_, i) => decodeOpenRequest(packed, i * size));
      crypto.openCards(payloads).forEach((opening, i) => encodeOpenAnswer(opening, answers, i * answerSize));
    } else {
      const checks = Array.from({ length: count }, (_, i) => decodePinRequest(packed, i * size));
      crypto.checkPins(checks).forEach((checked, i) => encodePinAnswer(checked, answers, i * answerSize));
    }
    return answers.buffer;
  } finally {
    packed.fill(0);
  }
}
