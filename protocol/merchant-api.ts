/**
 * The merchant API v1 on the wire (docs/merchant-api.md): the JSON objects it answers with, the parameters it
 * takes, and every error code with its HTTP status. Plain declarations, no Node APIs and no schema library, so the
 * SDK's MerchantClient and its public declarations use them as they are; their TypeBox schemas
 * (merchant-api-schemas.ts, which the gateway validates with and the OpenAPI document is generated from) are held
 * equal to these interfaces at compile time.
 * Field names are snake_case (as Stripe's), amounts integers in minor units, times integers in milliseconds since
 * the Unix epoch.
 * @example
 *   const { status } = MERCHANT_API_ERRORS.AMOUNT_TOO_LARGE;   // 422
 */
import { PAYMENT_ERROR_CODES } from '../core/errors.ts';

/** The version every path starts with. */
export const MERCHANT_API_VERSION = 'v1';

/** Where a payment stands (issuer/store/payment-types.ts PaymentStatus, the same words). */
export type ApiPaymentStatus = 'authorized' | 'captured' | 'partially_refunded' | 'refunded' | 'voided' | 'expired' | 'declined' | 'reversed';
export const API_PAYMENT_STATUSES: readonly ApiPaymentStatus[] = ['authorized', 'captured', 'partially_refunded', 'refunded', 'voided', 'expired', 'declined', 'reversed'];

/** What a reversal did: released the hold, refunded what was captured and not yet refunded, or nothing (nothing was held). */
export type ApiReversalAction = 'voided' | 'refunded' | 'none';

/** A payment: its id is the session id a scanner saw. */
export interface ApiPayment {
  object: 'payment';
  id: string;
  status: ApiPaymentStatus;
  /** Authorized, in minor units of `currency`. */
  amount: number;
  currency: string;
  amount_captured: number;
  amount_refunded: number;
  capture_method: 'automatic' | 'manual';
  /** Why the issuer declined it (status `declined`), else null. */
  decline_reason: 'STATIC_QR_REFUSED' | 'CURRENCY_MISMATCH' | 'OVER_LIMIT' | 'INSUFFICIENT_FUNDS' | null;
  /** An authorized payment's hold is released by itself then (ms), unless captured or voided before. */
  hold_expires_at: number | null;
  /** What a reversal did, once one came. */
  reversal: ApiReversalAction | null;
  /** The card number's last 4 digits. */
  last4: string;
  created_at: number;
  updated_at: number;
}

export interface ApiRefund {
  object: 'refund';
  id: string;
  /** The payment it refunds. */
  payment: string;
  amount: number;
  currency: string;
  reason: string | null;
  created_at: number;
}

/** One immutable ledger entry of a payment: what it did to the card's balance. */
export interface ApiLedgerEntry {
  object: 'ledger_entry';
  payment: string;
  /** 1, 2, … in the order the entries were made. */
  seq: number;
  type: 'authorization' | 'capture' | 'release' | 'void' | 'expiry' | 'refund';
  amount: number;
  /** Signed: an authorization holds (−amount), a capture moves nothing, a release, void, expiry or refund gives back. */
  balance_change: number;
  /** The refund that made it (type `refund`), else null. */
  refund: string | null;
  created_at: number;
}

/**
 * A signed receipt of the merchant's (docs/receipts.md): its place in the merchant's chain and its text form,
 * which anyone verifies offline with the published receipt keys (`scanpay receipt verify`, /receipt-verify).
 */
export interface ApiReceipt {
  object: 'receipt';
  /** The receipt's sequence number in the merchant's chain: 1, 2, … */
  seq: number;
  payment: string;
  kind: 'payment' | 'capture' | 'refund';
  /** The event that made it (ev_<payment>_<n>). */
  event: string;
  /** `spr1.` + base64url of its canonical bytes. */
  receipt: string;
  /** SHA-256 (hex) of its bytes: the next receipt's previous hash. */
  hash: string;
}

/** A receipt key's public half: every key that ever signed stays published, so its receipts verify. */
export interface ApiReceiptKey {
  id: number;
  algorithm: 'Ed25519';
  /** 32 bytes, base64url. */
  public_key: string;
  /** active: signs new receipts; verify-only: signed receipts before a rotation. */
  state: 'active' | 'verify-only';
  created_at: string;
}

export interface ApiReceiptKeys {
  object: 'receipt_keys';
  keys: ApiReceiptKey[];
}

/**
 * What a reversal answered: the same for every reversal of a payment, whichever came first. A reversal that
 * refunded made a refund with reason `reversal` (GET /v1/refunds?payment=).
 */
export interface ApiReversal {
  object: 'reversal';
  payment: string;
  action: ApiReversalAction;
  /** The payment's status after the reversal (a reversal leaves it where nothing more can be done with it). */
  payment_status: ApiPaymentStatus;
}

/** A merchant's settlement period (docs/ledger.md §Periods): which of its journal's records it holds. */
export interface ApiPeriod {
  object: 'period';
  period: number;
  status: 'open' | 'closed';
  opened_at: number;
  closed_at: number | null;
  /** The journal records it holds: first_seq..last_seq (none when last_seq < first_seq). */
  first_seq: number;
  last_seq: number;
  /** The journal's hash at the close: keep it, and a later rewrite of anything before it is found. Null while open. */
  closing_hash: string | null;
}

/** How many entries of a kind, and their sum (minor units). */
export interface ApiTotal {
  count: number;
  amount: number;
}

/** One currency's totals in a period; `net` = captures − refunds. Reversals are counted in voids or refunds too. */
export interface ApiCurrencyTotals {
  currency: string;
  authorizations: ApiTotal;
  captures: ApiTotal;
  releases: ApiTotal;
  voids: ApiTotal;
  expiries: ApiTotal;
  refunds: ApiTotal;
  reversals: ApiTotal;
  net: number;
}

/** One ledger entry in a settlement: which journal record (and event) brought it into the period. */
export interface ApiSettlementEntry {
  journal_seq: number;
  event: string;
  event_type: 'payment.approved' | 'payment.declined' | 'payment.captured' | 'payment.voided' | 'payment.expired' | 'payment.reversed' | 'refund.created';
  payment: string;
  /** The entry's number within its payment (its `seq` in GET /v1/payments/{id}/entries). */
  entry_seq: number;
  type: ApiLedgerEntry['type'];
  amount: number;
  currency: string;
  refund: string | null;
  created_at: number;
}

/** A period's settlement report: the period, its totals per currency, and every entry they add up. */
export interface ApiSettlement extends Omit<ApiPeriod, 'object'> {
  object: 'settlement';
  currencies: ApiCurrencyTotals[];
  entries: ApiSettlementEntry[];
}

/** A page of a list, newest first; `has_more`: another page follows (ask with `starting_after` = the last id). */
export interface ApiList<T> {
  data: T[];
  has_more: boolean;
}

/** Every error: a stable code, a message for people, and the parameter at fault where there is one. */
export interface ApiErrorBody {
  error: { code: MerchantApiCode; message: string; param?: string };
}

/** What an event says happened (docs/webhooks.md §Events). */
export type ApiEventType =
  | 'payment.approved' | 'payment.declined' | 'payment.captured' | 'payment.voided' | 'payment.expired' | 'payment.reversed' | 'refund.created';
export const API_EVENT_TYPES: readonly ApiEventType[] = [
  'payment.approved', 'payment.declined', 'payment.captured', 'payment.voided', 'payment.expired', 'payment.reversed', 'refund.created',
];

/**
 * An event: one step that changed a payment, with the payment as that step left it, the refund it made (if
 * any) and the ledger entries it wrote. A webhook delivery's body is exactly this object, as GET /v1/events/{id}
 * answers it.
 */
export interface ApiEvent {
  object: 'event';
  /** `ev_<payment id>_<n>`: the payment's n'th event. Receivers deduplicate on it. */
  id: string;
  type: ApiEventType;
  created_at: number;
  data: { payment: ApiPayment; refund: ApiRefund | null; entries: ApiLedgerEntry[] };
}

/** Where a merchant receives its events. `secret` is in the answer that made (or rotated) it, and never again. */
export interface ApiWebhookEndpoint {
  object: 'webhook_endpoint';
  id: string;
  url: string;
  created_at: number;
  /** While a rotation's grace runs: when the previous secret stops being used (ms); else null. */
  previous_secret_expires_at: number | null;
}

export interface ApiWebhookEndpointWithSecret extends ApiWebhookEndpoint {
  /** `whsec_…`: the signing secret. Shown here only: keep it. */
  secret: string;
}

export interface ApiDeletedWebhookEndpoint {
  object: 'webhook_endpoint';
  id: string;
  deleted: true;
}

/** POST /v1/events/{id}/redeliver: the event was queued again for this many endpoints. */
export interface ApiRedelivery {
  object: 'redelivery';
  event: string;
  endpoints: number;
}

// ── parameters ──────────────────────────────────────────────────────────────────────────────────────────

/** POST /v1/payments/{id}/capture: all of what was authorized, or `amount` of it (the rest is released). */
export interface CaptureParams {
  amount?: number;
}

/** POST /v1/refunds. */
export interface RefundParams {
  payment: string;
  amount: number;
  /** Free text for the merchant's records: at most 500 characters, no control characters. */
  reason?: string;
}

/** POST /v1/webhook_endpoints. */
export interface WebhookEndpointParams {
  /** https://… (http only where the operator allows private receivers), at most 2048 characters. */
  url: string;
}

/** POST /v1/webhook_endpoints/{id}/rotate_secret. */
export interface RotateSecretParams {
  /** Seconds the previous secret is still signed with (both are sent meanwhile); 0 to 7 days, default 24 h. */
  grace_seconds?: number;
}

/** GET /v1/events: newest first. */
export interface ListEventsParams {
  limit?: number;
  /** The id of the last event of the page before. */
  starting_after?: string;
}

/** POST /v1/periods/close: the period to close (the open one's number: GET /v1/settlements/current). */
export interface ClosePeriodParams {
  period: number;
}

/** GET /v1/payments (and GET /v1/refunds without `payment`). */
export interface ListParams {
  /** 1 to 100; default 10. */
  limit?: number;
  /** The id of the last item of the page before. */
  starting_after?: string;
  /** Created at or after (ms). */
  created_gte?: number;
  /** Created before (ms). */
  created_lt?: number;
}

/** GET /v1/refunds: a page of the merchant's refunds, or with `payment` all of that payment's (oldest first, nothing else allowed). */
export interface ListRefundsParams extends ListParams {
  payment?: string;
}

export const DEFAULT_LIST_LIMIT = 10;
export const MAX_LIST_LIMIT = 100;
/** A merchant's webhook endpoints: at most this many. */
export const MAX_WEBHOOK_ENDPOINTS = 16;
/** How long a rotated secret is still signed with, unless the rotation says: 24 h (s). */
export const DEFAULT_SECRET_GRACE_S = 24 * 60 * 60;
export const MAX_SECRET_GRACE_S = 7 * 24 * 60 * 60;
/** `ev_`, a payment id, `_` and the event's number. */
export const EVENT_ID_PATTERN = '^ev_[0-9a-f]{32}_[1-9][0-9]{0,5}$';
/** `we_` and 32 lowercase hex digits. */
export const WEBHOOK_ENDPOINT_ID_PATTERN = '^we_[0-9a-f]{32}$';
/** A refund's reason: at most this many characters. */
export const MAX_REFUND_REASON = 500;
/** No control characters (C0, DEL) in a reason. */
export const REFUND_REASON_PATTERN = '^[^\\u0000-\\u001f\\u007f]*$';
/** A settlement period in a path: its number, or `current` (the open one). */
export const PERIOD_REF_PATTERN = '^(current|[1-9][0-9]{0,14})$';
/** `re_` and 32 lowercase hex digits. */
export const REFUND_ID_PATTERN = '^re_[0-9a-f]{32}$';

/**
 * An Idempotency-Key: 1 to 255 printable ASCII characters, without a space at either end (Stripe's limit). The
 * store checks the same rule (issuer/store/validate.ts).
 */
export const IDEMPOTENCY_KEY_PATTERN = '^[\\x21-\\x7e](?:[\\x20-\\x7e]{0,253}[\\x21-\\x7e])?$';
/** How long an Idempotency-Key and the answer it got are kept. */
export const IDEMPOTENCY_KEY_TTL_MS = 24 * 60 * 60_000;

/** The largest request body the API reads (bytes): past it, 413 BODY_TOO_LARGE. */
export const MAX_REQUEST_BYTES = 16 * 1024;
/** The deepest a request body's JSON may nest (every body is one flat object): deeper is INVALID_JSON. */
export const MAX_JSON_DEPTH = 8;

// ── errors ──────────────────────────────────────────────────────────────────────────────────────────────

/**
 * Every error code the API answers with, its HTTP status and its message. A code means the same on every route;
 * the payment codes are the payments module's (core/errors.ts PAYMENT_ERROR_CODES), with the same messages.
 */
export const MERCHANT_API_ERRORS = {
  INVALID_JSON: { status: 400, message: `the body is not a JSON object nested at most ${MAX_JSON_DEPTH} deep` },
  INVALID_PARAMETER: { status: 400, message: 'a parameter is missing, unknown or invalid' },
  UNAUTHENTICATED: { status: 401, message: 'a valid API key is required: Authorization: Bearer <key>' },
  NOT_FOUND: { status: 404, message: 'no such route' },
  PAYMENT_NOT_FOUND: { status: 404, message: PAYMENT_ERROR_CODES.PAYMENT_NOT_FOUND },
  REFUND_NOT_FOUND: { status: 404, message: PAYMENT_ERROR_CODES.REFUND_NOT_FOUND },
  PERIOD_NOT_FOUND: { status: 404, message: PAYMENT_ERROR_CODES.PERIOD_NOT_FOUND },
  EVENT_NOT_FOUND: { status: 404, message: 'no such event' },
  WEBHOOK_ENDPOINT_NOT_FOUND: { status: 404, message: 'no such webhook endpoint' },
  METHOD_NOT_ALLOWED: { status: 405, message: 'this route does not take that method' },
  PAYMENT_NOT_CAPTURABLE: { status: 409, message: PAYMENT_ERROR_CODES.PAYMENT_NOT_CAPTURABLE },
  PAYMENT_NOT_VOIDABLE: { status: 409, message: PAYMENT_ERROR_CODES.PAYMENT_NOT_VOIDABLE },
  PAYMENT_NOT_REFUNDABLE: { status: 409, message: PAYMENT_ERROR_CODES.PAYMENT_NOT_REFUNDABLE },
  IDEMPOTENCY_KEY_REUSED: { status: 409, message: PAYMENT_ERROR_CODES.IDEMPOTENCY_KEY_REUSED },
  PERIOD_NOT_OPEN: { status: 409, message: PAYMENT_ERROR_CODES.PERIOD_NOT_OPEN },
  TOO_MANY_WEBHOOK_ENDPOINTS: { status: 409, message: `a merchant has at most ${MAX_WEBHOOK_ENDPOINTS} webhook endpoints` },
  BODY_TOO_LARGE: { status: 413, message: `the body is larger than ${MAX_REQUEST_BYTES} bytes` },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'the body must be application/json (UTF-8)' },
  AMOUNT_TOO_LARGE: { status: 422, message: PAYMENT_ERROR_CODES.AMOUNT_TOO_LARGE },
  RATE_LIMITED: { status: 429, message: 'too many failed authentications from this address; slow down' },
  INTERNAL: { status: 500, message: 'internal error' },
  SHUTTING_DOWN: { status: 503, message: 'the gateway is shutting down; retry' },
  STORE_UNAVAILABLE: { status: 503, message: 'the store could not be reached; retry' },
} as const satisfies Record<string, { status: number; message: string }>;

export type MerchantApiCode = keyof typeof MERCHANT_API_ERRORS;
export const MERCHANT_API_CODES = Object.keys(MERCHANT_API_ERRORS) as MerchantApiCode[];

export function isMerchantApiCode(value: unknown): value is MerchantApiCode {
  return typeof value === 'string' && Object.hasOwn(MERCHANT_API_ERRORS, value);
}
