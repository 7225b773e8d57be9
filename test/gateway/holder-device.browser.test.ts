/**
 * A holder-device payment end to end in real browsers (issue 26 item 1): the scanner (the SDK, its connection
 * relayed through a recorder that keeps every frame) scans for a merchant whose PIN is entered on the holder's
 * phone; the scanner's screen shows `holderQrSvg(holderUrl)` (rendered in Chromium); the phone scans it — the
 * screenshot is decoded back to the URL — opens the page at a phone's viewport (390×844), enters the PIN and pays;
 * the scanner gets the result pushed. No frame of the scanner connection bears the PIN.
 * Chromium: Debian's /usr/bin/chromium through playwright-core. Firefox: Debian's /usr/bin/firefox-esr through
 * puppeteer-core over WebDriver BiDi (playwright-core drives only its own patched Firefox build), as
 * test/engines does. A missing browser skips its suite with a banner, or fails under CI=true.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeQrPng } from '../../issuer/qr.ts';
import { MemoryStore } from '../../issuer/store/index.ts';
import { deviceSecret } from '../../protocol/scanner-token.ts';
import { ScannerClient, holderQrSvg, type ScanSession } from '../../sdk/index.ts';
import { FrameRecorder, pinBearing } from '../support/frame-recorder.ts';
import { startGatewayFixture, uniqueDevice, type GatewayFixture } from '../support/gateway-fixture.ts';
import { createMerchant } from '../support/merchant-api.ts';
import { CHROMIUM, launchChromium } from '../support/chromium.ts';

const FIREFOX = '/usr/bin/firefox-esr';
const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));
const PHONE = { width: 390, height: 844 };
const HOLDER_PIN = '7391';

function banner(what: string, path: string, pkg: string): void {
  if (existsSync(path) || process.env.CI === 'true') return;
  const rule = '!'.repeat(78);
  console.warn(`\n${rule}\n!! SKIPPED: holder-device payment in ${what}\n!! ${path} not found (apt-get install ${pkg}).\n${rule}\n`);
}
banner('Chromium', CHROMIUM, 'chromium');
banner('Firefox', FIREFOX, 'firefox-esr');

/** The gateway, a holder-device merchant with a bound scanner whose connection is recorded, and a card. */
async function holderDeviceSetup() {
  const fx = await startGatewayFixture({ store: new MemoryStore(), threads: 1 });
  const recorder = await FrameRecorder.start(fx.gateway.scannerUrl);
  await createMerchant(fx.store, fx.fleetKey, 'shop-phone', { pinEntry: 'holder-device' });
  const device = uniqueDevice('till');
  await fx.store.recordDevice(device);
  await fx.store.bindDevice(device, 'shop-phone');
  const client = await ScannerClient.connect({ url: recorder.url, deviceId: device, secret: deviceSecret(fx.fleetKey, device), timeoutMs: 5_000 });
  return {
    fx, recorder, client,
    async scan(amount: number) {
      const card = await fx.issue({ pin: HOLDER_PIN, balance: 100_000 });
      const auth = await client.scan({ payload: card.payloadText, amount, currency: 'EUR', merchant: 'shop-phone' });
      expect(auth).toMatchObject({ pinEntry: 'holder-device', holderUrl: auth.url });
      return { card, auth };
    },
    /** Every frame of the scanner connection so far: the flow's, and none bearing the PIN. */
    expectNoPinOnTheWire() {
      const types = recorder.frames.map((f) => `${f.from}:${(JSON.parse(f.text) as { type: string }).type}`);
      expect(types).toEqual(expect.arrayContaining(['gateway:welcome', 'scanner:scan', 'gateway:auth-required', 'gateway:payment-result']));
      expect(types).not.toContain('scanner:pin');
      expect(pinBearing(recorder.frames, HOLDER_PIN)).toEqual([]);
    },
    async close() {
      await client.close();
      await recorder.close();
      await fx.close();
    },
  };
}

describe.skipIf(!existsSync(CHROMIUM) && process.env.CI !== 'true')('holder device in headless Chromium: the scanner shows the QR, the phone pays', () => {
  let setup: Awaited<ReturnType<typeof holderDeviceSetup>>;
  let browser: Browser;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: CI requires Chromium for the browser tests`);
    await mkdir(ARTIFACTS, { recursive: true });
    [setup, browser] = await Promise.all([
      holderDeviceSetup(),
      launchChromium(),
    ]);
  });
  afterAll(async () => {
    await browser?.close();
    await setup?.close();
  });

  it('the QR the scanner shows decodes to the holder URL; at 390×844 the holder enters the PIN and pays; the scanner gets the push; no PIN on the wire', async () => {
    const { card, auth } = await setup.scan(1_250);
    // the scanner's screen: the SDK's SVG, rendered, photographed, decoded (what the phone's camera does)
    const screen = await browser.newPage({ viewport: { width: 480, height: 480 } });
    await screen.setContent(`<!doctype html><body style="margin:0;background:#fff">${await holderQrSvg(auth.holderUrl!)}</body>`);
    await screen.locator('svg').evaluate((svg) => svg.setAttribute('width', '440'));
    const shot = await screen.locator('svg').screenshot({ path: `${ARTIFACTS}holder-qr.png` });
    expect(decodeQrPng(shot)).toBe(auth.holderUrl);
    await screen.close();

    const phone = await browser.newContext({ viewport: PHONE, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'en-US' });
    try {
      const page = await phone.newPage();
      expect((await page.goto(decodeQrPng(shot)))?.status()).toBe(200);
      expect(await page.getByTestId('merchant').textContent()).toBe('shop-phone');
      expect(await page.getByTestId('amount').textContent()).toBe('€12.50');
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
      const button = page.locator('button[type=submit]');
      const box = (await button.boundingBox())!;
      expect(box.y + box.height).toBeLessThanOrEqual(PHONE.height);
      const pin = page.locator('#pin');
      expect(await pin.getAttribute('inputmode')).toBe('numeric');
      await pin.tap();
      await pin.fill(HOLDER_PIN);
      await page.screenshot({ path: `${ARTIFACTS}holder-phone.png` });
      const pushed = setup.client.waitForResult(auth.session, 10_000);
      await Promise.all([page.waitForURL(`**/auth/${auth.session}`), button.tap()]);
      const outcome = page.getByTestId('outcome');
      await outcome.waitFor();
      expect(await outcome.textContent()).toBe('Payment approved');
      await page.screenshot({ path: `${ARTIFACTS}holder-phone-result.png` });
      expect(await pushed).toMatchObject({ type: 'payment-result', id: null, session: auth.session, outcome: 'approved' });
      expect((await setup.fx.issuer.viewCard(card.pan)).balance).toBe(100_000 - 1_250);
    } finally {
      await phone.close();
    }
    setup.expectNoPinOnTheWire();
  });
});

describe.skipIf(!existsSync(FIREFOX) && process.env.CI !== 'true')('holder device in headless Firefox (WebDriver BiDi): the phone pays', () => {
  it('at 390×844 the holder enters the PIN on the page and pays; the scanner gets the push; no PIN on the wire', async () => {
    if (!existsSync(FIREFOX)) throw new Error(`${FIREFOX} not found: CI requires Firefox for the browser tests`);
    const setup = await holderDeviceSetup();
    const puppeteer = (await import('puppeteer-core')).default;
    const browser = await puppeteer.launch({ browser: 'firefox', executablePath: FIREFOX, headless: true, protocol: 'webDriverBiDi' });
    try {
      const { card, auth }: { card: { pan: string }; auth: ScanSession } = await setup.scan(990);
      const page = await browser.newPage();
      await page.setViewport(PHONE);
      expect((await page.goto(auth.holderUrl!))?.status()).toBe(200);
      expect(await page.$eval('[data-testid=merchant]', (el) => el.textContent)).toBe('shop-phone');
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
      const box = (await (await page.$('button[type=submit]'))!.boundingBox())!;
      expect(box.y + box.height).toBeLessThanOrEqual(PHONE.height);
      await page.type('#pin', HOLDER_PIN);
      const pushed = setup.client.waitForResult(auth.session, 10_000);
      await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
      expect(await page.$eval('[data-testid=outcome]', (el) => el.textContent)).toBe('Payment approved');
      expect(await pushed).toMatchObject({ type: 'payment-result', id: null, session: auth.session, outcome: 'approved' });
      expect((await setup.fx.issuer.viewCard(card.pan)).balance).toBe(100_000 - 990);
    } finally {
      await browser.close();
      await setup.close();
    }
    setup.expectNoPinOnTheWire();
  });
});
