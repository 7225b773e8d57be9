/**
 * The authentication page in a real browser (headless Debian Chromium via playwright-core) at a phone's
 * viewport: the holder sees merchant, amount and masked card, types the PIN, submits, and sees the
 * outcome; the scanner gets the result pushed. Screenshots go to test-artifacts/ (gitignored).
 * Without /usr/bin/chromium the suite is skipped with a banner, or fails under CI=true.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../issuer/store/index.ts';
import { maskPan } from '../../issuer/pan.ts';
import type { PushFrame } from '../../sdk/index.ts';
import { MERCHANT, PIN, WRONG_PIN, startGatewayFixture, type GatewayFixture } from '../support/gateway-fixture.ts';
import { CHROMIUM, launchChromium } from '../support/chromium.ts';

const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));
const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };

const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env.CI !== 'true') {
  const rule = '!'.repeat(78);
  console.warn(`\n${rule}\n!! SKIPPED: auth page browser tests\n!! ${CHROMIUM} not found (apt-get install chromium).\n${rule}\n`);
}

describe.skipIf(!haveChromium && process.env.CI !== 'true')('auth page in headless Chromium (phone viewport)', () => {
  let fx: GatewayFixture;
  let browser: Browser;
  let context: BrowserContext;

  beforeAll(async () => {
    if (!haveChromium) throw new Error(`${CHROMIUM} not found: CI requires Chromium for the browser tests`);
    await mkdir(ARTIFACTS, { recursive: true });
    [fx, browser] = await Promise.all([
      startGatewayFixture({ store: new MemoryStore(), threads: 1 }),
      launchChromium(),
    ]);
    context = await browser.newContext({ ...PHONE, locale: 'en-US' });
  });
  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await fx?.close();
  });

  /** A scanned card's auth page, opened in a fresh tab. */
  async function openAuthPage(amount: number) {
    const card = await fx.issue({ balance: 100_000 });
    const client = await fx.client();
    const pushes: PushFrame[] = [];
    client.on('push', (frame) => pushes.push(frame));
    const auth = await client.scan({ payload: card.payloadText, amount, currency: 'EUR', merchant: MERCHANT });
    const page: Page = await context.newPage();
    const response = await page.goto(auth.url);
    expect(response?.status()).toBe(200);
    return { card, client, pushes, auth, page };
  }

  it('shows merchant, amount and masked card; the PIN pays; the scanner gets the push', async () => {
    const { card, client, pushes, auth, page } = await openAuthPage(1_250);

    await expect.poll(() => page.title()).toMatch(/Confirm payment/);
    expect(await page.getByTestId('merchant').textContent()).toBe(MERCHANT);
    expect(await page.getByTestId('amount').textContent()).toBe('€12.50');
    expect(await page.getByTestId('card').textContent()).toBe(maskPan(card.pan));
    for (const id of ['merchant', 'amount', 'card']) expect(await page.getByTestId(id).isVisible()).toBe(true);
    const pin = page.locator('#pin');
    expect(await pin.isVisible()).toBe(true);
    expect(await pin.getAttribute('type')).toBe('password');
    expect(await pin.getAttribute('inputmode')).toBe('numeric');
    expect(await page.content()).not.toContain(card.pan);
    // fits the phone: nothing wider than the viewport, the pay button on the first screen
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    const button = page.locator('button[type=submit]');
    expect(await button.textContent()).toBe('Pay €12.50');
    const box = (await button.boundingBox())!;
    expect(box.y + box.height).toBeLessThanOrEqual(844);

    await pin.fill(PIN);
    expect(await pin.inputValue()).toBe(PIN);
    await page.screenshot({ path: `${ARTIFACTS}auth-page.png` });
    const pushed = client.waitForResult(auth.session, 10_000);
    await Promise.all([page.waitForURL(`**/auth/${auth.session}`), button.click()]);

    const outcome = page.getByTestId('outcome');
    await outcome.waitFor();
    expect(await outcome.textContent()).toBe('Payment approved');
    expect(await page.content()).not.toContain(card.pan);
    expect(await page.locator('main').textContent()).toContain('€12.50');
    await page.screenshot({ path: `${ARTIFACTS}auth-result.png` });

    expect(await pushed).toMatchObject({ type: 'payment-result', id: null, session: auth.session, outcome: 'approved', replayed: false });
    expect(pushes).toHaveLength(1);
    expect((await fx.issuer.viewCard(card.pan)).balance).toBe(100_000 - 1_250);
    await page.close();
  });

  it('a wrong PIN shows the declined page with the attempts left, and the scanner hears of it', async () => {
    const { card, client, auth, page } = await openAuthPage(990);
    const pushed = client.waitForResult(auth.session, 10_000);
    await page.locator('#pin').fill(WRONG_PIN);
    await Promise.all([page.waitForURL(`**/auth/${auth.session}`), page.locator('button[type=submit]').click()]);

    const outcome = page.getByTestId('outcome');
    await outcome.waitFor();
    expect(await outcome.textContent()).toBe('Payment declined');
    const reason = page.getByTestId('reason');
    expect(await reason.getAttribute('data-code')).toBe('PIN_WRONG');
    expect(await reason.textContent()).toContain('2 attempts left');
    await page.screenshot({ path: `${ARTIFACTS}auth-declined.png` });

    expect(await pushed).toMatchObject({ id: null, outcome: 'declined', reason: 'PIN_WRONG', attemptsLeft: 2 });
    expect(await fx.issuer.viewCard(card.pan)).toMatchObject({ balance: 100_000, pinFailures: 1 });
    await page.close();
  });

  it('the browser refuses to submit a PIN that is not 4 digits (no request, no attempt counted)', async () => {
    const { card, page } = await openAuthPage(500);
    await page.locator('#pin').fill('12');
    await page.locator('button[type=submit]').click();
    expect(await page.locator('#pin').evaluate((el) => (el as HTMLInputElement).validity.valid)).toBe(false);
    expect(await page.getByTestId('outcome').count()).toBe(0);
    expect(await fx.issuer.viewCard(card.pan)).toMatchObject({ balance: 100_000, pinFailures: 0 });
    await page.close();
  });
});
