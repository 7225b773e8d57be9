/**
 * The merchant API's money invariants attacked as issue 23 says: two gateway processes (this one and a child,
 * test/support/gateway-process.ts) on one Redis under their own prefix, requests spread over both merchant-API
 * listeners, all at once.
 * - 50 refunds racing past the captured amount: at most the captured amount is refunded, every other answer the
 *   typed refusal, and the card's balance is its opening balance plus every entry's change.
 * - The same Idempotency-Key 50 times at once: one refund, every answer the same status and body bytes.
 * - Capture, void, reverse and refund racing on one held payment: one consistent end, balances reconcile.
 * The figures are printed (console.log) for the record.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { RedisStore } from '../../issuer/store/index.ts';
import { startGatewayFixture, type GatewayFixture } from '../support/gateway-fixture.ts';
import { spawnGatewayChild, type GatewayProcess } from '../support/gateway-process.ts';
import { deleteKeys, describeRedis, redisForTests, testKeyPrefix } from '../support/redis.ts';
import { MerchantApi, createMerchant, expectReconciled, paidPayment, storedCard, type Answer } from '../support/merchant-api.ts';

const redis = await redisForTests();
afterAll(async () => {
  await redis?.stop();
});

describeRedis(redis, 'the merchant API on two gateway processes over one Redis', (r) => {
  const prefix = testKeyPrefix();
  let store: RedisStore;
  let fx: GatewayFixture;
  let child: GatewayProcess;
  /** The merchant's API on this process's listener, then on the child's. */
  let apis: [MerchantApi, MerchantApi];
  const SHOP = 'race-shop';

  beforeAll(async () => {
    store = await RedisStore.connect(r.url, { prefix });
    fx = await startGatewayFixture({ store });
    child = await spawnGatewayChild({ redisUrl: r.url, prefix, keyRing: fx.keyRing, fleetKey: fx.fleetKey });
    const key = await createMerchant(store, fx.fleetKey, SHOP);
    apis = [new MerchantApi(fx.gateway.merchantUrl, key), new MerchantApi(child.merchantUrl, key)];
    expect(child.merchantUrl).not.toBe(fx.gateway.merchantUrl);
  }, 60_000);

  afterAll(async () => {
    await child?.stop();
    await fx?.close();
    await store?.close();
    await deleteKeys(r.url, prefix);
  });

  const count = (answers: Answer[], status: number, code?: string) => answers.filter((a) => a.status === status && (code === undefined || a.json.error?.code === code)).length;

  it('50 refunds of 30 racing on a payment of 1,000 over two gateways: 33 refunded (990), 17 AMOUNT_TOO_LARGE, balances reconcile', async () => {
    const card = await storedCard(store, { balance: 10_000 });
    const { id } = await paidPayment(store, SHOP, 1_000, card);
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => apis[i % 2].post('/v1/refunds', { payment: id, amount: 30 }, { idempotencyKey: `race-${i}` })));
    const refunded = count(answers, 200);
    const refused = count(answers, 422, 'AMOUNT_TOO_LARGE');
    console.log(`50 concurrent refunds of 30 on 1,000 captured, over 2 gateways: ${refunded} refunded (${refunded * 30}), ${refused} AMOUNT_TOO_LARGE, ${50 - refunded - refused} other`);
    expect(refunded).toBe(33);
    expect(refused).toBe(17);
    expect(new Set(answers.filter((a) => a.status === 200).map((a) => a.json.id)).size).toBe(33);
    const payment = (await apis[1].get(`/v1/payments/${id}`)).json;
    expect(payment).toMatchObject({ amount_captured: 1_000, amount_refunded: 990, status: 'partially_refunded' });
    const listed = (await apis[0].get(`/v1/refunds?payment=${id}`)).json.data as { amount: number }[];
    expect(listed.reduce((n, x) => n + x.amount, 0)).toBe(990);
    await expectReconciled(store, card, [id]);
    expect((await store.getCard(card.token))!.balance).toBe(10_000 - 1_000 + 990);
  }, 60_000);

  it('the same Idempotency-Key 50 times at once over two gateways: one refund, every answer the same status and body', async () => {
    const card = await storedCard(store, { balance: 10_000 });
    const { id } = await paidPayment(store, SHOP, 1_000, card);
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => apis[i % 2].post('/v1/refunds', { payment: id, amount: 250, reason: 'once' }, { idempotencyKey: 'the-one-key' })));
    const bodies = new Set(answers.map((a) => a.text));
    const replays = answers.filter((a) => a.headers.get('idempotent-replayed') === 'true').length;
    console.log(`the same Idempotency-Key 50 times at once over 2 gateways: statuses ${[...new Set(answers.map((a) => a.status))].join(',')}, ${bodies.size} distinct body, ${replays} marked replayed`);
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
    expect(bodies.size).toBe(1);
    expect(replays).toBe(49);
    expect((await apis[0].get(`/v1/refunds?payment=${id}`)).json.data).toEqual([answers[0]!.json]);
    expect((await apis[1].get(`/v1/payments/${id}`)).json.amount_refunded).toBe(250);
    await expectReconciled(store, card, [id]);
    // and a different request under that key, on either gateway: 409, nothing more refunded
    for (const api of apis) expect((await api.post('/v1/refunds', { payment: id, amount: 1 }, { idempotencyKey: 'the-one-key' })).status).toBe(409);
    expect((await apis[0].get(`/v1/payments/${id}`)).json.amount_refunded).toBe(250);
  }, 60_000);

  it('capture, void, reverse and refunds racing on held payments over two gateways: each ends one way, balances reconcile', async () => {
    const card = await storedCard(store, { balance: 100_000 });
    const ids: string[] = [];
    const ends: Record<string, number> = {};
    for (let round = 0; round < 8; round++) {
      const { id } = await paidPayment(store, SHOP, 1_000, card, { captureMethod: 'manual' });
      ids.push(id);
      const [x, y] = round % 2 === 0 ? apis : [apis[1], apis[0]];
      const answers = await Promise.all([
        x.post(`/v1/payments/${id}/capture`), y.post(`/v1/payments/${id}/void`), x.post(`/v1/payments/${id}/reverse`),
        y.post('/v1/refunds', { payment: id, amount: 100 }), x.post('/v1/refunds', { payment: id, amount: 100 }),
      ]);
      for (const a of answers) expect(a.status, a.text).toBeLessThan(500);
      const entries = (await x.get(`/v1/payments/${id}/entries`)).json.data as { type: string }[];
      const releases = entries.filter((e) => e.type === 'void').length;
      const captures = entries.filter((e) => e.type === 'capture').length;
      expect(releases + captures).toBe(1); // the hold went one way
      const status = (await y.get(`/v1/payments/${id}`)).json.status as string;
      ends[status] = (ends[status] ?? 0) + 1;
    }
    console.log(`capture/void/reverse/2 refunds racing on 8 held payments over 2 gateways: ends ${JSON.stringify(ends)}`);
    await expectReconciled(store, card, ids);
  }, 60_000);
});
