/**
 * Signed receipts through a running gateway (docs/receipts.md), on the embedded store and on Redis: a scanner
 * takes a payment, the merchant captures none (automatic) and refunds part; the receipt loop seals and signs in
 * the crypto workers; the merchant reads the payment's receipts (GET /v1/payments/{id}/receipts, checked
 * against the OpenAPI document), the published keys are the same on the merchant API, the public listener and
 * `keys.receiptPublicKeys()`; every receipt verifies with the core and the chain links; the approved page links
 * to the holder's receipt page (same token as the auth page; without it the auth page's NOT_FOUND bytes), which
 * shows the receipt as a QR code that decodes to it; a rotated receipt key signs the next receipts and the old
 * key stays published; the verify page and its modules are served under a strict CSP.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifyReceipt, verifyReceiptChain, RECEIPT_ZERO_HASH } from '../../core/receipt.ts';
import { decodeQrPng, receiptQrPng, receiptQrSvg } from '../../issuer/qr.ts';
import { MemoryStore, RedisStore, type Store } from '../../issuer/store/index.ts';
import { PIN, startGatewayFixture, uniqueDevice, type GatewayFixture } from '../support/gateway-fixture.ts';
import { MerchantApi, createMerchant } from '../support/merchant-api.ts';
import { deleteKeys, describeRedis, redisForTests, testKeyPrefix } from '../support/redis.ts';

const redis = await redisForTests();
afterAll(async () => {
  await redis?.stop();
});

const SHOP = 'corner-cafe';

/** Polls until `read` gives what `done` wants (the receipt loop runs every 50 ms here); the deadline only bounds a hang. */
async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not there after 20 s (last: ${JSON.stringify(value).slice(0, 300)})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function receiptsSuite(openStore: () => Promise<{ store: Store; dispose(): Promise<void> }>): void {
  let store: Store;
  let dispose: () => Promise<void>;
  let fx: GatewayFixture;
  let merchant: MerchantApi;
  let boundScanner: () => ReturnType<GatewayFixture['scanner']>;

  beforeEach(async () => {
    ({ store, dispose } = await openStore());
    fx = await startGatewayFixture({ store, gateway: { receiptIntervalMs: 50 } });
    merchant = new MerchantApi(fx.gateway.merchantUrl, await createMerchant(store, fx.fleetKey, SHOP));
    // a registered merchant's payments come from its own scanners (scanner provision --merchant)
    boundScanner = async () => {
      const device = uniqueDevice();
      await store.bindDevice(device, SHOP);
      return fx.scanner(device);
    };
  });
  afterEach(async () => {
    await fx.close();
    await dispose();
  });

  it('a paid and partly refunded payment gets two receipts that verify and chain; the holder sees the first as a QR code', async () => {
    const card = await fx.issue({ balance: 10_000 });
    const scanner = await boundScanner();
    const auth = await scanner.open(card.payloadText, 1_250, { merchant: SHOP });
    const token = new URL(auth.url).searchParams.get('t')!;
    // the page's PIN post answers the approved page, with the link to the signed receipt
    const approved = await fetch(auth.url.replace(/\?.*/, ''), {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: new URL(auth.url).origin },
      body: new URLSearchParams({ t: token, pin: PIN }).toString(),
    });
    const approvedPage = await approved.text();
    expect(approved.status).toBe(200);
    const link = `/auth/${auth.session}/receipt?t=${token}`;
    expect(approvedPage).toContain(`href="${link}"`);

    const keys = await merchant.get('/v1/receipt-keys');
    expect(keys.json).toEqual({
      object: 'receipt_keys',
      keys: fx.keyRing.receiptPublicKeys().map((k) => ({ id: k.id, algorithm: 'Ed25519', public_key: k.publicKey, state: k.state, created_at: k.createdAt })),
    });
    const publicKeys = await (await fetch(`${fx.gateway.url}/receipt-keys`)).json();
    expect(publicKeys).toEqual(keys.json); // the same document, no key needed

    const first = await eventually(() => merchant.get(`/v1/payments/${auth.session}/receipts`), (a) => a.json.data.length === 1, 'the payment receipt');
    expect(first.json.data[0]).toMatchObject({ object: 'receipt', seq: 1, payment: auth.session, kind: 'payment', event: `ev_${auth.session}_1` });
    const verdict = verifyReceipt(fx.core, first.json.data[0].receipt, publicKeys);
    expect(verdict).toMatchObject({ ok: true, hash: first.json.data[0].hash, receipt: { merchant: SHOP, amount: 1_250, currency: 'EUR', last4: card.pan.slice(-4), prevHash: RECEIPT_ZERO_HASH } });

    // the holder's page: the receipt as a QR code holding its text form
    const holder = await fetch(`${fx.gateway.url}${link}`);
    const holderPage = await holder.text();
    expect(holder.status).toBe(200);
    expect(holderPage).toContain(first.json.data[0].receipt);
    // the page's QR code is the receipt text's (the same SVG), and that code scans back to the text
    const svg = /<svg[\s\S]*?<\/svg>/.exec(holderPage)![0];
    expect(svg).toBe((await receiptQrSvg(first.json.data[0].receipt)).trim());
    expect(decodeQrPng(await receiptQrPng(first.json.data[0].receipt))).toBe(first.json.data[0].receipt);
    // without the token (or with another session's), the auth page's own not-found answer
    const authNotFound = await (await fetch(`${fx.gateway.url}/auth/${auth.session}?t=${'0'.repeat(64)}`)).text();
    for (const url of [`/auth/${auth.session}/receipt`, `/auth/${auth.session}/receipt?t=${'0'.repeat(64)}`, `/auth/${'f'.repeat(32)}/receipt?t=${token}`]) {
      const res = await fetch(`${fx.gateway.url}${url}`);
      expect(res.status, url).toBe(404);
      expect(await res.text()).toBe(authNotFound);
    }

    const refund = await merchant.post('/v1/refunds', { payment: auth.session, amount: 500 }, { idempotencyKey: 'refund-1' });
    expect(refund.status).toBe(200);
    const both = await eventually(() => merchant.get(`/v1/payments/${auth.session}/receipts`), (a) => a.json.data.length === 2, 'the refund receipt');
    expect(both.json.data.map((r: { kind: string; seq: number }) => [r.seq, r.kind])).toEqual([[1, 'payment'], [2, 'refund']]);
    const chain = verifyReceiptChain(fx.core, both.json.data.map((r: { receipt: string }) => r.receipt), publicKeys, { prevHash: RECEIPT_ZERO_HASH });
    expect(chain).toMatchObject({ ok: true, head: both.json.data[1].hash });
    expect(chain.verdicts[1]).toMatchObject({ receipt: { kind: 'refund', amount: 500 } });

    // another merchant reads this payment's receipts as an unknown payment's
    const other = merchant.as(await createMerchant(store, fx.fleetKey, 'other-shop'));
    const unknown = await other.get(`/v1/payments/${auth.session}/receipts`);
    expect(unknown.status).toBe(404);
    expect(unknown.text).toBe((await other.get(`/v1/payments/${'0'.repeat(32)}/receipts`)).text);
  });

  it('after `keys rotate --receipt` (the ring file reloaded) new receipts are signed by the new key; the old key stays published', async () => {
    const card = await fx.issue({ balance: 10_000 });
    const scanner = await boundScanner();
    const one = await scanner.open(card.payloadText, 100, { merchant: SHOP });
    expect(await scanner.pin(one.session, PIN)).toMatchObject({ outcome: 'approved' });
    await eventually(() => merchant.get(`/v1/payments/${one.session}/receipts`), (a) => a.json.data.length === 1, 'receipt 1');
    fx.keyRing.rotateReceiptKey();
    await fx.saveKeys();
    const two = await scanner.open(card.payloadText, 200, { merchant: SHOP });
    expect(await scanner.pin(two.session, PIN)).toMatchObject({ outcome: 'approved' });
    const second = await eventually(() => merchant.get(`/v1/payments/${two.session}/receipts`), (a) => a.json.data.length === 1, 'receipt 2');
    const keys = await (await fetch(`${fx.gateway.url}/receipt-keys`)).json();
    expect(keys.keys.map((k: { id: number; state: string }) => [k.id, k.state])).toEqual([[1, 'verify-only'], [2, 'active']]);
    const verdict = verifyReceipt(fx.core, second.json.data[0].receipt, keys);
    expect(verdict).toMatchObject({ ok: true, receipt: { keyId: 2, seq: 2 } });
  });

  it('until the receipt is signed the holder\'s page says so and reloads itself', async () => {
    await fx.close();
    fx = await startGatewayFixture({ store, gateway: { receiptIntervalMs: 3_600_000 } }); // no round during the test
    const card = await fx.issue({ balance: 10_000 });
    const scanner = await boundScanner();
    const auth = await scanner.open(card.payloadText, 700, { merchant: SHOP });
    expect(await scanner.pin(auth.session, PIN)).toMatchObject({ outcome: 'approved' });
    const page = await fetch(`${fx.gateway.url}/auth/${auth.session}/receipt?t=${new URL(auth.url).searchParams.get('t')}`);
    const html = await page.text();
    expect(page.status).toBe(200);
    expect(html).toContain('data-testid="receipt-pending"');
    expect(html).toContain('<meta http-equiv="refresh" content="2">');
    expect(page.headers.get('cache-control')).toBe('no-store');
  });

  it('serves the verify page under a strict CSP, with its script, the core modules and the .wasm from this gateway', async () => {
    const page = await fetch(`${fx.gateway.url}/receipt-verify`);
    const csp = page.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self' 'wasm-unsafe-eval'");
    expect(csp).not.toMatch(/https?:|\*|'unsafe-eval'|script-src[^;]*'unsafe-inline'/);
    const html = await page.text();
    expect(html).toContain(fx.keyRing.receiptPublicKeys()[0]!.publicKey); // the keys ride in the page
    expect(html).not.toMatch(/<script(?![^>]*(type="application\/json"|src="\/receipt-verify\/app\.js"))/); // no inline script
    const app = await fetch(`${fx.gateway.url}/receipt-verify/app.js`);
    expect(app.headers.get('content-type')).toContain('text/javascript');
    expect(await app.text()).toContain("from './core/browser.js'");
    const browser = await fetch(`${fx.gateway.url}/receipt-verify/core/browser.js`);
    expect(browser.status).toBe(200);
    expect(await browser.text()).toContain('export async function loadCore');
    const wasm = await fetch(`${fx.gateway.url}/receipt-verify/build/scanpay-core.wasm`);
    expect(wasm.headers.get('content-type')).toBe('application/wasm');
    expect(WebAssembly.validate(new Uint8Array(await wasm.arrayBuffer()))).toBe(true);
    for (const path of ['/receipt-verify/core/..%2Fpackage.json', '/receipt-verify/core/index.d.ts', '/receipt-verify/build/other.wasm', '/receipt-verify/core/nope.js']) {
      expect((await fetch(`${fx.gateway.url}${path}`)).status, path).toBe(404);
    }
  });
}

describe('receipts through the gateway, embedded store', () => {
  receiptsSuite(async () => ({ store: new MemoryStore(), dispose: async () => {} }));
});

describeRedis(redis, 'receipts through the gateway, Redis', (server) => {
  const runPrefix = testKeyPrefix();
  let next = 0;
  afterAll(async () => {
    await deleteKeys(server.url, runPrefix);
  });
  receiptsSuite(async () => {
    const store = await RedisStore.connect(server.url, { prefix: `${runPrefix}${next++}:` });
    return { store, dispose: () => store.close() };
  });
});
