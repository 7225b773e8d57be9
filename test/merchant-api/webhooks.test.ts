/**
 * The merchant API's events and webhook endpoint routes (docs/webhooks.md, docs/merchant-api.md), on the embedded
 * store and on Redis, every answer checked against the OpenAPI document: events listed newest first a page at a
 * time, read, redelivered; another merchant's event (or endpoint) answers exactly as an unknown one; endpoints made
 * (the secret in that answer only: never listed, never in Redis in clear), rotated (two signatures for the
 * grace), deleted, capped; URLs the policy refuses (http, loopback, credentials) are 400 naming `url`.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryStore, RedisStore, type Store } from '../../issuer/store/index.ts';
import { MerchantClient, verifyWebhook } from '../../sdk/index.ts';
import { startGatewayFixture, type GatewayFixture } from '../support/gateway-fixture.ts';
import { MerchantApi, createMerchant, paidPayment } from '../support/merchant-api.ts';
import { deleteKeys, describeRedis, keysUnder, redisForTests, testKeyPrefix } from '../support/redis.ts';
import { WebhookReceiver, until } from '../support/webhook-receiver.ts';
import { Redis } from 'ioredis';

const redis = await redisForTests();
afterAll(async () => {
  await redis?.stop();
});

const SHOP = 'events-shop';
const OTHER = 'events-other';
const GATEWAY = { sealerIntervalMs: 30, webhooks: { intervalMs: 30, retryScheduleMs: [30, 60], timeoutMs: 1_000, allowPrivate: true } };

function webhookRoutesSuite(openStore: () => Promise<{ store: Store; raw?: () => Redis; prefix?: string; dispose(): Promise<void> }>): void {
  let opened: Awaited<ReturnType<typeof openStore>>;
  let store: Store;
  let fx: GatewayFixture;
  let api: MerchantApi;
  let other: MerchantApi;
  const closers: (() => Promise<unknown>)[] = [];

  beforeEach(async () => {
    opened = await openStore();
    store = opened.store;
    fx = await startGatewayFixture({ store, gateway: GATEWAY });
    api = new MerchantApi(fx.gateway.merchantUrl, await createMerchant(store, fx.fleetKey, SHOP));
    other = api.as(await createMerchant(store, fx.fleetKey, OTHER));
  });
  afterEach(async () => {
    await fx.close();
    await Promise.all(closers.splice(0).map((c) => c()));
    await opened.dispose();
  });

  const sealed = (merchant: string, n: number) => until(async () => (await store.events.journalHead(merchant)).seq >= n, `${n} events sealed`);

  it('lists events newest first a page at a time, reads one, and refuses another merchant\'s exactly as an unknown one', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await paidPayment(store, SHOP, 100 + i)).id);
    await api.post('/v1/refunds', { payment: ids[0], amount: 50 });
    const foreign = (await paidPayment(store, OTHER, 999)).id;
    await sealed(SHOP, 6);
    await sealed(OTHER, 1);

    const first = await api.get('/v1/events?limit=4');
    expect(first.json.has_more).toBe(true);
    expect(first.json.data).toHaveLength(4);
    const journal = await store.events.journal(SHOP, 1, 100);
    expect(first.json.data.map((e: { id: string }) => e.id)).toEqual(journal.map((r) => r.eventId).reverse().slice(0, 4));
    const second = await api.get(`/v1/events?limit=4&starting_after=${first.json.data[3].id}`);
    expect(second.json.has_more).toBe(false);
    expect(second.json.data.map((e: { id: string }) => e.id)).toEqual(journal.map((r) => r.eventId).reverse().slice(4));

    const refund = (await api.get(`/v1/events/ev_${ids[0]}_2`)).json;
    expect(refund).toMatchObject({ object: 'event', type: 'refund.created', data: { payment: { id: ids[0], amount_refunded: 50 }, refund: { amount: 50 }, entries: [{ type: 'refund', amount: 50 }] } });
    const unknown = await api.get(`/v1/events/ev_${'0'.repeat(32)}_1`);
    expect(unknown.status).toBe(404);
    expect(unknown.json.error.code).toBe('EVENT_NOT_FOUND');
    expect((await api.get(`/v1/events/ev_${foreign}_1`)).text).toBe(unknown.text);
    expect((await api.get('/v1/events/not-an-event')).text).toBe(unknown.text);
    expect((await api.post(`/v1/events/ev_${foreign}_1/redeliver`)).text).toBe(unknown.text);
    expect((await other.get(`/v1/events/ev_${foreign}_1`)).status).toBe(200);
    expect((await api.get(`/v1/events?starting_after=ev_${foreign}_1`)).json.error).toMatchObject({ code: 'INVALID_PARAMETER', param: 'starting_after' });
    expect((await other.get('/v1/events')).json.data.map((e: { id: string }) => e.id)).toEqual([`ev_${foreign}_1`]);
  });

  it('an endpoint shows its secret once; deliveries are signed with it; redeliver sends an event again; delete stops them', async () => {
    const receiver = await WebhookReceiver.start(() => ({ status: 200 }));
    closers.push(() => receiver.close());
    const client = new MerchantClient({ url: fx.gateway.merchantUrl, apiKey: api.apiKey! });
    const made = await client.createWebhookEndpoint({ url: receiver.url });
    expect(made).toMatchObject({ object: 'webhook_endpoint', url: receiver.url, previous_secret_expires_at: null });
    expect(made.secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    const listed = await api.get('/v1/webhook_endpoints');
    expect(listed.json).toEqual({ data: [{ object: 'webhook_endpoint', id: made.id, url: receiver.url, created_at: made.created_at, previous_secret_expires_at: null }], has_more: false });
    expect(listed.text).not.toContain('whsec_');
    expect((await other.get('/v1/webhook_endpoints')).json.data).toEqual([]);
    if (opened.raw) { // the store holds the secret sealed only
      const r = opened.raw();
      try {
        for (const key of await keysUnder(r, opened.prefix!)) {
          const type = await r.type(key);
          const values = type === 'hash' ? Object.values(await r.hgetall(key)) : type === 'string' ? [await r.get(key)] : [];
          for (const v of values) expect(v ?? '', key).not.toContain(made.secret.slice(6));
        }
      } finally {
        r.disconnect();
      }
    }

    const { id } = await paidPayment(store, SHOP, 300);
    await until(() => receiver.received.some((g) => g.eventId === `ev_${id}_1`), 'the delivery');
    const got = receiver.received[0]!;
    expect(verifyWebhook(got.body, got.signature, [made.secret])).toMatchObject({ ok: true });
    expect(got.body).toBe((await api.get(`/v1/events/ev_${id}_1`)).text);

    expect((await api.post(`/v1/events/ev_${id}_1/redeliver`)).json).toEqual({ object: 'redelivery', event: `ev_${id}_1`, endpoints: 1 });
    await until(() => receiver.received.filter((g) => g.eventId === `ev_${id}_1`).length === 2, 'the redelivery');

    expect((await other.request('DELETE', `/v1/webhook_endpoints/${made.id}`)).json.error.code).toBe('WEBHOOK_ENDPOINT_NOT_FOUND');
    expect((await client.deleteWebhookEndpoint(made.id))).toEqual({ object: 'webhook_endpoint', id: made.id, deleted: true });
    expect((await api.request('DELETE', `/v1/webhook_endpoints/${made.id}`)).status).toBe(404);
    expect((await api.get('/v1/webhook_endpoints')).json.data).toEqual([]);
  });

  it('a rotation answers a new secret; for its grace every delivery carries both signatures', async () => {
    const receiver = await WebhookReceiver.start(() => ({ status: 200 }));
    closers.push(() => receiver.close());
    const made = (await api.post('/v1/webhook_endpoints', { url: receiver.url })).json;
    const rotated = await api.post(`/v1/webhook_endpoints/${made.id}/rotate_secret`, { grace_seconds: 3600 });
    expect(rotated.json.secret).not.toBe(made.secret);
    expect(rotated.json.previous_secret_expires_at).toBeGreaterThan(Date.now());
    expect((await other.post(`/v1/webhook_endpoints/${made.id}/rotate_secret`, {})).json.error.code).toBe('WEBHOOK_ENDPOINT_NOT_FOUND');
    const { id } = await paidPayment(store, SHOP, 300);
    await until(() => receiver.received.some((g) => g.eventId === `ev_${id}_1`), 'the delivery');
    const got = receiver.received[0]!;
    expect(got.signature.split(',').filter((p) => p.startsWith('v1='))).toHaveLength(2);
    expect(verifyWebhook(got.body, got.signature, [made.secret])).toMatchObject({ ok: true });
    expect(verifyWebhook(got.body, got.signature, [rotated.json.secret])).toMatchObject({ ok: true });
    // a grace of 0: only the new secret signs
    const again = await api.post(`/v1/webhook_endpoints/${made.id}/rotate_secret`, { grace_seconds: 0 });
    expect(again.json.previous_secret_expires_at).toBeNull();
    const next = await paidPayment(store, SHOP, 300);
    await until(() => receiver.received.some((g) => g.eventId === `ev_${next.id}_1`), 'the next delivery');
    const last = receiver.received.find((g) => g.eventId === `ev_${next.id}_1`)!;
    expect(last.signature.split(',').filter((p) => p.startsWith('v1='))).toHaveLength(1);
    expect(verifyWebhook(last.body, last.signature, [again.json.secret])).toMatchObject({ ok: true });
    expect(verifyWebhook(last.body, last.signature, [rotated.json.secret])).toMatchObject({ ok: false });
  });

  it('caps endpoints per merchant; refuses URLs the policy refuses, naming url', async () => {
    for (let i = 0; i < 16; i++) expect((await api.post('/v1/webhook_endpoints', { url: `https://hooks.example/${i}` })).status).toBe(200);
    const over = await api.post('/v1/webhook_endpoints', { url: 'https://hooks.example/17' });
    expect(over.status).toBe(409);
    expect(over.json.error.code).toBe('TOO_MANY_WEBHOOK_ENDPOINTS');
    for (const url of ['ftp://hooks.example/', 'https://user:pw@hooks.example/', 'not a url', '']) {
      const refused = await other.post('/v1/webhook_endpoints', { url });
      expect(refused.status, url).toBe(400);
      expect(refused.json.error, url).toMatchObject({ code: 'INVALID_PARAMETER', param: 'url' });
    }
    expect((await other.post('/v1/webhook_endpoints', { url: 'https://hooks.example/', extra: 1 })).status).toBe(400);
    expect((await other.get('/v1/webhook_endpoints')).json.data).toEqual([]);
  });
}

describe('events and webhook endpoints on the embedded store', () => {
  webhookRoutesSuite(async () => ({ store: new MemoryStore(), dispose: async () => {} }));

  it('a gateway without ALLOW_PRIVATE refuses http and loopback endpoints', async () => {
    const store = new MemoryStore();
    const fx = await startGatewayFixture({ store });
    try {
      const api = new MerchantApi(fx.gateway.merchantUrl, await createMerchant(store, fx.fleetKey, SHOP));
      for (const url of ['http://hooks.example/', 'https://127.0.0.1/', 'https://[::1]:8443/', 'https://[::ffff:127.0.0.1]/', 'https://10.1.2.3/', 'https://localhost/']) {
        const refused = await api.post('/v1/webhook_endpoints', { url });
        expect(refused.json.error, url).toMatchObject({ code: 'INVALID_PARAMETER', param: 'url' });
      }
      expect((await api.post('/v1/webhook_endpoints', { url: 'https://hooks.example/scanpay' })).status).toBe(200);
    } finally {
      await fx.close();
    }
  });
});

describeRedis(redis, 'events and webhook endpoints on Redis', (server) => {
  const runPrefix = testKeyPrefix();
  let next = 0;
  afterAll(async () => {
    await deleteKeys(server.url, runPrefix);
  });
  webhookRoutesSuite(async () => {
    const prefix = `${runPrefix}${next++}:`;
    const store = await RedisStore.connect(server.url, { prefix });
    return { store, prefix, raw: () => new Redis(server.url), dispose: () => store.close() };
  });
});
