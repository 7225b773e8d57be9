/**
 * The Batcher (gateway/pool/batcher.ts) on its own, with a fake `run`: a batch closes at maxItems at once, or
 * windowMs after its first item (0: the end of the I/O turn); while maxConcurrent batches run, requests keep
 * gathering; past maxWaiting a request is refused at once with PoolBusyError (the hub answers BUSY); a batch
 * that fails or returns the wrong number of results rejects all of its items and no others; `depth` counts
 * waiting plus running items and returns to 0. Two findings (a run that throws synchronously, maxConcurrent 0) are fixed.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Batcher, PoolBusyError, type BatcherOptions } from '../../gateway/pool/batcher.ts';

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
/**
 * `depth` drops when a batch's bookkeeping runs, a microtask after its items settle: what awaited the items
 * sees the batch for one more tick. Checks of the final depth wait for that.
 */
const settledDepth = async (batcher: { depth: number }) => (await turn(), batcher.depth);

/** A deferred: a promise and the hands that settle it. */
function deferred<T>(): { promise: Promise<T>; resolve(value: T): void; reject(e: unknown): void } {
  let resolve!: (value: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

/**
 * A run whose batches stay open until the test settles them: `batches` holds each call's items and its
 * deferred; `running`/`maxRunning` count calls in progress.
 */
function heldRun<O = number>() {
  const batches: { items: number[]; done: ReturnType<typeof deferred<O[]>> }[] = [];
  const state = { running: 0, maxRunning: 0 };
  const run = (items: number[]): Promise<O[]> => {
    const done = deferred<O[]>();
    batches.push({ items, done });
    state.maxRunning = Math.max(state.maxRunning, ++state.running);
    return done.promise.finally(() => state.running--);
  };
  return { run, batches, state };
}

const doubling = async (items: number[]) => items.map((x) => x * 2);

afterEach(() => {
  vi.useRealTimers();
});

describe('closing a batch', () => {
  it('at maxItems, at once (no timer), with exactly those items; the rest waits for the window', async () => {
    vi.useFakeTimers();
    const { run, batches } = heldRun();
    const sizes: number[] = [];
    const batcher = new Batcher(run, { maxItems: 3, windowMs: 10_000, onFlush: (n) => sizes.push(n) });
    const results = [1, 2, 3, 4].map((x) => batcher.submit(x));
    expect(batches.map((b) => b.items)).toEqual([[1, 2, 3]]); // synchronously, in submit()
    expect(sizes).toEqual([3]);
    await vi.advanceTimersByTimeAsync(9_999);
    expect(batches).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(batches.map((b) => b.items)).toEqual([[1, 2, 3], [4]]);
    batches[0].done.resolve([10, 20, 30]);
    batches[1].done.resolve([40]);
    expect(await Promise.all(results)).toEqual([10, 20, 30, 40]);
  });

  it('windowMs after the first item: later items do not move the deadline', async () => {
    vi.useFakeTimers();
    const { run, batches } = heldRun();
    const batcher = new Batcher(run, { maxItems: 100, windowMs: 50 });
    const first = batcher.submit(1);
    await vi.advanceTimersByTimeAsync(30);
    const second = batcher.submit(2);
    await vi.advanceTimersByTimeAsync(19);
    expect(batches).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(batches.map((b) => b.items)).toEqual([[1, 2]]);
    batches[0].done.resolve([1, 2]);
    await expect(Promise.all([first, second])).resolves.toEqual([1, 2]);
  });

  it('windowMs 0: everything submitted in one turn goes as one batch at the end of it, never synchronously', async () => {
    const { run, batches } = heldRun();
    const batcher = new Batcher(run, { maxItems: 64, windowMs: 0 });
    const results = Array.from({ length: 10 }, (_, i) => batcher.submit(i));
    expect(batches).toHaveLength(0);
    await turn();
    expect(batches.map((b) => b.items)).toEqual([[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]]);
    batches[0].done.resolve(batches[0].items.map((x) => x + 100));
    expect(await Promise.all(results)).toEqual([100, 101, 102, 103, 104, 105, 106, 107, 108, 109]);
  });

  it('refuses options that cannot work', () => {
    for (const opts of [{ maxItems: 0, windowMs: 0 }, { maxItems: 1, windowMs: -1 }, { maxItems: Number.NaN, windowMs: 0 }]) {
      expect(() => new Batcher(doubling, opts as BatcherOptions), JSON.stringify(opts)).toThrow(RangeError);
    }
  });
});

describe('maxConcurrent', () => {
  it('while every slot is busy requests gather, then leave in full batches, in order', async () => {
    const { run, batches, state } = heldRun();
    const sizes: number[] = [];
    const batcher = new Batcher(run, { maxItems: 4, windowMs: 0, maxConcurrent: 1, onFlush: (n) => sizes.push(n) });
    const first = batcher.submit(0);
    await turn();
    expect(batches).toHaveLength(1);
    const gathered = Array.from({ length: 10 }, (_, i) => batcher.submit(i + 1));
    await turn();
    expect(batches).toHaveLength(1); // nothing leaves while the one slot is busy, even with full batches waiting
    expect(batcher.depth).toBe(11);
    for (let i = 0; i < 4; i++) {
      const open = batches[batches.length - 1];
      open.done.resolve(open.items.map((x) => x * 10));
      await turn();
      await turn();
    }
    expect(sizes).toEqual([1, 4, 4, 2]);
    expect(batches.map((b) => b.items)).toEqual([[0], [1, 2, 3, 4], [5, 6, 7, 8], [9, 10]]);
    expect(state.maxRunning).toBe(1);
    expect(await Promise.all([first, ...gathered])).toEqual(Array.from({ length: 11 }, (_, i) => i * 10));
    expect(await settledDepth(batcher)).toBe(0);
  });

  it('never runs more than maxConcurrent batches, however many requests arrive at once', async () => {
    const state = { running: 0, maxRunning: 0, calls: 0 };
    const run = async (items: number[]) => {
      state.calls++;
      state.maxRunning = Math.max(state.maxRunning, ++state.running);
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 3));
      state.running--;
      return items.map((x) => x + 1);
    };
    const batcher = new Batcher(run, { maxItems: 8, windowMs: 0, maxConcurrent: 2 });
    const inputs = Array.from({ length: 2_000 }, (_, i) => i);
    const results = await Promise.all(inputs.map((x) => batcher.submit(x)));
    expect(results).toEqual(inputs.map((x) => x + 1));
    expect(state.maxRunning).toBe(2);
    expect(state.calls).toBeGreaterThanOrEqual(2_000 / 8);
    expect(await settledDepth(batcher)).toBe(0);
  });
});

describe('maxWaiting', () => {
  it('refuses requests past maxWaiting at once, and takes them again once the queue drains', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const batcher = new Batcher<number, number>(async (items) => (await gate, items.map((x) => x * 2)), { maxItems: 2, windowMs: 0, maxConcurrent: 1, maxWaiting: 3 });
    const first = batcher.submit(1); // in the running batch once the window closes
    await new Promise((resolve) => setImmediate(resolve));
    const waiting = [batcher.submit(2), batcher.submit(3), batcher.submit(4)];
    await expect(batcher.submit(5)).rejects.toBeInstanceOf(PoolBusyError);
    expect(batcher.depth).toBe(4);
    release();
    expect(await Promise.all([first, ...waiting])).toEqual([2, 4, 6, 8]);
    expect(await batcher.submit(6)).toBe(12);
  });

  it('counts only waiting requests (not running ones); a refusal is an Error naming the queue, and is not queued', async () => {
    const { run, batches } = heldRun();
    const batcher = new Batcher(run, { maxItems: 1, windowMs: 0, maxConcurrent: 1, maxWaiting: 2 });
    const inBatch = batcher.submit(1); // maxItems 1: straight into the running batch
    const queued = [batcher.submit(2), batcher.submit(3)];
    expect(batches).toHaveLength(1);
    const refusals = await Promise.allSettled(Array.from({ length: 50 }, (_, i) => batcher.submit(100 + i)));
    for (const r of refusals) {
      expect(r.status).toBe('rejected');
      const reason = (r as PromiseRejectedResult).reason;
      expect(reason).toBeInstanceOf(PoolBusyError);
      expect(reason).toBeInstanceOf(Error);
      expect((reason as Error).message).toBe('the crypto queue is full (2 requests waiting)');
    }
    expect(batcher.depth).toBe(3); // one running, two waiting, none of the refused
    for (let i = 0; i < 3; i++) {
      batches[i].done.resolve([batches[i].items[0] * 3]);
      await turn();
    }
    expect(await Promise.all([inBatch, ...queued])).toEqual([3, 6, 9]);
    expect(batches.flatMap((b) => b.items)).toEqual([1, 2, 3]); // the refused never reached run
    expect(await settledDepth(batcher)).toBe(0);
  });
});

describe('failures', () => {
  it('a failing batch rejects every one of its items with its error, and later batches still run', async () => {
    const boom = new Error('worker died');
    let call = 0;
    const batcher = new Batcher<number, number>(async (items) => {
      if (call++ === 0) throw boom;
      return items.map((x) => x * 2);
    }, { maxItems: 3, windowMs: 0, maxConcurrent: 1 });
    const failed = [1, 2, 3].map((x) => batcher.submit(x));
    const later = [4, 5, 6].map((x) => batcher.submit(x));
    const settled = await Promise.allSettled(failed);
    expect(settled.map((s) => (s as PromiseRejectedResult).reason)).toEqual([boom, boom, boom]);
    expect(await Promise.all(later)).toEqual([8, 10, 12]);
    expect(await batcher.submit(7)).toBe(14);
    expect(await settledDepth(batcher)).toBe(0);
  });

  it.each([
    ['fewer', (items: number[]) => items.slice(1)],
    ['more', (items: number[]) => [...items, 0]],
    ['no', () => []],
  ])('a batch returning %s results than items rejects all of them, and only them', async (_name, answer) => {
    let call = 0;
    const batcher = new Batcher<number, number>(async (items) => (call++ === 0 ? answer(items) : items), { maxItems: 2, windowMs: 0, maxConcurrent: 1 });
    const bad = [batcher.submit(1), batcher.submit(2)];
    const good = [batcher.submit(3), batcher.submit(4)];
    for (const r of await Promise.allSettled(bad)) {
      expect(r.status).toBe('rejected');
      expect(String((r as PromiseRejectedResult).reason)).toMatch(/^Error: batch returned \d+ results for 2 items$/);
    }
    expect(await Promise.all(good)).toEqual([3, 4]);
    expect(await settledDepth(batcher)).toBe(0);
  });

  it('failures interleaved with successes at random, under concurrency: each item gets its own batch\'s outcome', async () => {
    const outcomeOf = new Map<number, 'ok' | 'failed'>();
    const batcher = new Batcher<number, number>(async (items) => {
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 2));
      const fail = Math.random() < 0.3;
      for (const x of items) outcomeOf.set(x, fail ? 'failed' : 'ok');
      if (fail) throw new Error(`batch of ${items.length} failed`);
      return items.map((x) => x + 0.5);
    }, { maxItems: 5, windowMs: 0, maxConcurrent: 3, maxWaiting: 10_000 });
    const inputs = Array.from({ length: 1_000 }, (_, i) => i);
    const settled = await Promise.allSettled(inputs.map((x) => batcher.submit(x)));
    settled.forEach((s, x) => {
      expect(s.status === 'fulfilled' ? 'ok' : 'failed').toBe(outcomeOf.get(x));
      if (s.status === 'fulfilled') expect(s.value).toBe(x + 0.5);
    });
    expect(await settledDepth(batcher)).toBe(0);
  });
});

describe('depth', () => {
  it('is waiting plus running items, at every step, and 0 once everything settled', async () => {
    vi.useFakeTimers();
    const { run, batches } = heldRun();
    const batcher = new Batcher(run, { maxItems: 2, windowMs: 100, maxConcurrent: 1 });
    expect(batcher.depth).toBe(0);
    const a = [batcher.submit(1), batcher.submit(2)]; // full: runs at once
    expect(batcher.depth).toBe(2);
    const b = [batcher.submit(3), batcher.submit(4), batcher.submit(5)]; // waiting: the slot is busy
    expect(batcher.depth).toBe(5);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(batches).toHaveLength(1);
    batches[0].done.reject(new Error('x'));
    await expect(Promise.allSettled(a)).resolves.toHaveLength(2);
    await vi.advanceTimersByTimeAsync(0);
    expect(batches.map((x) => x.items)).toEqual([[1, 2], [3, 4]]); // a full batch leaves as soon as the slot frees
    expect(batcher.depth).toBe(3);
    batches[1].done.resolve([3, 4]);
    await vi.advanceTimersByTimeAsync(0);
    expect(batcher.depth).toBe(1); // 5 waits for its window
    await vi.advanceTimersByTimeAsync(100);
    batches[2].done.resolve([5]);
    expect(await Promise.all(b)).toEqual([3, 4, 5]);
    await vi.advanceTimersByTimeAsync(0); // (fake timers: the settled depth, as settledDepth waits for it)
    expect(batcher.depth).toBe(0);
  });
});

describe('findings, fixed (test/gateway/batcher.test.ts found them)', () => {
  it('a run that throws synchronously (instead of rejecting) fails its batch and frees its slot', async () => {
    let call = 0;
    const run = (items: number[]): Promise<number[]> => {
      if (call++ === 0) throw new Error('threw before returning a promise');
      return Promise.resolve(items);
    };
    const batcher = new Batcher(run, { maxItems: 1, windowMs: 0, maxConcurrent: 1 });
    await expect(batcher.submit(1)).rejects.toThrow('threw before returning a promise');
    const next = batcher.submit(2);
    const timeout = new Promise((resolve) => setTimeout(() => resolve('still waiting'), 200));
    expect(await Promise.race([next, timeout])).toBe(2);
  });

  it('refuses maxConcurrent < 1 (with 0, nothing would ever run)', () => {
    expect(() => new Batcher(doubling, { maxItems: 1, windowMs: 0, maxConcurrent: 0 })).toThrow(RangeError);
  });
});
