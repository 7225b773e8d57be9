/**
 * The merchant API v1 as TypeBox schemas: every object it answers with, every body and query it takes, and the
 * route table (MERCHANT_API_ROUTES: method, path, parameters, and the answers each status may carry). One source:
 * the gateway validates requests with these (gateway/merchant-api/request.ts), the OpenAPI document is generated
 * from them (merchant-api-openapi.ts → docs/merchant-api.openapi.json), and the tests check every answer the
 * server gives against them. Internal, like frame-schemas.ts: the public declarations are merchant-api.ts's plain
 * interfaces, each held equal to its schema's static type below at compile time.
 */
import { Type, type Static, type TObject, type TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import * as Api from './merchant-api.ts';
import { AMOUNT_RULE, SESSION_ID_PATTERN } from './values.ts';

const literals = <T extends string>(values: readonly T[]) => Type.Union(values.map((v) => Type.Literal(v)));
const Millis = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'milliseconds since the Unix epoch' });
const MinorUnits = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
const PaymentId = Type.String({ pattern: SESSION_ID_PATTERN, description: 'a payment id: the session id a scanner saw (32 lowercase hex digits)' });
const RefundId = Type.String({ pattern: Api.REFUND_ID_PATTERN, description: 'a refund id: re_ and 32 lowercase hex digits' });
const Amount = Type.Integer({ ...AMOUNT_RULE, description: 'minor units (cents for EUR), 1 to 2^53 − 1' });
const Status = literals(Api.API_PAYMENT_STATUSES);
const Action = literals(['voided', 'refunded', 'none'] as const);

// ── what the API answers ────────────────────────────────────────────────────────────────────────────────
const Payment = Type.Object({
  object: Type.Literal('payment'),
  id: PaymentId,
  status: Status,
  amount: MinorUnits,
  currency: Type.String({ pattern: '^[A-Z]{3}$' }),
  amount_captured: MinorUnits,
  amount_refunded: MinorUnits,
  capture_method: literals(['automatic', 'manual'] as const),
  decline_reason: Type.Union([literals(['STATIC_QR_REFUSED', 'CURRENCY_MISMATCH', 'OVER_LIMIT', 'INSUFFICIENT_FUNDS'] as const), Type.Null()]),
  hold_expires_at: Type.Union([Millis, Type.Null()]),
  reversal: Type.Union([Action, Type.Null()]),
  last4: Type.String({ pattern: '^[0-9]{4}$' }),
  created_at: Millis,
  updated_at: Millis,
}, { additionalProperties: false, description: 'A payment: its id is the session id a scanner saw.' });

const Refund = Type.Object({
  object: Type.Literal('refund'),
  id: RefundId,
  payment: PaymentId,
  amount: Amount,
  currency: Type.String({ pattern: '^[A-Z]{3}$' }),
  reason: Type.Union([Type.String(), Type.Null()]),
  created_at: Millis,
}, { additionalProperties: false });

const LedgerEntry = Type.Object({
  object: Type.Literal('ledger_entry'),
  payment: PaymentId,
  seq: Type.Integer({ minimum: 1 }),
  type: literals(['authorization', 'capture', 'release', 'void', 'expiry', 'refund'] as const),
  amount: MinorUnits,
  balance_change: Type.Integer({ minimum: -Number.MAX_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER }),
  refund: Type.Union([RefundId, Type.Null()]),
  created_at: Millis,
}, { additionalProperties: false, description: 'One immutable ledger entry: what it did to the card\'s balance.' });

const Reversal = Type.Object({
  object: Type.Literal('reversal'),
  payment: PaymentId,
  action: Action,
  payment_status: Status,
}, { additionalProperties: false, description: 'What the first reversal of the payment did; every later one answers the same. A refund it made has reason `reversal`.' });

const PeriodNumber = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER });
const Hash = Type.String({ pattern: '^[0-9a-f]{64}$' });
const periodFields = {
  period: PeriodNumber,
  status: literals(['open', 'closed'] as const),
  opened_at: Millis,
  closed_at: Type.Union([Millis, Type.Null()]),
  first_seq: Type.Integer({ minimum: 1 }),
  last_seq: Type.Integer({ minimum: 0 }),
  closing_hash: Type.Union([Hash, Type.Null()]),
};
const Period = Type.Object({ object: Type.Literal('period'), ...periodFields }, {
  additionalProperties: false, description: 'A settlement period: which of the merchant\'s journal records it holds.',
});
const Total = Type.Object({ count: Type.Integer({ minimum: 0 }), amount: MinorUnits }, { additionalProperties: false });
const CurrencyTotals = Type.Object({
  currency: Type.String({ pattern: '^[A-Z]{3}$' }),
  authorizations: Total, captures: Total, releases: Total, voids: Total, expiries: Total, refunds: Total, reversals: Total,
  net: Type.Integer({ minimum: -Number.MAX_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER }),
}, { additionalProperties: false, description: 'One currency\'s totals: net = captures − refunds (reversals are counted in voids or refunds too).' });
const SettlementEntry = Type.Object({
  journal_seq: Type.Integer({ minimum: 1 }),
  event: Type.String({ pattern: '^ev_[0-9a-f]{32}_[1-9][0-9]{0,5}$' }),
  event_type: literals(['payment.approved', 'payment.declined', 'payment.captured', 'payment.voided', 'payment.expired', 'payment.reversed', 'refund.created'] as const),
  payment: PaymentId,
  entry_seq: Type.Integer({ minimum: 1 }),
  type: literals(['authorization', 'capture', 'release', 'void', 'expiry', 'refund'] as const),
  amount: MinorUnits,
  currency: Type.String({ pattern: '^[A-Z]{3}$' }),
  refund: Type.Union([RefundId, Type.Null()]),
  created_at: Millis,
}, { additionalProperties: false });
const Settlement = Type.Object({
  object: Type.Literal('settlement'), ...periodFields, currencies: Type.Array(CurrencyTotals), entries: Type.Array(SettlementEntry),
}, { additionalProperties: false, description: 'A period\'s settlement report: its totals per currency add up the entries it lists.' });

const listOf = <T extends TSchema>(item: T, description: string) => Type.Object({
  data: Type.Array(item),
  has_more: Type.Boolean(),
}, { additionalProperties: false, description });
const PaymentList = listOf(Payment, 'A page of payments, newest first.');
const RefundList = listOf(Refund, 'A page of refunds: newest first; with `payment`, all of that payment\'s, oldest first.');
const LedgerEntryList = listOf(LedgerEntry, 'Every entry of a payment, in order (`has_more` is always false).');

const Receipt = Type.Object({
  object: Type.Literal('receipt'),
  seq: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
  payment: PaymentId,
  kind: literals(['payment', 'capture', 'refund'] as const),
  event: Type.String({ pattern: '^ev_[0-9a-f]{32}_[1-9][0-9]{0,5}$' }),
  receipt: Type.String({ pattern: '^spr1\\.[A-Za-z0-9_-]+$', description: 'the signed receipt: spr1. + base64url of its canonical bytes (docs/receipts.md)' }),
  hash: Type.String({ pattern: '^[0-9a-f]{64}$' }),
}, { additionalProperties: false, description: 'A signed receipt: anyone verifies it offline with the published receipt keys.' });
const ReceiptList = listOf(Receipt, 'Every receipt of a payment, in chain order (`has_more` is always false).');
const ReceiptKey = Type.Object({
  id: Type.Integer({ minimum: 1, maximum: 65535 }),
  algorithm: Type.Literal('Ed25519'),
  public_key: Type.String({ pattern: '^[A-Za-z0-9_-]{43}$', description: '32 bytes, base64url' }),
  state: literals(['active', 'verify-only'] as const),
  created_at: Type.String(),
}, { additionalProperties: false });
const ReceiptKeys = Type.Object({
  object: Type.Literal('receipt_keys'),
  keys: Type.Array(ReceiptKey),
}, { additionalProperties: false, description: 'Every receipt key that has signed, by id (the same document as /receipt-keys on the public listener).' });
const EventId = Type.String({ pattern: Api.EVENT_ID_PATTERN, description: 'an event id: ev_, the payment id, _ and the event\'s number' });
const EndpointId = Type.String({ pattern: Api.WEBHOOK_ENDPOINT_ID_PATTERN, description: 'a webhook endpoint id: we_ and 32 lowercase hex digits' });
const Event = Type.Object({
  object: Type.Literal('event'),
  id: EventId,
  type: literals(Api.API_EVENT_TYPES),
  created_at: Millis,
  data: Type.Object({
    payment: Payment,
    refund: Type.Union([Refund, Type.Null()]),
    entries: Type.Array(LedgerEntry),
  }, { additionalProperties: false }),
}, { additionalProperties: false, description: 'One step that changed a payment: the payment as it left it, the refund it made, the entries it wrote. A webhook\'s body is this object.' });
const EventList = listOf(Event, 'A page of events, newest first.');
const endpointFields = {
  object: Type.Literal('webhook_endpoint'),
  id: EndpointId,
  url: Type.String({ maxLength: 2048 }),
  created_at: Millis,
  previous_secret_expires_at: Type.Union([Millis, Type.Null()]),
};
const WebhookEndpoint = Type.Object(endpointFields, { additionalProperties: false, description: 'Where the merchant receives its events (the secret is never shown again).' });
const WebhookEndpointWithSecret = Type.Object({
  ...endpointFields,
  secret: Type.String({ pattern: '^whsec_[A-Za-z0-9_-]{43}$', description: 'the signing secret: shown in this answer only' }),
}, { additionalProperties: false, description: 'A webhook endpoint just made, or its secret just rotated: with its signing secret, shown this once.' });
const WebhookEndpointList = listOf(WebhookEndpoint, 'Every webhook endpoint of the merchant, oldest first (`has_more` is always false).');
const DeletedWebhookEndpoint = Type.Object({
  object: Type.Literal('webhook_endpoint'), id: EndpointId, deleted: Type.Literal(true),
}, { additionalProperties: false });
const Redelivery = Type.Object({
  object: Type.Literal('redelivery'), event: EventId, endpoints: Type.Integer({ minimum: 0 }),
}, { additionalProperties: false, description: 'The event was queued again for this many endpoints.' });

const Code = literals(Api.MERCHANT_API_CODES);
const errorOf = <C extends TSchema>(code: C) => Type.Object({
  error: Type.Object({
    code,
    message: Type.String(),
    param: Type.Optional(Type.String({ description: 'the parameter at fault: a body field, a query parameter, or Idempotency-Key' })),
  }, { additionalProperties: false }),
}, { additionalProperties: false });
const ErrorBody = errorOf(Code);

// ── what it takes ───────────────────────────────────────────────────────────────────────────────────────
const Reason = Type.String({ maxLength: Api.MAX_REFUND_REASON, pattern: Api.REFUND_REASON_PATTERN });
const CaptureParams = Type.Object({ amount: Type.Optional(Amount) }, { additionalProperties: false });
const NoParams = Type.Object({}, { additionalProperties: false });
const RefundParams = Type.Object({ payment: PaymentId, amount: Amount, reason: Type.Optional(Reason) }, { additionalProperties: false });
const ClosePeriodParams = Type.Object({ period: PeriodNumber }, { additionalProperties: false });
const PeriodRef = Type.String({ pattern: Api.PERIOD_REF_PATTERN, description: 'a period\'s number, or `current` (the open one)' });
const WebhookEndpointParams = Type.Object({ url: Type.String({ minLength: 1, maxLength: 2048 }) }, { additionalProperties: false });
const RotateSecretParams = Type.Object({
  grace_seconds: Type.Optional(Type.Integer({ minimum: 0, maximum: Api.MAX_SECRET_GRACE_S, default: Api.DEFAULT_SECRET_GRACE_S })),
}, { additionalProperties: false });
const limit = Type.Optional(Type.Integer({ minimum: 1, maximum: Api.MAX_LIST_LIMIT, default: Api.DEFAULT_LIST_LIMIT }));
const ListPaymentsParams = Type.Object({
  limit, starting_after: Type.Optional(PaymentId), created_gte: Type.Optional(Millis), created_lt: Type.Optional(Millis),
}, { additionalProperties: false });
const ListEventsParams = Type.Object({ limit, starting_after: Type.Optional(EventId) }, { additionalProperties: false });
const ListRefundsParams = Type.Object({
  limit, starting_after: Type.Optional(RefundId), created_gte: Type.Optional(Millis), created_lt: Type.Optional(Millis),
  payment: Type.Optional(PaymentId),
}, { additionalProperties: false });

/** True when A and B are the same type (each assignable to the other). */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
/** Compile-time: every schema states exactly its interface (merchant-api.ts). */
const schemasMatchInterfaces: [
  Same<Static<typeof Payment>, Api.ApiPayment>, Same<Static<typeof Refund>, Api.ApiRefund>,
  Same<Static<typeof LedgerEntry>, Api.ApiLedgerEntry>, Same<Static<typeof Reversal>, Api.ApiReversal>,
  Same<Static<typeof PaymentList>, Api.ApiList<Api.ApiPayment>>, Same<Static<typeof ErrorBody>, Api.ApiErrorBody>,
  Same<Static<typeof CaptureParams>, Api.CaptureParams>, Same<Static<typeof RefundParams>, Api.RefundParams>,
  Same<Static<typeof ListPaymentsParams>, Api.ListParams>, Same<Static<typeof ListRefundsParams>, Api.ListRefundsParams>,
  Same<Static<typeof Period>, Api.ApiPeriod>, Same<Static<typeof Settlement>, Api.ApiSettlement>,
  Same<Static<typeof ClosePeriodParams>, Api.ClosePeriodParams>,
  Same<Static<typeof Receipt>, Api.ApiReceipt>, Same<Static<typeof ReceiptKeys>, Api.ApiReceiptKeys>,
  Same<Static<typeof Event>, Api.ApiEvent>, Same<Static<typeof WebhookEndpoint>, Api.ApiWebhookEndpoint>,
  Same<Static<typeof WebhookEndpointWithSecret>, Api.ApiWebhookEndpointWithSecret>, Same<Static<typeof DeletedWebhookEndpoint>, Api.ApiDeletedWebhookEndpoint>,
  Same<Static<typeof Redelivery>, Api.ApiRedelivery>, Same<Static<typeof WebhookEndpointParams>, Api.WebhookEndpointParams>,
  Same<Static<typeof RotateSecretParams>, Api.RotateSecretParams>, Same<Static<typeof ListEventsParams>, Api.ListEventsParams>,
] = [true, true, true, true, true, true, true, true, true, true, true, true, true, true, true, true, true, true, true, true, true, true, true];
void schemasMatchInterfaces;

/** The named schemas, as the OpenAPI document's components name them. */
export const MERCHANT_API_SCHEMAS = {
  Payment, Refund, LedgerEntry, Reversal, PaymentList, RefundList, LedgerEntryList, Receipt, ReceiptList, ReceiptKeys, Error: ErrorBody,
  CaptureParams, RefundParams, Period, Settlement, ClosePeriodParams,
  Event, EventList, WebhookEndpoint, WebhookEndpointWithSecret, WebhookEndpointList, DeletedWebhookEndpoint, Redelivery, WebhookEndpointParams, RotateSecretParams,
} as const satisfies Record<string, TSchema>;
export type SchemaName = keyof typeof MERCHANT_API_SCHEMAS;

// ── the routes ──────────────────────────────────────────────────────────────────────────────────────────

/** The codes every route may answer: its caller's key, its parameters, and the gateway's own state. */
const EVERY_ROUTE: readonly Api.MerchantApiCode[] = ['INVALID_PARAMETER', 'UNAUTHENTICATED', 'RATE_LIMITED', 'INTERNAL', 'SHUTTING_DOWN', 'STORE_UNAVAILABLE'];
/** …and every POST: a body, and the Idempotency-Key. */
const EVERY_POST: readonly Api.MerchantApiCode[] = ['INVALID_JSON', 'BODY_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE', 'IDEMPOTENCY_KEY_REUSED'];

export interface RouteSpec {
  method: 'get' | 'post' | 'delete';
  /** OpenAPI style: `/v1/payments/{id}`. */
  path: string;
  summary: string;
  description: string;
  /** The path's one parameter, when it has one: `{id}`. */
  id?: { description: string; schema: TSchema };
  query: TObject;
  /** A POST's JSON body (an empty body is `{}`). */
  body?: TObject;
  /** What a 200 carries. */
  ok: SchemaName;
  /** The error codes this route answers with, besides EVERY_ROUTE's (and EVERY_POST's for a POST). */
  errors: readonly Api.MerchantApiCode[];
}

export const MERCHANT_API_ROUTES = {
  listPayments: {
    method: 'get', path: '/v1/payments', summary: 'List payments',
    description: 'The merchant\'s payments, newest first (by creation time, then id), a page at a time.',
    query: ListPaymentsParams, ok: 'PaymentList', errors: [],
  },
  getPayment: {
    method: 'get', path: '/v1/payments/{id}', summary: 'Read a payment',
    description: 'A payment of the merchant. Another merchant\'s payment answers exactly as an unknown one.',
    id: { description: 'the payment id', schema: PaymentId }, query: NoParams, ok: 'Payment', errors: ['PAYMENT_NOT_FOUND'],
  },
  listEntries: {
    method: 'get', path: '/v1/payments/{id}/entries', summary: 'List a payment\'s ledger entries',
    description: 'Every immutable ledger entry of the payment, in order: its authorization, capture, releases, void or expiry, and refunds.',
    id: { description: 'the payment id', schema: PaymentId }, query: NoParams, ok: 'LedgerEntryList', errors: ['PAYMENT_NOT_FOUND'],
  },
  listReceipts: {
    method: 'get', path: '/v1/payments/{id}/receipts', summary: 'List a payment\'s signed receipts',
    description: 'The signed receipts of the payment (its captured approval, a capture, each refund), in chain order. Receipts are '
      + 'signed shortly after the step that calls for them (docs/receipts.md): an empty list means none yet.',
    id: { description: 'the payment id', schema: PaymentId }, query: NoParams, ok: 'ReceiptList', errors: ['PAYMENT_NOT_FOUND'],
  },
  getReceiptKeys: {
    method: 'get', path: '/v1/receipt-keys', summary: 'Read the receipt keys',
    description: 'Every Ed25519 public key that has signed receipts, by id. The same document is public (no key needed) at '
      + '`/receipt-keys` on the gateway\'s public listener, for holders and auditors.',
    query: NoParams, ok: 'ReceiptKeys', errors: [],
  },
  capturePayment: {
    method: 'post', path: '/v1/payments/{id}/capture', summary: 'Capture a payment',
    description: 'Captures an authorized payment: all of it, or `amount` of it (the rest of the hold is released).',
    id: { description: 'the payment id', schema: PaymentId }, query: NoParams, body: CaptureParams, ok: 'Payment',
    errors: ['PAYMENT_NOT_FOUND', 'PAYMENT_NOT_CAPTURABLE', 'AMOUNT_TOO_LARGE'],
  },
  voidPayment: {
    method: 'post', path: '/v1/payments/{id}/void', summary: 'Void a payment',
    description: 'Releases an authorized, uncaptured payment\'s hold.',
    id: { description: 'the payment id', schema: PaymentId }, query: NoParams, body: NoParams, ok: 'Payment',
    errors: ['PAYMENT_NOT_FOUND', 'PAYMENT_NOT_VOIDABLE'],
  },
  reversePayment: {
    method: 'post', path: '/v1/payments/{id}/reverse', summary: 'Reverse a payment',
    description: 'For an answer that was lost: an authorized payment is voided, a captured one refunded (what is left), one that '
      + 'holds nothing is left as it is; a payment not yet authorized is reversed before it can be. Every later reversal, '
      + 'under any Idempotency-Key, answers what the first did and changes nothing.',
    id: { description: 'the payment (session) id', schema: PaymentId }, query: NoParams, body: NoParams, ok: 'Reversal',
    errors: ['PAYMENT_NOT_FOUND'],
  },
  createRefund: {
    method: 'post', path: '/v1/refunds', summary: 'Refund a payment',
    description: 'Refunds `amount` of what was captured and not yet refunded; a payment may be refunded in several parts.',
    query: NoParams, body: RefundParams, ok: 'Refund', errors: ['PAYMENT_NOT_FOUND', 'PAYMENT_NOT_REFUNDABLE', 'AMOUNT_TOO_LARGE'],
  },
  getRefund: {
    method: 'get', path: '/v1/refunds/{id}', summary: 'Read a refund',
    description: 'A refund of the merchant. Another merchant\'s refund answers exactly as an unknown one.',
    id: { description: 'the refund id', schema: RefundId }, query: NoParams, ok: 'Refund', errors: ['REFUND_NOT_FOUND'],
  },
  listRefunds: {
    method: 'get', path: '/v1/refunds', summary: 'List refunds',
    description: 'The merchant\'s refunds, newest first, a page at a time; or, with `payment` (and no other parameter), all of '
      + 'that payment\'s refunds, oldest first (another merchant\'s payment: PAYMENT_NOT_FOUND, as an unknown one).',
    query: ListRefundsParams, ok: 'RefundList', errors: ['PAYMENT_NOT_FOUND'],
  },
  closePeriod: {
    method: 'post', path: '/v1/periods/close', summary: 'Close a settlement period',
    description: 'Closes the period `period` if it is the open one: what was done before is sealed into it first, and the next '
      + 'period opens. A period already closed is answered as it was closed (a retry closes nothing more); one not opened yet is '
      + 'PERIOD_NOT_OPEN.',
    query: NoParams, body: ClosePeriodParams, ok: 'Period', errors: ['PERIOD_NOT_OPEN'],
  },
  getSettlement: {
    method: 'get', path: '/v1/settlements/{id}', summary: 'Read a period\'s settlement report',
    description: 'The period\'s totals per currency and every ledger entry in it, in journal order. A closed period\'s report never '
      + 'changes and is the same on every gateway; the open one\'s (`current`) grows until it is closed.',
    id: { description: 'the period\'s number, or `current`', schema: PeriodRef }, query: NoParams, ok: 'Settlement', errors: ['PERIOD_NOT_FOUND'],
  },
  listEvents: {
    method: 'get', path: '/v1/events', summary: 'List events',
    description: 'The merchant\'s events as its journal holds them, newest first, a page at a time. An event is listed once the '
      + 'gateway has sealed it into the journal (within about a second of the step that made it).',
    query: ListEventsParams, ok: 'EventList', errors: [],
  },
  getEvent: {
    method: 'get', path: '/v1/events/{id}', summary: 'Read an event',
    description: 'An event of the merchant: exactly the body its webhook deliveries carry. Another merchant\'s event answers exactly as an unknown one.',
    id: { description: 'the event id', schema: EventId }, query: NoParams, ok: 'Event', errors: ['EVENT_NOT_FOUND'],
  },
  redeliverEvent: {
    method: 'post', path: '/v1/events/{id}/redeliver', summary: 'Deliver an event again',
    description: 'Queues the event again for every webhook endpoint of the merchant, now, with a fresh retry schedule.',
    id: { description: 'the event id', schema: EventId }, query: NoParams, body: NoParams, ok: 'Redelivery', errors: ['EVENT_NOT_FOUND'],
  },
  createWebhookEndpoint: {
    method: 'post', path: '/v1/webhook_endpoints', summary: 'Add a webhook endpoint',
    description: 'Registers a URL that receives every event sealed from now on, signed (docs/webhooks.md). The answer holds the '
      + 'signing secret, shown this once. Not replayed by Idempotency-Key (a replay would have to keep the secret): a retried '
      + 'request makes another endpoint; list and delete the extra one.',
    query: NoParams, body: WebhookEndpointParams, ok: 'WebhookEndpointWithSecret', errors: ['TOO_MANY_WEBHOOK_ENDPOINTS'],
  },
  listWebhookEndpoints: {
    method: 'get', path: '/v1/webhook_endpoints', summary: 'List webhook endpoints',
    description: 'Every webhook endpoint of the merchant, oldest first, without secrets.',
    query: NoParams, ok: 'WebhookEndpointList', errors: [],
  },
  deleteWebhookEndpoint: {
    method: 'delete', path: '/v1/webhook_endpoints/{id}', summary: 'Delete a webhook endpoint',
    description: 'Stops deliveries to it (one already in flight may still arrive).',
    id: { description: 'the webhook endpoint id', schema: EndpointId }, query: NoParams, ok: 'DeletedWebhookEndpoint', errors: ['WEBHOOK_ENDPOINT_NOT_FOUND'],
  },
  rotateWebhookSecret: {
    method: 'post', path: '/v1/webhook_endpoints/{id}/rotate_secret', summary: 'Rotate a webhook endpoint\'s secret',
    description: 'A new signing secret (in this answer only); the previous one is still used beside it for `grace_seconds` '
      + '(default 24 h), so deliveries carry both signatures until the receiver has the new one. Not replayed by Idempotency-Key.',
    id: { description: 'the webhook endpoint id', schema: EndpointId }, query: NoParams, body: RotateSecretParams, ok: 'WebhookEndpointWithSecret',
    errors: ['WEBHOOK_ENDPOINT_NOT_FOUND'],
  },
} as const satisfies Record<string, RouteSpec>;

export type RouteName = keyof typeof MERCHANT_API_ROUTES;

/** Every code a route may answer with. */
export function routeErrors(route: RouteSpec): Api.MerchantApiCode[] {
  return [...new Set([...EVERY_ROUTE, ...(route.method === 'post' ? EVERY_POST : []), ...route.errors])];
}

/** The schema of an error answer for `codes` (one status of a route): its code is one of them. */
export function errorSchemaFor(codes: readonly Api.MerchantApiCode[]): TObject {
  return errorOf(literals(codes));
}

/** A compiled check: whether a value conforms, and the first broken rule (path and message, never the value). */
export interface SchemaCheck {
  Check(value: unknown): boolean;
  Errors(value: unknown): { First(): { path: string; message: string } | undefined };
}
const compiled = new Map<TSchema, SchemaCheck>();

/** The schema's check, compiled once. */
export function checkFor(schema: TSchema): SchemaCheck {
  let check = compiled.get(schema);
  if (!check) compiled.set(schema, (check = TypeCompiler.Compile(schema)));
  return check;
}
