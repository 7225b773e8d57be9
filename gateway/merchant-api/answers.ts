/**
 * What the merchant API answers, built in one place: the store's records as the wire's objects
 * (protocol/merchant-api.ts), an error in the one error shape, and an operation's answer from its outcome. An
 * operation's answer is a pure function of the outcome the store kept for it, so every replay of it, by any
 * gateway process, is the same status and the same body bytes (the key order is fixed here). Nothing here
 * echoes a request's values: messages are the code's, or name the parameter and the rule it broke.
 * @example
 *   return apiError('PAYMENT_NOT_FOUND');                      // 404 {"error":{"code":"PAYMENT_NOT_FOUND",…}}
 *   return operationAnswer('refund', await store.payments.refund(request));
 */
import type { ReceiptKeyInfo } from '../../issuer/key-ring.ts';
import type { SettlementReport } from '../../issuer/settlement.ts';
import type { LedgerEntry, OperationOutcome, Payment, PaymentEvent, Period, Refund, StoredReceipt, WebhookEndpoint } from '../../issuer/store/index.ts';
import {
  MAX_REQUEST_BYTES, MERCHANT_API_ERRORS, type ApiErrorBody, type ApiEvent, type ApiLedgerEntry, type ApiList, type ApiPayment, type ApiPeriod, type ApiReceipt,
  type ApiReceiptKeys, type ApiRefund, type ApiReversal, type ApiSettlement, type ApiWebhookEndpoint, type ApiWebhookEndpointWithSecret, type MerchantApiCode,
} from '../../protocol/merchant-api.ts';
import type { OperationKind } from '../flow/deps.ts';
import type { HttpResponse, ListenerAnswers } from '../http/types.ts';

export type { OperationKind };

const JSON_TYPE = 'application/json';
/** Answers about one merchant's money: never kept by a cache between it and the caller. */
const NO_STORE = { 'cache-control': 'no-store' };

export function paymentObject(p: Payment): ApiPayment {
  return {
    object: 'payment', id: p.id, status: p.status, amount: p.amount, currency: p.currency, amount_captured: p.capturedAmount,
    amount_refunded: p.refundedAmount, capture_method: p.captureMethod, decline_reason: p.declineReason, hold_expires_at: p.holdExpiresAt,
    reversal: p.reversal, last4: p.last4, created_at: p.createdAt, updated_at: p.updatedAt,
  };
}

export function refundObject(r: Refund): ApiRefund {
  return { object: 'refund', id: r.id, payment: r.paymentId, amount: r.amount, currency: r.currency, reason: r.reason, created_at: r.createdAt };
}

/** An entry as its merchant sees it: not the card's balance after it, nor the internal id of the operation that made it. */
export function entryObject(e: LedgerEntry): ApiLedgerEntry {
  return {
    object: 'ledger_entry', payment: e.paymentId, seq: e.seq, type: e.type, amount: e.amount, balance_change: e.balanceChange,
    refund: e.refundId, created_at: e.at,
  };
}

/** An event as GET /v1/events/{id} answers it and its webhook deliveries carry it (the same bytes: JSON.stringify of this). */
export function eventObject(e: PaymentEvent): ApiEvent {
  return {
    object: 'event', id: e.id, type: e.type, created_at: e.createdAt,
    data: { payment: paymentObject(e.payment), refund: e.refund && refundObject(e.refund), entries: e.entries.map(entryObject) },
  };
}

/** An endpoint without its secrets; `previous_secret_expires_at` while a rotation's grace runs at `now`. */
export function endpointObject(e: WebhookEndpoint, now: number): ApiWebhookEndpoint {
  const previous = e.secrets[1]?.expiresAt ?? null;
  return { object: 'webhook_endpoint', id: e.id, url: e.url, created_at: e.createdAt, previous_secret_expires_at: previous !== null && previous > now ? previous : null };
}

/** The answer that made or rotated an endpoint: the one place its secret is shown. */
export function endpointWithSecret(e: WebhookEndpoint, secret: string, now: number): ApiWebhookEndpointWithSecret {
  return { ...endpointObject(e, now), secret };
}

export function receiptObject(r: StoredReceipt): ApiReceipt {
  return { object: 'receipt', seq: r.seq, payment: r.paymentId, kind: r.kind, event: r.eventId, receipt: r.text, hash: r.hash };
}

/** The published receipt keys (the same document on the merchant API and the public listener). */
export function receiptKeysObject(keys: readonly ReceiptKeyInfo[]): ApiReceiptKeys {
  return { object: 'receipt_keys', keys: keys.map((k) => ({ id: k.id, algorithm: 'Ed25519', public_key: k.publicKey, state: k.state, created_at: k.createdAt })) };
}

export function periodObject(p: Period, lastSeq = p.lastSeq ?? p.firstSeq - 1): ApiPeriod {
  return {
    object: 'period', period: p.period, status: p.closedAt === null ? 'open' : 'closed', opened_at: p.openedAt, closed_at: p.closedAt,
    first_seq: p.firstSeq, last_seq: lastSeq, closing_hash: p.closingHash,
  };
}

export function settlementObject(r: SettlementReport): ApiSettlement {
  return {
    object: 'settlement', period: r.period, status: r.status, opened_at: r.openedAt, closed_at: r.closedAt, first_seq: r.firstSeq,
    last_seq: r.lastSeq, closing_hash: r.closingHash, currencies: r.currencies,
    entries: r.entries.map((e) => ({
      journal_seq: e.journalSeq, event: e.eventId, event_type: e.eventType, payment: e.paymentId, entry_seq: e.entrySeq, type: e.type,
      amount: e.amount, currency: e.currency, refund: e.refundId, created_at: e.at,
    })),
  };
}

export function listOf<T, U>(page: { data: T[]; hasMore: boolean }, each: (t: T) => U): ApiList<U> {
  return { data: page.data.map(each), has_more: page.hasMore };
}

export function ok(body: object, headers: Record<string, string> = {}): HttpResponse {
  return { status: 200, contentType: JSON_TYPE, body: JSON.stringify(body), headers: { ...NO_STORE, ...headers } };
}

/** Headers an error's status carries: how to authenticate, when to come back. */
const STATUS_HEADERS: Partial<Record<number, Record<string, string>>> = {
  401: { 'www-authenticate': 'Bearer' },
  429: { 'retry-after': '1' },
  503: { 'retry-after': '1' },
};

/**
 * The error answer for a code: its status, `{"error":{"code","message"[,"param"]}}`. `param` names the parameter
 * at fault and `rule` says what it broke (both from the request's shape, never its values).
 */
export function apiError(code: MerchantApiCode, param?: string, rule?: string, headers: Record<string, string> = {}): HttpResponse {
  const { status, message } = MERCHANT_API_ERRORS[code];
  const body: ApiErrorBody = { error: { code, message: rule ? `${message}: ${rule}` : message, ...(param === undefined ? {} : { param }) } };
  return { status, contentType: JSON_TYPE, body: JSON.stringify(body), headers: { ...NO_STORE, ...STATUS_HEADERS[status], ...headers } };
}

/** The merchant listener's own answers for what no route takes (transport/uws-server.ts). */
export const MERCHANT_LISTENER_ANSWERS: ListenerAnswers = {
  maxBodyBytes: MAX_REQUEST_BYTES,
  notFound: apiError('NOT_FOUND'),
  methodNotAllowed: (allowed) => apiError('METHOD_NOT_ALLOWED', undefined, undefined, { allow: allowed.join(', ') }),
  bodyTooLarge: apiError('BODY_TOO_LARGE'),
  internalError: apiError('INTERNAL'),
};


/**
 * An operation's answer from its outcome alone: a capture or a void the payment as it stood right after, a
 * refund the refund, a reversal what it did; a refusal its error. `Idempotent-Replayed: true` when the store
 * answered from what it kept (the body is the same either way).
 */
export function operationAnswer(kind: OperationKind, outcome: OperationOutcome): HttpResponse {
  const replayed: Record<string, string> = outcome.replayed ? { 'idempotent-replayed': 'true' } : {};
  if (!outcome.ok) return apiError(outcome.refusal, undefined, undefined, replayed);
  if (kind === 'refund') return ok(refundObject(outcome.refund!), replayed);
  if (kind === 'reverse') {
    // not the refund it made: a later reversal (another opId) is answered from the payment, which names the action only
    const reversal: ApiReversal = { object: 'reversal', payment: outcome.payment.id, action: outcome.action!, payment_status: outcome.payment.status };
    return ok(reversal, replayed);
  }
  return ok(paymentObject(outcome.payment), replayed);
}
