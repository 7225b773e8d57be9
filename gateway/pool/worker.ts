/**
 * A piscina worker: instantiates the WASM core and loads the issuer key ring once, then runs batches of
 * open and PIN requests (tasks.ts; the work itself: task-runner.ts), and signs receipt chains with the ring's
 * receipt key (issuer/receipt-signing.ts). Requests arrive as one transferred
 * buffer and answers leave as one; the key ring is read again, before the next batch, whenever the gateway
 * bumps the shared key generation (a rotation reloaded without a restart). Every buffer that held secrets
 * is zeroed.
 */
import { workerData } from 'node:worker_threads';
import { move } from 'piscina';
import { loadCoreSync } from '../../core/index.ts';
import { CardCrypto } from '../../issuer/card-crypto.ts';
import { keyGeneration, readKeyRing, type WorkerKeys } from '../../issuer/key-ring-source.ts';
import { signReceiptChain, type SignedReceipt } from '../../issuer/receipt-signing.ts';
import type { PoolTask, PoolTaskResult, ReceiptTask } from './tasks.ts';
import { runPoolTask } from './task-runner.ts';

const keys = (workerData as { keys: WorkerKeys }).keys;
const crypto = new CardCrypto(loadCoreSync(), readKeyRing(keys));
let loadedGeneration = keyGeneration(keys);

/**
 * A newer generation: load the ring again. The gateway checked the file before announcing it; if it was
 * replaced by a bad one since, this worker keeps the ring it has (the gateway's next reload reports the file).
 */
function refreshKeys(): void {
  const generation = keyGeneration(keys);
  if (generation === loadedGeneration) return;
  loadedGeneration = generation;
  try {
    crypto.keyRing = readKeyRing(keys);
  } catch {
    // keep the current ring
  }
}

export default function runTask(task: PoolTask | ReceiptTask): PoolTaskResult | SignedReceipt[] {
  if (task.kind === 'receipts') {
    refreshKeys();
    return signReceiptChain(crypto.keyRing, task.request);
  }
  try {
    refreshKeys();
  } catch (e) {
    new Uint8Array(task.packed).fill(0);
    throw e;
  }
  return move(runPoolTask(crypto, task)) as PoolTaskResult;
}
