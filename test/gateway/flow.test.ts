/**
 * The whole payment flow over real WebSockets against a real gateway (uWS, crypto pool, WASM core), on
 * both stores: a card written by the issuer is scanned (S21–S24), the PIN is sent by the scanner or
 * entered on the authentication page (S25), the payment is approved once, and the receipt's MAC is the
 * one the issuer recomputes from the ledger's transaction cryptogram.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatAmount } from '../../gateway/auth-page/render.ts';
import { receiptFor } from '../../gateway/flow/receipt.ts';
import type { IssuedCard } from '../../issuer/issuer.ts';
import { maskPan } from '../../issuer/pan.ts';
import type { PaymentResultFrame, PushFrame } from '../../sdk/index.ts';
import {
  MERCHANT, PIN, expectedReceiptMac, memoryTestStore, redisTestStore, startGatewayFixture,
  type GatewayFixture, type TestStore,
} from '../support/gateway-fixture.ts';
import { describeRedis, redisForTests } from '../support/redis.ts';

const redis = await redisForTests();
afterAll(async () => {
  await redis?.stop();
});

function flowSuite(openStore: () => Promise<TestStore>): void {
  let ts: TestStore;
  let fx: GatewayFixture;

  beforeAll(async () => {
    ts = await openStore();
    fx = await startGatewayFixture({ store: ts.store, threads: 1 });
  });
  afterAll(async () => {
    await fx?.close();
    await ts?.dispose();
  });

  /** The receipt is what the issuer would compute, and its MAC verifies under the ledger's cryptogram. */
  async function expectVerifiedReceipt(result: PaymentResultFrame, card: IssuedCard, amount: number): Promise<void> {
    const receipt = result.receipt!;
    expect(receipt).toMatchObject({
      session: result.session, merchant: MERCHANT, amount, currency: 'EUR', maskedPan: maskPan(card.pan), outcome: 'approved', reason: null,
    });
    const record = (await fx.store.getLedgerRecord(result.session))!;
    expect(record).toMatchObject({ sessionId: result.session, outcome: 'approved', amount, merchant: MERCHANT, at: receipt.at });
    expect(record.cryptogram).toMatch(/^[0-9a-f]{64}$/);
    expect(receipt.mac).toBe(expectedReceiptMac(receipt, record));
    expect(receipt).toEqual(receiptFor(fx.core, record));
    // a receipt with any fact changed no longer verifies
    expect(expectedReceiptMac({ ...receipt, amount: amount + 1 }, record)).not.toBe(receipt.mac);
  }

  it('scan → auth-required → pin → approved, with a verifiable receipt; the balance drops exactly once', async () => {
    const card = await fx.issue({ balance: 100_000 });
    const client = await fx.client();
    const before = Date.now();

    const auth = await client.scan({ payload: card.payloadText, amount: 1_250, currency: 'EUR', merchant: MERCHANT });
    expect(auth).toMatchObject({ type: 'auth-required', merchant: MERCHANT, amount: 1_250, currency: 'EUR', maskedPan: maskPan(card.pan) });
    expect(auth.maskedPan).toMatch(/^•••• •••• •••• \d{4}$/);
    expect(auth.url).toMatch(new RegExp(`^${fx.gateway.url}/auth/${auth.session}\\?t=[0-9a-f]{64}$`));
    expect(auth.expiresAt).toBeGreaterThan(before);
    expect(JSON.stringify(auth)).not.toContain(card.pan);

    const result = await client.submitPin(auth.session, PIN);
    expect(result).toMatchObject({ type: 'payment-result', session: auth.session, outcome: 'approved', reason: null, replayed: false });
    await expectVerifiedReceipt(result, card, 1_250);
    expect((await fx.issuer.viewCard(card.pan)).balance).toBe(100_000 - 1_250);
    expect((await fx.store.getLedgerRecord(auth.session))!.balanceAfter).toBe(100_000 - 1_250);

    // a retry of the same session answers the same result and pays nothing more
    const again = await client.submitPin(auth.session, PIN);
    expect(again).toMatchObject({ outcome: 'approved', replayed: true, receipt: result.receipt });
    expect((await fx.issuer.viewCard(card.pan)).balance).toBe(100_000 - 1_250);
  });

  it('page flow: GET the auth URL → PIN page; POST the form → approved page, and the scanner gets the push', async () => {
    const card = await fx.issue({ balance: 50_000 });
    const client = await fx.client();
    const pushes: PushFrame[] = [];
    client.on('push', (frame) => pushes.push(frame));
    const auth = await client.scan({ payload: card.payloadText, amount: 4_299, currency: 'EUR', merchant: MERCHANT });

    const page = await fetch(auth.url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    const html = await page.text();
    expect(formatAmount(4_299, 'EUR')).toBe('€42.99');
    for (const shown of [MERCHANT, '€42.99', maskPan(card.pan)]) expect(html).toContain(shown);
    expect(html).not.toContain(card.pan);
    expect(html).toContain('id="pin"');

    const token = new URL(auth.url).searchParams.get('t')!;
    const resultPush = client.waitForResult(auth.session, 5_000);
    const posted = await fetch(`${fx.gateway.url}${new URL(auth.url).pathname}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: fx.gateway.url },
      body: new URLSearchParams({ t: token, pin: PIN }).toString(),
    });
    expect(posted.status).toBe(200);
    const outcome = await posted.text();
    expect(outcome).toContain('Payment approved');
    expect(outcome).toContain('€42.99');
    expect(outcome).not.toContain(card.pan);

    const pushed = await resultPush;
    expect(pushed).toMatchObject({ type: 'payment-result', id: null, session: auth.session, outcome: 'approved', replayed: false });
    expect(pushes).toEqual([pushed]);
    await expectVerifiedReceipt(pushed, card, 4_299);
    expect((await fx.issuer.viewCard(card.pan)).balance).toBe(50_000 - 4_299);

    // the page cannot pay the session a second time
    const twice = await fetch(`${fx.gateway.url}/auth/${auth.session}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: fx.gateway.url },
      body: new URLSearchParams({ t: token, pin: PIN }).toString(),
    });
    expect(twice.status).toBe(200); // the same result again, marked replayed in the push
    expect(await twice.text()).not.toContain(card.pan);
    await expect.poll(() => pushes.length).toBe(2);
    expect(pushes[1]).toMatchObject({ id: null, session: auth.session, outcome: 'approved', replayed: true, receipt: pushed.receipt });
    expect((await fx.issuer.viewCard(card.pan)).balance).toBe(50_000 - 4_299);
  });

  it('declines by the issuer (insufficient funds) still get a verifiable receipt and move no money', async () => {
    const card = await fx.issue({ balance: 1_000 });
    const client = await fx.client();
    const auth = await client.scan({ payload: card.payloadText, amount: 1_001, currency: 'EUR', merchant: MERCHANT });
    const result = await client.submitPin(auth.session, PIN);
    expect(result).toMatchObject({ outcome: 'declined', reason: 'INSUFFICIENT_FUNDS', replayed: false });
    const record = (await fx.store.getLedgerRecord(auth.session))!;
    expect(result.receipt!.mac).toBe(expectedReceiptMac(result.receipt!, record));
    expect((await fx.issuer.viewCard(card.pan)).balance).toBe(1_000);
  });
}

describe('payment flow on the embedded store (MemoryStore)', () => {
  flowSuite(memoryTestStore);
});

describeRedis(redis, 'payment flow on Redis (RedisStore)', (r) => {
  flowSuite(() => redisTestStore(r));
});
