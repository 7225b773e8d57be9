/**
 * The in-process budgets per caller address (gateway/address-limiter.ts) that answer unauthenticated floods
 * from memory: GCRA on a faked clock (a burst at once, then the rate, refunds), memory bounded under a flood of
 * distinct addresses, and which addresses are one caller (IPv4, IPv4-mapped, an IPv6 /64).
 */
import { describe, expect, it } from 'vitest';
import { AddressLimiter, callerKey } from '../../gateway/address-limiter.ts';

function clocked(limit: { perSecond: number; burst: number }, maxCallers?: number) {
  let now = 1_000_000;
  const limiter = new AddressLimiter(limit, maxCallers, () => now);
  return { limiter, advance: (ms: number) => (now += ms) };
}

describe('AddressLimiter', () => {
  it('lets a burst through at once, then one unit per interval, per caller', () => {
    const { limiter, advance } = clocked({ perSecond: 10, burst: 5 });
    expect(Array.from({ length: 8 }, () => limiter.take('a'))).toEqual([true, true, true, true, true, false, false, false]);
    expect(limiter.take('b')).toBe(true); // another caller has its own budget
    advance(99);
    expect(limiter.take('a')).toBe(false);
    advance(1);
    expect(limiter.take('a')).toBe(true);
    expect(limiter.take('a')).toBe(false);
    advance(10_000); // idle time refills up to the burst, never beyond
    expect(Array.from({ length: 6 }, () => limiter.take('a')).filter(Boolean)).toHaveLength(5);
  });

  it('a refunded unit can be taken again; a refund never adds beyond a full budget', () => {
    const { limiter } = clocked({ perSecond: 1, burst: 2 });
    expect([limiter.take('a'), limiter.take('a'), limiter.take('a')]).toEqual([true, true, false]);
    limiter.refund('a');
    expect([limiter.take('a'), limiter.take('a')]).toEqual([true, false]);
    limiter.refund('a');
    limiter.refund('a');
    limiter.refund('a');
    limiter.refund('nobody');
    expect([limiter.take('a'), limiter.take('a'), limiter.take('a')]).toEqual([true, true, false]);
  });

  it('holds at most maxCallers under a flood of distinct addresses, and forgets callers back to a full budget', () => {
    const { limiter, advance } = clocked({ perSecond: 10, burst: 5 }, 1_000);
    let taken = 0;
    for (let i = 0; i < 200_000; i++) if (limiter.take(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`)) taken++;
    expect(taken).toBe(200_000);
    expect(limiter.size).toBeLessThanOrEqual(1_000);
    advance(1_000); // everyone's budget is full again: the next take sweeps them out
    limiter.take('a');
    expect(limiter.size).toBe(1);
  });

  it('refuses a limit it cannot apply', () => {
    expect(() => new AddressLimiter({ perSecond: 0, burst: 5 })).toThrow(RangeError);
    expect(() => new AddressLimiter({ perSecond: 1, burst: 0 })).toThrow(RangeError);
    expect(() => new AddressLimiter({ perSecond: 1, burst: 1.5 })).toThrow(RangeError);
  });
});

describe('callerKey', () => {
  it('an IPv4 address is its own caller, also written IPv4-mapped (as uWS does on a dual-stack listener)', () => {
    expect(callerKey('127.0.0.2')).toBe('127.0.0.2');
    expect(callerKey('0000:0000:0000:0000:0000:ffff:7f00:0002')).toBe('127.0.0.2');
    expect(callerKey('::ffff:127.0.0.2')).toBe('127.0.0.2');
  });

  it('IPv6 addresses of one /64 are one caller, in any spelling', () => {
    const key = callerKey('2001:0db8:0001:0002:0000:0000:0000:0001');
    expect(key).toBe('2001:db8:1:2::/64');
    for (const other of ['2001:db8:1:2::ffff', '2001:db8:1:2:abcd:1:2:3', '2001:DB8:1:2::1%eth0']) expect(callerKey(other)).toBe(key);
    expect(callerKey('2001:db8:1:3::1')).not.toBe(key);
    expect(callerKey('0000:0000:0000:0000:0000:0000:0000:0001')).toBe('0:0:0:0::/64');
  });

  it('text that is not an address is kept, cut to 64 characters', () => {
    expect(callerKey('')).toBe('');
    expect(callerKey('x'.repeat(100))).toBe('x'.repeat(64));
  });
});
