/**
 * The merchant API's settlement routes (docs/merchant-api.md: GET /v1/settlements/{id}, POST /v1/periods/close) end
 * to end on the embedded store and on Redis, every answer checked against the OpenAPI document: a merchant closes
 * its day and reads a report that reconciles with the entries it lists; a close is idempotent by the period's number;
 * another merchant's periods hold only its own; bad input is a typed error and closes nothing.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sealMerchant } from '../../issuer/journal.ts';
import { MemoryStore, RedisStore, type Store } from '../../issuer/store/index.ts';
import type { ApiSettlement } from '../../protocol/merchant-api.ts';
import { startGatewayFixture, type GatewayFixture } from '../support/gateway-fixture.ts';
import { deleteKeys, describeRedis, redisForTests, testKeyPrefix } from '../support/redis.ts';
import { MerchantApi, createMerchant, paidPayment, storedCard } from '../support/merchant-api.ts';

const redis = await redisForTests();
afterAll(async () => {
  await redis?.stop();
});

function settlementSuite(openStore: () => Promise<{ store: Store; dispose(): Promise<void> }>): void {
  let store: Store;
  let dispose: () => Promise<void>;
  let fx: GatewayFixture;
  let shopA: MerchantApi;
  let shopB: MerchantApi;

  beforeEach(async () => {
    ({ store, dispose } = await openStore());
    fx = await startGatewayFixture({ store });
    shopA = new MerchantApi(fx.gateway.merchantUrl, await createMerchant(store, fx.fleetKey, 'shop-a'));
    shopB = shopA.as(await createMerchant(store, fx.fleetKey, 'shop-b'));
  });
  afterEach(async () => {
    await fx.close();
    await dispose();
  });

  it('closes the day and reports it: totals per currency that add up the entries listed, and the next period opens', async () => {
    const card = await storedCard(store, { balance: 100_000 });
    const { id: a } = await paidPayment(store, 'shop-a', 3_000, card);
    const { id: b } = await paidPayment(store, 'shop-a', 1_000, card, { captureMethod: 'manual' });
    expect((await shopA.post('/v1/refunds', { payment: a, amount: 1_200 })).status).toBe(200);
    expect((await shopA.post(`/v1/payments/${b}/capture`, { amount: 600 })).status).toBe(200);
    await paidPayment(store, 'shop-b', 999, card);

    const current = await shopA.get('/v1/settlements/current');
    expect(current.json).toMatchObject({ object: 'settlement', period: 1, status: 'open' });
    const closed = await shopA.post('/v1/periods/close', { period: 1 }, { idempotencyKey: 'close-day-1' });
    expect(closed.status).toBe(200);
    expect(closed.json).toMatchObject({ object: 'period', period: 1, status: 'closed', first_seq: 1, last_seq: 4 });
    expect(closed.json.closing_hash).toMatch(/^[0-9a-f]{64}$/);

    const report = (await shopA.get('/v1/settlements/1')).json as ApiSettlement;
    expect(report).toMatchObject({ status: 'closed', closing_hash: closed.json.closing_hash, currencies: [{ currency: 'EUR', net: 3_000 + 600 - 1_200 }] });
    const eur = report.currencies[0]!;
    expect(eur).toMatchObject({ captures: { count: 2, amount: 3_600 }, refunds: { count: 1, amount: 1_200 }, releases: { count: 1, amount: 400 } });
    expect(report.entries.filter((e) => e.type === 'capture').reduce((s, e) => s + e.amount, 0)).toBe(eur.captures.amount);
    expect(new Set(report.entries.map((e) => e.payment))).toEqual(new Set([a, b])); // shop-b's payment is not in it
    for (const e of report.entries) {
      const entries = (await shopA.get(`/v1/payments/${e.payment}/entries`)).json.data as { seq: number; type: string; amount: number }[];
      expect(entries.find((x) => x.seq === e.entry_seq)).toMatchObject({ type: e.type, amount: e.amount });
    }
    expect((await shopA.get('/v1/settlements/current')).json).toMatchObject({ period: 2, status: 'open', entries: [] });

    // shop-b's own period 1 is still open and holds only its payment (once sealed: the gateways' sealer does it in time)
    await sealMerchant(store.events, 'shop-b', { owner: 'test', now: Date.now() });
    const other = (await shopB.get('/v1/settlements/1')).json as ApiSettlement;
    expect(other).toMatchObject({ status: 'open', currencies: [{ currency: 'EUR', captures: { count: 1, amount: 999 } }] });
  });

  it('a close is idempotent by the period: again, with or without the key, the same answer; a key reused for another period is 409', async () => {
    const card = await storedCard(store, { balance: 10_000 });
    await paidPayment(store, 'shop-a', 500, card);
    const first = await shopA.post('/v1/periods/close', { period: 1 }, { idempotencyKey: 'close-1' });
    const answers = await Promise.all([
      shopA.post('/v1/periods/close', { period: 1 }, { idempotencyKey: 'close-1' }),
      shopA.post('/v1/periods/close', { period: 1 }),
      shopA.post('/v1/periods/close', { period: 1 }, { idempotencyKey: 'close-1-again' }),
    ]);
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      expect(answer.text).toBe(first.text);
    }
    const reused = await shopA.post('/v1/periods/close', { period: 2 }, { idempotencyKey: 'close-1' });
    expect(reused.status).toBe(409);
    expect(reused.json.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect((await shopA.get('/v1/settlements/current')).json.period).toBe(2); // nothing more closed
  });

  it('bad input: a typed error, nothing closed', async () => {
    const notOpen = await shopA.post('/v1/periods/close', { period: 2 });
    expect(notOpen.status).toBe(409);
    expect(notOpen.json.error.code).toBe('PERIOD_NOT_OPEN');
    for (const body of [{}, { period: 0 }, { period: -1 }, { period: 1.5 }, { period: '1' }, { period: 1, extra: true }]) {
      const bad = await shopA.post('/v1/periods/close', body);
      expect(bad.status, JSON.stringify(body)).toBe(400);
      expect(bad.json.error.code).toBe('INVALID_PARAMETER');
    }
    const unknown = await shopA.get('/v1/settlements/7');
    expect(unknown.status).toBe(404);
    expect(unknown.json.error.code).toBe('PERIOD_NOT_FOUND');
    for (const id of ['0', 'latest', '01', '9'.repeat(20), '-1']) expect((await shopA.get(`/v1/settlements/${id}`)).text, id).toBe(unknown.text);
    expect((await shopA.get('/v1/settlements/current')).json).toMatchObject({ period: 1, status: 'open' });
  });
}

describe('settlement routes on the embedded store', () => {
  settlementSuite(async () => ({ store: new MemoryStore(), dispose: async () => {} }));
});

describeRedis(redis, 'settlement routes on Redis', (server) => {
  const runPrefix = testKeyPrefix();
  let next = 0;
  afterAll(async () => {
    await deleteKeys(server.url, runPrefix);
  });
  settlementSuite(async () => {
    const store = await RedisStore.connect(server.url, { prefix: `${runPrefix}${next++}:` });
    return { store, dispose: () => store.close() };
  });
});
