/**
 * The SDK's MerchantClient (sdk/merchant-client.ts) against a real gateway's merchant API: a method per route,
 * typed results, every error answer a MerchantApiError with its code, status, param and replayed flag; a POST's
 * Idempotency-Key (its own by default) carried across the retries of a request whose answer was lost, or that
 * got a 503, so the operation is done once; NETWORK when no answer comes, BAD_RESPONSE for an answer that is not
 * the API's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScanpayError } from '../../core/errors.ts';
import { MemoryStore } from '../../issuer/store/index.ts';
import { MerchantApiError, MerchantClient, isMerchantApiError, type ApiPayment } from '../../sdk/index.ts';
import { startGatewayFixture, type GatewayFixture } from '../support/gateway-fixture.ts';
import { createMerchant, expectReconciled, paidPayment, storedCard } from '../support/merchant-api.ts';
import { freePort } from '../support/redis.ts';

const store = new MemoryStore();
let fx: GatewayFixture;
let key: string;
let merchant: MerchantClient;

beforeAll(async () => {
  fx = await startGatewayFixture({ store });
  key = await createMerchant(store, fx.fleetKey, 'sdk-shop');
  merchant = new MerchantClient({ url: `${fx.gateway.merchantUrl}/`, apiKey: key });
});
afterAll(async () => {
  await fx.close();
  await store.close();
});

describe('MerchantClient', () => {
  it('every route: read, list, capture, refund, entries, void, reverse', async () => {
    const card = await storedCard(store, { balance: 10_000 });
    const held = await paidPayment(store, 'sdk-shop', 1_000, card, { captureMethod: 'manual' });
    const other = await paidPayment(store, 'sdk-shop', 500, card, { captureMethod: 'manual' });
    const captured = await paidPayment(store, 'sdk-shop', 300, card);
    const read: ApiPayment = await merchant.getPayment(held.id);
    expect(read).toMatchObject({ object: 'payment', id: held.id, status: 'authorized', amount: 1_000 });
    expect((await merchant.listPayments({ limit: 2 })).data.map((p) => p.id)).toHaveLength(2);
    expect(await merchant.capturePayment(held.id, { amount: 800 })).toMatchObject({ status: 'captured', amount_captured: 800 });
    const refund = await merchant.createRefund({ payment: held.id, amount: 300, reason: 'sdk' });
    expect(refund).toMatchObject({ object: 'refund', payment: held.id, amount: 300, reason: 'sdk' });
    expect(await merchant.getRefund(refund.id)).toEqual(refund);
    expect((await merchant.listRefunds({ payment: held.id })).data).toEqual([refund]);
    expect((await merchant.listRefunds()).data).toContainEqual(refund);
    expect((await merchant.listEntries(held.id)).data.map((e) => e.type)).toEqual(['authorization', 'capture', 'release', 'refund']);
    expect(await merchant.voidPayment(other.id)).toMatchObject({ status: 'voided' });
    expect(await merchant.reversePayment(captured.id)).toEqual({ object: 'reversal', payment: captured.id, action: 'refunded', payment_status: 'refunded' });
    await expectReconciled(store, card, [held.id, other.id, captured.id]);
  });

  it('an error answer is a MerchantApiError: code, status, param; a replayed one says so', async () => {
    const { id } = await paidPayment(store, 'sdk-shop', 100);
    const failing = async (work: Promise<unknown>) => work.then(() => expect.fail('resolved'), (e: unknown) => e as MerchantApiError);
    const over = await failing(merchant.createRefund({ payment: id, amount: 101 }, { idempotencyKey: 'sdk-over' }));
    expect(isMerchantApiError(over, 'AMOUNT_TOO_LARGE')).toBe(true);
    expect(over).toMatchObject({ status: 422, layer: 'protocol', replayed: false, name: 'MerchantApiError' });
    expect(await failing(merchant.createRefund({ payment: id, amount: 101 }, { idempotencyKey: 'sdk-over' }))).toMatchObject({ code: 'AMOUNT_TOO_LARGE', replayed: true });
    expect(await failing(merchant.capturePayment(id, { amount: 0 }))).toMatchObject({ code: 'INVALID_PARAMETER', status: 400, param: 'amount' });
    expect(await failing(merchant.getPayment('no/such'))).toMatchObject({ code: 'PAYMENT_NOT_FOUND', status: 404 });
    const stranger = new MerchantClient({ url: fx.gateway.merchantUrl, apiKey: 'spk_nope' });
    expect(await failing(stranger.getPayment(id))).toMatchObject({ code: 'UNAUTHENTICATED', status: 401 });
  });

  it('a POST whose answer was lost is sent again under its own Idempotency-Key: one refund', async () => {
    const card = await storedCard(store, { balance: 10_000 });
    const { id } = await paidPayment(store, 'sdk-shop', 1_000, card);
    const keys: string[] = [];
    let lost = 0;
    // the first answer reaches the gateway and is done there, then the connection "drops" before the client reads it
    const losing: typeof fetch = async (input, init) => {
      keys.push(new Headers(init?.headers).get('idempotency-key') ?? '');
      const res = await fetch(input, init);
      if (lost++ === 0) throw new TypeError('fetch failed');
      return res;
    };
    const client = new MerchantClient({ url: fx.gateway.merchantUrl, apiKey: key, fetch: losing });
    const refund = await client.createRefund({ payment: id, amount: 250 });
    expect(keys).toHaveLength(2);
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(keys[1]).toBe(keys[0]);
    expect((await merchant.listRefunds({ payment: id })).data).toEqual([refund]);
    expect((await merchant.getPayment(id)).amount_refunded).toBe(250);
    await expectReconciled(store, card, [id]);
  });

  it('a 503 is retried (after Retry-After); NETWORK when no answer comes; BAD_RESPONSE for what is not the API', async () => {
    const { id } = await paidPayment(store, 'sdk-shop', 100);
    const getPayment = store.payments.getPayment.bind(store.payments);
    let failures = 1;
    store.payments.getPayment = async (paymentId) => {
      if (failures-- > 0) throw new ScanpayError('STORE_UNAVAILABLE', 'down');
      return getPayment(paymentId);
    };
    try {
      expect((await merchant.getPayment(id)).id).toBe(id);
    } finally {
      store.payments.getPayment = getPayment;
    }
    const nowhere = new MerchantClient({ url: `http://127.0.0.1:${await freePort()}`, apiKey: key, retries: 1 });
    await expect(nowhere.getPayment(id)).rejects.toMatchObject({ code: 'NETWORK', status: null, layer: 'sdk' });
    const notTheApi = new MerchantClient({ url: fx.gateway.opsUrl, apiKey: key });
    await expect(notTheApi.getPayment(id)).rejects.toMatchObject({ code: 'BAD_RESPONSE', status: 404 });
  });
});
