/**
 * Result comparison for DVD-1 cross-checks: implementations agree when every record gets the same
 * ok, status and cryptogram bytes. Returns a readable description of the first difference so a
 * failing bench or test says which record and which field.
 */
import type { Dvd1Result } from '../../core/types.ts';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

/** undefined when `actual` equals `expected` record by record, else what differs first. */
export function firstDifference(expected: readonly Dvd1Result[], actual: readonly Dvd1Result[]): string | undefined {
  if (expected.length !== actual.length) return `${actual.length} results, expected ${expected.length}`;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i]!;
    const a = actual[i]!;
    if (a.ok !== e.ok || a.status !== e.status) {
      return `record ${i}: ok=${a.ok} status=${a.status}, expected ok=${e.ok} status=${e.status}`;
    }
    if (!sameBytes(a.cryptogram, e.cryptogram)) {
      return `record ${i}: cryptogram ${hex(a.cryptogram)}, expected ${hex(e.cryptogram)}`;
    }
  }
  return undefined;
}
