/**
 * The gateway's sealer loop (gateway/ledger/sealer-loop.ts): merchants' events are sealed into their journals by
 * the timer; a round seals at most `maxMerchants` merchants and the next goes on from there; a failing store is
 * reported and the next round retries; each merchant's seal lease is let go after its round (a period close or
 * another gateway takes it at once, without waiting for it to lapse); close() stops the timer.
 */
import { describe, expect, it } from 'vitest';
import { SealerLoop } from '../../gateway/ledger/sealer-loop.ts';
import { MemoryStore, type EventStore } from '../../issuer/store/index.ts';
import { authorizedPayment, makeCard } from '../support/store-fixtures.ts';
import { until } from '../support/webhook-receiver.ts';

async function paymentsFor(store: MemoryStore, merchants: string[]): Promise<void> {
  const card = makeCard({ balance: 1_000_000, limit: 1_000_000 });
  await store.insertCard(card);
  for (const merchant of merchants) await authorizedPayment(store, card, 100, { merchant });
}

describe('SealerLoop', () => {
  it('seals every merchant\'s events on its timer, letting each merchant\'s lease go after it', async () => {
    const store = new MemoryStore();
    await paymentsFor(store, ['a', 'b', 'c']);
    const sealed: string[] = [];
    const loop = SealerLoop.start({ events: store.events, owner: 'gw-1', intervalMs: 10, onError: (e) => { throw e; }, onSealed: (m) => sealed.push(m) });
    await until(async () => (await Promise.all(['a', 'b', 'c'].map((m) => store.events.journalHead(m)))).every((h) => h.seq === 1), 'every journal sealed');
    expect(sealed.sort()).toEqual(['a', 'b', 'c']);
    for (const m of ['a', 'b', 'c']) {
      expect(await store.events.leaseSealer(m, 'gw-2', 15_000)).toBe(true); // not held between rounds
      await store.events.releaseSealer(m, 'gw-2');
    }
    await loop.close();
    await store.close();
  });

  it('a round seals at most maxMerchants; the next round goes on from where it stopped', async () => {
    const store = new MemoryStore();
    await paymentsFor(store, ['m1', 'm2', 'm3', 'm4', 'm5']);
    const sealed: string[] = [];
    const loop = SealerLoop.start({ events: store.events, owner: 'gw-1', intervalMs: 60_000, maxMerchants: 2, onError: (e) => { throw e; }, onSealed: (m) => sealed.push(m) });
    await loop.runRound();
    expect(sealed).toEqual(['m1', 'm2']);
    await loop.runRound();
    expect(sealed).toEqual(['m1', 'm2', 'm3', 'm4']);
    await loop.runRound();
    expect(sealed).toEqual(['m1', 'm2', 'm3', 'm4', 'm5']);
    await loop.close();
    await store.close();
  });

  it('a store that fails is reported, and the next round seals', async () => {
    const store = new MemoryStore();
    await paymentsFor(store, ['shop']);
    let failures = 2;
    const eventMerchants = async () => {
      if (failures-- > 0) throw new Error('store down');
      return store.events.eventMerchants();
    };
    const events = new Proxy(store.events, {
      get(target, prop) {
        if (prop === 'eventMerchants') return eventMerchants;
        const value: unknown = Reflect.get(target, prop);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    }) as EventStore;
    const errors: string[] = [];
    const loop = SealerLoop.start({ events, owner: 'gw-1', intervalMs: 10, onError: (e) => errors.push(e.message) });
    await until(async () => (await store.events.journalHead('shop')).seq === 1, 'the journal sealed after the failures');
    expect(errors).toEqual(['store down', 'store down']);
    await loop.close();
    await store.close();
  });
});
