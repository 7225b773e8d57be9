/**
 * Webhook delivery through a real gateway (gateway/webhooks/delivery-loop.ts, gateway/ledger/sealer-loop.ts), on
 * the embedded store and on Redis, attacked as docs/webhooks.md promises it holds:
 * - a receiver down for a while (connections reset, 503s), then up, with a short retry schedule: every event
 *   delivered, none lost, in order per payment, each copy of an event the same bytes with the same id, each
 *   signature valid, each body what GET /v1/events/{id} answers;
 * - hostile receivers (one never answers, one answers 1 GB, one redirects to loopback) on the same merchant while
 *   the merchant API refunds and a scanner pays: every operation answered, the payment approved, the hostile
 *   deliveries failed and bounded.
 * The counts are printed for the notes (delivered, lost, duplicates, attempts).
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryStore, RedisStore, type Store } from '../../issuer/store/index.ts';
import { verifyWebhook } from '../../sdk/index.ts';
import { PIN, startGatewayFixture, type GatewayFixture } from '../support/gateway-fixture.ts';
import { MerchantApi, createMerchant, paidPayment } from '../support/merchant-api.ts';
import { deleteKeys, describeRedis, redisForTests, testKeyPrefix } from '../support/redis.ts';
import { WebhookReceiver, until, type Received } from '../support/webhook-receiver.ts';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';

const redis = await redisForTests();
afterAll(async () => {
  await redis?.stop();
});

const SHOP = 'webhook-shop';
const FAST = { sealerIntervalMs: 30, webhooks: { intervalMs: 30, retryScheduleMs: [30, 60, 90, 120, 150, 200, 250, 300, 400, 500, 500, 500], timeoutMs: 1_000, allowPrivate: true } };

function deliverySuite(openStore: () => Promise<{ store: Store; dispose(): Promise<void> }>): void {
  let store: Store;
  let dispose: () => Promise<void>;
  let fx: GatewayFixture;
  let api: MerchantApi;
  const closers: (() => Promise<unknown>)[] = [];

  beforeEach(async () => {
    ({ store, dispose } = await openStore());
    fx = await startGatewayFixture({ store, gateway: FAST });
    api = new MerchantApi(fx.gateway.merchantUrl, await createMerchant(store, fx.fleetKey, SHOP));
  });
  afterEach(async () => {
    await fx.close();
    await Promise.all(closers.splice(0).map((c) => c()));
    await dispose();
  });

  /** The ids of every event of these payments, as the store holds them. */
  async function eventIds(paymentIds: string[]): Promise<string[]> {
    return (await Promise.all(paymentIds.map((id) => store.events.paymentEvents(id)))).flat().map((e) => e.id);
  }

  it('a receiver down for a while, then up: every event delivered, none lost, in order per payment, duplicates identical', async () => {
    let failures = 0;
    const acked = new Set<string>();
    const answeredAt = new Map<string, number>(); // event id → index of its first 2xx in `received`
    const receiver = await WebhookReceiver.start((got, n) => {
      if (failures < 25) { // down: connections reset and 503s, whatever comes
        failures++;
        return n % 2 ? 'reset' : { status: 503 };
      }
      if (!acked.has(got.eventId)) answeredAt.set(got.eventId, n - 1);
      acked.add(got.eventId);
      return { status: 200, body: 'ok' };
    });
    closers.push(() => receiver.close());
    const created = await api.post('/v1/webhook_endpoints', { url: receiver.url });
    expect(created.status).toBe(200);
    const secret: string = created.json.secret;

    const payments: string[] = [];
    for (let i = 0; i < 12; i++) payments.push((await paidPayment(store, SHOP, 1_000 + i)).id);
    for (const id of payments.slice(0, 6)) {
      expect((await api.post('/v1/refunds', { payment: id, amount: 100 })).status).toBe(200);
      expect((await api.post('/v1/refunds', { payment: id, amount: 200 })).status).toBe(200);
    }
    const expected = await eventIds(payments);
    expect(expected).toHaveLength(12 + 12);
    await until(() => expected.every((id) => acked.has(id)), 'every event acknowledged');

    const copies = new Map<string, Received[]>();
    for (const got of receiver.received) copies.set(got.eventId, [...(copies.get(got.eventId) ?? []), got]);
    const now = Math.floor(Date.now() / 1000);
    for (const got of receiver.received) {
      expect(verifyWebhook(got.body, got.signature, [secret], { now }), got.eventId).toMatchObject({ ok: true });
      expect(JSON.parse(got.body).id).toBe(got.eventId);
    }
    for (const [id, all] of copies) {
      expect(new Set(all.map((c) => c.body)).size, id).toBe(1); // every copy the same bytes
      expect((await api.get(`/v1/events/${id}`)).text).toBe(all[0]!.body);
    }
    // in order per payment: event n+1 was first sent after event n was acknowledged
    for (const id of expected) {
      const [, pid, n] = /^ev_([0-9a-f]{32})_(\d+)$/.exec(id)!;
      if (n === '1') continue;
      const firstSent = receiver.received.findIndex((r) => r.eventId === id);
      expect(firstSent, id).toBeGreaterThan(answeredAt.get(`ev_${pid}_${Number(n) - 1}`)!);
    }
    const lost = expected.filter((id) => !acked.has(id)).length;
    const duplicates = [...copies.values()].reduce((n, all) => n + all.length - 1, 0);
    console.log(`[webhooks ${store.persistent ? 'redis' : 'embedded'}] receiver down for ${failures} attempts: events ${expected.length}, delivered ${acked.size}, lost ${lost}, requests ${receiver.received.length} (${duplicates} repeats of an id)`);
    expect(lost).toBe(0);
    await until(async () => (await store.webhooks.counts(SHOP)).pending === 0, 'no delivery pending');
    expect(await store.webhooks.counts(SHOP)).toEqual({ pending: 0, delivered: expected.length, failed: 0 });
  });

  it('hostile receivers (never answers, 1 GB answer, redirect to loopback) are bounded; the merchant API keeps answering', async () => {
    const inside = createTcpServer((s) => s.destroy());
    let insideConnections = 0;
    inside.on('connection', () => insideConnections++);
    await new Promise<void>((resolve) => inside.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise((r) => inside.close(r)));
    const hang = await WebhookReceiver.start(() => 'hang');
    let written = 0;
    const chunk = Buffer.alloc(64 * 1024, 0x62);
    const huge = await WebhookReceiver.start(() => (res) => {
      res.writeHead(200, { 'content-length': String(1024 ** 3) });
      const pump = () => {
        while (written < 1024 ** 3 && !res.destroyed) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
      };
      pump();
    });
    const redirect = await WebhookReceiver.start(() => ({ status: 302, headers: { location: `http://127.0.0.1:${(inside.address() as AddressInfo).port}/` } }));
    closers.push(() => hang.close(), () => huge.close(), () => redirect.close());
    for (const r of [hang, huge, redirect]) expect((await api.post('/v1/webhook_endpoints', { url: r.url })).status).toBe(200);

    const payments: string[] = [];
    for (let i = 0; i < 8; i++) payments.push((await paidPayment(store, SHOP, 500)).id);
    // while deliveries hang, fail and retry: every refund answered
    for (const id of payments) expect((await api.post('/v1/refunds', { payment: id, amount: 100 })).status).toBe(200);
    // and while a delivery hangs, a scanner's payment goes through end to end
    await until(() => hang.received.length >= 1, 'a delivery hanging');
    const card = await fx.issue({ balance: 10_000 });
    const scanner = await fx.scanner();
    // (for a merchant with no endpoints and no registration: a scanner bound to no merchant may take it)
    const auth = await scanner.open(card.payloadText, 1_250, { merchant: 'walk-in-stall' });
    expect(await scanner.pin(auth.session, PIN)).toMatchObject({ type: 'payment-result', outcome: 'approved' });
    const expected = await eventIds(payments);
    await until(() => expected.every((id) => huge.received.some((r) => r.eventId === id)), 'the 1 GB receiver to get every event');
    await until(() => hang.received.length >= 2 && redirect.received.length >= 4, 'hostile deliveries to be tried');
    expect((await api.get(`/v1/payments/${payments[0]}`)).json).toMatchObject({ amount_refunded: 100 });
    expect(insideConnections).toBe(0); // the redirect was never followed
    expect(written).toBeLessThan(64 * 1024 * 1024 * 2); // per answer a bounded part, whatever the receiver sends
    await until(() => hang.closedConnections >= 1, 'a hung delivery to be cut at its deadline');
  });
}

describe('webhook delivery on the embedded store', () => {
  deliverySuite(async () => ({ store: new MemoryStore(), dispose: async () => {} }));

  it('a merchant whose receiver hangs holds at most a quarter of the delivery slots; another merchant\'s events go through', async () => {
    const store = new MemoryStore();
    const fx = await startGatewayFixture({ store, gateway: { ...FAST, webhooks: { ...FAST.webhooks, maxConcurrent: 8, timeoutMs: 5_000 } } });
    let mostOpen = 0; // requests hanging at once, as the receiver sees them
    const hang: WebhookReceiver = await WebhookReceiver.start(() => {
      mostOpen = Math.max(mostOpen, hang.received.length - hang.closedConnections);
      return 'hang';
    });
    const fine = await WebhookReceiver.start(() => ({ status: 200 }));
    try {
      const slow = new MerchantApi(fx.gateway.merchantUrl, await createMerchant(store, fx.fleetKey, 'slow-shop'));
      const quick = new MerchantApi(fx.gateway.merchantUrl, await createMerchant(store, fx.fleetKey, 'quick-shop'));
      await slow.post('/v1/webhook_endpoints', { url: hang.url });
      await quick.post('/v1/webhook_endpoints', { url: fine.url });
      for (let i = 0; i < 12; i++) await paidPayment(store, 'slow-shop', 100);
      await until(() => hang.received.length >= 2, 'the slow merchant\'s deliveries hanging');
      const quickIds: string[] = [];
      for (let i = 0; i < 6; i++) quickIds.push(`ev_${(await paidPayment(store, 'quick-shop', 100)).id}_1`);
      await until(() => quickIds.every((id) => fine.received.some((r) => r.eventId === id)), 'the quick merchant\'s events');
      expect(mostOpen).toBeGreaterThanOrEqual(1);
      expect(mostOpen).toBeLessThanOrEqual(2); // 8 slots / 4: never more than 2 of the slow merchant's at once
    } finally {
      await fx.close();
      await Promise.all([hang.close(), fine.close()]);
    }
  });
});

describeRedis(redis, 'webhook delivery on Redis', (server) => {
  const runPrefix = testKeyPrefix();
  let next = 0;
  afterAll(async () => {
    await deleteKeys(server.url, runPrefix);
  });
  deliverySuite(async () => {
    const store = await RedisStore.connect(server.url, { prefix: `${runPrefix}${next++}:` });
    return { store, dispose: () => store.close() };
  });
});
