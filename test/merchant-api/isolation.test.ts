/**
 * Merchant isolation on every route (issue 23's invariant): merchant A's key gets, for each of merchant B's
 * payments and refunds, exactly what it gets for an unknown id — the same status, headers and body bytes — on
 * every route that names one (reads, entries, capture, void, reverse, refund, the refunds of a payment, a page
 * cursor), and B's payments, refunds and balances are as they were; the same for B's events (read, redeliver, a
 * page cursor) and webhook endpoints (delete, rotate), which stay as they were. On the embedded store and on Redis.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore, RedisStore, type Store } from '../../issuer/store/index.ts';
import { startGatewayFixture } from '../support/gateway-fixture.ts';
import { deleteKeys, describeRedis, redisForTests, testKeyPrefix } from '../support/redis.ts';
import { MerchantApi, createMerchant, expectReconciled, paidPayment, storedCard, type Answer } from '../support/merchant-api.ts';

const redis = await redisForTests();
afterAll(async () => {
  await redis?.stop();
});

function headerList(headers: Headers): [string, string][] {
  const list: [string, string][] = [];
  headers.forEach((value, name) => list.push([name, value]));
  return list.sort();
}

/** What a caller can compare of two answers: status, every header but the date, and the body. */
const seen = (a: Answer) => ({
  status: a.status,
  headers: headerList(a.headers).filter(([name]) => name !== 'date'),
  body: a.text,
});

function isolationSuite(open: () => Promise<{ store: Store; dispose(): Promise<void> }>): void {
  let store: Store;
  let dispose: () => Promise<void>;
  beforeAll(async () => {
    ({ store, dispose } = await open());
  });
  afterAll(() => dispose());

  it('A\'s key on B\'s payments and refunds answers as on unknown ones, on every route, and changes nothing', async () => {
    const fx = await startGatewayFixture({ store, gateway: { webhooks: { intervalMs: 0 } } }); // B's endpoint is never called
    try {
      const a = new MerchantApi(fx.gateway.merchantUrl, await createMerchant(fx.store, fx.fleetKey, 'shop-a'));
      const b = a.as(await createMerchant(fx.store, fx.fleetKey, 'shop-b'));
      const card = await storedCard(fx.store, { balance: 10_000 });
      const held = await paidPayment(fx.store, 'shop-b', 1_000, card, { captureMethod: 'manual' });
      const captured = await paidPayment(fx.store, 'shop-b', 2_000, card);
      const refund = (await b.post('/v1/refunds', { payment: captured.id, amount: 500 }, { idempotencyKey: 'b-1' })).json;
      const before = await Promise.all([held.id, captured.id].map((id) => b.get(`/v1/payments/${id}`)));
      const unknownPayment = '0'.repeat(32);
      const unknownRefund = `re_${'0'.repeat(32)}`;

      // each route that names a payment or refund: B's answers exactly as an unknown one (both for A)
      const probes: [string, (payment: string, refundId: string) => Promise<Answer>][] = [
        ['read', (p) => a.get(`/v1/payments/${p}`)],
        ['entries', (p) => a.get(`/v1/payments/${p}/entries`)],
        ['capture', (p) => a.post(`/v1/payments/${p}/capture`, { amount: 100 })],
        ['capture with a key', (p) => a.post(`/v1/payments/${p}/capture`, {}, { idempotencyKey: `a-capture-${p}` })],
        ['void', (p) => a.post(`/v1/payments/${p}/void`)],
        ['void with a key', (p) => a.post(`/v1/payments/${p}/void`, undefined, { idempotencyKey: `a-void-${p}` })],
        ['reverse', (p) => a.post(`/v1/payments/${p}/reverse`)],
        ['reverse with a key', (p) => a.post(`/v1/payments/${p}/reverse`, undefined, { idempotencyKey: `a-reverse-${p}` })],
        ['refund', (p) => a.post('/v1/refunds', { payment: p, amount: 1 })],
        ['refund with a key', (p) => a.post('/v1/refunds', { payment: p, amount: 1 }, { idempotencyKey: `a-refund-${p}` })],
        ['a payment\'s refunds', (p) => a.get(`/v1/refunds?payment=${p}`)],
        ['a payments page after it', (p) => a.get(`/v1/payments?starting_after=${p}`)],
        ['a refund', (_p, r) => a.get(`/v1/refunds/${r}`)],
        ['a refunds page after it', (_p, r) => a.get(`/v1/refunds?starting_after=${r}`)],
      ];
      let compared = 0;
      for (const [route, probe] of probes) {
        const unknown = seen(await probe(unknownPayment, unknownRefund));
        for (const payment of [held.id, captured.id]) {
          expect(seen(await probe(payment, refund.id)), `${route} on B's ${payment === held.id ? 'held' : 'captured'} payment`).toEqual(unknown);
          compared++;
        }
        if (!route.includes('page')) expect(unknown.status, route).toBe(404);
      }
      expect(compared).toBe(probes.length * 2);

      // B's events and webhook endpoint: as unknown ones for A
      const endpoint = (await b.post('/v1/webhook_endpoints', { url: 'https://hooks.example/shop-b' })).json;
      const unknownEvent = `ev_${unknownPayment}_1`;
      const unknownEndpoint = `we_${'0'.repeat(32)}`;
      const eventProbes: [string, (id: string) => Promise<Answer>][] = [
        ['an event', (id) => a.get(`/v1/events/${id}`)],
        ['redeliver', (id) => a.post(`/v1/events/${id}/redeliver`)],
        ['an events page after it', (id) => a.get(`/v1/events?starting_after=${id}`)],
      ];
      for (const [route, probe] of eventProbes) {
        const unknown = seen(await probe(unknownEvent));
        for (const id of [`ev_${held.id}_1`, `ev_${captured.id}_2`]) expect(seen(await probe(id)), `${route} of B's ${id}`).toEqual(unknown);
      }
      const endpointProbes: [string, (id: string) => Promise<Answer>][] = [
        ['delete', (id) => a.request('DELETE', `/v1/webhook_endpoints/${id}`)],
        ['rotate', (id) => a.post(`/v1/webhook_endpoints/${id}/rotate_secret`, {})],
      ];
      for (const [route, probe] of endpointProbes) {
        const unknown = seen(await probe(unknownEndpoint));
        expect(unknown.status, route).toBe(404);
        expect(seen(await probe(endpoint.id)), `${route} of B's endpoint`).toEqual(unknown);
      }
      expect((await a.get('/v1/webhook_endpoints')).json).toEqual({ data: [], has_more: false });
      const listed = (await b.get('/v1/webhook_endpoints')).json.data;
      expect(listed).toEqual([{ object: 'webhook_endpoint', id: endpoint.id, url: endpoint.url, created_at: endpoint.created_at, previous_secret_expires_at: null }]);
      // A's own lists show nothing of B's
      expect((await a.get('/v1/payments')).json).toEqual({ data: [], has_more: false });
      expect((await a.get('/v1/refunds')).json).toEqual({ data: [], has_more: false });

      // B's payments and refunds are as they were
      const after = await Promise.all([held.id, captured.id].map((id) => b.get(`/v1/payments/${id}`)));
      expect(after.map((x) => x.text)).toEqual(before.map((x) => x.text));
      expect((await b.get(`/v1/refunds?payment=${captured.id}`)).json.data).toEqual([refund]);
      await expectReconciled(fx.store, card, [held.id, captured.id]);
      expect((await fx.store.getCard(card.token))!.balance).toBe(10_000 - 1_000 - 2_000 + 500);
    } finally {
      await fx.close();
    }
  });
}

describe('merchant isolation, embedded store', () => {
  isolationSuite(async () => {
    const store = new MemoryStore();
    return { store, dispose: () => store.close() };
  });
});

describeRedis(redis, 'merchant isolation, Redis', (r) => {
  isolationSuite(async () => {
    const prefix = testKeyPrefix();
    const store = await RedisStore.connect(r.url, { prefix });
    return {
      store,
      async dispose() {
        await store.close();
        await deleteKeys(r.url, prefix);
      },
    };
  });
});
