/**
 * issuer/store/expiring-map.ts: the embedded store's Map with deadlines. Against a plain model under random
 * operations (fast-check), and the cases the store relies on: a session's deadline moved later in place when it
 * is used, re-sets that extend or shorten, and forgetting without walking the map.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ExpiringMap } from '../../issuer/store/expiring-map.ts';

type Entry = { keepUntil: number; n: number };

describe('ExpiringMap', () => {
  it('returns an entry until its deadline and never after', () => {
    const map = new ExpiringMap<Entry>();
    map.set('a', { keepUntil: 100, n: 1 });
    expect(map.get('a', 99)?.n).toBe(1);
    expect(map.get('a', 100)).toBeUndefined();
    expect(map.size).toBe(0);
  });

  it('forgets expired entries on any read, without reading them', () => {
    const map = new ExpiringMap<Entry>();
    for (let i = 0; i < 1_000; i++) map.set(`k${i}`, { keepUntil: i < 600 ? 50 : 500, n: i });
    map.get('other', 60);
    expect(map.size).toBe(400);
    expect(map.get('k700', 60)?.n).toBe(700);
    map.get('other', 500);
    expect(map.size).toBe(0);
    expect(map.pendingDeadlines).toBe(0);
  });

  it('keeps an entry whose deadline was moved later in place, and forgets it at the new one', () => {
    const map = new ExpiringMap<Entry>();
    const entry = { keepUntil: 100, n: 1 };
    map.set('s', entry);
    entry.keepUntil = 10_000; // MemoryStore #claim: a used session is kept longer
    map.get('x', 5_000);
    expect(map.get('s', 5_000)?.n).toBe(1);
    map.get('x', 10_000);
    expect(map.size).toBe(0);
  });

  it('honours a deadline moved earlier in place on read', () => {
    const map = new ExpiringMap<Entry>();
    const entry = { keepUntil: 10_000, n: 1 };
    map.set('s', entry);
    entry.keepUntil = 100;
    expect(map.get('s', 200)).toBeUndefined();
  });

  it('re-sets that extend add no deadline pairs; one that shortens is honoured', () => {
    const map = new ExpiringMap<Entry>();
    for (let t = 1; t <= 10_000; t++) map.set('rate', { keepUntil: 1_000 + t, n: t }); // a rate unit taken 10,000 times
    expect(map.pendingDeadlines).toBe(1);
    map.set('rate', { keepUntil: 500, n: 0 });
    expect(map.get('rate', 499)?.n).toBe(0);
    expect(map.get('rate', 500)).toBeUndefined();
  });

  it('drops a deleted entry and lets its key be set again', () => {
    const map = new ExpiringMap<Entry>();
    map.set('a', { keepUntil: 100, n: 1 });
    map.delete('a');
    expect(map.get('a', 0)).toBeUndefined();
    map.set('a', { keepUntil: 1_000, n: 2 });
    expect(map.get('a', 500)?.n).toBe(2); // the old pair at 100 came up and left the new entry alone
    expect(map.get('a', 1_000)).toBeUndefined();
  });

  it('agrees with a plain Map that checks deadlines on read, under random operations', () => {
    const key = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f');
    const op = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), key, ttl: fc.integer({ min: 0, max: 50 }) }),
      fc.record({ kind: fc.constant('get' as const), key }),
      fc.record({ kind: fc.constant('delete' as const), key }),
      fc.record({ kind: fc.constant('extend' as const), key, by: fc.integer({ min: -20, max: 50 }) }), // in place
      fc.record({ kind: fc.constant('tick' as const), by: fc.integer({ min: 0, max: 30 }) }),
    );
    fc.assert(fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
      const map = new ExpiringMap<Entry>();
      const model = new Map<string, Entry>();
      let now = 0;
      let n = 0;
      for (const o of ops) {
        if (o.kind === 'tick') now += o.by;
        else if (o.kind === 'set') {
          const entry = { keepUntil: now + o.ttl, n: ++n };
          map.set(o.key, entry);
          model.set(o.key, entry);
        } else if (o.kind === 'delete') {
          map.delete(o.key);
          model.delete(o.key);
        } else if (o.kind === 'extend') {
          const entry = model.get(o.key);
          if (entry && entry.keepUntil > now) entry.keepUntil += o.by; // the same object the map holds
        } else {
          const live = model.get(o.key);
          const expected = live && live.keepUntil > now ? live.n : undefined;
          if (live && live.keepUntil <= now) model.delete(o.key);
          expect(map.get(o.key, now)?.n).toBe(expected);
        }
        expect(map.pendingDeadlines).toBeLessThanOrEqual(3 * 6 + 200);
      }
      for (const k of ['a', 'b', 'c', 'd', 'e', 'f']) {
        const live = model.get(k);
        expect(map.get(k, now)?.n).toBe(live && live.keepUntil > now ? live.n : undefined);
      }
      // everything still held is live: once every deadline has passed, a read leaves nothing behind
      map.get('probe', now + 1e9);
      expect(map.size).toBe(0);
    }), { numRuns: 500 });
  });
});
