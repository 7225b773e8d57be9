/**
 * Protocol v1.3 `reverse` (docs/protocol.md §4.1): a scanner reverses the payment of one of its sessions whose
 * answer it lost. On the embedded store and on Redis: each case of the action table (voided, refunded, none,
 * and a reversal before the authorization, whose PIN is then declined REVERSED), the answer replayed for every
 * later reversal, another scanner's session answering as an unknown one, the SDK's typed result, the metrics,
 * and a reversal racing the merchant API's capture and refunds on one payment. On Redis with two gateway
 * processes: hundreds of reversals at once over several connections of both, and the same race across the
 * two — each payment ends one consistent way and every card's balance is its opening balance plus its
 * entries' changes (here: back to the opening).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore, RedisStore, type Store } from '../../issuer/store/index.ts';
import type { IssuedCard } from '../../issuer/issuer.ts';
import type { ErrorFrame, PaymentResultFrame, ReversalFrame } from '../../protocol/messages.ts';
import { PIN, RawScanner, WRONG_PIN, metricValue, postPin, startGatewayFixture, uniqueDevice, type GatewayFixture } from '../support/gateway-fixture.ts';
import { spawnGatewayChild, type GatewayProcess } from '../support/gateway-process.ts';
import { MerchantApi, createMerchant } from '../support/merchant-api.ts';
import { deleteKeys, describeRedis, redisForTests, testKeyPrefix } from '../support/redis.ts';

const redis = await redisForTests();
afterAll(async () => {
  await redis?.stop();
});

const OPENING = 1_000_000;

/** Sends `reverse` for the session and waits for its answer. */
async function reverse(scanner: RawScanner, session: string): Promise<ReversalFrame | ErrorFrame> {
  const id = scanner.newId();
  scanner.send({ v: 1, type: 'reverse', id, session });
  return scanner.answer(id, 20_000);
}

/** A payment approved through the scanner (scan, then the PIN); its session id. */
async function approved(scanner: RawScanner, card: IssuedCard, amount: number, capture: 'automatic' | 'manual', merchant?: string): Promise<string> {
  const auth = await scanner.open(card.payloadText, amount, { capture, merchant });
  const result = await scanner.pin(auth.session, PIN);
  if (result.type !== 'payment-result' || result.outcome !== 'approved') throw new Error(`not approved: ${JSON.stringify(result)}`);
  return auth.session;
}

/** The card's balance is its opening balance plus the changes of every entry of `payments` (all the payments on it). */
async function expectReconciled(store: Store, cardToken: string, opening: number, payments: string[]): Promise<number> {
  let changes = 0;
  for (const id of payments) changes += (await store.payments.entries(id)).reduce((n, e) => n + e.balanceChange, 0);
  const balance = (await store.getCard(cardToken))!.balance;
  expect(balance).toBe(opening + changes);
  return balance;
}

/**
 * `rounds` payments of `shop` approved through the scanners, each then reversed by one of them while the merchant
 * captures (in part, every fourth) and refunds it twice, all at once: each ends one consistent way — voided with
 * nothing captured, or refunded in full of what was captured — its reversal answers the same after, and the card
 * is back at its opening balance. Returns the ends seen ("action/status": count).
 */
async function raceRounds(store: Store, fx: GatewayFixture, scanners: RawScanner[], api: MerchantApi, shop: string, rounds: number): Promise<Record<string, number>> {
  const card = await fx.issue();
  const sessions: string[] = [];
  const ends: Record<string, number> = {};
  for (let round = 0; round < rounds; round++) {
    const manual = round % 3 !== 2;
    const session = await approved(scanners[0]!, card, 1_000, manual ? 'manual' : 'automatic', shop);
    sessions.push(session);
    const reverser = scanners[round % scanners.length]!;
    // the merchant's requests leave a little after the reversal in some rounds, so both orders happen (asserted: whichever came)
    const lag = (round % 4) * 3;
    const later = <T>(request: () => Promise<T>) => new Promise<void>((resolve) => setTimeout(resolve, lag)).then(request);
    const [reversal, ...merchant] = await Promise.all([
      reverse(reverser, session),
      later(() => api.post(`/v1/payments/${session}/capture`, round % 4 === 0 ? { amount: 600 } : undefined)),
      later(() => api.post('/v1/refunds', { payment: session, amount: 300 })),
      later(() => api.post('/v1/refunds', { payment: session, amount: 200 })),
    ]);
    for (const a of merchant) expect(a.status, a.text).toBeLessThan(500);
    expect(reversal.type, JSON.stringify(reversal)).toBe('reversal');
    const action = (reversal as ReversalFrame).action;
    const payment = (await store.payments.getPayment(session))!;
    const entries = await store.payments.entries(session);
    const count = (type: string) => entries.filter((e) => e.type === type).length;
    // the reversal took what was there when it ran: a hold (voided, nothing captured since) or a charge (refunded: all of it)
    expect(action).not.toBe('none');
    expect(payment.reversal).toBe(action);
    expect(count('capture')).toBeLessThanOrEqual(1);
    if (action === 'voided') {
      expect(payment).toMatchObject({ status: 'voided', capturedAmount: 0, refundedAmount: 0 });
      expect(count('capture') + count('refund')).toBe(0);
    } else {
      expect(payment.status).toBe('refunded');
      expect(payment.refundedAmount).toBe(payment.capturedAmount);
      expect(entries.filter((e) => e.type === 'refund').reduce((n, e) => n + e.amount, 0)).toBe(payment.capturedAmount);
    }
    // and the reversal's answer is the same, replayed, for every later one
    expect(await reverse(scanners[0]!, session)).toMatchObject({ action, replayed: true });
    const end = `${action}/${payment.status}`;
    ends[end] = (ends[end] ?? 0) + 1;
  }
  expect(await expectReconciled(store, fx.keyRing.cardToken(card.pan), OPENING, sessions)).toBe(OPENING);
  return ends;
}

const kinds: [string, () => Promise<{ store: Store; dispose(): Promise<void> }>][] = [
  ['the embedded store', async () => {
    const store = new MemoryStore();
    return { store, dispose: () => store.close() };
  }],
];
if (redis) {
  kinds.push(['Redis', async () => {
    const prefix = testKeyPrefix();
    const store = await RedisStore.connect(redis.url, { prefix });
    return { store, dispose: async () => {
      await store.close();
      await deleteKeys(redis.url, prefix);
    } };
  }]);
}

for (const [name, open] of kinds) {
  describe(`reverse frame on ${name}`, () => {
    let fx: GatewayFixture;
    let dispose: () => Promise<void>;
    beforeAll(async () => {
      const opened = await open();
      dispose = opened.dispose;
      fx = await startGatewayFixture({ store: opened.store });
    });
    afterAll(async () => {
      await fx?.close();
      await dispose?.();
    });

    it('a captured payment is refunded in full; every later reversal, on another connection, answers the same and changes nothing', async () => {
      const card = await fx.issue();
      const device = uniqueDevice();
      const scanner = await fx.scanner(device);
      const session = await approved(scanner, card, 1_250, 'automatic');
      expect((await fx.issuer.viewCard(card.pan)).balance).toBe(OPENING - 1_250);
      expect(await reverse(scanner, session)).toEqual({ v: 1, type: 'reversal', id: expect.any(String), session, action: 'refunded', replayed: false });
      const again = await fx.scanner(device);
      for (const s of [scanner, again, again]) expect(await reverse(s, session)).toMatchObject({ type: 'reversal', session, action: 'refunded', replayed: true });
      expect((await fx.issuer.viewCard(card.pan)).balance).toBe(OPENING);
      const entries = await fx.store.payments.entries(session);
      expect(entries.map((e) => e.type)).toEqual(['authorization', 'capture', 'refund']);
      expect(await fx.store.payments.getPayment(session)).toMatchObject({ status: 'refunded', capturedAmount: 1_250, refundedAmount: 1_250, reversal: 'refunded' });
      const refunds = await fx.store.payments.listRefunds('corner-cafe', { limit: 100, paymentId: session });
      expect(refunds.data).toEqual([expect.objectContaining({ amount: 1_250, reason: 'reversal' })]);
      const metrics = await fx.metrics();
      expect(metricValue(metrics, 'scanpay_reversals_total', { action: 'refunded', via: 'scanner' })).toBe(1);
      expect(metricValue(metrics, 'scanpay_refunds_total')).toBe(1);
      expect(metricValue(metrics, 'scanpay_operation_amount_total', { operation: 'refund', currency: 'EUR' })).toBe(1_250);
    });

    it('a held payment (manual capture) is voided; the SDK gets the typed answer', async () => {
      const card = await fx.issue();
      const device = uniqueDevice();
      const scanner = await fx.scanner(device);
      const session = await approved(scanner, card, 700, 'manual');
      expect(await fx.store.payments.getPayment(session)).toMatchObject({ status: 'authorized' });
      const client = await fx.client(device);
      const answer = await client.reverse(session);
      expect(answer).toMatchObject({ type: 'reversal', session, action: 'voided', replayed: false });
      expect(await client.reverse(session)).toMatchObject({ action: 'voided', replayed: true });
      expect((await fx.issuer.viewCard(card.pan)).balance).toBe(OPENING);
      expect((await fx.store.payments.entries(session)).map((e) => e.type)).toEqual(['authorization', 'void']);
      expect(await fx.store.payments.getPayment(session)).toMatchObject({ status: 'voided', reversal: 'voided', holdExpiresAt: null });
    });

    it('before the PIN: none, and the PIN is then declined REVERSED with nothing held; a wrong-PIN session and a declined one: none', async () => {
      const card = await fx.issue();
      const scanner = await fx.scanner();
      const auth = await scanner.open(card.payloadText, 500);
      expect(await reverse(scanner, auth.session)).toMatchObject({ type: 'reversal', action: 'none', replayed: false });
      const paid = await scanner.pin(auth.session, PIN) as PaymentResultFrame;
      expect(paid).toMatchObject({ type: 'payment-result', outcome: 'declined', reason: 'REVERSED', receipt: null });
      expect(await reverse(scanner, auth.session)).toMatchObject({ action: 'none', replayed: true });
      expect((await fx.issuer.viewCard(card.pan)).balance).toBe(OPENING);
      expect(await fx.store.payments.entries(auth.session)).toEqual([]);

      const wrong = await scanner.open(card.payloadText, 500);
      expect(await scanner.pin(wrong.session, WRONG_PIN)).toMatchObject({ outcome: 'declined', reason: 'PIN_WRONG' });
      expect(await reverse(scanner, wrong.session)).toMatchObject({ action: 'none', replayed: false });

      const poor = await fx.issue({ balance: 100 });
      const declined = await scanner.open(poor.payloadText, 500);
      expect(await scanner.pin(declined.session, PIN)).toMatchObject({ outcome: 'declined', reason: 'INSUFFICIENT_FUNDS' });
      expect(await reverse(scanner, declined.session)).toMatchObject({ action: 'none', replayed: false });
      expect((await fx.issuer.viewCard(poor.pan)).balance).toBe(100);
      expect((await fx.issuer.viewCard(card.pan)).balance).toBe(OPENING);
    });

    it('a scanner\'s reversal racing the merchant\'s capture and refunds on one payment: one consistent end each, balances back to the opening', async () => {
      const api = new MerchantApi(fx.gateway.merchantUrl, await createMerchant(fx.store, fx.fleetKey, 'race-shop'));
      const device = uniqueDevice();
      await fx.store.bindDevice(device, 'race-shop'); // a registered merchant's payments come from its own scanners
      const ends = await raceRounds(fx.store, fx, [await fx.scanner(device), await fx.scanner(device)], api, 'race-shop', 8);
      console.log(`${name}: scanner reversal racing capture + 2 refunds on 8 payments: ends ${JSON.stringify(ends)}`);
    });

    it('a session reversed before the holder pays on the page: the page says it was cancelled, nothing is charged', async () => {
      const card = await fx.issue();
      const scanner = await fx.scanner();
      const auth = await scanner.open(card.payloadText, 650);
      expect(await reverse(scanner, auth.session)).toMatchObject({ action: 'none', replayed: false });
      const page = await postPin(auth.url, PIN);
      expect(page.status).toBe(200);
      const html = await page.text();
      expect(html).toContain('data-code="REVERSED"');
      expect(html).toContain('Nothing was charged.');
      expect(await scanner.next((f) => f.type === 'payment-result' && f.session === auth.session)).toMatchObject({ outcome: 'declined', reason: 'REVERSED', receipt: null });
      expect((await fx.issuer.viewCard(card.pan)).balance).toBe(OPENING);
    });

    it('another scanner\'s session and an unknown one answer SESSION_UNKNOWN alike, and nothing changes', async () => {
      const card = await fx.issue();
      const owner = await fx.scanner();
      const session = await approved(owner, card, 900, 'automatic');
      const stranger = await fx.scanner();
      const answers = [await reverse(stranger, session), await reverse(stranger, '0'.repeat(32))];
      for (const a of answers) expect(a).toMatchObject({ type: 'error', code: 'SESSION_UNKNOWN' });
      expect((answers[0] as ErrorFrame).message).toBe((answers[1] as ErrorFrame).message);
      expect(await fx.store.payments.getPayment(session)).toMatchObject({ status: 'captured', reversal: null });
      expect((await fx.issuer.viewCard(card.pan)).balance).toBe(OPENING - 900);
      // a malformed session id is a bad frame, as for status
      const id = stranger.newId();
      stranger.send({ v: 1, type: 'reverse', id, session: 'not-a-session' });
      expect(await stranger.answer(id)).toMatchObject({ type: 'error', code: 'BAD_FRAME', message: expect.stringMatching(/^\/session: /) });
    });
  });
}

describeRedis(redis, 'reversals on two gateway processes over one Redis', (r) => {
  const prefix = testKeyPrefix();
  let store: RedisStore;
  let fx: GatewayFixture;
  let child: GatewayProcess;
  const SHOP = 'rev-shop';
  let api: MerchantApi;
  const rate = { framesPerSecond: 100_000, burst: 100_000 };

  beforeAll(async () => {
    store = await RedisStore.connect(r.url, { prefix });
    fx = await startGatewayFixture({ store, gateway: rate });
    child = await spawnGatewayChild({ redisUrl: r.url, prefix, keyRing: fx.keyRing, fleetKey: fx.fleetKey, options: { ...rate, pinPaceMs: 0 } });
    api = new MerchantApi(child.merchantUrl, await createMerchant(store, fx.fleetKey, SHOP));
  }, 60_000);

  afterAll(async () => {
    await child?.stop();
    await fx?.close();
    await store?.close();
    await deleteKeys(r.url, prefix);
  });

  const connect = (url: string, device: string) => RawScanner.connect(url, device, fx.token(device));

  it('300 reversals at once over 10 connections of both gateways, 10 per payment: one decides each, all answer alike, balances back to the opening', async () => {
    const device = uniqueDevice();
    const payer = await fx.scanner(device);
    const cards = [await fx.issue(), await fx.issue(), await fx.issue()];
    const sessions: string[] = [];
    for (let i = 0; i < 30; i++) sessions.push(await approved(payer, cards[i % 3]!, 100 + i, i % 2 === 0 ? 'automatic' : 'manual'));
    const connections: RawScanner[] = [];
    for (let i = 0; i < 10; i++) connections.push(await connect(i % 2 === 0 ? fx.gateway.scannerUrl : child.scannerUrl, device));
    try {
      // each connection sends one reversal of every payment (30 outstanding per connection, under the 32 allowed)
      const answers = await Promise.all(connections.flatMap((c) => sessions.map((s) => reverse(c, s))));
      const bySession = new Map<string, ReversalFrame[]>();
      for (const a of answers) {
        expect(a.type, JSON.stringify(a)).toBe('reversal');
        const frame = a as ReversalFrame;
        bySession.set(frame.session, [...(bySession.get(frame.session) ?? []), frame]);
      }
      let decided = 0;
      for (const [i, session] of sessions.entries()) {
        const got = bySession.get(session)!;
        expect(got).toHaveLength(10);
        const action = i % 2 === 0 ? 'refunded' : 'voided';
        expect(new Set(got.map((f) => f.action))).toEqual(new Set([action]));
        const first = got.filter((f) => !f.replayed).length;
        expect(first).toBe(1);
        decided += first;
        const entries = await store.payments.entries(session);
        expect(entries.filter((e) => e.type === 'void' || e.type === 'refund')).toHaveLength(1);
      }
      console.log(`300 concurrent reversals (30 payments × 10 connections over 2 gateways): ${answers.length} answered 'reversal', ${decided} decided, ${answers.length - decided} replayed`);
      for (const [c, card] of cards.entries()) {
        const mine = sessions.filter((_, i) => i % 3 === c);
        expect(await expectReconciled(store, fx.keyRing.cardToken(card.pan), OPENING, mine)).toBe(OPENING);
      }
    } finally {
      await Promise.all(connections.map((c) => c.close()));
    }
  }, 120_000);

  it('a scanner\'s reversal racing the merchant\'s capture and refunds on one payment (two gateways): one consistent end each, balances back to the opening', async () => {
    const device = uniqueDevice();
    await store.bindDevice(device, SHOP); // a registered merchant's payments come from its own scanners
    const payer = await fx.scanner(device);
    const other = await connect(child.scannerUrl, device);
    try {
      const ends = await raceRounds(store, fx, [payer, other], api, SHOP, 12);
      console.log(`scanner reversal racing capture + 2 refunds on 12 payments over 2 gateways: ends ${JSON.stringify(ends)}`);
    } finally {
      await other.close();
    }
  }, 120_000);
});
