/**
 * Fuzz target: the merchant API (docs/merchant-api.md), black box over HTTP against a real gateway on a
 * MemoryStore, a merchant with a key, held and captured payments of its own and one of another merchant's.
 * Inputs: every route (events and webhook endpoints too) with ids that are the merchant's, the other merchant's, unknown, or mutated; JSON bodies
 * built from the API's own fields with fuzzed values (amounts of every kind: fractions, negatives, strings, past
 * 2^53), arbitrary JSON, mutated bodies, random bytes, bodies around and past the 16 KiB cap, deep nesting;
 * content types, Authorization headers (good, the other merchant's, mutated, random, none), Idempotency-Keys
 * (none, a few reused ones, random) and query strings.
 * Invariants: every answer is one the OpenAPI document declares for its route and status (and never 5xx); an
 * answer other than 200 changed nothing (payments, entries, refunds, balances); a 200 that moved money left every
 * balance equal to its opening balance plus its entries' changes, and no payment refunded past its capture; the
 * other merchant's payment is never touched; no API key in any answer. At the end a refund still goes through.
 */
import fc from 'fast-check';
import { MemoryStore, type Store } from '../../../issuer/store/index.ts';
import { MAX_REQUEST_BYTES } from '../../../protocol/merchant-api.ts';
import { startGatewayFixture } from '../../support/gateway-fixture.ts';
import { MerchantApi, createMerchant, expectReconciled, paidPayment, storedCard } from '../../support/merchant-api.ts';
import { timed, type FuzzOptions, type FuzzReport } from './harness.ts';
import { alphabetOf, mutatedBytes, mutatedText } from './mutate.ts';

const SHOP = 'fuzz-shop';
const OTHER = 'other-shop';

/** What a rejected request must leave as it was: every payment, its entries and refunds, every card's balance. */
async function snapshot(store: Store, cards: string[], payments: string[]): Promise<string> {
  const parts = await Promise.all([
    ...cards.map((token) => store.getCard(token).then((c) => c?.balance)),
    ...payments.map(async (id) => [await store.payments.getPayment(id), await store.payments.entries(id)]),
    store.payments.listRefunds(SHOP, { limit: 100 }), store.payments.listRefunds(OTHER, { limit: 100 }),
  ]);
  return JSON.stringify(parts);
}

/** A header value fetch will send: control characters and characters past U+00FF become `?` (bytes 0x80-0xFF stay). */
const sendable = (value: string) => value.replace(/[\u0000-\u0008\u000a-\u001f\u007f]|[^\u0000-\u00ff]/g, '?');

export async function fuzzMerchantApi(opts: FuzzOptions): Promise<FuzzReport> {
  const store = new MemoryStore();
  const unlimited = { perSecond: 1_000_000, burst: 1_000_000 }; // the failure budget is attack.test's and listener.test's: here every bad key reaches its check
  // no webhook deliveries: the target is the API (the endpoints it makes would be called otherwise)
  const fx = await startGatewayFixture({ store, gateway: { merchantAuthFailures: unlimited, webhooks: { intervalMs: 0 } } });
  const key = await createMerchant(store, fx.fleetKey, SHOP);
  const otherKey = await createMerchant(store, fx.fleetKey, OTHER);
  const api = new MerchantApi(fx.gateway.merchantUrl, key);
  const card = await storedCard(store, { balance: 1_000_000 });
  const payments: string[] = [];
  for (const capture of ['manual', 'manual', 'manual', 'automatic', 'automatic'] as const) {
    payments.push((await paidPayment(store, SHOP, 10_000, card, { captureMethod: capture })).id);
  }
  const theirs = (await paidPayment(store, OTHER, 10_000, card)).id;
  const allPayments = [...payments, theirs];
  const refundId = (await api.post('/v1/refunds', { payment: payments[3], amount: 1 })).json.id as string;
  const endpointId = (await api.post('/v1/webhook_endpoints', { url: 'https://hooks.example/fuzz' })).json.id as string;
  const theirEndpoint = (await api.as(otherKey).post('/v1/webhook_endpoints', { url: 'https://hooks.example/other' })).json.id as string;
  const events = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...payments.map((p) => `ev_${p}_1`), `ev_${payments[3]}_2`) },
    { weight: 2, arbitrary: fc.constantFrom(`ev_${theirs}_1`, `ev_${'0'.repeat(32)}_1`, `ev_${payments[0]}_9`) },
    { weight: 1, arbitrary: mutatedText([`ev_${payments[0]}_1`], alphabetOf('0123456789abcdef_ev')) },
  );
  const endpoints = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(endpointId, theirEndpoint, `we_${'0'.repeat(32)}`) },
    { weight: 1, arbitrary: mutatedText([endpointId], alphabetOf('0123456789abcdef_we')) },
  );
  const url = fc.oneof(
    { weight: 2, arbitrary: fc.constantFrom('https://hooks.example/a', 'http://hooks.example/', 'https://127.0.0.1/', 'https://[::ffff:127.0.0.1]/', 'https://u:p@h.example/', 'ftp://x/') },
    { weight: 1, arbitrary: fc.webUrl() },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 1 }) },
  );

  const ids = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...payments) },
    { weight: 2, arbitrary: fc.constantFrom(theirs, '0'.repeat(32), refundId) },
    { weight: 1, arbitrary: mutatedText(payments, alphabetOf('0123456789abcdefABCDEF-_')) },
    { weight: 1, arbitrary: fc.string({ maxLength: 80 }).map(encodeURIComponent) },
  );
  const amount = fc.oneof(
    { weight: 4, arbitrary: fc.integer({ min: 1, max: 12_000 }) },
    { weight: 1, arbitrary: fc.constantFrom(0, -1, 1.5, 2 ** 53, 2 ** 53 - 1, 1e308, '100', null, true, [], {}) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  );
  const fields = fc.record({
    amount, payment: fc.oneof(ids, fc.jsonValue({ maxDepth: 1 })), reason: fc.oneof(fc.string({ maxLength: 40 }), fc.jsonValue({ maxDepth: 1 })),
    url, grace_seconds: amount, extra: fc.jsonValue({ maxDepth: 1 }),
  }, { requiredKeys: [] });
  const encoder = new TextEncoder();
  const valid = payments.map((p) => `{"payment":"${p}","amount":5}`);
  const body = fc.oneof(
    { weight: 8, arbitrary: fields.map((f) => JSON.stringify(f)) },
    { weight: 4, arbitrary: fc.tuple(fc.constantFrom(...payments), amount).map(([payment, a]) => JSON.stringify({ payment, amount: a })) },
    { weight: 2, arbitrary: amount.map((a) => JSON.stringify({ amount: a })) },
    { weight: 2, arbitrary: fc.json({ maxDepth: 3 }) },
    { weight: 2, arbitrary: mutatedText(valid, alphabetOf('{}[]":,0123456789amount ')) },
    { weight: 1, arbitrary: mutatedBytes(valid.map((v) => encoder.encode(v))).map((b) => Buffer.from(b)) },
    { weight: 1, arbitrary: fc.integer({ min: MAX_REQUEST_BYTES - 40, max: 2 * MAX_REQUEST_BYTES }).map((n) => `{"payment":"${payments[0]}","amount":1,"reason":"${'x'.repeat(n)}"}`) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 4_000 }).map((n) => `${'['.repeat(n)}${']'.repeat(n)}`) },
    { weight: 1, arbitrary: fc.constant('') },
  );
  const request = fc.oneof(
    { weight: 4, arbitrary: fc.tuple(fc.constantFrom('capture', 'void', 'reverse'), ids).map(([action, id]) => ({ method: 'POST', path: `/v1/payments/${id}/${action}` })) },
    { weight: 4, arbitrary: fc.constant({ method: 'POST', path: '/v1/refunds' }) },
    { weight: 2, arbitrary: ids.map((id) => ({ method: 'GET', path: `/v1/payments/${id}` })) },
    { weight: 1, arbitrary: ids.map((id) => ({ method: 'GET', path: `/v1/payments/${id}/entries` })) },
    { weight: 1, arbitrary: ids.map((id) => ({ method: 'GET', path: `/v1/refunds/${id.startsWith('re_') ? id : `re_${id}`}` })) },
    { weight: 2, arbitrary: fc.tuple(fc.constantFrom('/v1/payments', '/v1/refunds'), fc.array(fc.tuple(fc.constantFrom('limit', 'starting_after', 'created_gte', 'created_lt', 'payment', 'x'), fc.oneof(fc.integer({ min: -5, max: 200 }).map(String), ids, fc.string({ maxLength: 20 }))), { maxLength: 4 }))
      .map(([path, query]) => ({ method: 'GET', path: `${path}?${new URLSearchParams(query)}` })) },
    { weight: 1, arbitrary: events.map((id) => ({ method: 'GET', path: `/v1/events/${id}` })) },
    { weight: 1, arbitrary: events.map((id) => ({ method: 'POST', path: `/v1/events/${id}/redeliver` })) },
    { weight: 1, arbitrary: fc.array(fc.tuple(fc.constantFrom('limit', 'starting_after', 'x'), fc.oneof(fc.integer({ min: -5, max: 200 }).map(String), events)), { maxLength: 3 })
      .map((query) => ({ method: 'GET', path: `/v1/events?${new URLSearchParams(query)}` })) },
    { weight: 1, arbitrary: fc.constantFrom({ method: 'POST', path: '/v1/webhook_endpoints' }, { method: 'GET', path: '/v1/webhook_endpoints' }) },
    { weight: 1, arbitrary: endpoints.map((id) => ({ method: 'DELETE', path: `/v1/webhook_endpoints/${id}` })) },
    { weight: 1, arbitrary: endpoints.map((id) => ({ method: 'POST', path: `/v1/webhook_endpoints/${id}/rotate_secret` })) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom('PUT', 'DELETE', 'PATCH', 'GET', 'POST'), fc.string({ maxLength: 30 })).map(([method, p]) => ({ method, path: `/v1/${encodeURIComponent(p)}` })) },
  );
  const contentType = fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom('application/json', 'application/json; charset=utf-8') },
    { weight: 1, arbitrary: fc.constantFrom('', 'text/plain', 'application/json; charset=latin1', 'APPLICATION/JSON', 'application/jsonx') },
    { weight: 1, arbitrary: fc.stringMatching(/^[!-~]{0,40}$/) },
  );
  const authorization = fc.oneof(
    { weight: 10, arbitrary: fc.constant(`Bearer ${key}`) },
    { weight: 1, arbitrary: fc.constantFrom('', `Bearer ${otherKey}`, `bearer ${key}`, `Basic ${key}`, 'Bearer') },
    { weight: 1, arbitrary: mutatedText([`Bearer ${key}`], alphabetOf('spk_0123456789abcdefABC-')).map(sendable) },
    { weight: 1, arbitrary: fc.stringMatching(/^[ -~]{0,120}$/) },
  );
  const idempotencyKey = fc.oneof(
    { weight: 4, arbitrary: fc.constant(undefined) },
    { weight: 3, arbitrary: fc.constantFrom('k-1', 'k-2', 'k-3') },
    { weight: 1, arbitrary: fc.stringMatching(/^[ -~]{0,300}$/) },
  );

  try {
    return await timed('merchant-api', opts, async (seed, outcomes) => {
      let before = await snapshot(store, [card.token], allPayments);
      const theirsBefore = JSON.stringify(await store.payments.getPayment(theirs));
      // the other merchant's key is among the authorizations tried: what it does with its own resources is its right
      let otherActed = false;
      await fc.assert(fc.asyncProperty(request, body, contentType, authorization, idempotencyKey, async (r, b, ct, auth, idem) => {
        const headers: Record<string, string> = { authorization: auth };
        if (ct) headers['content-type'] = ct;
        const answer = await api.request(r.method, r.path, { apiKey: null, headers, ...(r.method === 'POST' ? { body: b } : {}), ...(idem === undefined ? {} : { idempotencyKey: idem.trim() || undefined }) });
        // documented for its route and status (MerchantApi.request threw otherwise); never a server error
        if (answer.status >= 500) throw new Error(`${r.method} ${r.path} answered ${answer.status}: ${answer.text}`);
        outcomes.add(answer.status === 200 ? `200 ${r.method}` : `${answer.status} ${answer.json.error.code}`);
        if (auth === `Bearer ${otherKey}` && answer.status === 200 && r.method !== 'GET') otherActed = true;
        const after = await snapshot(store, [card.token], allPayments);
        if (answer.status !== 200 || r.method === 'GET') {
          if (after !== before) throw new Error(`${r.method} ${r.path} answered ${answer.status} and changed the store`);
          return;
        }
        await expectReconciled(store, card, allPayments);
        for (const id of payments) {
          const p = (await store.payments.getPayment(id))!;
          if (p.refundedAmount > p.capturedAmount) throw new Error(`payment ${id} refunded ${p.refundedAmount} of ${p.capturedAmount}`);
        }
        before = after;
      }), { numRuns: opts.runs, seed });
      if (!otherActed) {
        if (JSON.stringify(await store.payments.getPayment(theirs)) !== theirsBefore) throw new Error('the other merchant\'s payment changed');
        if (!(await store.webhooks.getEndpoint(OTHER, theirEndpoint))) throw new Error('the other merchant\'s webhook endpoint was deleted');
      }
      // still serves: a fresh payment refunds
      const fresh = await paidPayment(store, SHOP, 100, card);
      const refund = await api.post('/v1/refunds', { payment: fresh.id, amount: 100 });
      if (refund.status !== 200) throw new Error(`a refund after fuzzing answered ${refund.status}: ${refund.text}`);
      return opts.runs;
    });
  } finally {
    await fx.close();
    await store.close();
  }
}
