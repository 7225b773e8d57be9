/**
 * What docs/protocol.md promises in the places a first probe found it vague or wrong, held against a running
 * gateway: a page POST with a malformed PIN (400, the form again, nothing counted); a POST for a session already
 * decided (200, its outcome, nothing evaluated); the idle timeout's true bounds (uWS checks timeouts every 4 s);
 * and exactly when SHUTTING_DOWN is sent (a frame read after close() began, while requests already taken are
 * finished: answered at once, before the 1001 close).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { MemoryStore, type PaymentRequest } from '../../issuer/store/index.ts';
import { SUBPROTOCOL } from '../../protocol/messages.ts';
import { PIN, WRONG_PIN, metricValue, postPin, startGatewayFixture, uniqueDevice, type GatewayFixture } from '../support/gateway-fixture.ts';

describe('the page POST (docs/protocol.md §9)', () => {
  let fx: GatewayFixture;
  beforeAll(async () => {
    fx = await startGatewayFixture({ store: new MemoryStore() });
  });
  afterAll(async () => {
    await fx?.close();
  });

  it('a malformed PIN answers 400 with the form again; nothing is counted, and the right PIN then pays', async () => {
    const card = await fx.issue();
    const s = await fx.scanner();
    const auth = await s.open(card.payloadText, 100);
    const attemptsBefore = await fx.metrics();
    // more malformed posts than the session's budget of 3: none of them takes from it
    for (const pin of ['', '12', '12345', 'abcd', '１２３４', ' 1234']) {
      const res = await postPin(auth.url, pin);
      const page = await res.text();
      expect(res.status, JSON.stringify(pin)).toBe(400);
      expect(page).toContain('<form');
      expect(page).toContain('data-code="PIN_FORMAT"');
    }
    expect((await fx.store.getSession(auth.session))!.state).toBe('open');
    expect((await fx.issuer.viewCard(card.pan)).pinFailures).toBe(0);
    const attemptsAfter = await fx.metrics();
    for (const result of ['correct', 'wrong', 'invalid', 'rejected', 'refused']) {
      expect(metricValue(attemptsAfter, 'scanpay_pin_attempts_total', { result }), result).toBe(metricValue(attemptsBefore, 'scanpay_pin_attempts_total', { result }));
    }
    const paid = await postPin(auth.url, PIN);
    expect(paid.status).toBe(200);
    expect(await paid.text()).toContain('Payment approved');
  });

  it('a POST for a session already decided answers 200 with its outcome; the PIN in it is not evaluated', async () => {
    const card = await fx.issue();
    const s = await fx.scanner();
    const approved = await s.open(card.payloadText, 100);
    expect(await s.pin(approved.session, PIN)).toMatchObject({ outcome: 'approved' });
    const declined = await s.open(card.payloadText, 100);
    expect(await s.pin(declined.session, WRONG_PIN)).toMatchObject({ outcome: 'declined', reason: 'PIN_WRONG' });

    const again = await postPin(approved.url, WRONG_PIN);
    expect(again.status).toBe(200);
    expect(await again.text()).toContain('Payment approved');
    const rightAfterWrong = await postPin(declined.url, PIN);
    expect(rightAfterWrong.status).toBe(200);
    expect(await rightAfterWrong.text()).toContain('data-code="PIN_WRONG"');
    expect(await fx.issuer.viewCard(card.pan)).toMatchObject({ pinFailures: 1, balance: 1_000_000 - 100 });
    // a malformed PIN for a decided session: its outcome too, never the form
    const malformed = await postPin(approved.url, 'x');
    expect(malformed.status).toBe(200);
    expect(await malformed.text()).not.toContain('<form');
  });
});

describe('the idle timeout (docs/protocol.md §6)', () => {
  it('a client that answers nothing is closed between idleTimeout − 4 s and idleTimeout after its last data; one that answers pings stays', async () => {
    const idleTimeoutS = 16; // uWS wants a multiple of 4; the default (60) takes as long to watch
    const fx = await startGatewayFixture({ store: new MemoryStore(), gateway: { idleTimeoutS } });
    try {
      const connect = (autoPong: boolean) => new WebSocket(fx.gateway.scannerUrl, SUBPROTOCOL, {
        headers: { authorization: `Bearer ${fx.token(uniqueDevice())}` }, perMessageDeflate: false, autoPong,
      });
      const silent = connect(false);
      const answering = connect(true);
      let lastData = 0;
      let pingedAfter = 0;
      silent.on('message', () => (lastData = performance.now())); // the welcome: the last data either way
      silent.on('ping', () => (pingedAfter = performance.now() - lastData));
      const silentFor = await new Promise<number>((resolve) => silent.on('close', () => resolve((performance.now() - lastData) / 1000)));
      console.log(`idleTimeout ${idleTimeoutS} s: a silent client was pinged after ${(pingedAfter / 1000).toFixed(1)} s and closed after ${silentFor.toFixed(1)} s of silence`);
      // loosely: (idleTimeout − 4, idleTimeout], with slack for a busy machine
      expect(silentFor).toBeGreaterThan(idleTimeoutS - 4 - 1);
      expect(silentFor).toBeLessThan(idleTimeoutS + 3);
      expect(pingedAfter).toBeGreaterThan(0);
      await sleep(4_000); // past the bound for the client that answers the pings too
      expect(answering.readyState).toBe(WebSocket.OPEN);
      answering.close();
    } finally {
      await fx.close();
    }
  }, 40_000);
});

describe('SHUTTING_DOWN (docs/protocol.md §6, §8)', () => {
  it('frames read after close() began are answered SHUTTING_DOWN at once, before the 1001 close, while the PIN already taken finishes', async () => {
    const store = new MemoryStore();
    const fx = await startGatewayFixture({ store });
    try {
      const card = await fx.issue();
      const s = await fx.scanner();
      const inFlight = await s.open(card.payloadText, 100);
      const later = await s.open(card.payloadText, 200);
      // hold the PIN inside the issuer's authorization, so close() finds it in flight
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      let entered!: () => void;
      const inAuthorization = new Promise<void>((resolve) => (entered = resolve));
      const authorize = store.authorizePayment.bind(store);
      store.authorizePayment = async (request: PaymentRequest) => {
        entered();
        await released;
        return authorize(request);
      };
      const pinId = s.sendPin(inFlight.session, PIN);
      await inAuthorization;
      const closing = fx.gateway.close();
      // from here the store answers slowly (a loaded Redis): what the gateway says must not wait for it
      const takeRate = store.takeRate.bind(store);
      store.takeRate = async (...args: Parameters<typeof takeRate>) => {
        await sleep(500);
        return takeRate(...args);
      };
      const ids = {
        scan: (() => {
          const id = s.newId();
          s.send({ v: 1, type: 'scan', id, payload: card.payloadText, amount: 1, currency: 'EUR', merchant: 'corner-cafe' });
          return id;
        })(),
        pin: s.sendPin(later.session, PIN),
        status: (() => {
          const id = s.newId();
          s.send({ v: 1, type: 'status', id, session: later.session });
          return id;
        })(),
      };
      await sleep(200); // the gateway has read them
      release(); // the held PIN finishes; then the gateway closes every connection
      expect(await s.answer(pinId)).toMatchObject({ type: 'payment-result', session: inFlight.session, outcome: 'approved', replayed: false });
      await closing;
      expect((await s.waitClosed()).code).toBe(1001);
      const answers = s.drain();
      for (const id of Object.values(ids)) expect(answers.find((f) => 'id' in f && f.id === id), id).toMatchObject({ type: 'error', code: 'SHUTTING_DOWN' });
      // nothing was done for them: the later session is still open and unpaid
      expect((await store.getSession(later.session))!.state).toBe('open');
      expect(await store.getLedgerRecord(later.session)).toBeNull();
    } finally {
      await fx.close();
    }
  });
});
