/**
 * Two gateway processes delivering one merchant's webhooks over one Redis: the first is SIGKILLed while a
 * delivery is in flight (its receiver holds the request open), and the second, started after, delivers
 * everything — the killed one's claim once its lease lapses. Every event delivered, none lost; the held event
 * arrives again with the same id and body. The counts are printed for the notes.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, expect, it } from 'vitest';
import { addEndpoint } from '../../gateway/webhooks/endpoints.ts';
import { WebhookSecretBox } from '../../gateway/webhooks/secrets.ts';
import { IssuerKeyRing } from '../../issuer/key-ring.ts';
import { RedisStore } from '../../issuer/store/index.ts';
import { verifyWebhook } from '../../sdk/index.ts';
import { spawnGatewayChild, type GatewayProcess } from '../support/gateway-process.ts';
import { createMerchant, paidPayment } from '../support/merchant-api.ts';
import { deleteKeys, describeRedis, redisForTests, testKeyPrefix } from '../support/redis.ts';
import { operationRequest } from '../support/store-fixtures.ts';
import { WebhookReceiver, until } from '../support/webhook-receiver.ts';

const redis = await redisForTests();
afterAll(async () => {
  await redis?.stop();
});

const SHOP = 'kill-shop';
const OPTIONS = { sealerIntervalMs: 30, webhooks: { intervalMs: 30, retryScheduleMs: [50, 100, 200, 400, 800, 1_000, 1_000, 1_000], timeoutMs: 1_000, allowPrivate: true } };

describeRedis(redis, 'webhooks with a gateway killed mid-delivery', (server) => {
  it('the surviving gateway delivers every event, the killed one\'s claim included', async () => {
    const prefix = testKeyPrefix();
    const store = await RedisStore.connect(server.url, { prefix });
    const keyRing = IssuerKeyRing.generate();
    const fleetKey = new Uint8Array(randomBytes(32));
    const children: GatewayProcess[] = [];
    let held: string | null = null;
    const acked = new Set<string>();
    const receiver = await WebhookReceiver.start((got) => {
      if (held === null) {
        held = got.eventId;
        return 'hang'; // in flight when its gateway dies
      }
      acked.add(got.eventId);
      return { status: 200 };
    });
    try {
      await createMerchant(store, fleetKey, SHOP);
      const box = WebhookSecretBox.fromFleetKey(fleetKey);
      const made = await addEndpoint(store.webhooks, box, SHOP, receiver.url, { allowPrivate: true }, Date.now());
      box.close();
      if (!made.ok) throw new Error('no endpoint');
      const payments: string[] = [];
      for (let i = 0; i < 10; i++) payments.push((await paidPayment(store, SHOP, 1_000)).id);
      for (const id of payments.slice(0, 5)) await store.payments.refund({ ...operationRequest(id, SHOP), amount: 100, reason: null });
      const expected = (await Promise.all(payments.map((id) => store.events.paymentEvents(id)))).flat().map((e) => e.id);

      const a = await spawnGatewayChild({ redisUrl: server.url, prefix, keyRing, fleetKey, options: OPTIONS });
      children.push(a);
      await until(() => held !== null, 'a delivery in flight');
      await until(async () => (await store.events.journalHead(SHOP)).seq === expected.length, 'every event sealed');
      await a.kill(); // SIGKILL: its claim on the held delivery is never released
      const deliveredBeforeKill = acked.size;

      const b = await spawnGatewayChild({ redisUrl: server.url, prefix, keyRing, fleetKey, options: OPTIONS });
      children.push(b);
      await until(() => expected.every((id) => acked.has(id)), 'every event delivered', 90_000);

      const copies = receiver.received.filter((r) => r.eventId === held);
      expect(copies.length).toBeGreaterThanOrEqual(2); // the held one, sent again by the survivor
      expect(new Set(copies.map((c) => c.body)).size).toBe(1);
      const now = Math.floor(Date.now() / 1000);
      for (const got of receiver.received) expect(verifyWebhook(got.body, got.signature, [made.secret], { now })).toMatchObject({ ok: true });
      const lost = expected.filter((id) => !acked.has(id)).length;
      console.log(`[webhooks kill] events ${expected.length}: ${deliveredBeforeKill} delivered before the SIGKILL, ${acked.size} delivered in all, lost ${lost}; the held event sent ${copies.length} times`);
      expect(lost).toBe(0);
    } finally {
      await Promise.all(children.map((c) => c.stop()));
      await receiver.close();
      await store.close();
      await deleteKeys(server.url, prefix);
    }
  }, 120_000);
});
