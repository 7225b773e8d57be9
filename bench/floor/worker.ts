/**
 * The floor's piscina worker: a batch arrives as one transferred buffer of `count` requests and leaves as one
 * transferred buffer of `count` answers, the sizes of the gateway's own tasks (gateway/pool/tasks.ts), with
 * trivial work in between (each answer's first byte is its request's), so what the floor pays per task is the
 * hop itself: the message, the transfer, the wake-up of the thread and of the main thread.
 */
import { move } from 'piscina';

export interface FloorTask {
  packed: ArrayBuffer; // count × requestSize bytes, transferred
  count: number;
  requestSize: number;
  answerSize: number;
}

export default function runFloorTask(task: FloorTask): ArrayBuffer {
  const requests = new Uint8Array(task.packed);
  const answers = new Uint8Array(task.count * task.answerSize);
  for (let i = 0; i < task.count; i++) answers[i * task.answerSize] = requests[i * task.requestSize]!;
  return move(answers.buffer) as unknown as ArrayBuffer;
}
