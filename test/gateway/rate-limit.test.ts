/**
 * The per-scanner rate limit (gateway/scanners/rate-limit.ts) and the GCRA under it, the store's takeRate
 * (issuer/store/memory-store.ts; Redis: the TAKE_RATE script on the server's clock). On the memory store the
 * clock is faked, so the algorithm is checked to the millisecond: a burst and no more, one unit per interval
 * after it, a steady rate held forever, a refill capped at the burst, devices independent. On Redis (under a
 * private key prefix, deleted afterwards): the burst is exact under hundreds of concurrent takers over several
 * connections, refills on the server's clock, the steady rate is never exceeded, and the key expires.
 */
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { isScanpayError } from '../../core/errors.ts';
import { DeviceRateLimiter } from '../../gateway/scanners/rate-limit.ts';
import { MemoryStore } from '../../issuer/store/memory-store.ts';
import { RedisStore } from '../../issuer/store/redis-store.ts';
import { keyLayout } from '../../issuer/store/keys.ts';
import type { Store } from '../../issuer/store/types.ts';
import { deleteKeys, describeRedis, redisForTests, testKeyPrefix } from '../support/redis.ts';

const redis = await redisForTests();
afterAll(async () => {
  await redis?.stop();
});

const T0 = Date.UTC(2026, 0, 1);

/** How many of `n` takes succeed, taken one after another. */
async function takes(limiter: DeviceRateLimiter, deviceId: string, n: number): Promise<number> {
  let ok = 0;
  for (let i = 0; i < n; i++) if (await limiter.take(deviceId)) ok++;
  return ok;
}

/** How many of `n` takes succeed, all taken at once. */
async function concurrentTakes(limiters: DeviceRateLimiter[], deviceId: string, n: number): Promise<number> {
  const answers = await Promise.all(Array.from({ length: n }, (_, i) => limiters[i % limiters.length].take(deviceId)));
  return answers.filter(Boolean).length;
}

describe('DeviceRateLimiter over the memory store (GCRA on a faked clock)', () => {
  let store: MemoryStore;
  const at = (ms: number) => vi.setSystemTime(T0 + ms);

  afterEach(async () => {
    vi.useRealTimers();
    await store.close();
  });
  const limiter = (perSecond: number, burst: number) => {
    vi.useFakeTimers({ toFake: ['Date'] });
    at(0);
    store = new MemoryStore();
    return new DeviceRateLimiter(store, perSecond, burst);
  };

  it('a fresh device gets its burst at once, and not one more', async () => {
    const rate = limiter(20, 40);
    expect(await takes(rate, 'till-1', 100)).toBe(40);
  });

  it('after the burst: exactly one unit per interval (20/s: every 50 ms), never early', async () => {
    const rate = limiter(20, 5);
    expect(await takes(rate, 'till-1', 5)).toBe(5);
    at(49);
    expect(await rate.take('till-1')).toBe(false);
    at(50);
    expect(await rate.take('till-1')).toBe(true);
    expect(await rate.take('till-1')).toBe(false);
    at(100 + 49);
    expect(await takes(rate, 'till-1', 3)).toBe(1);
    at(300);
    // one unit back per 50 ms, at most 5: at 300 the last take (at 149) is still owed 50 ms, so 4
    expect(await takes(rate, 'till-1', 10)).toBe(4);
  });

  it('a steady rate at the limit is always let through; twice the limit gets half', async () => {
    const rate = limiter(10, 1); // one per 100 ms, no burst to spend
    let ok = 0;
    for (let t = 0; t < 60_000; t += 100) {
      at(t);
      if (await rate.take('steady')) ok++;
    }
    expect(ok).toBe(600);
    let half = 0;
    for (let t = 60_000; t < 120_000; t += 50) {
      at(t);
      if (await rate.take('steady')) half++;
    }
    expect(half).toBe(600);
  });

  it('idle time refills up to the burst, never beyond', async () => {
    const rate = limiter(4, 3); // one per 250 ms
    expect(await takes(rate, 'till-1', 3)).toBe(3);
    at(500);
    expect(await takes(rate, 'till-1', 5)).toBe(2);
    at(10 * 60_000); // ten minutes idle: 2,400 intervals, still only the burst
    expect(await takes(rate, 'till-1', 10)).toBe(3);
  });

  it('over any window, at most burst + window × rate units pass, whatever the pattern', async () => {
    const rate = limiter(50, 7); // 20 ms interval
    let t = 0;
    const passedAt: number[] = [];
    for (let i = 0; i < 5_000; i++) {
      t += Math.floor(Math.random() * 15); // bursts and lulls, often several takes in the same millisecond
      at(t);
      if (await rate.take('jittery')) passedAt.push(t);
    }
    for (let i = 0; i < passedAt.length; i += 37) {
      for (const window of [0, 20, 100, 1_000]) {
        const inWindow = passedAt.filter((p) => p >= passedAt[i] && p <= passedAt[i] + window).length;
        expect(inWindow).toBeLessThanOrEqual(7 + Math.floor(window / 20));
      }
    }
    expect(passedAt.length).toBeGreaterThan(t / 20 - 10); // and the rate is actually delivered
  });

  it('devices are independent: one spending its budget leaves the others theirs', async () => {
    const rate = limiter(1, 2);
    expect(await takes(rate, 'till-1', 10)).toBe(2);
    expect(await takes(rate, 'till-2', 10)).toBe(2);
    expect(await takes(rate, 'till_1', 10)).toBe(2);
  });

  it('1,000 concurrent takers for one device: exactly the burst passes', async () => {
    const rate = limiter(20, 40);
    expect(await concurrentTakes([rate], 'busy', 1_000)).toBe(40);
    at(1_000);
    expect(await concurrentTakes([rate], 'busy', 1_000)).toBe(20);
  });

  it('a device id the store cannot key is refused with BAD_ARGUMENT, not let through', async () => {
    const rate = limiter(20, 40);
    // (device ids reach the limiter only from verified tokens, 1-64 of [A-Za-z0-9_-]; these must still not pass)
    for (const id of ['a b', 'x'.repeat(200), 'till/1', 'till*', 'till\n1', 'tïll']) {
      const outcome = await rate.take(id).then(String, (e: unknown) => (isScanpayError(e) ? e.code : `foreign: ${String(e)}`));
      expect(outcome, JSON.stringify(id)).toBe('BAD_ARGUMENT');
    }
  });
});

describeRedis(redis, 'DeviceRateLimiter over Redis (the server\'s clock)', (server) => {
  const prefix = testKeyPrefix();
  const keys = keyLayout(prefix);
  const stores: Store[] = [];
  let raw: Redis;

  beforeAll(async () => {
    for (let i = 0; i < 3; i++) stores.push(await RedisStore.connect(server.url, { prefix }));
    raw = new Redis(server.url);
  });
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
    raw?.disconnect();
    await deleteKeys(server.url, prefix);
  });

  const limiters = (perSecond: number, burst: number) => stores.map((s) => new DeviceRateLimiter(s, perSecond, burst));
  const device = (() => {
    let n = 0;
    return () => `till-${n++}`;
  })();

  it('600 concurrent takers over three connections: exactly the burst passes', async () => {
    const id = device();
    expect(await concurrentTakes(limiters(0.001, 40), id, 600)).toBe(40); // no refill within the test
    expect(await concurrentTakes(limiters(0.001, 40), device(), 10)).toBe(10);
  });

  it('refills one unit per interval on the server\'s clock, up to the burst', async () => {
    const id = device();
    const rate = limiters(5, 3); // one per 200 ms
    expect(await concurrentTakes(rate, id, 10)).toBe(3);
    expect(await rate[0].take(id)).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 700)); // more than the 600 ms a full refill takes
    expect(await concurrentTakes(rate, id, 10)).toBe(3); // the burst again, not 4
  });

  it('a steady taker never gets more than burst + elapsed × rate, and does get the rate', async () => {
    const id = device();
    const rate = limiters(50, 2); // 20 ms interval
    const started = performance.now();
    let ok = 0;
    while (performance.now() - started < 1_000) {
      if (await rate[ok % 3].take(id)) ok++;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    const elapsed = performance.now() - started;
    expect(ok).toBeLessThanOrEqual(2 + Math.ceil(elapsed / 20) + 1); // +1: the server's clock and ours start apart
    expect(ok).toBeGreaterThanOrEqual(Math.floor((elapsed / 20) * 0.6)); // generous: a loaded machine may take late
  });

  it('keeps its state under the private prefix, as one key that expires once the budget is full again', async () => {
    const id = device();
    const rate = limiters(10, 2);
    expect(await takes(rate[0], id, 2)).toBe(2);
    const key = keys.rate(`device:${id}`);
    expect(key).toBe(`${prefix}rate:device:${id}`);
    const ttl = await raw.pttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(201); // full again 2 intervals from now
    await new Promise((resolve) => setTimeout(resolve, ttl + 50));
    expect(await raw.exists(key)).toBe(0);
  });

  it('many devices at once, each with its own burst, none spilling into another', async () => {
    const ids = Array.from({ length: 20 }, () => device());
    const rate = limiters(0.001, 5);
    const counts = await Promise.all(ids.map((id) => concurrentTakes(rate, id, 30)));
    expect(counts).toEqual(new Array(20).fill(5));
  });
});
