/**
 * Summaries of repeated measurements, for every benchmark (bench/lib imports nothing else from bench/).
 * @example
 *   median([3, 1, 2, 10]);      // 2.5
 *   quantile([3, 1, 2, 10], 0.9); // 10
 */

/** The middle value; with an even count, the mean of the two middle ones. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** The sample at rank ⌊q·n⌋ of the sorted values (q in [0, 1]): an observed value, never an interpolation. */
export function quantile(xs: readonly number[], q: number): number {
  return [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;
}

/** Least-squares slope of y over x (null with fewer than two distinct x). */
export function slope(points: readonly (readonly [number, number])[]): number | null {
  const n = points.length;
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  const sxx = points.reduce((a, [x]) => a + (x - mx) ** 2, 0);
  return sxx === 0 ? null : points.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0) / sxx;
}
