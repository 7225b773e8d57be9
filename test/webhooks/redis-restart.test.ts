/**
 * Webhook delivery across a Redis restart: a private redis-server with AOF (test/chaos/aof-redis.ts) SIGKILLed
 * while deliveries are in flight (their receiver answers slowly, during the outage), then restarted; the gateway's
 * loops fail meanwhile (logged) and go on after. Every event — those before the kill and those made after the
 * restart — is delivered, none lost. The counts are printed for the notes (repeats of an id: deliveries whose
 * completion could not be written, sent again).
 */
import { afterAll, expect, it } from 'vitest';
import { RedisStore } from '../../issuer/store/index.ts';
import { AofRedis } from '../chaos/aof-redis.ts';
import { startGatewayFixture } from '../support/gateway-fixture.ts';
import { MerchantApi, createMerchant, paidPayment } from '../support/merchant-api.ts';
import { describeNeeding, testKeyPrefix } from '../support/redis.ts';
import { WebhookReceiver, until } from '../support/webhook-receiver.ts';

const redis = await AofRedis.start();
afterAll(async () => {
  await redis?.stop();
});

const SHOP = 'restart-shop';
const GATEWAY = { sealerIntervalMs: 30, webhooks: { intervalMs: 30, retryScheduleMs: [50, 100, 200, 400, 800, 1_000, 1_000, 1_000, 1_000, 1_000], timeoutMs: 1_000, allowPrivate: true } };

describeNeeding(redis, 'webhooks across a Redis restart (private redis-server with AOF)', 'no redis-server on PATH', (server) => {
  it('every event delivered, before the kill and after the restart; none lost', async () => {
    const store = await RedisStore.connect(server.url, { prefix: testKeyPrefix() });
    const fx = await startGatewayFixture({ store, gateway: GATEWAY });
    const acked = new Set<string>();
    let slow = true;
    const receiver = await WebhookReceiver.start((got, n) => (res) => {
      // after the first two, slow answers, so deliveries are in flight when Redis dies and answered while it is down
      setTimeout(() => {
        acked.add(got.eventId);
        res.writeHead(200).end();
      }, slow && n > 2 ? 600 : 0);
    });
    try {
      const api = new MerchantApi(fx.gateway.merchantUrl, await createMerchant(store, fx.fleetKey, SHOP));
      expect((await api.post('/v1/webhook_endpoints', { url: receiver.url })).status).toBe(200);
      const payments: string[] = [];
      for (let i = 0; i < 10; i++) payments.push((await paidPayment(store, SHOP, 100)).id);
      await until(() => acked.size >= 2 && receiver.received.length >= 5, 'some deliveries done, some in flight');
      const beforeKill = acked.size;
      await server.kill();
      await new Promise((r) => setTimeout(r, 1_000)); // the loops run (and fail) against no Redis; answers come meanwhile
      await server.restart();
      slow = false;
      await until(async () => {
        try {
          await store.getCard('0'.repeat(32));
          return true;
        } catch {
          return false;
        }
      }, 'the store answering again');
      for (let i = 0; i < 10; i++) payments.push((await paidPayment(store, SHOP, 100)).id);
      const expected = (await Promise.all(payments.map((id) => store.events.paymentEvents(id)))).flat().map((e) => e.id);
      await until(() => expected.every((id) => acked.has(id)), 'every event delivered', 90_000);
      const lost = expected.filter((id) => !acked.has(id)).length;
      const repeats = receiver.received.length - new Set(receiver.received.map((r) => r.eventId)).size;
      console.log(`[webhooks redis restart] events ${expected.length}: ${beforeKill} delivered before the kill, ${acked.size} in all, lost ${lost}, ${repeats} repeats of an id`);
      expect(lost).toBe(0);
    } finally {
      await fx.close();
      await receiver.close();
      await store.close();
    }
  }, 120_000);
});
