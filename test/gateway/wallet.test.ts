/**
 * The wallet's routes (gateway/http/wallet-routes.ts) on a real gateway, on the embedded store and on Redis: an
 * enrolment from a card's QR text and its PIN gives {enrolmentId, walletKey} once, the key being HKDF of the card's
 * basic key and the enrolment id (WALLET-CONTRACT), and the enrolment is listed; a wrong PIN counts as a payment's
 * does, and 200 concurrent wrong-PIN enrolments over several connections evaluate at most 3 and lock the card; the
 * start is judged as a scan (a forgery and an unknown card read alike), the static-QR policy refuses a second wallet;
 * the page is static under a strict CSP; cross-site, non-JSON and tokenless requests are refused before any work.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeCode, deriveWalletKey, oneTimeCode } from '../../core/index.ts';
import { unwrapBasicKey } from '../../issuer/card-secrets.ts';
import { payloadToText } from '../../issuer/payload.ts';
import { memoryTestStore, metricValue, redisTestStore, startGatewayFixture, MERCHANT, PIN, WRONG_PIN, type GatewayFixture, type TestStore } from '../support/gateway-fixture.ts';
import { describeRedis, redisForTests } from '../support/redis.ts';

const redis = await redisForTests();
afterAll(async () => {
  await redis?.stop();
});

const LIMITS = { perAddress: { perSecond: 10_000, burst: 10_000 }, perSession: { perSecond: 10, burst: 10 } };

function walletSuite(openStore: () => Promise<TestStore>): void {
  let ts: TestStore;
  let fx: GatewayFixture;
  beforeEach(async () => {
    ts = await openStore();
    fx = await startGatewayFixture({ store: ts.store, gateway: { pageLimits: LIMITS } });
  });
  afterEach(async () => {
    await fx.close();
    await ts.dispose();
  });

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) => fetch(`${fx.gateway.url}${path}`, {
    method: 'POST', headers: { 'content-type': 'application/json', origin: fx.gateway.url, ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const start = async (card: string) => {
    const res = await post('/wallet/enrol', { card });
    return { status: res.status, body: await res.json() as Record<string, unknown> };
  };
  const pin = async (session: string, token: string, value: string) => {
    const res = await post(`/wallet/enrol/${session}/pin`, { token, pin: value });
    return { status: res.status, body: await res.json() as Record<string, unknown> };
  };

  it('enrols: the wallet key once, HKDF of the basic key and the enrolment id; the enrolment listed active; the session used once', async () => {
    const card = await fx.issue();
    const started = await start(card.payloadText);
    expect(started.status).toBe(200);
    expect(started.body).toMatchObject({ session: expect.stringMatching(/^[0-9a-f]{32}$/), token: expect.stringMatching(/^[0-9a-f]{64}$/), maskedPan: `•••• •••• •••• ${card.pan.slice(-4)}` });
    const wrong = await pin(started.body.session as string, started.body.token as string, WRONG_PIN);
    expect(wrong).toEqual({ status: 409, body: { error: 'PIN_WRONG', message: 'PIN_WRONG', attemptsLeft: 2 } });
    const again = await start(card.payloadText);
    const right = await pin(again.body.session as string, again.body.token as string, PIN);
    expect(right.status).toBe(200);
    const { enrolmentId, walletKey } = right.body as { enrolmentId: string; walletKey: string };
    const row = (await fx.store.getCard(fx.keyRing.cardToken(card.pan)))!;
    expect(row.pinFailures).toBe(0); // the right PIN reset the wrong one, as a payment's does
    const basicKey = unwrapBasicKey(fx.core, fx.keyRing.storageKey, row.token, row.wrappedBasicKey);
    expect(walletKey).toBe(Buffer.from(deriveWalletKey(fx.core, basicKey, Buffer.from(enrolmentId, 'hex'))).toString('hex'));
    basicKey.fill(0);
    expect(await fx.store.listEnrolments(row.token)).toMatchObject([{ id: enrolmentId, status: 'active', lastCounter: 0 }]);
    // a code from that key decodes to the enrolment (the gateway's check of it is the codes' part)
    const code = oneTimeCode(fx.core, Buffer.from(walletKey, 'hex'), { enrolmentId: Buffer.from(enrolmentId, 'hex'), step: 1, counter: 1 });
    expect(Buffer.from(decodeCode(code.text).enrolmentId).toString('hex')).toBe(enrolmentId);
    // the same session again: used, no key
    expect(await pin(again.body.session as string, again.body.token as string, PIN)).toMatchObject({ status: 409, body: { error: 'SESSION_USED' } });
    expect(await fx.store.listEnrolments(row.token)).toHaveLength(1);
  });

  it('judges the start as a scan: a forgery is CARD_INVALID (never why), garbage PAYLOAD_UNREADABLE, a blocked card CARD_BLOCKED, as a scanner is told; nothing is stored', async () => {
    const card = await fx.issue();
    const forged = new Uint8Array((await import('../../issuer/payload.ts')).payloadFromText(card.payloadText));
    forged[60] ^= 1;
    const other = await fx.issue();
    await fx.issuer.blockCard(other.pan);
    expect(await start(payloadToText(forged))).toEqual({ status: 409, body: { error: 'CARD_INVALID', message: 'CARD_INVALID' } });
    expect(await start('NOT A CARD')).toMatchObject({ status: 409, body: { error: 'PAYLOAD_UNREADABLE' } });
    expect(await start(other.payloadText)).toMatchObject({ status: 409, body: { error: 'CARD_BLOCKED' } });
    expect(await fx.store.listEnrolments(fx.keyRing.cardToken(card.pan))).toEqual([]);
  });

  it('a card whose policy is refused-when-enrolled takes one wallet: a second enrolment is refused STATIC_QR_REFUSED', async () => {
    const card = await fx.issue();
    await fx.issuer.setCardPolicy(card.pan, { staticQr: 'refused-when-enrolled' });
    const first = await start(card.payloadText);
    expect((await pin(first.body.session as string, first.body.token as string, PIN)).status).toBe(200);
    expect(await start(card.payloadText)).toMatchObject({ status: 409, body: { error: 'STATIC_QR_REFUSED' } });
  });

  it('a scanner\'s scan of the printed QR gets STATIC_QR_REFUSED over the card\'s limit and once a wallet is enrolled under refused-when-enrolled', async () => {
    const card = await fx.issue();
    const client = await fx.client();
    const refusedCode = async (amount: number) => client.scan({ payload: card.payloadText, amount, currency: 'EUR', merchant: MERCHANT }).then(() => 'opened', (e: { code?: string }) => e.code);
    await fx.issuer.setCardPolicy(card.pan, { staticQr: 'limit', staticQrLimit: 1_000 });
    expect(await refusedCode(1_001)).toBe('STATIC_QR_REFUSED');
    expect(await refusedCode(1_000)).toBe('opened');
    await fx.issuer.setCardPolicy(card.pan, { staticQr: 'refused-when-enrolled' });
    expect(await refusedCode(5_000)).toBe('opened');
    const started = await start(card.payloadText);
    expect((await pin(started.body.session as string, started.body.token as string, PIN)).status).toBe(200);
    expect(await refusedCode(5_000)).toBe('STATIC_QR_REFUSED');
    const [enrolment] = await fx.store.listEnrolments(fx.keyRing.cardToken(card.pan));
    await fx.store.revokeEnrolment(enrolment!.id, Date.now());
    expect(await refusedCode(5_000)).toBe('opened');
  });

  it('refuses before any work: another origin (403), not JSON (400), no token or another session\'s (404, the same bytes)', async () => {
    const card = await fx.issue();
    expect((await post('/wallet/enrol', { card: card.payloadText }, { origin: 'https://evil.example' })).status).toBe(403);
    expect((await post('/wallet/enrol', `card=${card.payloadText}`, { 'content-type': 'application/x-www-form-urlencoded' })).status).toBe(400);
    expect((await post('/wallet/enrol', '[1]')).status).toBe(400);
    const started = await start(card.payloadText);
    const other = await start(card.payloadText);
    const missing = await pin(started.body.session as string, '', PIN);
    const foreign = await pin(started.body.session as string, other.body.token as string, PIN);
    const unknown = await pin(randomBytes(16).toString('hex'), started.body.token as string, PIN);
    for (const answer of [missing, foreign, unknown]) expect(answer).toEqual({ status: 404, body: { error: 'NOT_FOUND', message: 'unknown or expired enrolment; start again' } });
    // none of them counted: the right PIN still enrols
    expect((await pin(started.body.session as string, started.body.token as string, PIN)).status).toBe(200);
  });

  it('serves a static page under a strict CSP, its script and the core from this gateway', async () => {
    const page = await fetch(`${fx.gateway.url}/wallet`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toBe("default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'; style-src 'unsafe-inline'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
    expect(page.headers.get('cache-control')).toBe('no-store');
    const html = await page.text();
    expect(html).toContain('<script type="module" src="/wallet/app.js"></script>');
    expect(html).not.toMatch(/https?:\/\/(?!www\.w3\.org)/);
    for (const path of ['/wallet/app.js', '/wallet/qr-matrix.js', '/wallet/core/browser.js', '/wallet/core/one-time-code.js', '/wallet/build/scanpay-core.wasm']) {
      const res = await fetch(`${fx.gateway.url}${path}`);
      expect(res.status, path).toBe(200);
    }
    expect((await fetch(`${fx.gateway.url}/wallet/core/..%2Fsecret.js`)).status).toBe(404);
  });

  it('an enrolment is a PIN attempt: 200 concurrent wrong-PIN enrolments over several connections evaluate at most 3 and lock the card', async () => {
    const card = await fx.issue();
    const starts = await Promise.all(Array.from({ length: 200 }, () => start(card.payloadText)));
    expect(starts.every((s) => s.status === 200)).toBe(true);
    const answers = await Promise.all(starts.map((s) => pin(s.body.session as string, s.body.token as string, WRONG_PIN)));
    const metrics = await fx.metrics();
    // exactly the 3 that locked it were evaluated (the metric is this gateway's: the only one on this store)
    expect(metricValue(metrics, 'scanpay_pin_attempts_total', { result: 'wrong' })).toBe(3);
    expect(await fx.store.getCard(fx.keyRing.cardToken(card.pan))).toMatchObject({ status: 'locked', pinFailures: 3 });
    expect(answers.filter((a) => a.status === 200)).toEqual([]);
    // now even the right PIN is refused, as a payment's would be: the card is locked
    expect(await start(card.payloadText)).toMatchObject({ status: 409, body: { error: 'CARD_LOCKED' } });
    expect(await fx.store.listEnrolments(fx.keyRing.cardToken(card.pan))).toEqual([]);
  });
}

describe('wallet routes on the embedded store', () => walletSuite(memoryTestStore));
describeRedis(redis, 'wallet routes on Redis', (r) => walletSuite(() => redisTestStore(r)));
