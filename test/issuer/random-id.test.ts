import { describe, expect, it } from 'vitest';
import { randomHex } from '../../issuer/random-id.ts';

describe('randomHex', () => {
  it('hands out distinct ids of the asked length across many pool refills', () => {
    const seen = new Set<string>();
    // 3,000 × 14 and 16 bytes is about 22 pools of 4 KiB: draws land on every refill boundary
    for (let i = 0; i < 3_000; i++) {
      for (const bytes of [14, 16]) {
        const id = randomHex(bytes);
        expect(id).toMatch(new RegExp(`^[0-9a-f]{${2 * bytes}}$`));
        seen.add(id);
      }
    }
    expect(seen.size).toBe(6_000);
  });

  it('draws every hex digit about equally often (no zeroed bytes handed out)', () => {
    const counts = new Map<string, number>();
    const draws = 4_000;
    for (let i = 0; i < draws; i++) for (const c of randomHex(16)) counts.set(c, (counts.get(c) ?? 0) + 1);
    const expected = (draws * 32) / 16;
    expect(counts.size).toBe(16);
    // chi-square with 15 degrees of freedom: 50 is beyond p = 0.00001
    const chi = [...counts.values()].reduce((sum, n) => sum + (n - expected) ** 2 / expected, 0);
    expect(chi).toBeLessThan(50);
  });

  it('refuses a length it cannot serve', () => {
    for (const bad of [0, -1, 257, 1.5, Number.NaN]) expect(() => randomHex(bad)).toThrow(RangeError);
    expect(randomHex(256)).toHaveLength(512);
  });
});
