/**
 * "Holder device" (issue 26 item 1; docs/protocol.md §5, docs/security.md): a merchant whose policy is
 * `holder-device` gets `auth-required` with `pinEntry: 'holder-device'` and the page URL, and a `pin` frame for such
 * a session is refused with PIN_ENTRY_HOLDER_DEVICE before anything is counted — not the card's try counter, not its
 * pace, not the scanner's wrong-PIN budget — on the embedded store and on Redis. The holder pays on the page, and
 * the scanner gets the outcome pushed, as today. The policy comes from the merchant's record, else the gateway's
 * default (GatewayOptions.pinEntry, SCANPAY_PIN_ENTRY).
 *
 * The attack: every frame on the scanner's connection is captured by a relay between scanner and gateway while a
 * holder-device payment is made through the SDK and the page, and while a dishonest scanner on another connection
 * guesses PINs for the same kind of session. No frame on the honest connection bears the PIN, the payment completes
 * through the page, and the guesses count nothing.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Store } from '../../issuer/store/index.ts';
import type { ErrorFrame, GatewayFrame, PaymentResultFrame } from '../../protocol/messages.ts';
import { deviceSecret } from '../../protocol/scanner-token.ts';
import { ScannerClient, isScannerError, type PushFrame } from '../../sdk/index.ts';
import { FrameRecorder, pinBearing } from '../support/frame-recorder.ts';
import {
  MERCHANT, PIN, WRONG_PIN, memoryTestStore, metricValue, postPin, redisTestStore, startGatewayFixture, uniqueDevice, type GatewayFixture, type TestStore,
} from '../support/gateway-fixture.ts';
import { createMerchant } from '../support/merchant-api.ts';
import { redisForTests } from '../support/redis.ts';

const redis = await redisForTests();
afterAll(async () => {
  await redis?.stop();
});

/**
 * A long PIN pace: an attempt counted on the card would make the page's POST that follows wait (429), so a page
 * payment going through at once shows that nothing was counted before it. A budget of 1 wrong PIN per scanner: one
 * counted wrong guess would spend it.
 */
const GATEWAY = { pinPaceMs: 60_000, pinBudget: { device: { max: 1, windowMs: 60_000 }, merchant: { max: 1, windowMs: 60_000 } }, framesPerSecond: 10_000, burst: 10_000 };

const codeOf = (frame: GatewayFrame) => (frame.type === 'error' ? (frame as ErrorFrame).code : frame.type);

/** A device bound to a new merchant with `pinEntry`, and a raw connection of it. */
async function boundScanner(fx: GatewayFixture, merchant: string, pinEntry?: 'scanner' | 'holder-device') {
  await createMerchant(fx.store, fx.fleetKey, merchant, pinEntry ? { pinEntry } : {});
  const device = uniqueDevice('till');
  await fx.store.recordDevice(device);
  expect(await fx.store.bindDevice(device, merchant)).toBe('bound');
  return fx.scanner(device);
}

const stores: [string, () => Promise<TestStore> | null][] = [
  ['embedded store', memoryTestStore],
  ['Redis', () => (redis ? redisTestStore(redis) : null)],
];

describe.each(stores)('holder device on the %s', (kind, open) => {
  const skip = kind === 'Redis' && !redis;
  if (skip) console.warn('!! holder-device tests on Redis SKIPPED: no Redis (REDIS_URL unset, no redis-server on PATH)');

  async function withGateway(body: (fx: GatewayFixture, store: Store) => Promise<void>, gateway: object = {}): Promise<void> {
    const ts = (await open())!;
    const fx = await startGatewayFixture({ store: ts.store, gateway: { ...GATEWAY, ...gateway } });
    try {
      await body(fx, ts.store);
    } finally {
      await fx.close();
      await ts.dispose();
    }
  }

  it.skipIf(skip && process.env.CI !== 'true')('auth-required says holder-device; every pin frame is refused PIN_ENTRY_HOLDER_DEVICE and counts nothing; the page pays and the scanner gets the push', async () => {
    await withGateway(async (fx, store) => {
      const scanner = await boundScanner(fx, 'shop-h', 'holder-device');
      const card = await fx.issue();
      const auth = await scanner.open(card.payloadText, 1_250, { merchant: 'shop-h' });
      expect(auth).toMatchObject({ type: 'auth-required', pinEntry: 'holder-device', merchant: 'shop-h', url: expect.stringMatching(new RegExp(`/auth/${auth.session}\\?t=[0-9a-f]{64}$`)) });
      const cardBefore = await store.getCard(fx.keyRing.cardToken(card.pan));
      const before = await fx.metrics();

      // 12 PINs from the scanner at once, right and wrong: each refused with the new code and its request id
      const ids = Array.from({ length: 12 }, (_, i) => scanner.sendPin(auth.session, i % 2 ? PIN : WRONG_PIN));
      for (const id of ids) {
        const answer = await scanner.answer(id);
        expect(answer).toMatchObject({ type: 'error', id, code: 'PIN_ENTRY_HOLDER_DEVICE' });
      }
      // nothing counted: the card as it was, the session open, no attempt evaluated, no budget spent
      expect(await store.getCard(fx.keyRing.cardToken(card.pan))).toEqual(cardBefore);
      expect((await store.getSession(auth.session))!.state).toBe('open');
      const after = await fx.metrics();
      const evaluated = (m: string) => ['correct', 'wrong', 'invalid'].reduce((n, outcome) => n + metricValue(m, 'scanpay_pin_attempts_total', { result: outcome }), 0);
      expect(evaluated(after) - evaluated(before)).toBe(0);
      expect(metricValue(after, 'scanpay_pin_attempts_total', { result: 'rejected' }) - metricValue(before, 'scanpay_pin_attempts_total', { result: 'rejected' })).toBe(12);

      // the holder's phone: the page takes the PIN at once (no pace, no budget was touched by the refusals)
      const res = await postPin(auth.url, PIN);
      expect(res.status).toBe(200);
      const pushed = await scanner.next<PaymentResultFrame>((f) => f.type === 'payment-result');
      expect(pushed).toMatchObject({ id: null, session: auth.session, outcome: 'approved', receipt: { amount: 1_250, merchant: 'shop-h' } });
      expect(await store.payments.getPayment(auth.session)).toMatchObject({ merchant: 'shop-h', amount: 1_250, status: 'captured' });
      // a pin frame after the payment is refused too; the scanner reads the outcome with `status`
      expect(codeOf(await scanner.pin(auth.session, PIN))).toBe('PIN_ENTRY_HOLDER_DEVICE');
      scanner.send({ v: 1, type: 'status', id: 'st', session: auth.session });
      expect(await scanner.answer('st')).toMatchObject({ type: 'session-status', state: 'done', result: { outcome: 'approved' } });
    });
  });

  it.skipIf(skip && process.env.CI !== 'true')('the gateway default (pinEntry holder-device) covers merchants without a setting and free-text ones; a merchant set to scanner keeps taking pin frames', async () => {
    await withGateway(async (fx) => {
      const card = await fx.issue();
      const free = await fx.scanner(); // unbound, a free-text merchant the store does not know
      const freeAuth = await free.open(card.payloadText, 100, { merchant: MERCHANT });
      expect(freeAuth.pinEntry).toBe('holder-device');
      expect(codeOf(await free.pin(freeAuth.session, PIN))).toBe('PIN_ENTRY_HOLDER_DEVICE');

      const unset = await boundScanner(fx, 'shop-u');
      const unsetAuth = await unset.open(card.payloadText, 100, { merchant: 'shop-u' });
      expect(unsetAuth.pinEntry).toBe('holder-device');
      expect(codeOf(await unset.pin(unsetAuth.session, PIN))).toBe('PIN_ENTRY_HOLDER_DEVICE');

      const own = await boundScanner(fx, 'shop-s', 'scanner');
      const ownAuth = await own.open(card.payloadText, 100, { merchant: 'shop-s' });
      expect(ownAuth.pinEntry).toBe('scanner');
      expect(await own.pin(ownAuth.session, PIN)).toMatchObject({ type: 'payment-result', outcome: 'approved' });
    }, { pinEntry: 'holder-device', pinPaceMs: 0 });
  });

  it.skipIf(skip && process.env.CI !== 'true')('without any setting nothing changes: auth-required says scanner and a pin frame pays', async () => {
    await withGateway(async (fx) => {
      const card = await fx.issue();
      const scanner = await fx.scanner();
      const auth = await scanner.open(card.payloadText, 100);
      expect(auth.pinEntry).toBe('scanner');
      expect(await scanner.pin(auth.session, PIN)).toMatchObject({ type: 'payment-result', outcome: 'approved' });
    });
  });
});

describe('GatewayOptions.pinEntry', () => {
  it('is checked at the boundary: anything but scanner or holder-device fails the start', async () => {
    const ts = await memoryTestStore();
    try {
      await expect(startGatewayFixture({ store: ts.store, gateway: { pinEntry: 'phone' as 'scanner' } })).rejects.toThrow(/pinEntry must be scanner or holder-device/);
    } finally {
      await ts.dispose();
    }
  });
});

describe('attack: no PIN crosses a scanner connection with holder device on', () => {
  it('every frame captured on the wire during a holder-device payment bears no PIN; the payment completes on the page; a dishonest scanner\'s guesses count nothing', async () => {
    const ts = await memoryTestStore();
    const fx = await startGatewayFixture({ store: ts.store, gateway: GATEWAY });
    const recorder = await FrameRecorder.start(fx.gateway.scannerUrl);
    const PIN_OF_CARD = '7391'; // digits the frames are searched for, standing alone
    try {
      await createMerchant(fx.store, fx.fleetKey, 'shop-h', { pinEntry: 'holder-device' });
      const device = uniqueDevice('honest');
      await fx.store.recordDevice(device);
      await fx.store.bindDevice(device, 'shop-h');
      const card = await fx.issue({ pin: PIN_OF_CARD });
      const client = await ScannerClient.connect({ url: recorder.url, deviceId: device, secret: deviceSecret(fx.fleetKey, device), timeoutMs: 5_000 });
      const pushes: PushFrame[] = [];
      client.on('push', (f) => pushes.push(f));
      try {
        const auth = await client.scan({ payload: card.payloadText, amount: 4_200, currency: 'EUR', merchant: 'shop-h' });
        expect(auth.holderUrl).toBe(auth.url);
        // the SDK refuses to send a PIN for it: the frame never leaves the scanner
        const local = await client.submitPin(auth.session, PIN_OF_CARD).catch((e: unknown) => e);
        expect(isScannerError(local, 'PIN_ENTRY_HOLDER_DEVICE')).toBe(true);

        // a dishonest scanner of the same merchant (its own connection, straight to the gateway) tries the PINs it
        // would have skimmed: on its own holder-device session every guess is refused and counts nothing
        const rogue = await fx.scanner(await (async () => {
          const id = uniqueDevice('rogue');
          await fx.store.recordDevice(id);
          await fx.store.bindDevice(id, 'shop-h');
          return id;
        })());
        const rogueAuth = await rogue.open(card.payloadText, 9_999, { merchant: 'shop-h' });
        const guesses = Array.from({ length: 20 }, (_, i) => rogue.sendPin(rogueAuth.session, i === 7 ? PIN_OF_CARD : String(1000 + i)));
        for (const id of guesses) expect(codeOf(await rogue.answer(id))).toBe('PIN_ENTRY_HOLDER_DEVICE');
        expect(await fx.store.getCard(fx.keyRing.cardToken(card.pan))).toMatchObject({ pinFailures: 0, status: 'active' });

        // the holder's phone pays on the page; the honest scanner learns the outcome from the push
        const waiting = client.waitForResult(auth.session, 10_000);
        expect((await postPin(auth.holderUrl!, PIN_OF_CARD)).status).toBe(200);
        const result = await waiting;
        expect(result).toMatchObject({ outcome: 'approved', session: auth.session, receipt: { amount: 4_200 } });
        expect(pushes.some((p) => p.type === 'payment-result' && p.session === auth.session)).toBe(true);
        expect(await fx.store.payments.getPayment(auth.session)).toMatchObject({ status: 'captured', amount: 4_200 });
        expect((await fx.store.getSession(rogueAuth.session))!.state).toBe('open'); // the rogue's session was never used
      } finally {
        await client.close();
      }
      // every frame of the honest connection, both ways: welcome, scan, auth-required, the pushed result
      const types = recorder.frames.map((f) => `${f.from}:${(JSON.parse(f.text) as { type: string }).type}`);
      expect(types).toEqual(expect.arrayContaining(['gateway:welcome', 'scanner:scan', 'gateway:auth-required', 'gateway:payment-result']));
      expect(types.filter((t) => t === 'scanner:pin')).toEqual([]);
      expect(recorder.frames.some((f) => f.binary)).toBe(false);
      expect(pinBearing(recorder.frames, PIN_OF_CARD)).toEqual([]);
      // the search itself finds a PIN where there is one (a pin frame as a dishonest scanner sends it)
      expect(pinBearing([{ from: 'scanner', binary: false, text: JSON.stringify({ v: 1, type: 'pin', id: 'r1', session: 'ab'.repeat(16), pin: PIN_OF_CARD }) }], PIN_OF_CARD)).toHaveLength(1);
    } finally {
      await recorder.close();
      await fx.close();
      await ts.dispose();
    }
  });
});
