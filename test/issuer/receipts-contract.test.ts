/**
 * Merchants' receipt chains (issuer/receipt-chain.ts, issuer/store/receipt-types.ts; docs/receipts.md §The chain)
 * as one suite on MemoryStore, RedisStore and a Redis Cluster with WAIT:
 * - a captured approval, a manual capture, refunds and a reversal that refunded each get one receipt (a hold, a
 *   void, a decline none), signed under the ring's receipt key, verifiable with the core and readable per payment;
 * - two signers on two store handles racing (each round with its own owner, the lease released between rounds,
 *   so both really try) while payments, captures and refunds run: one gap-free chain, each receipt once, that
 *   verifies from the first receipt with the core;
 * - a stale signer (a head it read before another appended) writes nothing;
 * - a journal record whose event was edited is never signed (STORE_CORRUPT);
 * - after a receipt-key rotation the chain goes on under the new key, and verifies with both published keys.
 */
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { loadCore } from '../../core/index.ts';
import { RECEIPT_ZERO_HASH, decodeReceipt, receiptBytes, verifyReceipt } from '../../core/receipt.ts';
import { IssuerKeyRing } from '../../issuer/key-ring.ts';
import { sealMerchant } from '../../issuer/journal.ts';
import { signMerchantReceipts, verifyStoredReceipts, type ReceiptSignerDeps } from '../../issuer/receipt-chain.ts';
import { signReceiptChain } from '../../issuer/receipt-signing.ts';
import { MemoryStore, RedisStore, parseClusterNodes, type CardRecord, type PaymentRequest, type StoredReceipt, type Store } from '../../issuer/store/index.ts';
import { deleteKeys, describeRedis, redisForTests, testKeyPrefix } from '../support/redis.ts';
import { clusterForTests, describeCluster } from '../support/redis-cluster.ts';
import { authorizedPayment, makeCard, operationRequest } from '../support/store-fixtures.ts';

const MERCHANT = 'corner-cafe';
const redis = await redisForTests();
const cluster = await clusterForTests();
const core = await loadCore();
afterAll(async () => {
  await Promise.all([redis?.stop(), cluster?.stop()]);
});

interface Opened {
  store: Store;
  sibling(): Promise<Store>;
}

function receiptsContract(open: () => Promise<Opened>): void {
  let opened: Opened;
  let store: Store;
  let ring: IssuerKeyRing;
  const handles: Store[] = [];

  beforeEach(async () => {
    opened = await open();
    store = opened.store;
    ring = IssuerKeyRing.generate();
    handles.length = 0;
    handles.push(store);
    return async () => {
      await Promise.all(handles.map((h) => h.close()));
    };
  });

  const deps = (s: Store = store): ReceiptSignerDeps => ({ events: s.events, receipts: s.receipts, sign: async (request) => signReceiptChain(ring, request) });
  async function aCard(fields: Partial<CardRecord> = {}, s = store): Promise<CardRecord> {
    const card = makeCard({ balance: 1_000_000, limit: 1_000_000, ...fields });
    await s.insertCard(card);
    return card;
  }
  const paid = (card: CardRecord, amount: number, fields: Partial<PaymentRequest> = {}, s = store) => authorizedPayment(s, card, amount, { merchant: MERCHANT, ...fields });
  const op = (id: string, key: string | null = null) => operationRequest(id, MERCHANT, key);
  /** Seal and sign until the journal and the chain stand still. */
  async function settle(s: Store = store, owner = 'gw-a'): Promise<void> {
    for (let round = 0; round < 100; round++) {
      const sealed = await sealMerchant(s.events, MERCHANT, { owner, now: Date.now() + 1, graceMs: 0 });
      const signed = await signMerchantReceipts(deps(s), MERCHANT, { owner });
      if (sealed.length === 0 && signed.length === 0 && (await s.events.outbox(MERCHANT, 1)).length === 0) return;
    }
    throw new Error('receipts never settled');
  }
  const allReceipts = (s: Store = store) => s.receipts.receipts(MERCHANT, 1, 10_000);
  const publicKeys = () => ring.receiptPublicKeys();

  it('a receipt for each captured approval, capture and refund (none for a hold, a void or a decline), readable per payment', async () => {
    const card = await aCard();
    const auto = await paid(card, 1_000);
    const held = await paid(card, 500, { captureMethod: 'manual' });
    const voided = await paid(card, 300, { captureMethod: 'manual' });
    await paid(card, 5_000_000); // declined
    expect((await store.payments.refund({ ...op(auto), amount: 250, reason: null })).ok).toBe(true);
    expect((await store.payments.capture({ ...op(held), amount: 400 })).ok).toBe(true);
    expect((await store.payments.void(op(voided))).ok).toBe(true);
    expect((await store.payments.reverse(op(held))).ok).toBe(true); // refunds the 400 captured
    await settle();

    const chain = await allReceipts();
    expect(chain.map((r) => [r.seq, r.kind, r.paymentId])).toEqual(expect.arrayContaining([
      [expect.any(Number), 'payment', auto], [expect.any(Number), 'refund', auto], [expect.any(Number), 'capture', held], [expect.any(Number), 'refund', held],
    ]));
    expect(chain).toHaveLength(4);
    expect(chain.map((r) => r.seq)).toEqual([1, 2, 3, 4]);
    const amounts = Object.fromEntries(chain.map((r) => [`${r.kind}:${r.paymentId}`, decodeReceipt(receiptBytes(r.text)).amount]));
    expect(amounts).toEqual({ [`payment:${auto}`]: 1_000, [`refund:${auto}`]: 250, [`capture:${held}`]: 400, [`refund:${held}`]: 400 });
    for (const r of chain) {
      const verdict = verifyReceipt(core, r.text, publicKeys());
      expect(verdict).toMatchObject({ ok: true, hash: r.hash, receipt: { merchant: MERCHANT, last4: card.last4, paymentId: r.paymentId, seq: r.seq } });
    }
    expect((await store.receipts.paymentReceipts(MERCHANT, auto)).map((r) => r.kind)).toEqual(['payment', 'refund']);
    expect(await store.receipts.paymentReceipts(MERCHANT, voided)).toEqual([]);
    expect(await store.receipts.paymentReceipts('other-shop', auto)).toEqual([]);
    expect(await verifyStoredReceipts(core, store.receipts, MERCHANT, publicKeys())).toMatchObject({ ok: true, receipts: 4 });
    expect(await store.receipts.receiptHead(MERCHANT)).toEqual({ seq: 4, hash: chain[3]!.hash, journalSeq: (await store.events.journalHead(MERCHANT)).seq });
  });

  it('two signers racing on two handles while money moves: one gap-free chain, each receipt once, that verifies', async () => {
    const stores = [store, await opened.sibling()];
    handles.push(stores[1]!);
    const card = await aCard();
    let done = false;
    const signers = stores.map(async (s, i) => {
      let rounds = 0;
      while (!done) {
        // each round under its own owner, the lease let go after it: the two really race for the same heads
        const owner = `gw-${i}-${rounds++}`;
        await sealMerchant(s.events, MERCHANT, { owner, now: Date.now(), graceMs: 0 });
        await signMerchantReceipts(deps(s), MERCHANT, { owner });
        await s.receipts.releaseSigner(MERCHANT, owner);
        await s.events.releaseSealer(MERCHANT, owner);
        await new Promise((r) => setImmediate(r)); // the embedded store answers at once: let the operations run
      }
    });
    const ids: string[] = [];
    for (let i = 0; i < 24; i++) {
      const s = stores[i % 2]!;
      const id = await paid(card, 1_000, { captureMethod: i % 3 === 0 ? 'manual' : 'automatic' }, s);
      ids.push(id);
      await Promise.all([
        i % 3 === 0 ? stores[(i + 1) % 2]!.payments.capture(op(id)) : stores[(i + 1) % 2]!.payments.refund({ ...op(id), amount: 100, reason: null }),
        s.payments.refund({ ...op(id), amount: 50, reason: null }),
      ]);
    }
    done = true;
    await Promise.all(signers);
    await settle(stores[1]);

    const chain = await allReceipts();
    expect(chain.map((r) => r.seq)).toEqual(chain.map((_, i) => i + 1));
    expect(new Set(chain.map((r) => r.eventId)).size).toBe(chain.length); // no event signed twice
    // every event that calls for a receipt has exactly one
    const wanted = (await Promise.all(ids.map((id) => store.events.paymentEvents(id)))).flat()
      .filter((e) => e.type === 'refund.created' || e.type === 'payment.captured' || (e.type === 'payment.approved' && e.entries.some((x) => x.type === 'capture')));
    expect(new Set(chain.map((r) => r.eventId))).toEqual(new Set(wanted.map((e) => e.id)));
    expect(chain.length).toBeGreaterThanOrEqual(24 * 2);
    const report = await verifyStoredReceipts(core, store.receipts, MERCHANT, publicKeys());
    expect(report).toMatchObject({ ok: true, receipts: chain.length });
    // the other handle reads the same chain
    expect(await allReceipts(stores[1])).toEqual(chain);
  });

  it('a signer that read a head another signer has moved since appends nothing', async () => {
    const card = await aCard();
    await paid(card, 100);
    await sealMerchant(store.events, MERCHANT, { owner: 'gw-a', now: Date.now(), graceMs: 0 });
    const head = await store.receipts.receiptHead(MERCHANT);
    expect(head).toEqual({ seq: 0, hash: RECEIPT_ZERO_HASH, journalSeq: 0 });
    expect(await signMerchantReceipts(deps(), MERCHANT, { owner: 'gw-a' })).toHaveLength(1);
    const stale: StoredReceipt = { ...(await allReceipts())[0]!, seq: 1 };
    expect(await store.receipts.appendReceipts(MERCHANT, head, [stale], 1)).toBe(false); // the chain moved: nothing written
    expect(await store.receipts.appendReceipts(MERCHANT, { ...head, seq: 1, journalSeq: 0 }, [], 1)).toBe(false); // the cursor moved
    expect(await allReceipts()).toHaveLength(1);
    // the lease: another owner is refused while it runs
    expect(await signMerchantReceipts(deps(), MERCHANT, { owner: 'gw-b' })).toEqual([]);
    expect(await store.receipts.leaseSigner(MERCHANT, 'gw-b', 1_000)).toBe(false);
    await store.receipts.releaseSigner(MERCHANT, 'gw-a');
    expect(await store.receipts.leaseSigner(MERCHANT, 'gw-b', 1_000)).toBe(true);
  });

  it('never signs an event that no longer hashes as it was sealed', async () => {
    const card = await aCard();
    const id = await paid(card, 100);
    await sealMerchant(store.events, MERCHANT, { owner: 'gw-a', now: Date.now(), graceMs: 0 });
    const [record] = await store.events.journal(MERCHANT, 1, 1);
    const edited = { ...deps(), events: { ...store.events, journal: store.events.journal.bind(store.events), getEvents: async (eventIds: readonly string[]) => {
      const events = await store.events.getEvents(eventIds);
      return events.map((event) => ({ ...event!, payment: { ...event!.payment, amount: event!.payment.amount + 1 } }));
    } } };
    await expect(signMerchantReceipts(edited, MERCHANT, { owner: 'gw-a' })).rejects.toMatchObject({ code: 'STORE_CORRUPT' });
    expect(await allReceipts()).toEqual([]);
    expect(record!.paymentId).toBe(id);
  });

  it('goes on under a rotated receipt key; the chain verifies with every published key, not with the new one alone', async () => {
    const card = await aCard();
    await paid(card, 100);
    await settle();
    ring.rotateReceiptKey();
    await paid(card, 200);
    await settle();
    const chain = await allReceipts();
    expect(chain.map((r) => decodeReceipt(receiptBytes(r.text)).keyId)).toEqual([1, 2]);
    expect(await verifyStoredReceipts(core, store.receipts, MERCHANT, ring.receiptPublicKeys())).toMatchObject({ ok: true, receipts: 2 });
    const newOnly = await verifyStoredReceipts(core, store.receipts, MERCHANT, ring.receiptPublicKeys().filter((k) => k.state === 'active'));
    expect(newOnly.ok).toBe(false);
    expect(newOnly.problems[0]).toMatch(/^receipt 1: RECEIPT_KEY_UNKNOWN/);
  });
}

describe('MemoryStore receipts', () => {
  receiptsContract(async () => {
    const store = new MemoryStore();
    return { store, sibling: async () => store };
  });
});

describeRedis(redis, 'RedisStore receipts', (server) => {
  const runPrefix = testKeyPrefix();
  let next = 0;
  afterAll(async () => {
    await deleteKeys(server.url, runPrefix);
  });
  receiptsContract(async () => {
    const prefix = `${runPrefix}${next++}:`;
    const store = await RedisStore.connect(server.url, { prefix });
    return { store, sibling: () => RedisStore.connect(server.url, { prefix }) };
  });
});

describeCluster(cluster, 'RedisStore receipts on a Redis Cluster (3 masters, 3 replicas, WAIT for 1 replica)', (c) => {
  const nodes = parseClusterNodes(c.nodes.join(','));
  const options = (prefix: string) => ({ prefix, waitReplicas: 1, waitTimeoutMs: 1_000 });
  receiptsContract(async () => {
    const prefix = testKeyPrefix();
    const store = await RedisStore.connectCluster(nodes, options(prefix));
    return { store, sibling: () => RedisStore.connectCluster(nodes, options(prefix)) };
  });
});
