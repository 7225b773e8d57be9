/**
 * Money after the payment (issuer/store/payment-types.ts PaymentStore) as one suite, run against MemoryStore,
 * RedisStore and RedisStore on a 3+3 Redis Cluster with WAIT, so the embedded store and the scripts cannot drift:
 * authorization with automatic and manual capture, capture (whole and partial), void, refunds (partial, several,
 * never past what was captured), reversal (before and after the authorization, once), hold expiry (exactly
 * once), idempotency by operation id, merchant isolation and the merchant's pages. Every test ends by
 * reconciling each card it used: its balance equals its opening balance plus the balance changes of every
 * entry on it. Races run over several handles on the same data (Redis: several connections).
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { operationId, refundIdOf, requestFingerprint } from '../../issuer/payment.ts';
import { MemoryStore, RedisStore, parseClusterNodes, type CardRecord, type OperationOutcome, type PaymentRequest, type PinPolicy, type Store } from '../../issuer/store/index.ts';
import { deleteKeys, describeRedis, redisForTests, testKeyPrefix } from '../support/redis.ts';
import { clusterForTests, describeCluster } from '../support/redis-cluster.ts';
import { claimFor, makeCard, makePayment, makeSession, newAttempt } from '../support/store-fixtures.ts';

const POLICY: PinPolicy = { lockAt: 3, paceMs: 0 };
const MERCHANT = 'corner-cafe';
const redis = await redisForTests();
const cluster = await clusterForTests();
afterAll(async () => {
  await Promise.all([redis?.stop(), cluster?.stop()]);
});

type OpenStore = () => Promise<{ store: Store; sibling(): Promise<Store> }>;

function paymentsContract(open: OpenStore): void {
  let store: Store;
  let openSibling: () => Promise<Store>;
  let siblings: Store[];
  /** Every card a test used, with its opening balance: reconciled after each test. */
  let cards: Map<string, number>;

  beforeEach(async () => {
    ({ store, sibling: openSibling } = await open());
    siblings = [];
    cards = new Map();
  });
  afterEach(async () => {
    for (const [token, opening] of cards) await reconciles(token, opening);
    await Promise.all([store, ...siblings].map((s) => s.close()));
  });

  async function handles(n: number): Promise<Store[]> {
    while (siblings.length < n - 1) siblings.push(await openSibling());
    return [store, ...siblings.slice(0, n - 1)];
  }

  /** The card's balance is its opening balance plus every entry's change, over every payment made on it. */
  async function reconciles(token: string, opening: number): Promise<void> {
    const card = (await store.getCard(token))!;
    let changes = 0;
    for (const id of paymentsOf.get(token) ?? []) {
      const entries = await store.payments.entries(id);
      entries.forEach((e, i) => expect(e.seq).toBe(i + 1));
      changes += entries.reduce((n, e) => n + e.balanceChange, 0);
    }
    expect(card.balance, `card ${token.slice(0, 8)}`).toBe(opening + changes);
  }
  const paymentsOf = new Map<string, string[]>();

  async function aCard(fields: Partial<CardRecord> = {}): Promise<CardRecord> {
    const card = makeCard({ balance: 10_000, limit: 100_000, ...fields });
    await store.insertCard(card);
    cards.set(card.token, card.balance);
    return card;
  }

  /** A payment authorized on `card` through the store's own steps (session, PIN attempt, authorization). */
  async function paid(card: CardRecord, amount: number, fields: Partial<PaymentRequest> = {}, s: Store = store): Promise<string> {
    const session = makeSession(card, { amount, merchant: fields.merchant ?? MERCHANT });
    await s.openSession(session, claimFor(card));
    const attempt = newAttempt();
    expect((await s.beginPinAttempt(session.id, session.deviceId, attempt, Date.now(), POLICY)).kind).toBe('evaluate');
    await s.authorizePayment(makePayment(card, { sessionId: session.id, amount, merchant: MERCHANT, attempt, ...fields }));
    paymentsOf.set(card.token, [...(paymentsOf.get(card.token) ?? []), session.id]);
    return session.id;
  }

  /** An operation's request, by Idempotency-Key (or random), for `merchant`. */
  function op(paymentId: string, key: string | null = null, body = '', merchant = MERCHANT) {
    return { paymentId, merchant, opId: operationId(paymentId, merchant, key), fingerprint: requestFingerprint('POST', '/x', body), at: Date.now() };
  }

  const ok = (o: OperationOutcome) => {
    if (!o.ok) throw new Error(`refused: ${o.refusal}`);
    return o;
  };

  describe('authorization', () => {
    it('automatic capture: captured at once, two entries, the amount off the balance', async () => {
      const card = await aCard();
      const id = await paid(card, 1_250);
      expect(await store.payments.getPayment(id)).toMatchObject({
        id, merchant: MERCHANT, cardToken: card.token, last4: card.last4, amount: 1_250, status: 'captured', capturedAmount: 1_250, refundedAmount: 0,
        captureMethod: 'automatic', holdExpiresAt: null, declineReason: null, reversal: null,
      });
      expect((await store.payments.entries(id)).map((e) => [e.type, e.amount, e.balanceChange, e.balanceAfter])).toEqual([
        ['authorization', 1_250, -1_250, 8_750], ['capture', 1_250, 0, 8_750],
      ]);
    });

    it('manual capture: authorized, held until the hold window ends; a declined one holds nothing', async () => {
      const card = await aCard({ balance: 1_000 });
      const at = Date.now();
      const id = await paid(card, 600, { captureMethod: 'manual', holdWindowMs: 60_000, at });
      expect(await store.payments.getPayment(id)).toMatchObject({ status: 'authorized', capturedAmount: 0, holdExpiresAt: at + 60_000 });
      expect((await store.getCard(card.token))!.balance).toBe(400);
      const declined = await paid(card, 600, { captureMethod: 'manual' });
      expect(await store.payments.getPayment(declined)).toMatchObject({ status: 'declined', declineReason: 'INSUFFICIENT_FUNDS' });
      expect(await store.payments.entries(declined)).toEqual([]);
    });
  });

  describe('capture and void', () => {
    it('captures all, or part (the rest released); once; never more than was authorized', async () => {
      const card = await aCard();
      const whole = await paid(card, 1_000, { captureMethod: 'manual' });
      expect(ok(await store.payments.capture(op(whole)))).toMatchObject({ payment: { status: 'captured', capturedAmount: 1_000, holdExpiresAt: null } });
      expect(await store.payments.capture(op(whole))).toMatchObject({ ok: false, refusal: 'PAYMENT_NOT_CAPTURABLE' });
      const part = await paid(card, 1_000, { captureMethod: 'manual' });
      expect(await store.payments.capture({ ...op(part), amount: 1_001 })).toMatchObject({ ok: false, refusal: 'AMOUNT_TOO_LARGE' });
      expect(ok(await store.payments.capture({ ...op(part), amount: 700 })).payment).toMatchObject({ status: 'captured', capturedAmount: 700 });
      expect((await store.payments.entries(part)).map((e) => [e.type, e.balanceChange])).toEqual([['authorization', -1_000], ['capture', 0], ['release', 300]]);
      expect((await store.getCard(card.token))!.balance).toBe(10_000 - 1_000 - 700);
    });

    it('voids an authorized payment (the hold given back) and nothing else', async () => {
      const card = await aCard();
      const held = await paid(card, 1_000, { captureMethod: 'manual' });
      expect(ok(await store.payments.void(op(held))).payment.status).toBe('voided');
      expect((await store.getCard(card.token))!.balance).toBe(10_000);
      expect(await store.payments.void(op(held))).toMatchObject({ ok: false, refusal: 'PAYMENT_NOT_VOIDABLE' });
      const captured = await paid(card, 500);
      expect(await store.payments.void(op(captured))).toMatchObject({ ok: false, refusal: 'PAYMENT_NOT_VOIDABLE' });
    });
  });

  describe('refunds', () => {
    it('refunds in parts, never past what was captured, and lists them', async () => {
      const card = await aCard();
      const id = await paid(card, 1_000);
      const first = ok(await store.payments.refund({ ...op(id, 'r1'), amount: 400, reason: 'damaged' }));
      expect(first.payment).toMatchObject({ status: 'partially_refunded', refundedAmount: 400 });
      expect(first.refund).toMatchObject({ id: refundIdOf(operationId(id, MERCHANT, 'r1')), paymentId: id, amount: 400, currency: 'EUR', reason: 'damaged' });
      expect(await store.payments.refund({ ...op(id, 'r2'), amount: 601, reason: null })).toMatchObject({ ok: false, refusal: 'AMOUNT_TOO_LARGE' });
      const last = ok(await store.payments.refund({ ...op(id, 'r3'), amount: 600, reason: null }));
      expect(last.payment).toMatchObject({ status: 'refunded', refundedAmount: 1_000 });
      expect(await store.payments.refund({ ...op(id), amount: 1, reason: null })).toMatchObject({ ok: false, refusal: 'PAYMENT_NOT_REFUNDABLE' });
      expect((await store.getCard(card.token))!.balance).toBe(10_000);
      expect(await store.payments.getRefund(first.refund!.id)).toEqual(first.refund);
      expect((await store.payments.listRefunds(MERCHANT, { limit: 10, paymentId: id })).data.map((r) => r.amount)).toEqual([400, 600]);
      expect((await store.payments.listRefunds('other-shop', { limit: 10, paymentId: id })).data).toEqual([]);
    });

    it('50 refunds racing over 4 handles pay out at most what was captured; the rest AMOUNT_TOO_LARGE', async () => {
      const card = await aCard();
      const id = await paid(card, 1_000);
      const stores = await handles(4);
      const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => stores[i % 4].payments.refund({ ...op(id, `race-${i}`, String(i)), amount: 30, reason: null })));
      const done = answers.filter((a) => a.ok);
      expect(done).toHaveLength(33); // 33 × 30 = 990 ≤ 1,000 < 34 × 30
      expect(answers.filter((a) => !a.ok && a.refusal === 'AMOUNT_TOO_LARGE')).toHaveLength(17);
      expect(await store.payments.getPayment(id)).toMatchObject({ refundedAmount: 990, status: 'partially_refunded' });
    });
  });

  describe('idempotency', () => {
    it('the same opId answers the same, whatever happened since; another request under it: IDEMPOTENCY_KEY_REUSED', async () => {
      const card = await aCard();
      const id = await paid(card, 1_000);
      const request = { ...op(id, 'k-1', 'refund 100'), amount: 100, reason: null };
      const first = await store.payments.refund(request);
      await store.payments.refund({ ...op(id, 'k-2', 'refund 900'), amount: 900, reason: null }); // the payment is refunded now
      const again = await store.payments.refund({ ...request, at: Date.now() + 1 });
      expect(again).toEqual({ ...first, replayed: true });
      expect(await store.payments.refund({ ...request, fingerprint: requestFingerprint('POST', '/x', 'refund 200'), amount: 200 }))
        .toEqual({ ok: false, refusal: 'IDEMPOTENCY_KEY_REUSED', replayed: true });
      // a refusal is kept too
      const refused = await store.payments.capture(op(id, 'k-3'));
      expect(refused).toEqual({ ok: false, refusal: 'PAYMENT_NOT_CAPTURABLE', replayed: false });
      expect(await store.payments.capture(op(id, 'k-3'))).toEqual({ ...refused, replayed: true });
      expect((await store.getCard(card.token))!.balance).toBe(10_000);
    });

    it('the same key sent 50 times at once over 4 handles: one refund, every answer the same', async () => {
      const card = await aCard();
      const id = await paid(card, 1_000);
      const stores = await handles(4);
      const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => stores[i % 4].payments.refund({ ...op(id, 'once', 'body'), amount: 250, reason: null })));
      expect(answers.filter((a) => !a.replayed)).toHaveLength(1);
      const { replayed: _r, ...first } = answers.find((a) => !a.replayed)!;
      for (const a of answers) expect({ ...a, replayed: false }).toEqual({ ...first, replayed: false });
      expect(await store.payments.getPayment(id)).toMatchObject({ refundedAmount: 250 });
    });

    it('claims an Idempotency-Key per merchant: new, then the same request, or another one', async () => {
      const f = requestFingerprint('POST', '/v1/refunds', '{}');
      expect(await store.payments.claimIdempotencyKey(MERCHANT, 'key-a', f, 60_000)).toBe('new');
      expect(await store.payments.claimIdempotencyKey(MERCHANT, 'key-a', f, 60_000)).toBe('same');
      expect(await store.payments.claimIdempotencyKey(MERCHANT, 'key-a', requestFingerprint('POST', '/v1/refunds', '{"a":1}'), 60_000)).toBe('different');
      expect(await store.payments.claimIdempotencyKey('other-shop', 'key-a', f, 60_000)).toBe('new');
    });
  });

  describe('merchant isolation', () => {
    it('another merchant\'s every operation on a payment answers as for an unknown one, and changes nothing', async () => {
      const card = await aCard();
      const id = await paid(card, 1_000, { captureMethod: 'manual' });
      const other = (key: string) => op(id, key, '', 'other-shop');
      for (const answer of [
        await store.payments.capture(other('a')), await store.payments.void(other('b')),
        await store.payments.refund({ ...other('c'), amount: 1, reason: null }), await store.payments.reverse(other('d')),
      ]) expect(answer).toEqual({ ok: false, refusal: 'PAYMENT_NOT_FOUND', replayed: false });
      const unknown = makeSession(card).id;
      expect(await store.payments.capture(op(unknown, 'e'))).toEqual({ ok: false, refusal: 'PAYMENT_NOT_FOUND', replayed: false });
      expect(await store.payments.getPayment(id)).toMatchObject({ status: 'authorized', merchant: MERCHANT });
      expect((await store.payments.listPayments('other-shop', { limit: 10 })).data).toEqual([]);
    });
  });

  describe('reversal', () => {
    it('voids an authorized payment, refunds a captured one\'s rest, leaves a declined one; once', async () => {
      const card = await aCard({ balance: 2_000 });
      const held = await paid(card, 500, { captureMethod: 'manual' });
      expect(ok(await store.payments.reverse(op(held)))).toMatchObject({ action: 'voided', payment: { status: 'voided', reversal: 'voided' } });
      const captured = await paid(card, 800);
      await store.payments.refund({ ...op(captured), amount: 300, reason: null });
      const reversed = ok(await store.payments.reverse(op(captured)));
      expect(reversed).toMatchObject({ action: 'refunded', refund: { amount: 500, reason: 'reversal' }, payment: { status: 'refunded', reversal: 'refunded' } });
      // a second reversal, under another opId: the same action again, replayed, nothing moved
      const before = (await store.getCard(card.token))!.balance;
      expect(ok(await store.payments.reverse(op(captured)))).toMatchObject({ action: 'refunded', replayed: true });
      expect((await store.getCard(card.token))!.balance).toBe(before);
      const declined = await paid(card, 5_000);
      expect(ok(await store.payments.reverse(op(declined)))).toMatchObject({ action: 'none', payment: { status: 'declined' } });
    });

    it('a reversal before the authorization: the authorization then holds nothing and says REVERSED', async () => {
      const card = await aCard();
      const session = makeSession(card, { amount: 700, merchant: MERCHANT });
      await store.openSession(session, claimFor(card));
      const attempt = newAttempt();
      expect((await store.beginPinAttempt(session.id, session.deviceId, attempt, Date.now(), POLICY)).kind).toBe('evaluate');
      expect(ok(await store.payments.reverse(op(session.id)))).toMatchObject({ action: 'none', payment: { status: 'reversed' } });
      const authorized = await store.authorizePayment(makePayment(card, { sessionId: session.id, amount: 700, merchant: MERCHANT, attempt }));
      expect(authorized).toMatchObject({ record: null, result: { outcome: 'declined', reason: 'REVERSED', ledger: false } });
      expect((await store.getCard(card.token))!.balance).toBe(10_000);
      expect(await store.payments.getPayment(session.id)).toBeNull();
      // another merchant cannot reverse a session that is not theirs
      const theirs = makeSession(card, { merchant: MERCHANT });
      await store.openSession(theirs, claimFor(card));
      expect(await store.payments.reverse(op(theirs.id, null, '', 'other-shop'))).toMatchObject({ ok: false, refusal: 'PAYMENT_NOT_FOUND' });
    });
  });

  describe('hold expiry', () => {
    it('releases a hold once its window has passed, exactly once across 3 handles sweeping together', async () => {
      const card = await aCard();
      const at = Date.now() - 10_000;
      const held = await paid(card, 900, { captureMethod: 'manual', holdWindowMs: 5_000, at });
      const fresh = await paid(card, 100, { captureMethod: 'manual', holdWindowMs: 60_000 });
      const stores = await handles(3);
      const released = await Promise.all(stores.map((s) => s.payments.expireHolds(Date.now(), 100)));
      expect(released.reduce((a, b) => a + b, 0)).toBe(1);
      expect(await store.payments.getPayment(held)).toMatchObject({ status: 'expired', holdExpiresAt: null });
      expect(await store.payments.getPayment(fresh)).toMatchObject({ status: 'authorized' });
      expect(await store.payments.capture(op(held))).toMatchObject({ ok: false, refusal: 'PAYMENT_NOT_CAPTURABLE' });
      expect(await store.payments.expireHolds(Date.now(), 100)).toBe(0);
      expect((await store.getCard(card.token))!.balance).toBe(10_000 - 100);
    });

    it('capture, void, refund, reversal and expiry racing on one payment: one consistent end, balances reconcile', async () => {
      const stores = await handles(4);
      for (let round = 0; round < 6; round++) {
        const card = await aCard();
        const id = await paid(card, 1_000, { captureMethod: 'manual', holdWindowMs: 1, at: Date.now() - 5 });
        const answers = await Promise.all([
          stores[0].payments.capture(op(id)), stores[1].payments.void(op(id)), stores[2].payments.reverse(op(id)),
          stores[3].payments.expireHolds(Date.now(), 100), stores[0].payments.refund({ ...op(id), amount: 100, reason: null }),
        ]);
        const payment = (await store.payments.getPayment(id))!;
        const entries = await store.payments.entries(id);
        const releases = entries.filter((e) => e.type === 'void' || e.type === 'expiry');
        // the hold went one way: released once (void, reversal or expiry), or captured (then perhaps refunded)
        if (payment.status === 'voided' || payment.status === 'expired') expect(releases).toHaveLength(1);
        else expect(['captured', 'partially_refunded', 'refunded']).toContain(payment.status);
        expect(releases.length + entries.filter((e) => e.type === 'capture').length).toBe(1);
        void answers;
      }
    });
  });

  describe('pages', () => {
    it('lists a merchant\'s payments newest first, in pages after a cursor, within a created range', async () => {
      const card = await aCard({ balance: 1_000_000 });
      const base = Date.now() - 100_000;
      const ids: string[] = [];
      for (let i = 0; i < 25; i++) ids.push(await paid(card, 10 + i, { at: base + i * 10 }));
      const newestFirst = [...ids].reverse();
      const first = await store.payments.listPayments(MERCHANT, { limit: 10 });
      expect(first.data.map((p) => p.id)).toEqual(newestFirst.slice(0, 10));
      expect(first.hasMore).toBe(true);
      const second = await store.payments.listPayments(MERCHANT, { limit: 10, startingAfter: first.data[9]!.id });
      expect(second.data.map((p) => p.id)).toEqual(newestFirst.slice(10, 20));
      const third = await store.payments.listPayments(MERCHANT, { limit: 10, startingAfter: second.data[9]!.id });
      expect(third).toMatchObject({ hasMore: false });
      expect(third.data.map((p) => p.id)).toEqual(newestFirst.slice(20));
      const range = await store.payments.listPayments(MERCHANT, { limit: 100, createdGte: base + 50, createdLt: base + 100 });
      expect(range.data.map((p) => p.id)).toEqual(ids.slice(5, 10).reverse());
    });
  });
}

describe('MemoryStore payments', () => {
  paymentsContract(async () => {
    const store = new MemoryStore();
    return { store, sibling: async () => store };
  });
});

describeRedis(redis, 'RedisStore payments', (server) => {
  const runPrefix = testKeyPrefix();
  let next = 0;
  afterAll(async () => {
    await deleteKeys(server.url, runPrefix);
  });
  paymentsContract(async () => {
    const prefix = `${runPrefix}${next++}:`;
    const store = await RedisStore.connect(server.url, { prefix });
    return { store, sibling: () => RedisStore.connect(server.url, { prefix }) };
  });
});

describeCluster(cluster, 'RedisStore payments on a Redis Cluster (3 masters, 3 replicas, WAIT for 1 replica)', (c) => {
  const nodes = parseClusterNodes(c.nodes.join(','));
  const options = (prefix: string) => ({ prefix, waitReplicas: 1, waitTimeoutMs: 1_000 });
  paymentsContract(async () => {
    const prefix = testKeyPrefix();
    const store = await RedisStore.connectCluster(nodes, options(prefix));
    return { store, sibling: () => RedisStore.connectCluster(nodes, options(prefix)) };
  });
});
