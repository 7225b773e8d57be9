/**
 * The messages between the gateway thread and its crypto workers. A batch travels as one transferred buffer
 * in the crypto engine's batch format (issuer/card-batch.ts: DVD-1 records with every slot the gateway knows
 * already written, plus each PIN check's wrapped basic key and card token) and comes back as one transferred
 * buffer of fixed-size answers. Requests carry ciphertexts and rows as they are at rest (the wrapped basic
 * key, never a clear one, and no issuer key: the worker holds the key ring and fills those slots in place);
 * answers carry no PAN and no basic key.
 */
import type { ReceiptChainRequest } from '../../issuer/receipt-signing.ts';
import {
  OPEN_ANSWER_SIZE, OPEN_REQUEST_SIZE, PIN_ANSWER_SIZE, PIN_REQUEST_SIZE, packPinBatch,
} from '../../issuer/card-batch.ts';

export type PoolTaskKind = 'open' | 'pin'; // DVD-1 steps 1–2 (scan) or the whole of DVD-1 (PIN)

export interface PoolTask {
  kind: PoolTaskKind;
  packed: ArrayBuffer; // a batch of count requests (issuer/card-batch.ts), transferred
  count: number;
}

/** One transferred buffer: count answers of ANSWER_SIZE[kind] bytes. */
export type PoolTaskResult = ArrayBuffer;

/**
 * A segment of a merchant's receipt chain to sign (issuer/receipt-signing.ts): receipts' public facts only, no
 * secret, so it travels as a structured clone; the answer is their texts and hashes.
 */
export interface ReceiptTask {
  kind: 'receipts';
  request: ReceiptChainRequest;
}

export const REQUEST_SIZE: Record<PoolTaskKind, number> = { open: OPEN_REQUEST_SIZE, pin: PIN_REQUEST_SIZE };
export const ANSWER_SIZE: Record<PoolTaskKind, number> = { open: OPEN_ANSWER_SIZE, pin: PIN_ANSWER_SIZE };

/** A batch's requests (each REQUEST_SIZE[kind] bytes, encoded as it arrived) as the one buffer a worker gets. */
export function packTask(kind: PoolTaskKind, requests: readonly Uint8Array[]): PoolTask {
  let packed: Uint8Array;
  if (kind === 'pin') packed = packPinBatch(requests);
  else {
    packed = new Uint8Array(requests.length * OPEN_REQUEST_SIZE);
    requests.forEach((request, i) => packed.set(request, i * OPEN_REQUEST_SIZE));
  }
  return { kind, packed: packed.buffer as ArrayBuffer, count: requests.length };
}
