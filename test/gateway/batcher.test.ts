/** The Batcher's bound: past maxWaiting a request is refused at once with PoolBusyError (the hub answers BUSY). */
import { expect, it } from 'vitest';
import { Batcher, PoolBusyError } from '../../gateway/pool/batcher.ts';

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
