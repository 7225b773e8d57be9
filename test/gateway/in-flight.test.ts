/**
 * The drain counter (gateway/in-flight.ts) a graceful shutdown waits on: track() counts a payment until it
 * settles (fulfilled or rejected) and hands back its outcome untouched; drain(ms) resolves true once nothing
 * is in flight, false when the time runs out first — also with many payments and many drains at once.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { InFlight } from '../../gateway/in-flight.ts';

function deferred<T = void>(): { promise: Promise<T>; resolve(value: T): void; reject(e: unknown): void } {
  let resolve!: (value: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

/** 'pending' if `p` has not settled after the microtasks queued now have run, else its value. */
async function peek<T>(p: Promise<T>): Promise<T | 'pending'> {
  return Promise.race([p, new Promise<'pending'>((resolve) => setImmediate(() => resolve('pending')))]);
}

afterEach(() => {
  vi.useRealTimers();
});

describe('track', () => {
  it('counts a payment until it settles, and passes its value or its rejection through', async () => {
    const inFlight = new InFlight();
    const ok = deferred<string>();
    const bad = deferred<string>();
    const a = inFlight.track(ok.promise);
    const b = inFlight.track(bad.promise);
    expect(inFlight.count).toBe(2);
    ok.resolve('paid');
    expect(await a).toBe('paid');
    expect(inFlight.count).toBe(1);
    const failure = new Error('store down');
    bad.reject(failure);
    await expect(b).rejects.toBe(failure);
    expect(inFlight.count).toBe(0);
  });

  it('a payment that already settled is counted for a moment and leaves no trace', async () => {
    const inFlight = new InFlight();
    await expect(inFlight.track(Promise.resolve(7))).resolves.toBe(7);
    await expect(inFlight.track(Promise.reject(new Error('no')))).rejects.toThrow('no');
    expect(inFlight.count).toBe(0);
    await expect(inFlight.drain(0)).resolves.toBe(true);
  });
});

describe('drain', () => {
  it('with nothing in flight: true at once, even with a timeout of 0', async () => {
    const inFlight = new InFlight();
    expect(await peek(inFlight.drain(0))).toBe(true);
    expect(await peek(inFlight.drain(60_000))).toBe(true);
  });

  it('resolves true only once the last payment settles, rejected ones included', async () => {
    const inFlight = new InFlight();
    const works = [deferred(), deferred(), deferred()];
    works.forEach((w) => inFlight.track(w.promise).catch(() => {}));
    const drained = inFlight.drain(60_000);
    works[0].resolve();
    works[1].reject(new Error('declined'));
    expect(await peek(drained)).toBe('pending');
    expect(inFlight.count).toBe(1);
    works[2].resolve();
    expect(await drained).toBe(true);
    expect(inFlight.count).toBe(0);
  });

  it('resolves false when the time runs out first; the payment is still counted, and a later drain sees it finish', async () => {
    vi.useFakeTimers();
    const inFlight = new InFlight();
    const stuck = deferred();
    void inFlight.track(stuck.promise);
    const first = inFlight.drain(1_000);
    await vi.advanceTimersByTimeAsync(999);
    expect(await Promise.race([first, Promise.resolve('pending')])).toBe('pending');
    await vi.advanceTimersByTimeAsync(1);
    expect(await first).toBe(false);
    expect(inFlight.count).toBe(1);
    const second = inFlight.drain(1_000);
    stuck.resolve();
    await vi.advanceTimersByTimeAsync(0);
    expect(await second).toBe(true);
    expect(inFlight.count).toBe(0);
    // the first drain's answer stands: a payment finishing later does not turn false into true
    expect(await first).toBe(false);
  });

  it('a drain with timeout 0 while busy answers false, without waiting', async () => {
    const inFlight = new InFlight();
    const work = deferred();
    void inFlight.track(work.promise);
    expect(await inFlight.drain(0)).toBe(false);
    work.resolve();
    await work.promise;
    expect(await inFlight.drain(0)).toBe(true);
  });

  it('leaves no timer behind once it resolved true (the process can exit)', async () => {
    vi.useFakeTimers();
    const inFlight = new InFlight();
    const work = deferred();
    void inFlight.track(work.promise);
    const drained = inFlight.drain(60_000);
    expect(vi.getTimerCount()).toBe(1);
    work.resolve();
    expect(await drained).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('each idle moment wakes the drains waiting then; a payment started afterwards needs a drain of its own', async () => {
    const inFlight = new InFlight();
    const a = deferred();
    void inFlight.track(a.promise);
    const before = inFlight.drain(60_000);
    a.resolve();
    expect(await before).toBe(true);
    const b = deferred();
    void inFlight.track(b.promise);
    const after = inFlight.drain(60_000);
    expect(await peek(after)).toBe('pending');
    b.resolve();
    expect(await after).toBe(true);
  });
});

describe('many at once', () => {
  it('10,000 payments settling in random order, with drains started throughout: the count never goes negative and every drain is true', async () => {
    const inFlight = new InFlight();
    const works = Array.from({ length: 10_000 }, () => deferred<number>());
    const tracked = works.map((w, i) => inFlight.track(w.promise).then((v) => {
      expect(inFlight.count).toBeGreaterThanOrEqual(0);
      return v + i;
    }, () => -1));
    expect(inFlight.count).toBe(10_000);
    const drains: Promise<boolean>[] = [];
    const order = works.map((_, i) => i).sort(() => Math.random() - 0.5);
    for (const [n, i] of order.entries()) {
      if (n % 1_000 === 0) drains.push(inFlight.drain(60_000));
      if (i % 7 === 0) works[i].reject(new Error('declined'));
      else works[i].resolve(0);
      if (n % 500 === 0) await Promise.resolve(); // let some settle between releases
    }
    const results = await Promise.all(tracked);
    expect(results.filter((r) => r === -1)).toHaveLength(works.filter((_, i) => i % 7 === 0).length);
    expect(await Promise.all(drains)).toEqual(new Array(10).fill(true));
    expect(inFlight.count).toBe(0);
  });

  it('many drains with different timeouts on one stuck payment: the short ones say false, the long ones true once it ends', async () => {
    vi.useFakeTimers();
    const inFlight = new InFlight();
    const work = deferred();
    void inFlight.track(work.promise);
    const drains = Array.from({ length: 100 }, (_, i) => ({ ms: (i + 1) * 10, answer: inFlight.drain((i + 1) * 10) }));
    await vi.advanceTimersByTimeAsync(500); // drains of ≤ 500 ms have timed out
    work.resolve();
    await vi.advanceTimersByTimeAsync(0);
    for (const { ms, answer } of drains) expect(await answer, `${ms} ms`).toBe(ms > 500);
    expect(vi.getTimerCount()).toBe(0);
  });
});
