/**
 * The merchant API's routes (protocol/merchant-api-schemas.ts MERCHANT_API_ROUTES), as thin handlers. Every
 * request goes the same way: refused with SHUTTING_DOWN once the gateway drains; authenticated (a bad key learns
 * nothing about the route); its id, query, Idempotency-Key and body checked against the route's schemas; then one
 * handler below, which reads the store, runs an operation (operations.ts) or manages webhook endpoints
 * (webhooks/endpoints.ts). A merchant sees only its own: another
 * merchant's payment or refund answers as an unknown one, the same bytes (a malformed id too, without a store
 * read). A store that fails is 503 STORE_UNAVAILABLE; anything else thrown, 500 INTERNAL (logged by `onError`).
 * Each request counts as in flight until answered, so a graceful shutdown lets it finish. Every authenticated
 * POST or DELETE is an audit line: who, which operation on which payment, the status, and whether it was a replay.
 * @example
 *   transport.serve({ …, merchant: { routes: merchantApiRoutes(deps), answers: MERCHANT_LISTENER_ANSWERS } });
 */
import { isScanpayError } from '../../core/errors.ts';
import type { Store } from '../../issuer/store/index.ts';
import { hostname } from 'node:os';
import { requestFingerprint } from '../../issuer/payment.ts';
import { closeSettlementPeriod, openPeriod, settlementReport } from '../../issuer/settlement.ts';
import {
  DEFAULT_LIST_LIMIT, DEFAULT_SECRET_GRACE_S, IDEMPOTENCY_KEY_TTL_MS, MAX_LIST_LIMIT, type ApiRedelivery, type CaptureParams, type ClosePeriodParams,
  type ListEventsParams, type ListParams, type ListRefundsParams, type RefundParams, type RotateSecretParams, type WebhookEndpointParams,
} from '../../protocol/merchant-api.ts';
import { MERCHANT_API_ROUTES, checkFor, type RouteName, type RouteSpec } from '../../protocol/merchant-api-schemas.ts';
import type { HttpRequest, HttpResponse, HttpRoute } from '../http/types.ts';
import type { OperationMetrics } from '../flow/deps.ts';
import type { GatewayLogger } from '../log.ts';
import type { ReceiptKeyInfo } from '../../issuer/key-ring.ts';
import type { UrlPolicy } from '../webhooks/address-policy.ts';
import { addEndpoint, rotateEndpointSecret } from '../webhooks/endpoints.ts';
import type { WebhookSecretBox } from '../webhooks/secrets.ts';
import {
  apiError, endpointObject, endpointWithSecret, entryObject, eventObject, listOf, ok, paymentObject, periodObject, receiptKeysObject, receiptObject,
  refundObject, settlementObject,
} from './answers.ts';
import type { MerchantAuth } from './authenticate.ts';
import { runOperation } from './operations.ts';
import { canonical, parseBody, parseIdempotencyKey, parseQuery } from './request.ts';

export interface MerchantApiDeps {
  store: Store;
  auth: MerchantAuth;
  inFlight: { track<T>(work: Promise<T>): Promise<T> };
  draining: () => boolean;
  /** Where the operations are recorded (event `merchant-api.operation`). */
  audit: GatewayLogger;
  /** Where each operation's outcome is counted (gateway/metrics.ts). */
  metrics: OperationMetrics;
  onError: (route: string, e: unknown) => void;
  /** The receipt keys' public halves, as the gateway's key ring has them now (reloaded with it). */
  receiptKeys: () => readonly ReceiptKeyInfo[];
  /** Seals new endpoints' secrets (from the fleet key), and where endpoints may point. */
  webhooks: { box: WebhookSecretBox; policy: UrlPolicy };
}

/** A request that passed every check: who asks, about what, with which parameters. */
interface Call {
  store: Store;
  receiptKeys: () => readonly ReceiptKeyInfo[];
  metrics: OperationMetrics;
  webhooks: MerchantApiDeps['webhooks'];
  merchant: string;
  /** The path's id ('' for a route without one). */
  id: string;
  /** The request's path, canonical (what an operation's fingerprint hashes). */
  path: string;
  query: object;
  body: object;
  key: string | null;
}

interface Handler {
  /** What a malformed id answers: as an unknown one. */
  unknownId?: 'PAYMENT_NOT_FOUND' | 'REFUND_NOT_FOUND' | 'PERIOD_NOT_FOUND' | 'EVENT_NOT_FOUND' | 'WEBHOOK_ENDPOINT_NOT_FOUND';
  run(call: Call): Promise<HttpResponse>;
}

const listQuery = (q: ListParams) => ({
  limit: q.limit ?? DEFAULT_LIST_LIMIT, startingAfter: q.starting_after, createdGte: q.created_gte, createdLt: q.created_lt,
});

/** Who closes a period from this process: the seal lease's holder while it seals before the close. */
const CLOSER = `merchant-api:${hostname()}:${process.pid}`;

/** The merchant's payment, or null (unknown, or another merchant's: the same). */
async function ownPayment(store: Store, merchant: string, id: string) {
  const payment = await store.payments.getPayment(id);
  return payment && payment.merchant === merchant ? payment : null;
}

/** The merchant's event, or null (unknown, or another merchant's: the same). */
async function ownEvent(store: Store, merchant: string, id: string) {
  const event = await store.events.getEvent(id);
  return event && event.merchant === merchant ? event : null;
}

const HANDLERS: Record<RouteName, Handler> = {
  listPayments: {
    run: async ({ store, merchant, query }) => ok(listOf(await store.payments.listPayments(merchant, listQuery(query as ListParams)), paymentObject)),
  },
  getPayment: {
    unknownId: 'PAYMENT_NOT_FOUND',
    async run({ store, merchant, id }) {
      const payment = await ownPayment(store, merchant, id);
      return payment ? ok(paymentObject(payment)) : apiError('PAYMENT_NOT_FOUND');
    },
  },
  listEntries: {
    unknownId: 'PAYMENT_NOT_FOUND',
    async run({ store, merchant, id }) {
      if (!(await ownPayment(store, merchant, id))) return apiError('PAYMENT_NOT_FOUND');
      return ok(listOf({ data: await store.payments.entries(id), hasMore: false }, entryObject));
    },
  },
  listReceipts: {
    unknownId: 'PAYMENT_NOT_FOUND',
    async run({ store, merchant, id }) {
      if (!(await ownPayment(store, merchant, id))) return apiError('PAYMENT_NOT_FOUND');
      return ok(listOf({ data: await store.receipts.paymentReceipts(merchant, id), hasMore: false }, receiptObject));
    },
  },
  getReceiptKeys: {
    run: async ({ receiptKeys }) => ok(receiptKeysObject(receiptKeys())),
  },
  capturePayment: {
    unknownId: 'PAYMENT_NOT_FOUND',
    run: ({ store, metrics, merchant, id, path, body, key }) => runOperation(store.payments, {
      kind: 'capture', merchant, paymentId: id, path, params: body, key, amount: (body as CaptureParams).amount,
    }, metrics),
  },
  voidPayment: {
    unknownId: 'PAYMENT_NOT_FOUND',
    run: ({ store, metrics, merchant, id, path, body, key }) => runOperation(store.payments, { kind: 'void', merchant, paymentId: id, path, params: body, key }, metrics),
  },
  reversePayment: {
    unknownId: 'PAYMENT_NOT_FOUND',
    run: ({ store, metrics, merchant, id, path, body, key }) => runOperation(store.payments, { kind: 'reverse', merchant, paymentId: id, path, params: body, key }, metrics),
  },
  createRefund: {
    run({ store, metrics, merchant, path, body, key }) {
      const { payment, amount, reason } = body as RefundParams;
      // an empty reason is none: both stores keep it as null
      return runOperation(store.payments, { kind: 'refund', merchant, paymentId: payment, path, params: body, key, amount, reason: reason || null }, metrics);
    },
  },
  getRefund: {
    unknownId: 'REFUND_NOT_FOUND',
    async run({ store, merchant, id }) {
      const refund = await store.payments.getRefund(id);
      return refund && refund.merchant === merchant ? ok(refundObject(refund)) : apiError('REFUND_NOT_FOUND');
    },
  },
  listRefunds: {
    async run({ store, merchant, query }) {
      const q = query as ListRefundsParams;
      if (q.payment === undefined) return ok(listOf(await store.payments.listRefunds(merchant, listQuery(q)), refundObject));
      if (Object.keys(q).length > 1) return apiError('INVALID_PARAMETER', 'payment', 'payment: lists all of one payment\'s refunds, with no other parameter');
      if (!(await ownPayment(store, merchant, q.payment))) return apiError('PAYMENT_NOT_FOUND');
      return ok(listOf(await store.payments.listRefunds(merchant, { limit: MAX_LIST_LIMIT, paymentId: q.payment }), refundObject));
    },
  },
  closePeriod: {
    // idempotent by the period's number (a closed period answers as it was closed); the key only guards its reuse
    async run({ store, merchant, path, body, key }) {
      const { period } = body as ClosePeriodParams;
      const fingerprint = requestFingerprint('POST', path, canonical(body));
      if (key !== null && (await store.payments.claimIdempotencyKey(merchant, key, fingerprint, IDEMPOTENCY_KEY_TTL_MS)) === 'different') {
        return apiError('IDEMPOTENCY_KEY_REUSED');
      }
      try {
        return ok(periodObject(await closeSettlementPeriod(store, merchant, period, { owner: CLOSER, now: Date.now() })));
      } catch (e) {
        if (isScanpayError(e, 'PERIOD_NOT_OPEN')) return apiError('PERIOD_NOT_OPEN');
        throw e;
      }
    },
  },
  getSettlement: {
    unknownId: 'PERIOD_NOT_FOUND',
    async run({ store, merchant, id }) {
      const report = await settlementReport(store, merchant, id === 'current' ? await openPeriod(store, merchant) : Number(id));
      return report ? ok(settlementObject(report)) : apiError('PERIOD_NOT_FOUND');
    },
  },
  listEvents: {
    async run({ store, merchant, query }) {
      const q = query as ListEventsParams;
      const limit = q.limit ?? DEFAULT_LIST_LIMIT;
      // the journal is in sealing order: newest first is from its head down
      let top = (await store.events.journalHead(merchant)).seq;
      if (q.starting_after !== undefined) {
        const after = await store.events.journalRecordOf(merchant, q.starting_after);
        if (!after) return apiError('INVALID_PARAMETER', 'starting_after', 'starting_after: not an event of this merchant\'s list');
        top = after.seq - 1;
      }
      const from = Math.max(1, top - limit + 1);
      const records = top < 1 ? [] : await store.events.journal(merchant, from, top - from + 1);
      const events = await store.events.getEvents(records.reverse().map((r) => r.eventId));
      return ok({ data: events.filter((e) => e !== null).map(eventObject), has_more: from > 1 });
    },
  },
  getEvent: {
    unknownId: 'EVENT_NOT_FOUND',
    async run({ store, merchant, id }) {
      const event = await ownEvent(store, merchant, id);
      return event ? ok(eventObject(event)) : apiError('EVENT_NOT_FOUND');
    },
  },
  redeliverEvent: {
    unknownId: 'EVENT_NOT_FOUND',
    async run({ store, merchant, id }) {
      if (!(await ownEvent(store, merchant, id))) return apiError('EVENT_NOT_FOUND');
      const redelivery: ApiRedelivery = { object: 'redelivery', event: id, endpoints: await store.webhooks.redeliver(merchant, id, Date.now()) };
      return ok(redelivery);
    },
  },
  createWebhookEndpoint: {
    async run({ store, webhooks, merchant, body }) {
      const now = Date.now();
      const made = await addEndpoint(store.webhooks, webhooks.box, merchant, (body as WebhookEndpointParams).url, webhooks.policy, now);
      if (made.ok) return ok(endpointWithSecret(made.endpoint, made.secret, now));
      return made.refusal === 'INVALID_URL' ? apiError('INVALID_PARAMETER', 'url', made.problem) : apiError(made.refusal);
    },
  },
  listWebhookEndpoints: {
    async run({ store, merchant }) {
      const now = Date.now();
      return ok(listOf({ data: await store.webhooks.listEndpoints(merchant), hasMore: false }, (e) => endpointObject(e, now)));
    },
  },
  deleteWebhookEndpoint: {
    unknownId: 'WEBHOOK_ENDPOINT_NOT_FOUND',
    async run({ store, merchant, id }) {
      if (!(await store.webhooks.deleteEndpoint(merchant, id))) return apiError('WEBHOOK_ENDPOINT_NOT_FOUND');
      return ok({ object: 'webhook_endpoint', id, deleted: true });
    },
  },
  rotateWebhookSecret: {
    unknownId: 'WEBHOOK_ENDPOINT_NOT_FOUND',
    async run({ store, webhooks, merchant, id, body }) {
      const now = Date.now();
      const graceS = (body as RotateSecretParams).grace_seconds ?? DEFAULT_SECRET_GRACE_S;
      const rotated = await rotateEndpointSecret(store.webhooks, webhooks.box, merchant, id, graceS * 1000, now);
      return rotated ? ok(endpointWithSecret(rotated.endpoint, rotated.secret, now)) : apiError('WEBHOOK_ENDPOINT_NOT_FOUND');
    },
  },
};

/** One route: the checks every request passes, then its handler. */
function routeOf(name: RouteName, spec: RouteSpec, deps: MerchantApiDeps): HttpRoute {
  const handler = HANDLERS[name];
  const answer = async (req: HttpRequest): Promise<HttpResponse> => {
    if (deps.draining()) return apiError('SHUTTING_DOWN');
    const who = await deps.auth.authenticate(req.authorization, req.remoteAddress);
    if (!who.ok) return apiError(who.code);
    const id = req.params.id ?? '';
    if (spec.id && !checkFor(spec.id.schema).Check(id)) return apiError(handler.unknownId!);
    const query = parseQuery(req.query, spec.query);
    if (!query.ok) return query.answer;
    const key = spec.method === 'post' ? parseIdempotencyKey(req.idempotencyKey) : { ok: true as const, value: null };
    if (!key.ok) return key.answer;
    const body = spec.body ? parseBody(req, spec.body) : { ok: true as const, value: {} };
    if (!body.ok) return body.answer;
    const path = spec.path.replace('{id}', id);
    const answered = await handler.run({
      store: deps.store, receiptKeys: deps.receiptKeys, metrics: deps.metrics, webhooks: deps.webhooks, merchant: who.merchant, id, path,
      query: query.value, body: body.value, key: key.value,
    });
    if (spec.method !== 'get') {
      const { payment, amount } = body.value as { payment?: string; amount?: number };
      deps.audit.info({
        event: 'merchant-api.operation', merchant: who.merchant, operation: name, payment: payment ?? id, amount, status: answered.status,
        replayed: answered.headers?.['idempotent-replayed'] === 'true',
      }, `merchant ${name}: ${answered.status}`);
    }
    return answered;
  };
  return {
    method: spec.method,
    pattern: spec.path.replace('{id}', ':id'),
    handler: (req) => deps.inFlight.track(answer(req).catch((e: unknown) => {
      if (isScanpayError(e, 'STORE_UNAVAILABLE')) return apiError('STORE_UNAVAILABLE');
      deps.onError(spec.path, e);
      return apiError('INTERNAL');
    })),
  };
}

export function merchantApiRoutes(deps: MerchantApiDeps): HttpRoute[] {
  return (Object.entries(MERCHANT_API_ROUTES) as [RouteName, RouteSpec][]).map(([name, spec]) => routeOf(name, spec, deps));
}
