/**
 * The maximum connection age (gateway/scanners/connection-age.ts) on a fake clock: no connection is ended before
 * 90 % of the age or lives past it, a busy one gets the grace and no more, a removed one is never ended, each
 * aged connection is ended once.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConnectionAges, GRACE_MS } from '../../gateway/scanners/connection-age.ts';

describe('ConnectionAges', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('ends every connection between 90 % and 100 % of the age, once; a busy one up to the grace later; a removed one never', () => {
    const ended: string[] = [];
    const busy = new Set<string>(['busy', 'stuck']);
    const ages = new ConnectionAges<string>(60_000, (conn) => ended.push(conn), (conn) => busy.has(conn));
    const idle = Array.from({ length: 50 }, (_, i) => `idle-${i}`);
    for (const conn of [...idle, 'busy', 'stuck', 'gone']) ages.add(conn);
    ages.remove('gone');

    vi.advanceTimersByTime(0.9 * 60_000 - 1);
    expect(ended).toEqual([]);
    vi.advanceTimersByTime(0.1 * 60_000 + 1);
    expect([...ended].sort()).toEqual([...idle].sort()); // all idle ones by the age, each once
    busy.delete('busy'); // its requests answered: ended at the next sweep
    vi.advanceTimersByTime(3_000);
    expect(ended).toContain('busy');
    expect(ended).not.toContain('stuck');
    vi.advanceTimersByTime(GRACE_MS); // busy for good: ended all the same once the grace is over
    expect(ended.filter((c) => c === 'stuck')).toHaveLength(1);
    vi.advanceTimersByTime(120_000);
    expect(ended).toHaveLength(52);
    expect(ended).not.toContain('gone');
    ages.stop();
  });
});
