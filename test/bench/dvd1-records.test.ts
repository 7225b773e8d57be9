/** The DVD-1 record generator must be reproducible, and encodeAmount must be a strict u64 BE encoder. */
import { describe, expect, it } from 'vitest';
import { isValidPan } from '../../bench/dvd1/luhn.ts';
import { CORRUPTIONS, encodeAmount, makeDvd1Cases, makeDvd1Records } from '../../bench/dvd1/records.ts';

describe('makeDvd1Records', () => {
  it('is deterministic per seed', () => {
    expect(makeDvd1Records(20, { seed: 3, badEvery: 4 })).toEqual(makeDvd1Records(20, { seed: 3, badEvery: 4 }));
    expect(makeDvd1Records(5, { seed: 3 })).not.toEqual(makeDvd1Records(5, { seed: 4 }));
  });

  it('keeps the valid records of a seed whatever badEvery is', () => {
    const clean = makeDvd1Records(12, { seed: 9 });
    const mixed = makeDvd1Records(12, { seed: 9, badEvery: 2 });
    for (let i = 0; i < 12; i += 2) expect(mixed[i]).toEqual(clean[i]);
  });

  it('rotates through every corruption on every badEvery-th record', () => {
    const kinds = makeDvd1Cases(24, { badEvery: 2 }).map((c) => c.corruption);
    expect(kinds.filter((_, i) => i % 2 === 0).every((k) => k === undefined)).toBe(true);
    expect(kinds.filter((_, i) => i % 2 === 1)).toEqual([...CORRUPTIONS, ...CORRUPTIONS]);
  });

  it('builds Luhn-valid PANs except for the luhn corruption', () => {
    for (const c of makeDvd1Cases(60, { badEvery: 1 })) expect(isValidPan(c.pan)).toBe(c.corruption !== 'luhn');
  });

  it('rejects bad arguments', () => {
    expect(() => makeDvd1Records(-1)).toThrow(RangeError);
    expect(() => makeDvd1Records(1, { badEvery: 0 })).toThrow(RangeError);
    expect(() => makeDvd1Records(1, { seed: 2 ** 32 })).toThrow(RangeError);
  });
});

describe('encodeAmount', () => {
  it('encodes u64 big-endian', () => {
    expect(encodeAmount(0x0102030405060708n)).toEqual(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8));
    expect(encodeAmount((1n << 64n) - 1n)).toEqual(new Uint8Array(8).fill(0xff));
  });

  it('rejects values outside u64', () => {
    expect(() => encodeAmount(-1n)).toThrow(RangeError);
    expect(() => encodeAmount(1n << 64n)).toThrow(RangeError);
  });
});
