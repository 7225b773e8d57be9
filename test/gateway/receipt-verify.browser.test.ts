/**
 * The holder's side of receipts in a real browser (headless Debian Chromium via playwright-core): the holder pays on
 * the auth page, follows its link to the signed receipt (the page reloads itself until the receipt is signed), and
 * checks it on the gateway's /receipt-verify page, which runs `scanpay/core` (WASM) in the browser under a strict
 * CSP: valid; with one character changed, refused; with the previous receipt of the merchant, the chain checked;
 * no CSP violation and no request leaves the gateway's origin. Without /usr/bin/chromium the suite is skipped with
 * a banner, or fails under CI=true.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../issuer/store/index.ts';
import { MERCHANT, PIN, startGatewayFixture, type GatewayFixture } from '../support/gateway-fixture.ts';
import { CHROMIUM, launchChromium } from '../support/chromium.ts';

const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env.CI !== 'true') {
  const rule = '!'.repeat(78);
  console.warn(`\n${rule}\n!! SKIPPED: receipt verify page browser tests\n!! ${CHROMIUM} not found (apt-get install chromium).\n${rule}\n`);
}

describe.skipIf(!haveChromium && process.env.CI !== 'true')('receipts in headless Chromium', () => {
  let fx: GatewayFixture;
  let browser: Browser;
  let context: BrowserContext;
  const problems: string[] = [];
  const requests: string[] = [];

  beforeAll(async () => {
    if (!haveChromium) throw new Error(`${CHROMIUM} not found: CI requires Chromium for the browser tests`);
    await mkdir(ARTIFACTS, { recursive: true });
    [fx, browser] = await Promise.all([
      startGatewayFixture({ store: new MemoryStore(), threads: 1, gateway: { receiptIntervalMs: 50 } }),
      launchChromium(),
    ]);
    context = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'en-US' });
    context.on('request', (r) => requests.push(r.url()));
  });
  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await fx?.close();
  });

  function watch(page: Page): void {
    // a failed load is judged by its response below (the browser's own favicon request is no part of the page)
    page.on('console', (m) => {
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(m.text());
    });
    page.on('response', (r) => {
      if (r.status() >= 400 && !r.url().endsWith('/favicon.ico')) problems.push(`${r.status()} ${r.url()}`);
    });
    page.on('pageerror', (e) => problems.push(e.message));
  }

  /** Pays `amount` on the auth page in the browser and follows the link to the signed receipt: its text form. */
  async function payAndKeepReceipt(amount: number): Promise<string> {
    const card = await fx.issue({ balance: 100_000 });
    const client = await fx.client();
    const auth = await client.scan({ payload: card.payloadText, amount, currency: 'EUR', merchant: MERCHANT });
    const page = await context.newPage();
    watch(page);
    await page.goto(auth.url);
    await page.locator('#pin').fill(PIN);
    await Promise.all([page.waitForURL(`**/auth/${auth.session}`), page.locator('button[type=submit]').click()]);
    await page.getByTestId('outcome').waitFor();
    await Promise.all([page.waitForURL(`**/auth/${auth.session}/receipt?t=*`), page.getByTestId('signed-receipt').click()]);
    const receipt = page.getByTestId('receipt-text');
    await receipt.waitFor({ timeout: 20_000 }); // the page reloads itself every 2 s until the receipt is signed
    expect(await page.locator('.qr svg').count()).toBe(1);
    await page.screenshot({ path: `${ARTIFACTS}receipt-page.png`, fullPage: true });
    const text = (await receipt.textContent())!;
    await page.close();
    return text;
  }

  async function verifyInPage(receipt: string, previous = ''): Promise<{ ok: string | null; text: string }> {
    const page = await context.newPage();
    watch(page);
    await page.goto(`${fx.gateway.url}/receipt-verify`);
    await page.waitForFunction(() => (window as unknown as { scanpayVerifyReady?: boolean }).scanpayVerifyReady === true);
    await page.getByTestId('receipt-input').fill(receipt);
    await page.getByTestId('previous-input').fill(previous);
    await page.locator('#verify').click();
    const title = page.locator('[data-testid=verdict] h2');
    await title.waitFor();
    const result = { ok: await title.getAttribute('data-ok'), text: (await page.getByTestId('verdict').textContent())! };
    await page.screenshot({ path: `${ARTIFACTS}receipt-verify-${result.ok}.png`, fullPage: true });
    await page.close();
    return result;
  }

  it('the holder keeps the signed receipt from the approved page and the verify page checks it in the browser', async () => {
    const first = await payAndKeepReceipt(1_250);
    expect(first).toMatch(/^spr1\./);
    const valid = await verifyInPage(first);
    expect(valid.ok).toBe('true');
    expect(valid.text).toContain('Valid receipt');
    expect(valid.text).toContain(MERCHANT);
    expect(valid.text).toContain('1250 EUR');

    // one character changed anywhere: refused
    const i = 40;
    const changed = first.slice(0, i) + (first[i] === 'A' ? 'B' : 'A') + first.slice(i + 1);
    const invalid = await verifyInPage(changed);
    expect(invalid.ok).toBe('false');
    expect(invalid.text).toMatch(/RECEIPT_(SIGNATURE_INVALID|MALFORMED|CHAIN_BROKEN)/);

    // the merchant's next receipt chains to the first; given out of order, the chain is refused
    const second = await payAndKeepReceipt(300);
    expect((await verifyInPage(second, first))).toMatchObject({ ok: 'true' });
    expect((await verifyInPage(first, second)).ok).toBe('false');

    expect(problems).toEqual([]);
    const origin = new URL(fx.gateway.url).origin;
    expect(requests.filter((u) => !u.startsWith(origin) && !u.startsWith('data:'))).toEqual([]);
  });
});
