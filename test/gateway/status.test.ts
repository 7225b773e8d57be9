/**
 * Protocol v1.1 `status` (docs/protocol.md §4.1): a scanner learns where its session stands — and, after
 * a reconnect, the outcome of a payment made on the page — without sending a PIN; other scanners learn
 * nothing. Through a raw socket and through the SDK.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../issuer/store/index.ts';
import type { PaymentResultFrame, SessionStatusFrame } from '../../protocol/messages.ts';
import { PIN, WRONG_PIN, postPin, startGatewayFixture, uniqueDevice, type GatewayFixture } from '../support/gateway-fixture.ts';

describe('status frame', () => {
  let fx: GatewayFixture;
  beforeAll(async () => {
    fx = await startGatewayFixture({ store: new MemoryStore() });
  });
  afterAll(async () => {
    await fx?.close();
  });

  it('open, then done with the page payment\'s result and receipt, read on a new connection', async () => {
    const card = await fx.issue();
    const device = uniqueDevice();
    const first = await fx.scanner(device);
    const auth = await first.open(card.payloadText, 1_234);
    const id = first.newId();
    first.send({ v: 1, type: 'status', id, session: auth.session });
    expect(await first.answer(id)).toEqual({ v: 1, type: 'session-status', id, session: auth.session, state: 'open', expiresAt: auth.expiresAt, result: null });
    await first.close(); // the scanner drops off; the holder pays on the page meanwhile
    expect((await postPin(auth.url, PIN)).status).toBe(200);

    const again = await fx.scanner(device);
    const id2 = again.newId();
    again.send({ v: 1, type: 'status', id: id2, session: auth.session });
    const status = await again.answer<SessionStatusFrame>(id2);
    expect(status).toMatchObject({ state: 'done', result: { outcome: 'approved', reason: null } });
    expect(status.result!.receipt).toMatchObject({ session: auth.session, amount: 1_234, outcome: 'approved' });
    // the same result a PIN replay gives, and no second payment
    const replay = await again.pin(auth.session, WRONG_PIN) as PaymentResultFrame;
    expect(replay).toMatchObject({ replayed: true, outcome: 'approved' });
    expect(replay.receipt).toEqual(status.result!.receipt);
    expect((await fx.issuer.viewCard(card.pan)).balance).toBe(1_000_000 - 1_234);
  });

  it('a page payment decided while the scanner was away is re-pushed when it reconnects (id null, replayed), to it alone', async () => {
    const card = await fx.issue();
    const device = uniqueDevice();
    const first = await fx.scanner(device);
    const auth = await first.open(card.payloadText, 777);
    await first.close();
    expect((await postPin(auth.url, PIN)).status).toBe(200);
    const back = await fx.scanner(device);
    const pushed = await back.next<PaymentResultFrame>((f) => f.type === 'payment-result' && f.session === auth.session);
    expect(pushed).toMatchObject({ id: null, replayed: true, outcome: 'approved', receipt: { amount: 777 } });
    const stranger = await fx.scanner();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(stranger.drain()).toEqual([]);
  });

  it('another scanner\'s session and an unknown one both read SESSION_UNKNOWN; a wrong PIN reads done, no receipt', async () => {
    const card = await fx.issue();
    const owner = await fx.client();
    const auth = await owner.scan({ payload: card.payloadText, amount: 100, currency: 'EUR', merchant: 'corner-cafe' });
    const other = await fx.scanner();
    for (const session of [auth.session, '0'.repeat(32)]) {
      const id = other.newId();
      other.send({ v: 1, type: 'status', id, session });
      expect(await other.answer(id)).toMatchObject({ type: 'error', code: 'SESSION_UNKNOWN' });
    }
    await owner.submitPin(auth.session, WRONG_PIN);
    expect(await owner.status(auth.session)).toMatchObject({
      type: 'session-status', state: 'done', result: { outcome: 'declined', reason: 'PIN_WRONG', attemptsLeft: 2, receipt: null },
    });
  });
});
