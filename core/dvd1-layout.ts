/**
 * DVD-1 record layout in WASM linear memory (docs/core.md). Mirrors assembly/dvd1.ts.
 * @example
 *   const packed = new Uint8Array(records.length * DVD1_RECORD_SIZE);
 *   records.forEach((r, i) => encodeDvd1Record(r, packed, i * DVD1_RECORD_SIZE));
 */
import { ScanpayError } from './errors.ts';
import { abytes } from './bytes.ts';
import type { Dvd1Record } from './types.ts';

export const DVD1_RECORD_SIZE = 256;
export const DVD1_CRYPTOGRAM_SIZE = 32;

/** Field → [offset, length] inside one record. */
export const DVD1_FIELDS = {
  kek: [0, 32],
  hdr: [32, 8],
  n1: [40, 12],
  c1: [52, 32],
  n2: [84, 12],
  c2: [96, 48],
  storedBasicKey: [144, 32],
  storedPvv: [176, 32],
  pin: [208, 4],
  sid: [212, 16],
  merchant: [228, 16],
} as const satisfies Record<string, readonly [number, number]>;
export const DVD1_AMOUNT_OFFSET = 244;

const U64_MAX = (1n << 64n) - 1n;
const FIELD_NAMES = Object.keys(DVD1_FIELDS) as (keyof typeof DVD1_FIELDS)[];

/** Checks every field of `record` and writes it at `offset` in `target`. */
export function encodeDvd1Record(record: Dvd1Record, target: Uint8Array, offset: number): void {
  for (const name of FIELD_NAMES) {
    const [at, length] = DVD1_FIELDS[name];
    target.set(abytes(record[name], name, length), offset + at);
  }
  const amount = record.amount;
  if (typeof amount !== 'bigint' || amount < 0n || amount > U64_MAX) {
    throw new ScanpayError('BAD_ARGUMENT', 'amount must be a bigint in [0, 2^64)');
  }
  new DataView(target.buffer, target.byteOffset + offset + DVD1_AMOUNT_OFFSET, 8).setBigUint64(0, amount, false);
}
