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
  decline_reason: Type.Union([literals(['CURRENCY_MISMATCH', 'OVER_LIMIT', 'INSUFFICIENT_FUNDS'] as const), Type.Null()]),
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
const limit = Type.Optional(Type.Integer({ minimum: 1, maximum: Api.MAX_LIST_LIMIT, default: Api.DEFAULT_LIST_LIMIT }));
const ListPaymentsParams = Type.Object({
  limit, starting_after: Type.Optional(PaymentId), created_gte: Type.Optional(Millis), created_lt: Type.Optional(Millis),
}, { additionalProperties: false });
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
] = [true, true, true, true, true, true, true, true, true, true, true, true, true];
void schemasMatchInterfaces;

/** The named schemas, as the OpenAPI document's components name them. */
export const MERCHANT_API_SCHEMAS = {
  Payment, Refund, LedgerEntry, Reversal, PaymentList, RefundList, LedgerEntryList, Error: ErrorBody,
  CaptureParams, RefundParams, Period, Settlement, ClosePeriodParams,
} as const satisfies Record<string, TSchema>;
export type SchemaName = keyof typeof MERCHANT_API_SCHEMAS;

// ── the routes ──────────────────────────────────────────────────────────────────────────────────────────

/** The codes every route may answer: its caller's key, its parameters, and the gateway's own state. */
const EVERY_ROUTE: readonly Api.MerchantApiCode[] = ['INVALID_PARAMETER', 'UNAUTHENTICATED', 'RATE_LIMITED', 'INTERNAL', 'SHUTTING_DOWN', 'STORE_UNAVAILABLE'];
/** …and every POST: a body, and the Idempotency-Key. */
const EVERY_POST: readonly Api.MerchantApiCode[] = ['INVALID_JSON', 'BODY_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE', 'IDEMPOTENCY_KEY_REUSED'];

export interface RouteSpec {
  method: 'get' | 'post';
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
