/**
 * Webhook endpoints and deliveries (issuer/store/webhook-types.ts) as one suite on MemoryStore, RedisStore and a
 * Redis Cluster: endpoints added, listed, rotated (two secrets) and deleted, capped per merchant; deliveries fanned
 * out from the journal from an endpoint's creation on, claimed in order per payment (event n waits for n − 1;
 * other payments go on), leased (a lapsed claim is taken by another owner, and the first can no longer end it),
 * retried at the time given or given up (the next event goes), redelivered to every endpoint; and several handles
 * claiming at once never hold one delivery twice.
 */
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { sealMerchant } from '../../issuer/journal.ts';
import { MemoryStore, RedisStore, keyLayout, parseClusterNodes, type CardRecord, type Store, type WebhookEndpoint } from '../../issuer/store/index.ts';
import { deleteKeys, describeRedis, redisForTests, testKeyPrefix } from '../support/redis.ts';
import { clusterForTests, describeCluster } from '../support/redis-cluster.ts';
import { authorizedPayment, makeCard, operationRequest } from '../support/store-fixtures.ts';
import { randomBytes } from 'node:crypto';

const MERCHANT = 'corner-cafe';
const redis = await redisForTests();
const cluster = await clusterForTests();
afterAll(async () => {
  await Promise.all([redis?.stop(), cluster?.stop()]);
});

const sealedText = () => randomBytes(40).toString('base64url');
function endpoint(fields: Partial<WebhookEndpoint> = {}): WebhookEndpoint {
  return { id: `we_${randomBytes(16).toString('hex')}`, merchant: MERCHANT, url: 'https://hooks.example/scanpay', createdAt: Date.now(), secrets: [{ sealed: sealedText(), expiresAt: null }], ...fields };
}

function webhooksContract(open: () => Promise<{ store: Store; sibling(): Promise<Store> }>): void {
  let store: Store;
  let sibling: () => Promise<Store>;
  const handles: Store[] = [];

  beforeEach(async () => {
    ({ store, sibling } = await open());
    handles.length = 0;
    handles.push(store);
    return async () => {
      await Promise.all(handles.map((h) => h.close()));
    };
  });

  async function aCard(): Promise<CardRecord> {
    const card = makeCard({ balance: 1_000_000, limit: 1_000_000 });
    await store.insertCard(card);
    return card;
  }
  const op = (id: string) => operationRequest(id, MERCHANT);
  async function sealAll(): Promise<void> {
    for (let round = 0; round < 50; round++) {
      await sealMerchant(store.events, MERCHANT, { owner: 'sealer', now: Date.now() + 1, graceMs: 0 });
      if ((await store.events.outbox(MERCHANT, 1)).length === 0) return;
    }
    throw new Error('the outbox never emptied');
  }
  const eventsOf = (claims: { eventId: string }[]) => claims.map((c) => c.eventId).sort();

  it('adds, lists, rotates (keeping the previous secret for its grace) and deletes endpoints; at most the cap', async () => {
    const a = endpoint({ createdAt: 1_000 });
    const b = endpoint({ createdAt: 2_000 });
    expect(await store.webhooks.addEndpoint(a, 2)).toBe(true);
    expect(await store.webhooks.addEndpoint(a, 2)).toBe(false); // the id exists
    expect(await store.webhooks.addEndpoint(b, 2)).toBe(true);
    expect(await store.webhooks.addEndpoint(endpoint(), 2)).toBe(false); // the cap
    expect(await store.webhooks.listEndpoints(MERCHANT)).toEqual([a, b]);
    expect(await store.webhooks.listEndpoints('another-shop')).toEqual([]);
    expect(await store.webhooks.webhookMerchants()).toContain(MERCHANT);

    const next = sealedText();
    const rotated = await store.webhooks.rotateSecret(MERCHANT, a.id, next, 5_000);
    expect(rotated!.secrets).toEqual([{ sealed: next, expiresAt: null }, { sealed: a.secrets[0]!.sealed, expiresAt: 5_000 }]);
    expect(await store.webhooks.getEndpoint(MERCHANT, a.id)).toEqual(rotated);
    expect(await store.webhooks.getEndpoint('another-shop', a.id)).toBeNull(); // another merchant's: unknown
    expect(await store.webhooks.rotateSecret(MERCHANT, `we_${'0'.repeat(32)}`, next, 5_000)).toBeNull();

    expect(await store.webhooks.deleteEndpoint(MERCHANT, a.id)).toBe(true);
    expect(await store.webhooks.deleteEndpoint(MERCHANT, a.id)).toBe(false);
    expect((await store.webhooks.listEndpoints(MERCHANT)).map((e) => e.id)).toEqual([b.id]);
    await expect(store.webhooks.addEndpoint({ ...endpoint(), url: 'ftp://x' }, 2)).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    await expect(store.webhooks.getEndpoint(MERCHANT, 'we_nope')).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
  });

  it('fans out the events sealed after an endpoint was made; claims a payment\'s events one at a time, in order, others in parallel', async () => {
    const card = await aCard();
    const before = await authorizedPayment(store, card, 100, { merchant: MERCHANT });
    await sealAll();
    const e = endpoint();
    await store.webhooks.addEndpoint(e, 16);
    const p = await authorizedPayment(store, card, 1_000, { merchant: MERCHANT });
    const q = await authorizedPayment(store, card, 2_000, { merchant: MERCHANT });
    await store.payments.refund({ ...op(p), amount: 100, reason: null });
    await store.payments.refund({ ...op(p), amount: 200, reason: null });
    await sealAll();
    const now = Date.now();
    expect(await store.webhooks.fanOut(MERCHANT, now, 100)).toBe(4);
    expect(await store.webhooks.fanOut(MERCHANT, now, 100)).toBe(0); // the cursor moved
    expect(await store.webhooks.counts(MERCHANT)).toEqual({ pending: 4, delivered: 0, failed: 0 });

    const first = await store.webhooks.claimDeliveries(MERCHANT, 'gw-a', now, 60_000, 10);
    expect(eventsOf(first)).toEqual([`ev_${p}_1`, `ev_${q}_1`].sort()); // not p's 2nd and 3rd, nor the event before the endpoint
    expect(first.every((c) => c.attempt === 1 && c.endpoint.id === e.id)).toBe(true);
    expect(eventsOf(first)).not.toContain(`ev_${before}_1`);
    expect(await store.webhooks.claimDeliveries(MERCHANT, 'gw-b', now, 60_000, 10)).toEqual([]); // leased, or waiting behind

    const p1 = first.find((c) => c.eventId === `ev_${p}_1`)!;
    expect(await store.webhooks.completeDelivery(MERCHANT, p1, now + 1)).toBe(true);
    const second = await store.webhooks.claimDeliveries(MERCHANT, 'gw-b', now + 1, 60_000, 10);
    expect(eventsOf(second)).toEqual([`ev_${p}_2`]);
    await store.webhooks.completeDelivery(MERCHANT, second[0]!, now + 2);
    const third = await store.webhooks.claimDeliveries(MERCHANT, 'gw-b', now + 2, 60_000, 10);
    expect(eventsOf(third)).toEqual([`ev_${p}_3`]);
    await store.webhooks.completeDelivery(MERCHANT, third[0]!, now + 3);
    await store.webhooks.completeDelivery(MERCHANT, first.find((c) => c.eventId === `ev_${q}_1`)!, now + 3);
    expect(await store.webhooks.counts(MERCHANT)).toEqual({ pending: 0, delivered: 4, failed: 0 });
  });

  it('a lapsed lease is claimed again by another owner (the next attempt); the first can no longer end it', async () => {
    const card = await aCard();
    await store.webhooks.addEndpoint(endpoint(), 16);
    const p = await authorizedPayment(store, card, 1_000, { merchant: MERCHANT });
    await sealAll();
    const now = Date.now();
    await store.webhooks.fanOut(MERCHANT, now, 100);
    const [a] = await store.webhooks.claimDeliveries(MERCHANT, 'gw-a', now, 1_000, 10);
    expect(await store.webhooks.claimDeliveries(MERCHANT, 'gw-b', now + 999, 1_000, 10)).toEqual([]);
    const [b] = await store.webhooks.claimDeliveries(MERCHANT, 'gw-b', now + 1_000, 1_000, 10);
    expect(b).toMatchObject({ eventId: `ev_${p}_1`, attempt: 2 });
    expect(await store.webhooks.completeDelivery(MERCHANT, a!, now + 1_001)).toBe(false);
    expect(await store.webhooks.failDelivery(MERCHANT, a!, now + 5_000, now + 1_001)).toBe(false);
    expect(await store.webhooks.completeDelivery(MERCHANT, b!, now + 1_002)).toBe(true);
    expect(await store.webhooks.counts(MERCHANT)).toEqual({ pending: 0, delivered: 1, failed: 0 });
  });

  it('a failure is due again at the time given; given up, it counts as failed and the payment\'s next event goes', async () => {
    const card = await aCard();
    await store.webhooks.addEndpoint(endpoint(), 16);
    const p = await authorizedPayment(store, card, 1_000, { merchant: MERCHANT });
    await store.payments.refund({ ...op(p), amount: 100, reason: null });
    await sealAll();
    const now = Date.now();
    await store.webhooks.fanOut(MERCHANT, now, 100);
    const [c1] = await store.webhooks.claimDeliveries(MERCHANT, 'gw-a', now, 60_000, 10);
    expect(await store.webhooks.failDelivery(MERCHANT, c1!, now + 5_000, now)).toBe(true);
    expect(await store.webhooks.claimDeliveries(MERCHANT, 'gw-a', now + 4_999, 60_000, 10)).toEqual([]); // 2 waits behind 1
    const [c2] = await store.webhooks.claimDeliveries(MERCHANT, 'gw-a', now + 5_000, 60_000, 10);
    expect(c2).toMatchObject({ eventId: `ev_${p}_1`, attempt: 2 });
    expect(await store.webhooks.failDelivery(MERCHANT, c2!, null, now + 5_001)).toBe(true);
    const [next] = await store.webhooks.claimDeliveries(MERCHANT, 'gw-a', now + 5_001, 60_000, 10);
    expect(next).toMatchObject({ eventId: `ev_${p}_2`, attempt: 1 });
    await store.webhooks.completeDelivery(MERCHANT, next!, now + 5_002);
    expect(await store.webhooks.counts(MERCHANT)).toEqual({ pending: 0, delivered: 1, failed: 1 });
  });

  it('redelivers an event to every endpoint with a fresh schedule; a deleted endpoint\'s deliveries are dropped', async () => {
    const card = await aCard();
    const [a, b] = [endpoint(), endpoint()];
    await store.webhooks.addEndpoint(a, 16);
    await store.webhooks.addEndpoint(b, 16);
    const p = await authorizedPayment(store, card, 1_000, { merchant: MERCHANT });
    await sealAll();
    const now = Date.now();
    await store.webhooks.fanOut(MERCHANT, now, 100);
    for (const c of await store.webhooks.claimDeliveries(MERCHANT, 'gw-a', now, 60_000, 10)) await store.webhooks.completeDelivery(MERCHANT, c, now);
    expect(await store.webhooks.redeliver(MERCHANT, `ev_${p}_1`, now + 1)).toBe(2);
    await store.webhooks.deleteEndpoint(MERCHANT, b.id);
    const again = await store.webhooks.claimDeliveries(MERCHANT, 'gw-a', now + 1, 60_000, 10);
    expect(again.map((c) => [c.endpoint.id, c.eventId, c.attempt])).toEqual([[a.id, `ev_${p}_1`, 1]]);
    expect(await store.webhooks.counts(MERCHANT)).toMatchObject({ pending: 1 });
  });

  it('3 handles claiming and completing 40 payments\' events at once: each delivered once, in order per payment', async () => {
    const stores = [store, await sibling(), await sibling()];
    handles.push(...stores.slice(1));
    const card = await aCard();
    await store.webhooks.addEndpoint(endpoint(), 16);
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) ids.push(await authorizedPayment(store, card, 1_000, { merchant: MERCHANT }));
    for (const id of ids) await store.payments.refund({ ...op(id), amount: 10, reason: null });
    await sealAll();
    const delivered: string[] = [];
    const workers = stores.map(async (s, w) => {
      for (let round = 0; round < 200; round++) {
        const now = Date.now();
        await s.webhooks.fanOut(MERCHANT, now, 50);
        const claims = await s.webhooks.claimDeliveries(MERCHANT, `gw-${w}`, now, 60_000, 7);
        for (const c of claims) {
          delivered.push(c.eventId);
          expect(await s.webhooks.completeDelivery(MERCHANT, c, Date.now())).toBe(true);
        }
        if ((await s.webhooks.counts(MERCHANT)).pending === 0 && round > 0) return;
        await new Promise((r) => setImmediate(r));
      }
    });
    await Promise.all(workers);
    expect(delivered).toHaveLength(80);
    expect(new Set(delivered).size).toBe(80);
    for (const id of ids) expect(delivered.indexOf(`ev_${id}_1`)).toBeLessThan(delivered.indexOf(`ev_${id}_2`));
    expect(await store.webhooks.counts(MERCHANT)).toEqual({ pending: 0, delivered: 80, failed: 0 });
  });
}

describe('MemoryStore webhooks', () => {
  webhooksContract(async () => {
    const store = new MemoryStore();
    return { store, sibling: async () => store };
  });
});

describeRedis(redis, 'RedisStore webhooks', (server) => {
  const runPrefix = testKeyPrefix();
  let next = 0;
  afterAll(async () => {
    await deleteKeys(server.url, runPrefix);
  });
  webhooksContract(async () => {
    const prefix = `${runPrefix}${next++}:`;
    return { store: await RedisStore.connect(server.url, { prefix }), sibling: () => RedisStore.connect(server.url, { prefix }) };
  });

  it('keeps every key of a merchant\'s webhooks on its slot', () => {
    const keys = keyLayout('p:');
    for (const key of [keys.webhooks('m'), keys.webhookCursors('m'), keys.webhookDue('m'), keys.webhookClaims('m'), keys.webhookCounts('m'), keys.journal('m')]) {
      expect(key.startsWith('p:{m:m}:')).toBe(true);
    }
  });
});

describeCluster(cluster, 'RedisStore webhooks on a Redis Cluster', (c) => {
  const nodes = parseClusterNodes(c.nodes.join(','));
  webhooksContract(async () => {
    const prefix = testKeyPrefix();
    return { store: await RedisStore.connectCluster(nodes, { prefix }), sibling: () => RedisStore.connectCluster(nodes, { prefix }) };
  });
});
