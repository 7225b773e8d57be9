/**
 * A merchant's operation on a payment — capture, void, refund, reverse — made idempotent by its Idempotency-Key
 * (docs/merchant-api.md §Idempotency). With a key: the key is claimed for the request's fingerprint (method, path,
 * canonical parameters); a key already used with another request is 409 IDEMPOTENCY_KEY_REUSED; otherwise the
 * store runs the operation under the opId the key gives on the payment's shard (payment.ts operationId), where it
 * keeps the operation's outcome (a refusal too) for 24 h and answers it again for the same opId. The HTTP answer is
 * made from that outcome alone (answers.ts), so a retry, however many at once and on whichever gateway, gets the
 * first answer again. Without a key the opId is random: a retry is a new operation.
 * @example
 *   return runOperation(store, { kind: 'refund', merchant, paymentId, path: '/v1/refunds', params, key, amount, reason: null });
 */
import { operationId, requestFingerprint } from '../../issuer/payment.ts';
import type { OperationOutcome, OperationRequest, PaymentStore } from '../../issuer/store/index.ts';
import { IDEMPOTENCY_KEY_TTL_MS } from '../../protocol/merchant-api.ts';
import type { HttpResponse } from '../http/types.ts';
import { operationAnswer, type OperationKind } from './answers.ts';
import { canonical } from './request.ts';

export interface OperationCall {
  kind: OperationKind;
  merchant: string;
  paymentId: string;
  /** The request's path, as the fingerprint hashes it. */
  path: string;
  /** The request's checked parameters (its body), as the fingerprint hashes them. */
  params: object;
  key: string | null;
  /** capture: how much (absent: all); refund: how much. */
  amount?: number;
  /** refund: why. */
  reason?: string | null;
}

function run(payments: PaymentStore, call: OperationCall, request: OperationRequest): Promise<OperationOutcome> {
  switch (call.kind) {
    case 'capture': return payments.capture(call.amount === undefined ? request : { ...request, amount: call.amount });
    case 'void': return payments.void(request);
    case 'reverse': return payments.reverse(request);
    case 'refund': return payments.refund({ ...request, amount: call.amount!, reason: call.reason ?? null });
  }
}

/**
 * The operation's outcome, idempotent by its key as above (a key used with another request: refused with
 * IDEMPOTENCY_KEY_REUSED, nothing done). The operator CLI's payment commands run it too, with the fingerprint of the
 * API request that would do the same, so a key means the same on both.
 */
export async function performOperation(payments: PaymentStore, call: OperationCall, now: number = Date.now()): Promise<OperationOutcome> {
  const fingerprint = requestFingerprint('POST', call.path, canonical(call.params));
  if (call.key !== null && (await payments.claimIdempotencyKey(call.merchant, call.key, fingerprint, IDEMPOTENCY_KEY_TTL_MS)) === 'different') {
    return { ok: false, refusal: 'IDEMPOTENCY_KEY_REUSED', replayed: false };
  }
  const request: OperationRequest = {
    paymentId: call.paymentId, merchant: call.merchant, opId: operationId(call.paymentId, call.merchant, call.key), fingerprint, at: now,
  };
  return run(payments, call, request);
}

export async function runOperation(payments: PaymentStore, call: OperationCall, now: number = Date.now()): Promise<HttpResponse> {
  return operationAnswer(call.kind, await performOperation(payments, call, now));
}
