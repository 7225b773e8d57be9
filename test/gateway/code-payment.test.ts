/**
 * One-time codes at a scanner (gateway/flow/code-scan.ts), on the embedded store and on Redis: a wallet enrolled on
 * /wallet, its codes (made here with the wallet key, as the page makes them) paid at once up to the card's
 * codeNoPinLimit (the scan is answered by the payment-result, protocol v1.6; the wrong-PIN count untouched) and with the PIN on
 * the holder's page above it; a code used once, an older one refused, a forged one refused without burning the
 * counter, a revoked enrolment's refused. Then the replay: one code scanned 100 times at once over two gateways on one
 * Redis: exactly one payment.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { codeTimeStep, oneTimeCode } from '../../core/index.ts';
import { IssuerKeyRing } from '../../issuer/key-ring.ts';
import type { IssuedCard } from '../../issuer/issuer.ts';
import type { ScannerClient } from '../../sdk/index.ts';
import {
  MERCHANT, PIN, memoryTestStore, postPin, redisTestStore, startGatewayFixture, type GatewayFixture, type TestStore,
} from '../support/gateway-fixture.ts';
import { describeRedis, redisForTests } from '../support/redis.ts';

const redis = await redisForTests();
afterAll(async () => {
  await redis?.stop();
});

interface Wallet { enrolmentId: string; walletKey: Uint8Array }

async function enrol(fx: GatewayFixture, card: IssuedCard): Promise<Wallet> {
  const post = (path: string, body: unknown) => fetch(`${fx.gateway.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', origin: fx.gateway.url }, body: JSON.stringify(body) });
  const started = await (await post('/wallet/enrol', { card: card.payloadText })).json() as { session: string; token: string };
  const answer = await (await post(`/wallet/enrol/${started.session}/pin`, { token: started.token, pin: PIN })).json() as { enrolmentId: string; walletKey: string };
  return { enrolmentId: answer.enrolmentId, walletKey: new Uint8Array(Buffer.from(answer.walletKey, 'hex')) };
}

function codePayments(openStore: () => Promise<TestStore>): void {
  let ts: TestStore;
  let fx: GatewayFixture;
  let code: (w: Wallet, counter: number, step?: number) => string;
  beforeEach(async () => {
    ts = await openStore();
    fx = await startGatewayFixture({ store: ts.store });
    code = (w, counter, step = codeTimeStep(Date.now())) => oneTimeCode(fx.core, w.walletKey, { enrolmentId: Buffer.from(w.enrolmentId, 'hex'), step, counter }).text;
  });
  afterEach(async () => {
    await fx.close();
    await ts.dispose();
  });

  // protocol v1.6: scanOrPay resolves with the session, or with the payment-result of a code paid at once
  const scanCode = (client: ScannerClient, text: string, amount: number) =>
    client.scanOrPay({ payload: text, amount, currency: 'EUR', merchant: MERCHANT }).then((answer) => answer, (e: { code?: string }) => e.code ?? 'ERROR');

  it('pays at once up to codeNoPinLimit, with the PIN on the page above it; each code once, older ones and forgeries refused', async () => {
    const card = await fx.issue({ balance: 100_000 });
    const token = fx.keyRing.cardToken(card.pan);
    const wallet = await enrol(fx, card);
    await fx.issuer.setCardPolicy(card.pan, { codeNoPinLimit: 2_000 });
    await fx.store.updateCard(token, (c) => ({ ...c, pinFailures: 1 }));
    const client = await fx.client();

    const first = await scanCode(client, code(wallet, 1), 1_500);
    if (typeof first === 'string') throw new Error(`refused: ${first}`);
    expect(first).toMatchObject({ type: 'payment-result', outcome: 'approved', receipt: { amount: 1_500 } }); // the scan's answer (v1.6)
    expect(await client.waitForResult(first.session, 10_000)).toMatchObject({ outcome: 'approved', session: first.session });
    expect(await fx.store.getCard(token)).toMatchObject({ balance: 98_500, pinFailures: 1 }); // no PIN: the count stays

    expect(await scanCode(client, code(wallet, 1), 1_500)).toBe('CODE_STALE'); // used
    // a forgery (another key) does not burn the counter: the next genuine code still pays
    const forged = { ...wallet, walletKey: new Uint8Array(32).fill(7) };
    expect(await scanCode(client, code(forged, 50), 1_000)).toBe('CARD_INVALID');
    expect(await scanCode(client, code(wallet, 2, codeTimeStep(Date.now()) - 3), 1_000)).toBe('CODE_STALE'); // outside the window

    // above the limit: the PIN on the holder's page, checked with the code
    const above = await scanCode(client, code(wallet, 3), 5_000);
    if (typeof above === 'string' || above.type !== 'auth-required') throw new Error(`no session: ${JSON.stringify(above)}`);
    expect(above.pinEntry).toBe('holder-device');
    await expect(client.submitPin(above.session, PIN)).rejects.toMatchObject({ code: 'PIN_ENTRY_HOLDER_DEVICE' });
    expect((await postPin(above.url, PIN)).status).toBe(200);
    expect(await client.waitForResult(above.session, 10_000)).toMatchObject({ outcome: 'approved' });
    expect(await fx.store.getCard(token)).toMatchObject({ balance: 93_500, pinFailures: 0 }); // the right PIN reset it
    expect(await scanCode(client, code(wallet, 2), 1_000)).toBe('CODE_STALE'); // older than one used

    // revoked: refused
    await fx.store.revokeEnrolment(wallet.enrolmentId, Date.now());
    expect(await scanCode(client, code(wallet, 4), 1_000)).toBe('CARD_INVALID');
    expect((await fx.store.getCard(token))!.balance).toBe(93_500);
  });
}

describe('one-time codes at a scanner, embedded store', () => codePayments(memoryTestStore));
describeRedis(redis, 'one-time codes at a scanner, Redis', (r) => {
  codePayments(() => redisTestStore(r));

  it('one code replayed 100 times at once over two gateways on one Redis: exactly one payment', async () => {
    const ts = await redisTestStore(r);
    const keyRing = IssuerKeyRing.generate();
    const fleetKey = new Uint8Array(32).fill(3);
    const [a, b] = [await startGatewayFixture({ store: ts.store, keyRing, fleetKey }), await startGatewayFixture({ store: await ts.reopen(), keyRing, fleetKey })];
    try {
      const card = await a.issue({ balance: 100_000 });
      const wallet = await enrol(a, card);
      await a.issuer.setCardPolicy(card.pan, { codeNoPinLimit: 5_000 });
      const text = oneTimeCode(a.core, wallet.walletKey, { enrolmentId: Buffer.from(wallet.enrolmentId, 'hex'), step: codeTimeStep(Date.now()), counter: 1 }).text;
      const clients = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? a : b).client()));
      const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => clients[i % clients.length]!
        .scanOrPay({ payload: text, amount: 1_000, currency: 'EUR', merchant: MERCHANT })
        .then((answer) => answer.session, (e: { code?: string }) => e.code ?? 'ERROR')));
      const sessions = answers.filter((x) => /^[0-9a-f]{32}$/.test(x));
      expect(sessions).toHaveLength(1);
      expect(answers.filter((x) => x === 'CODE_STALE').length + answers.filter((x) => x === 'RATE_LIMITED').length).toBe(99);
      const payment = await a.store.payments.getPayment(sessions[0]!);
      expect(payment).toMatchObject({ status: 'captured', amount: 1_000 });
      expect((await a.store.getCard(a.keyRing.cardToken(card.pan)))!.balance).toBe(99_000);
      console.log(`one code, 100 scans over 2 gateways: ${sessions.length} payment, ${answers.filter((x) => x === 'CODE_STALE').length} CODE_STALE, ${answers.filter((x) => x === 'RATE_LIMITED').length} RATE_LIMITED`);
    } finally {
      await a.close();
      await b.close();
      await ts.dispose();
    }
  });
});
