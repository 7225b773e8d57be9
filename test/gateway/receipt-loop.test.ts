/**
 * The gateway's receipt loop (gateway/ledger/receipt-loop.ts) visits only the merchants whose journal has grown
 * (the store's receiptsDue, marked by appendJournal): a round with nothing new costs the store one read and no
 * merchant's lease, head or journal; a merchant another signer holds, or whose round failed, comes back the next
 * round; and every SWEEP_EVERY rounds it visits every merchant that has had events, so a journal whose mark was
 * lost is still signed. On the embedded store and on Redis.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { startReceiptLoop, SWEEP_EVERY } from '../../gateway/ledger/receipt-loop.ts';
import { sealMerchant } from '../../issuer/journal.ts';
import { IssuerKeyRing } from '../../issuer/key-ring.ts';
import { signReceiptChain } from '../../issuer/receipt-signing.ts';
import { MemoryStore, RedisStore, type Store } from '../../issuer/store/index.ts';
import { deleteKeys, redisForTests, testKeyPrefix } from '../support/redis.ts';
import { authorizedPayment, makeCard } from '../support/store-fixtures.ts';

const redis = await redisForTests();
afterAll(async () => {
  await redis?.stop();
});

const stores: [string, () => Promise<{ store: Store; close(): Promise<void> }>][] = [
  ['the embedded store', async () => {
    const store = new MemoryStore();
    return { store, close: () => store.close() };
  }],
];
if (redis) {
  stores.push(['Redis', async () => {
    const prefix = testKeyPrefix();
    const store = await RedisStore.connect(redis.url, { prefix });
    return { store, close: async () => { await store.close(); await deleteKeys(redis.url, prefix); } };
  }]);
} else console.warn('\n*** SKIPPED: the receipt loop on Redis (no Redis) ***\n');

/** The store with the receipt calls a round makes counted, by method name. */
function counting(store: Store): { store: Store; calls: Map<string, number> } {
  const calls = new Map<string, number>();
  const counted = <T extends object>(target: T): T => new Proxy(target, {
    get(t, prop, receiver) {
      const value = Reflect.get(t, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.set(String(prop), (calls.get(String(prop)) ?? 0) + 1);
        return (value as (...a: unknown[]) => unknown).apply(t, args);
      };
    },
  });
  return { store: { ...store, events: counted(store.events), receipts: counted(store.receipts) } as Store, calls };
}

describe.each(stores)('the receipt loop on %s', (_name, open) => {
  it('takes up only merchants with new journal records; one held by another signer, or lost, comes back', async () => {
    const { store, close } = await open();
    const ring = IssuerKeyRing.generate();
    const card = makeCard({ balance: 1_000_000, limit: 1_000_000 });
    await store.insertCard(card);
    const payAndSeal = async (merchant: string) => {
      await authorizedPayment(store, card, 100, { merchant });
      await sealMerchant(store.events, merchant, { owner: 'sealer', now: Date.now() + 1, graceMs: 0 });
    };
    const { store: watched, calls } = counting(store);
    const errors: Error[] = [];
    const loop = startReceiptLoop({
      store: watched, sign: async (request) => signReceiptChain(ring, request), owner: 'gw-a', intervalMs: 3_600_000,
      onError: (_m, e) => errors.push(e),
    });
    const chain = async (merchant: string) => (await store.receipts.receiptHead(merchant)).seq;
    try {
      await payAndSeal('shop-a');
      await payAndSeal('shop-b');
      await loop.runOnce(); // the first round visits every merchant with events
      expect([await chain('shop-a'), await chain('shop-b')]).toEqual([1, 1]);
      expect(await store.events.receiptsDue()).toEqual([]);

      calls.clear();
      await loop.runOnce(); // nothing new: one read of the due merchants, nothing per merchant
      expect(Object.fromEntries(calls)).toEqual({ receiptsDue: 1 });

      await payAndSeal('shop-a');
      expect(await store.events.receiptsDue()).toEqual(['shop-a']);
      calls.clear();
      await loop.runOnce();
      expect(await chain('shop-a')).toBe(2);
      expect(calls.get('leaseSigner')).toBe(1); // shop-a only
      expect(await store.events.receiptsDue()).toEqual([]);

      // another signer holds shop-b's lease (this loop's lapsed, gw-b took it): the round leaves it due, and the
      // next one (the lease free) signs it
      await payAndSeal('shop-b');
      await store.receipts.releaseSigner('shop-b', 'gw-a');
      expect(await store.receipts.leaseSigner('shop-b', 'gw-b', 15_000)).toBe(true);
      await loop.runOnce();
      expect(await chain('shop-b')).toBe(1);
      expect(await store.events.receiptsDue()).toEqual(['shop-b']);
      await store.receipts.releaseSigner('shop-b', 'gw-b');
      await loop.runOnce();
      expect(await chain('shop-b')).toBe(2);

      // a mark lost (as to a process that died between its append and its mark): the sweep round signs it
      await payAndSeal('shop-a');
      await store.events.takeReceiptsDue('shop-a');
      let rounds = 5; // rounds run so far
      await loop.runOnce();
      rounds++;
      expect(await chain('shop-a')).toBe(2);
      while (rounds % SWEEP_EVERY !== 0) {
        await loop.runOnce();
        rounds++;
      }
      await loop.runOnce(); // round SWEEP_EVERY + 1: a sweep
      expect(await chain('shop-a')).toBe(3);
      expect(errors).toEqual([]);
    } finally {
      await loop.close();
      await close();
    }
  }, 60_000);

  it('signs a merchant behind by more than one segment (200 records) in one round, the lease taken once a segment', async () => {
    const { store, close } = await open();
    const ring = IssuerKeyRing.generate();
    const card = makeCard({ balance: 10_000_000, limit: 10_000_000 });
    await store.insertCard(card);
    for (let i = 0; i < 450; i++) await authorizedPayment(store, card, 100, { merchant: 'shop-c' });
    await sealMerchant(store.events, 'shop-c', { owner: 'sealer', now: Date.now() + 1, graceMs: 0 });
    const { store: watched, calls } = counting(store);
    const signed: number[] = [];
    const loop = startReceiptLoop({
      store: watched, sign: async (request) => signReceiptChain(ring, request), owner: 'gw-a', intervalMs: 3_600_000,
      onError: (_m, e) => { throw e; }, onSigned: (_m, n) => signed.push(n),
    });
    try {
      await loop.runOnce();
      expect((await store.receipts.receiptHead('shop-c')).seq).toBe(450);
      expect(signed).toEqual([450]);
      expect(calls.get('leaseSigner')).toBe(3); // segments of 200, 200 and 50
      expect(await store.events.receiptsDue()).toEqual([]);
    } finally {
      await loop.close();
      await close();
    }
  }, 60_000);

  it('closing ends a visit after the segment in progress: the rest is signed by the next signer, nothing signed twice', async () => {
    const { store, close } = await open();
    const ring = IssuerKeyRing.generate();
    const card = makeCard({ balance: 10_000_000, limit: 10_000_000 });
    await store.insertCard(card);
    for (let i = 0; i < 450; i++) await authorizedPayment(store, card, 100, { merchant: 'shop-d' });
    await sealMerchant(store.events, 'shop-d', { owner: 'sealer', now: Date.now() + 1, graceMs: 0 });
    let closing: Promise<void> | undefined;
    const first = startReceiptLoop({
      store, owner: 'gw-a', intervalMs: 3_600_000, onError: (_m, e) => { throw e; },
      // the first segment's signing closes the loop: its visit stops after that segment
      sign: async (request) => {
        closing ??= first.close();
        return signReceiptChain(ring, request);
      },
    });
    try {
      await first.runOnce();
      await closing;
      expect((await store.receipts.receiptHead('shop-d')).seq).toBe(200);
      expect(await store.events.receiptsDue()).toEqual(['shop-d']); // marked again for the next round
      const second = startReceiptLoop({ store, sign: async (request) => signReceiptChain(ring, request), owner: 'gw-b', intervalMs: 3_600_000, onError: (_m, e) => { throw e; } });
      // gw-a's lease is still held: gw-b takes over once it lapses, or at once when gw-a let it go
      await store.receipts.releaseSigner('shop-d', 'gw-a');
      await second.runOnce();
      await second.close();
      expect((await store.receipts.receiptHead('shop-d')).seq).toBe(450);
    } finally {
      await first.close();
      await close();
    }
  }, 60_000);
});
