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
  CODE_ANSWER_SIZE, CODE_REQUEST_SIZE, CODE_SIDE_SIZE, ENROL_ANSWER_SIZE, ENROL_REQUEST_SIZE, ENROL_SIDE_SIZE, OPEN_ANSWER_SIZE,
  OPEN_REQUEST_SIZE, PIN_ANSWER_SIZE, PIN_REQUEST_SIZE, PIN_SIDE_SIZE, packSidedBatch,
} from '../../issuer/card-batch.ts';

/** DVD-1 steps 1–2 (scan), the whole of DVD-1 (PIN), a wallet enrolment (PIN + wallet key), a one-time code. */
export type PoolTaskKind = 'open' | 'pin' | 'enrol' | 'code';

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

export const REQUEST_SIZE: Record<PoolTaskKind, number> = { open: OPEN_REQUEST_SIZE, pin: PIN_REQUEST_SIZE, enrol: ENROL_REQUEST_SIZE, code: CODE_REQUEST_SIZE };
export const ANSWER_SIZE: Record<PoolTaskKind, number> = { open: OPEN_ANSWER_SIZE, pin: PIN_ANSWER_SIZE, enrol: ENROL_ANSWER_SIZE, code: CODE_ANSWER_SIZE };
/** The side area per request of the kinds that have one (issuer/card-batch.ts); open requests are bare records. */
const SIDE_SIZE: Record<Exclude<PoolTaskKind, 'open'>, number> = { pin: PIN_SIDE_SIZE, enrol: ENROL_SIDE_SIZE, code: CODE_SIDE_SIZE };

/** A batch's requests (each REQUEST_SIZE[kind] bytes, encoded as it arrived) as the one buffer a worker gets. */
export function packTask(kind: PoolTaskKind, requests: readonly Uint8Array[]): PoolTask {
  let packed: Uint8Array;
  if (kind !== 'open') packed = packSidedBatch(requests, SIDE_SIZE[kind]);
  else {
    packed = new Uint8Array(requests.length * OPEN_REQUEST_SIZE);
    requests.forEach((request, i) => packed.set(request, i * OPEN_REQUEST_SIZE));
  }
  return { kind, packed: packed.buffer as ArrayBuffer, count: requests.length };
}
