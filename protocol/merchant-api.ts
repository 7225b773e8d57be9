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
  decline_reason: 'CURRENCY_MISMATCH' | 'OVER_LIMIT' | 'INSUFFICIENT_FUNDS' | null;
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
  EVENT_NOT_FOUND: { status: 404, message: 'no such event' },
  WEBHOOK_ENDPOINT_NOT_FOUND: { status: 404, message: 'no such webhook endpoint' },
  METHOD_NOT_ALLOWED: { status: 405, message: 'this route does not take that method' },
  PAYMENT_NOT_CAPTURABLE: { status: 409, message: PAYMENT_ERROR_CODES.PAYMENT_NOT_CAPTURABLE },
  PAYMENT_NOT_VOIDABLE: { status: 409, message: PAYMENT_ERROR_CODES.PAYMENT_NOT_VOIDABLE },
  PAYMENT_NOT_REFUNDABLE: { status: 409, message: PAYMENT_ERROR_CODES.PAYMENT_NOT_REFUNDABLE },
  IDEMPOTENCY_KEY_REUSED: { status: 409, message: PAYMENT_ERROR_CODES.IDEMPOTENCY_KEY_REUSED },
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
