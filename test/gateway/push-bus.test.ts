/**
 * Many gateways over one Redis: the holder's PIN, posted to a gateway other than the one holding the
 * scanner's WebSocket, still reaches the scanner as a payment-result push (Redis pub/sub).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { IssuerKeyRing } from '../../issuer/key-ring.ts';
import { RedisPushBus } from '../../gateway/push/push-bus.ts';
import { PIN, redisTestStore, startGatewayFixture, type GatewayFixture, type TestStore } from '../support/gateway-fixture.ts';
import { describeRedis, redisForTests, testKeyPrefix } from '../support/redis.ts';
import { randomBytes } from 'node:crypto';

const redis = await redisForTests();
afterAll(async () => {
  await redis?.stop(); // a private redis-server started for this file must not outlive it
});

describeRedis(redis, 'push bus across gateways (Redis pub/sub)', (r) => {
  let data: TestStore;
  let a: GatewayFixture;
  let b: GatewayFixture;
  const channelPrefix = testKeyPrefix();

  beforeAll(async () => {
    data = await redisTestStore(r);
    const keyRing = IssuerKeyRing.generate();
    const fleetKey = new Uint8Array(randomBytes(32));
    const pushBus = (deliver: Parameters<typeof RedisPushBus.connect>[2]) => RedisPushBus.connect(r.url, channelPrefix, deliver, () => {});
    a = await startGatewayFixture({ store: data.store, keyRing, fleetKey, gateway: { pushBus } });
    b = await startGatewayFixture({ store: await data.reopen(), keyRing, fleetKey, gateway: { pushBus } });
  });

  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await data?.dispose();
  });

  it('a PIN entered through gateway B pays, and the scanner on gateway A gets the result', async () => {
    const card = await a.issue();
    const scanner = await a.client();
    const auth = await scanner.scan({ payload: card.payloadText, amount: 700, currency: 'EUR', merchant: 'two-gw' });
    const viaB = new URL(auth.url);
    const pushed = scanner.waitForResult(auth.session, 5_000);
    const res = await fetch(`${b.gateway.url}${viaB.pathname}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: b.gateway.url },
      body: new URLSearchParams({ t: viaB.searchParams.get('t')!, pin: PIN }).toString(),
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('Payment approved');
    const result = await pushed;
    expect(result).toMatchObject({ type: 'payment-result', id: null, session: auth.session, outcome: 'approved' });
    expect((await a.issuer.viewCard(card.pan)).balance).toBe(1_000_000 - 700);
  });
});
