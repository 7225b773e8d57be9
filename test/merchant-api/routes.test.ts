/**
 * The merchant API's routes end to end (docs/merchant-api.md), on the embedded store and on Redis: a real gateway,
 * merchants and keys made through the store, payments authorized through the store's steps (and one through a
 * real scanner), every request over HTTP, every answer checked against the OpenAPI document (support.ts). Each
 * route's answers, idempotency by key (the same status and body bytes again, refusals too; another request
 * under the key: 409), what a bad request gets, and that it changes nothing.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryStore, RedisStore, type Store } from '../../issuer/store/index.ts';
import { MERCHANT, PIN, startGatewayFixture, uniqueDevice, type GatewayFixture } from '../support/gateway-fixture.ts';
import { deleteKeys, describeRedis, redisForTests, testKeyPrefix } from '../support/redis.ts';
import { MerchantApi, createMerchant, expectReconciled, paidPayment, rotateKey, storedCard, type Answer } from '../support/merchant-api.ts';

const redis = await redisForTests();
afterAll(async () => {
  await redis?.stop();
});

function routesSuite(openStore: () => Promise<{ store: Store; dispose(): Promise<void> }>): void {
  let store: Store;
  let dispose: () => Promise<void>;
  let fx: GatewayFixture;
  let api: MerchantApi;
  const SHOP = 'shop-a';

  beforeEach(async () => {
    ({ store, dispose } = await openStore());
    fx = await startGatewayFixture({ store });
    api = new MerchantApi(fx.gateway.merchantUrl, await createMerchant(store, fx.fleetKey, SHOP));
  });
  afterEach(async () => {
    await fx.close();
    await dispose();
  });

  it('a scanner takes a payment held for manual capture; the merchant captures part, refunds half of it and reads it back', async () => {
    const key = await createMerchant(store, fx.fleetKey, MERCHANT, { captureMethod: 'manual' });
    const merchant = api.as(key);
    const card = await fx.issue({ balance: 10_000 });
    const device = uniqueDevice(); // a registered merchant's payments come from its own scanners (scanner provision --merchant)
    await store.bindDevice(device, MERCHANT);
    const scanner = await fx.scanner(device);
    const auth = await scanner.open(card.payloadText, 1_250);
    expect(await scanner.pin(auth.session, PIN)).toMatchObject({ type: 'payment-result', outcome: 'approved' });

    const held = await merchant.get(`/v1/payments/${auth.session}`);
    expect(held.status).toBe(200);
    expect(held.json).toMatchObject({ object: 'payment', id: auth.session, status: 'authorized', amount: 1_250, currency: 'EUR', capture_method: 'manual', amount_captured: 0, last4: card.pan.slice(-4) });
    expect(held.json.hold_expires_at).toBeGreaterThan(Date.now());

    const captured = await merchant.post(`/v1/payments/${auth.session}/capture`, { amount: 1_000 }, { idempotencyKey: 'capture-1' });
    expect(captured.json).toMatchObject({ status: 'captured', amount_captured: 1_000, hold_expires_at: null });
    const refund = await merchant.post('/v1/refunds', { payment: auth.session, amount: 500, reason: 'half back' }, { idempotencyKey: 'refund-1' });
    expect(refund.status).toBe(200);
    expect(refund.json).toMatchObject({ object: 'refund', payment: auth.session, amount: 500, currency: 'EUR', reason: 'half back' });

    expect((await merchant.get(`/v1/payments/${auth.session}`)).json).toMatchObject({ status: 'partially_refunded', amount_captured: 1_000, amount_refunded: 500 });
    expect((await merchant.get(`/v1/refunds/${refund.json.id}`)).json).toEqual(refund.json);
    expect((await merchant.get(`/v1/refunds?payment=${auth.session}`)).json).toEqual({ data: [refund.json], has_more: false });
    const entries = (await merchant.get(`/v1/payments/${auth.session}/entries`)).json.data;
    expect(entries.map((e: { type: string; balance_change: number }) => [e.type, e.balance_change])).toEqual([
      ['authorization', -1_250], ['capture', 0], ['release', 250], ['refund', 500],
    ]);
    expect((await fx.issuer.viewCard(card.pan)).balance).toBe(10_000 - 1_250 + 250 + 500);
  });

  describe('reading', () => {
    it('a payment by id; an unknown or malformed id answers 404 PAYMENT_NOT_FOUND, the same bytes', async () => {
      const { id } = await paidPayment(store, SHOP, 700);
      const read = await api.get(`/v1/payments/${id}`);
      expect(read.json).toMatchObject({ id, status: 'captured', amount: 700, amount_captured: 700, amount_refunded: 0, decline_reason: null, reversal: null });
      const unknown = await api.get(`/v1/payments/${'0'.repeat(32)}`);
      const malformed = await api.get('/v1/payments/not-a-payment');
      expect(unknown.status).toBe(404);
      expect(unknown.json).toEqual({ error: { code: 'PAYMENT_NOT_FOUND', message: 'no such payment' } });
      expect(malformed.text).toBe(unknown.text);
      expect((await api.get(`/v1/payments/${'0'.repeat(32)}/entries`)).text).toBe(unknown.text);
    });

    it('a declined payment shows its reason and holds nothing', async () => {
      const card = await storedCard(store, { balance: 100 });
      const { id } = await paidPayment(store, SHOP, 500, card);
      expect((await api.get(`/v1/payments/${id}`)).json).toMatchObject({ status: 'declined', decline_reason: 'INSUFFICIENT_FUNDS', amount_captured: 0 });
      expect((await api.get(`/v1/payments/${id}/entries`)).json).toEqual({ data: [], has_more: false });
    });

    it('lists payments newest first, in pages after a cursor, within a created range', async () => {
      const card = await storedCard(store, { balance: 10_000_000 });
      const base = Date.now() - 1_000_000;
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) ids.push((await paidPayment(store, SHOP, 10 + i, card, { at: base + i * 1_000 })).id);
      const newestFirst = [...ids].reverse();
      const first = await api.get('/v1/payments?limit=3');
      expect(first.json.data.map((p: { id: string }) => p.id)).toEqual(newestFirst.slice(0, 3));
      expect(first.json.has_more).toBe(true);
      const second = await api.get(`/v1/payments?limit=3&starting_after=${first.json.data[2].id}`);
      expect(second.json.data.map((p: { id: string }) => p.id)).toEqual(newestFirst.slice(3, 6));
      const last = await api.get(`/v1/payments?limit=3&starting_after=${second.json.data[2].id}`);
      expect(last.json).toMatchObject({ has_more: false });
      expect(last.json.data.map((p: { id: string }) => p.id)).toEqual(newestFirst.slice(6));
      const range = await api.get(`/v1/payments?created_gte=${base + 2_000}&created_lt=${base + 5_000}`);
      expect(range.json.data.map((p: { id: string }) => p.id)).toEqual(ids.slice(2, 5).reverse());
      expect((await api.get('/v1/payments')).json.data).toHaveLength(7); // default limit 10
    });

    it('lists refunds: newest first in pages, or all of one payment\'s, oldest first', async () => {
      const { id } = await paidPayment(store, SHOP, 1_000);
      const made: string[] = [];
      for (const amount of [100, 200, 300]) made.push((await api.post('/v1/refunds', { payment: id, amount }, { idempotencyKey: `r-${amount}` })).json.id);
      expect((await api.get(`/v1/refunds?payment=${id}`)).json.data.map((r: { amount: number }) => r.amount)).toEqual([100, 200, 300]);
      const page = await api.get('/v1/refunds?limit=2');
      expect(page.json.has_more).toBe(true);
      expect(page.json.data).toHaveLength(2);
      const rest = await api.get(`/v1/refunds?limit=2&starting_after=${page.json.data[1].id}`);
      expect([...page.json.data, ...rest.json.data].map((r: { id: string }) => r.id).sort()).toEqual([...made].sort());
      expect(rest.json.has_more).toBe(false);
      const combined = await api.get(`/v1/refunds?payment=${id}&limit=2`);
      expect(combined.json).toMatchObject({ error: { code: 'INVALID_PARAMETER', param: 'payment' } });
      expect((await api.get(`/v1/refunds?payment=${'1'.repeat(32)}`)).json.error.code).toBe('PAYMENT_NOT_FOUND');
      expect((await api.get(`/v1/refunds/re_${'0'.repeat(32)}`)).json.error.code).toBe('REFUND_NOT_FOUND');
      expect((await api.get('/v1/refunds/re_nope')).text).toBe((await api.get(`/v1/refunds/re_${'0'.repeat(32)}`)).text);
    });
  });

  describe('operations', () => {
    it('capture: all, or part of it (the rest released); once; never more than authorized', async () => {
      const card = await storedCard(store, { balance: 10_000 });
      const whole = await paidPayment(store, SHOP, 1_000, card, { captureMethod: 'manual' });
      const part = await paidPayment(store, SHOP, 1_000, card, { captureMethod: 'manual' });
      expect((await api.post(`/v1/payments/${whole.id}/capture`)).json).toMatchObject({ status: 'captured', amount_captured: 1_000 });
      const again = await api.post(`/v1/payments/${whole.id}/capture`);
      expect([again.status, again.json.error.code]).toEqual([409, 'PAYMENT_NOT_CAPTURABLE']);
      const over = await api.post(`/v1/payments/${part.id}/capture`, { amount: 1_001 });
      expect([over.status, over.json.error.code]).toEqual([422, 'AMOUNT_TOO_LARGE']);
      expect((await api.post(`/v1/payments/${part.id}/capture`, { amount: 600 })).json).toMatchObject({ amount_captured: 600, amount: 1_000 });
      await expectReconciled(store, card, [whole.id, part.id]);
      expect((await store.getCard(card.token))!.balance).toBe(10_000 - 1_000 - 600);
    });

    it('void releases an authorized payment\'s hold, and nothing else', async () => {
      const card = await storedCard(store, { balance: 5_000 });
      const held = await paidPayment(store, SHOP, 800, card, { captureMethod: 'manual' });
      const captured = await paidPayment(store, SHOP, 300, card);
      expect((await api.post(`/v1/payments/${held.id}/void`)).json).toMatchObject({ status: 'voided' });
      for (const id of [held.id, captured.id]) {
        const refused = await api.post(`/v1/payments/${id}/void`, {});
        expect([refused.status, refused.json.error.code]).toEqual([409, 'PAYMENT_NOT_VOIDABLE']);
      }
      await expectReconciled(store, card, [held.id, captured.id]);
      expect((await store.getCard(card.token))!.balance).toBe(5_000 - 300);
    });

    it('refunds in parts, never past what was captured; 409 once nothing is left', async () => {
      const card = await storedCard(store, { balance: 5_000 });
      const { id } = await paidPayment(store, SHOP, 1_000, card);
      expect((await api.post('/v1/refunds', { payment: id, amount: 400 })).status).toBe(200);
      const over = await api.post('/v1/refunds', { payment: id, amount: 601 });
      expect([over.status, over.json.error.code]).toEqual([422, 'AMOUNT_TOO_LARGE']);
      expect((await api.post('/v1/refunds', { payment: id, amount: 600, reason: '' })).json).toMatchObject({ amount: 600, reason: null });
      const none = await api.post('/v1/refunds', { payment: id, amount: 1 });
      expect([none.status, none.json.error.code]).toEqual([409, 'PAYMENT_NOT_REFUNDABLE']);
      expect((await api.get(`/v1/payments/${id}`)).json).toMatchObject({ status: 'refunded', amount_refunded: 1_000 });
      await expectReconciled(store, card, [id]);
      expect((await store.getCard(card.token))!.balance).toBe(5_000);
    });

    it('reverse: voids a held payment, refunds what is left of a captured one; every later reversal answers the same', async () => {
      const card = await storedCard(store, { balance: 5_000 });
      const held = await paidPayment(store, SHOP, 500, card, { captureMethod: 'manual' });
      expect((await api.post(`/v1/payments/${held.id}/reverse`)).json).toEqual({ object: 'reversal', payment: held.id, action: 'voided', payment_status: 'voided' });
      const captured = await paidPayment(store, SHOP, 800, card);
      await api.post('/v1/refunds', { payment: captured.id, amount: 300 });
      const first = await api.post(`/v1/payments/${captured.id}/reverse`, undefined, { idempotencyKey: 'rev-1' });
      expect(first.json).toEqual({ object: 'reversal', payment: captured.id, action: 'refunded', payment_status: 'refunded' });
      expect((await api.get(`/v1/refunds?payment=${captured.id}`)).json.data.map((r: { amount: number; reason: string }) => [r.amount, r.reason])).toEqual([[300, null], [500, 'reversal']]);
      const later = await api.post(`/v1/payments/${captured.id}/reverse`, undefined, { idempotencyKey: 'rev-2' });
      expect(later.text).toBe(first.text);
      expect(later.headers.get('idempotent-replayed')).toBe('true');
      await expectReconciled(store, card, [held.id, captured.id]);
      expect((await store.getCard(card.token))!.balance).toBe(5_000);
    });
  });

  describe('idempotency', () => {
    it('the same key and request: the first answer again, status and body bytes, refusals too; nothing moves twice', async () => {
      const card = await storedCard(store, { balance: 5_000 });
      const { id } = await paidPayment(store, SHOP, 1_000, card);
      const first = await api.post('/v1/refunds', { payment: id, amount: 250, reason: 'r' }, { idempotencyKey: 'k-1' });
      expect(first.headers.get('idempotent-replayed')).toBeNull();
      // the same parameters in another order and spacing are the same request
      const again = await api.post('/v1/refunds', '{ "reason": "r", "amount": 250,  "payment": "' + id + '" }', { idempotencyKey: 'k-1', headers: { 'content-type': 'application/json' } });
      expect([again.status, again.text]).toEqual([first.status, first.text]);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      const tooMuch = await api.post('/v1/refunds', { payment: id, amount: 5_000 }, { idempotencyKey: 'k-2' });
      expect(tooMuch.status).toBe(422);
      await api.post('/v1/refunds', { payment: id, amount: 750 }, { idempotencyKey: 'k-3' }); // all refunded now
      const refusalAgain = await api.post('/v1/refunds', { payment: id, amount: 5_000 }, { idempotencyKey: 'k-2' });
      expect([refusalAgain.status, refusalAgain.text]).toEqual([422, tooMuch.text]);
      expect((await api.get(`/v1/payments/${id}`)).json.amount_refunded).toBe(1_000);
      await expectReconciled(store, card, [id]);
    });

    it('the same key with another request: 409 IDEMPOTENCY_KEY_REUSED, on any route, and nothing changes', async () => {
      const { id } = await paidPayment(store, SHOP, 1_000, undefined, { captureMethod: 'manual' });
      await api.post(`/v1/payments/${id}/capture`, { amount: 400 }, { idempotencyKey: 'k' });
      for (const [path, body] of [[`/v1/payments/${id}/capture`, { amount: 500 }], [`/v1/payments/${id}/void`, {}], ['/v1/refunds', { payment: id, amount: 1 }]] as const) {
        const reused = await api.post(path, body, { idempotencyKey: 'k' });
        expect([reused.status, reused.json]).toEqual([409, { error: { code: 'IDEMPOTENCY_KEY_REUSED', message: 'this Idempotency-Key was used with a different request' } }]);
      }
      expect((await api.get(`/v1/payments/${id}`)).json).toMatchObject({ amount_captured: 400, amount_refunded: 0 });
      // a key is the merchant's own: another merchant may use the same one
      const other = api.as(await createMerchant(store, fx.fleetKey, 'shop-b'));
      const theirs = await paidPayment(store, 'shop-b', 100);
      expect((await other.post('/v1/refunds', { payment: theirs.id, amount: 100 }, { idempotencyKey: 'k' })).status).toBe(200);
    });

    it('without a key, a retry is a new operation', async () => {
      const { id } = await paidPayment(store, SHOP, 1_000);
      const a = await api.post('/v1/refunds', { payment: id, amount: 100 });
      const b = await api.post('/v1/refunds', { payment: id, amount: 100 });
      expect(a.json.id).not.toBe(b.json.id);
      expect((await api.get(`/v1/payments/${id}`)).json.amount_refunded).toBe(200);
    });
  });

  describe('authentication', () => {
    it('no key, a malformed one, a wrong secret, another id: 401 UNAUTHENTICATED with WWW-Authenticate: Bearer, the same bytes', async () => {
      const { id } = await paidPayment(store, SHOP, 100);
      const good = api.apiKey!;
      const wrongSecret = `${good.slice(0, 21)}${good[21] === 'A' ? 'B' : 'A'}${good.slice(22)}`;
      const otherId = `spk_${'0'.repeat(16)}${good.slice(20)}`;
      const answers = await Promise.all([null, 'junk', wrongSecret, otherId].map((key) => api.as(key).get(`/v1/payments/${id}`)));
      for (const a of answers) {
        expect(a.status).toBe(401);
        expect(a.headers.get('www-authenticate')).toBe('Bearer');
        expect(a.text).toBe(answers[0]!.text);
      }
      const basic = await api.get(`/v1/payments/${id}`, { apiKey: null, headers: { authorization: `Basic ${Buffer.from(`${good}:`).toString('base64')}` } });
      expect(basic.status).toBe(401);
      expect((await api.get(`/v1/payments/${id}`, { apiKey: null, headers: { authorization: `bearer   ${good}` } })).status).toBe(200);
    });

    it('a key past its end (a rotation\'s grace over) is refused; the new key and a key in its grace work', async () => {
      const { id } = await paidPayment(store, SHOP, 100);
      const inGrace = await rotateKey(store, fx.fleetKey, SHOP, Date.now() + 60_000);
      expect((await api.get(`/v1/payments/${id}`)).status).toBe(200); // the first key, within its grace
      const newest = await rotateKey(store, fx.fleetKey, SHOP, Date.now() - 1);
      for (const old of [api.apiKey, inGrace]) expect((await api.as(old).get(`/v1/payments/${id}`)).json.error.code).toBe('UNAUTHENTICATED');
      expect((await api.as(newest).get(`/v1/payments/${id}`)).status).toBe(200);
    });
  });

  describe('bad requests change nothing', () => {
    it('a typed 4xx for each, in the error shape', async () => {
      const card = await storedCard(store, { balance: 5_000 });
      const { id } = await paidPayment(store, SHOP, 1_000, card, { captureMethod: 'manual' });
      const json = { 'content-type': 'application/json' };
      const cases: [string, Promise<Answer>, number, string, string?][] = [
        ['unknown route', api.get('/v1/nothing'), 404, 'NOT_FOUND'],
        ['wrong method', api.request('DELETE', `/v1/payments/${id}`), 405, 'METHOD_NOT_ALLOWED'],
        ['GET on an action', api.get(`/v1/payments/${id}/capture`), 405, 'METHOD_NOT_ALLOWED'],
        ['not JSON by type', api.post(`/v1/payments/${id}/capture`, 'amount=5', { headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 415, 'UNSUPPORTED_MEDIA_TYPE'],
        ['no type', api.post(`/v1/payments/${id}/capture`, '{"amount":5}'), 415, 'UNSUPPORTED_MEDIA_TYPE'],
        ['another charset', api.post(`/v1/payments/${id}/capture`, '{}', { headers: { 'content-type': 'application/json; charset=latin1' } }), 415, 'UNSUPPORTED_MEDIA_TYPE'],
        ['broken JSON', api.post(`/v1/payments/${id}/capture`, '{"amount":', { headers: json }), 400, 'INVALID_JSON'],
        ['an array', api.post(`/v1/payments/${id}/capture`, '[]', { headers: json }), 400, 'INVALID_JSON'],
        ['not UTF-8', api.post(`/v1/payments/${id}/capture`, new Uint8Array([0x7b, 0xff, 0x7d]), { headers: json }), 400, 'INVALID_JSON'],
        ['deep JSON', api.post(`/v1/payments/${id}/capture`, `${'['.repeat(9)}${']'.repeat(9)}`, { headers: json }), 400, 'INVALID_JSON'],
        ['deep inside an object', api.post('/v1/refunds', { payment: id, amount: 1, reason: JSON.parse(`${'['.repeat(8)}${']'.repeat(8)}`) }), 400, 'INVALID_JSON'],
        ['a fraction', api.post(`/v1/payments/${id}/capture`, { amount: 1.5 }), 400, 'INVALID_PARAMETER', 'amount'],
        ['zero', api.post(`/v1/payments/${id}/capture`, { amount: 0 }), 400, 'INVALID_PARAMETER', 'amount'],
        ['past 2^53', api.post(`/v1/payments/${id}/capture`, '{"amount":9007199254740993}', { headers: json }), 400, 'INVALID_PARAMETER', 'amount'],
        ['a string amount', api.post('/v1/refunds', { payment: id, amount: '5' }), 400, 'INVALID_PARAMETER', 'amount'],
        ['no payment', api.post('/v1/refunds', { amount: 5 }), 400, 'INVALID_PARAMETER', 'payment'],
        ['an unknown field', api.post(`/v1/payments/${id}/void`, { amount: 5 }), 400, 'INVALID_PARAMETER', 'amount'],
        ['a control character in a reason', api.post('/v1/refunds', { payment: id, amount: 5, reason: 'a\nb' }), 400, 'INVALID_PARAMETER', 'reason'],
        ['a long reason', api.post('/v1/refunds', { payment: id, amount: 5, reason: 'x'.repeat(501) }), 400, 'INVALID_PARAMETER', 'reason'],
        ['a bad Idempotency-Key', api.post(`/v1/payments/${id}/void`, {}, { idempotencyKey: 'tab\there' }), 400, 'INVALID_PARAMETER', 'Idempotency-Key'],
        ['a long Idempotency-Key', api.post(`/v1/payments/${id}/void`, {}, { idempotencyKey: 'k'.repeat(256) }), 400, 'INVALID_PARAMETER', 'Idempotency-Key'],
        ['limit 0', api.get('/v1/payments?limit=0'), 400, 'INVALID_PARAMETER', 'limit'],
        ['limit 101', api.get('/v1/payments?limit=101'), 400, 'INVALID_PARAMETER', 'limit'],
        ['limit twice', api.get('/v1/payments?limit=1&limit=2'), 400, 'INVALID_PARAMETER', 'limit'],
        ['a signed limit', api.get('/v1/payments?limit=+5'), 400, 'INVALID_PARAMETER', 'limit'],
        ['an unknown query parameter', api.get('/v1/payments?expand=card'), 400, 'INVALID_PARAMETER', 'expand'],
        ['a query on a read', api.get(`/v1/payments/${id}?x=1`), 400, 'INVALID_PARAMETER', 'x'],
        ['a refund cursor for payments', api.get(`/v1/payments?starting_after=re_${'0'.repeat(32)}`), 400, 'INVALID_PARAMETER', 'starting_after'],
        ['a body too large', api.post('/v1/refunds', { payment: id, amount: 1, reason: 'x'.repeat(20_000) }), 413, 'BODY_TOO_LARGE'],
      ];
      for (const [what, pending, status, code, param] of cases) {
        const answer = await pending;
        expect([what, answer.status, answer.json?.error?.code, answer.json?.error?.param]).toEqual([what, status, code, param]);
      }
      expect((await api.get(`/v1/payments/${id}`)).json).toMatchObject({ status: 'authorized', amount_captured: 0, amount_refunded: 0 });
      expect((await api.get(`/v1/refunds?payment=${id}`)).json.data).toEqual([]);
      await expectReconciled(store, card, [id]);
      expect((await store.getCard(card.token))!.balance).toBe(5_000 - 1_000);
    });

    it('405 names the methods the route takes', async () => {
      const answer = await api.request('PUT', '/v1/refunds');
      expect(answer.headers.get('allow')).toBe('GET, POST');
    });
  });
}

describe('merchant API on the embedded store', () => {
  routesSuite(async () => {
    const store = new MemoryStore();
    return { store, dispose: () => store.close() };
  });
});

describeRedis(redis, 'merchant API on Redis', (r) => {
  routesSuite(async () => {
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
