/**
 * DVD-1 record layout in WASM linear memory (docs/core.md). Mirrors assembly/dvd1.ts.
 * @example
 *   const packed = new Uint8Array(records.length * DVD1_RECORD_SIZE);
 *   records.forEach((r, i) => encodeDvd1Record(r, packed, i * DVD1_RECORD_SIZE));
 */
import { ScanpayError } from './errors.ts';
import { abytes } from './bytes.ts';
import type { Dvd1OpenInput, Dvd1Record } from './types.ts';

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

/** Bytes of a DVD-1 open result: PAN[16] ‖ basicKey[32]. */
export const DVD1_OPENED_SIZE = 48;

const U64_MAX = (1n << 64n) - 1n;
const OPEN_FIELDS = ['kek', 'hdr', 'n1', 'c1', 'n2', 'c2'] as const;
const FIELD_NAMES = Object.keys(DVD1_FIELDS) as (keyof typeof DVD1_FIELDS)[];

function encodeFields<K extends keyof typeof DVD1_FIELDS>(
  names: readonly K[], record: Record<K, Uint8Array>, target: Uint8Array, offset: number,
): void {
  if (record === null || typeof record !== 'object') throw new ScanpayError('BAD_ARGUMENT', 'record must be an object');
  for (const name of names) {
    const [at, length] = DVD1_FIELDS[name];
    target.set(abytes(record[name], name, length), offset + at);
  }
}

/** Checks the payload fields of `input` and writes them at `offset` in `target` (the rest stays zero). */
export function encodeDvd1OpenInput(input: Dvd1OpenInput, target: Uint8Array, offset: number): void {
  encodeFields(OPEN_FIELDS, input, target, offset);
}

/** Checks every field of `record` and writes it at `offset` in `target`. */
export function encodeDvd1Record(record: Dvd1Record, target: Uint8Array, offset: number): void {
  encodeFields(FIELD_NAMES, record, target, offset);
  const amount = record.amount;
  if (typeof amount !== 'bigint' || amount < 0n || amount > U64_MAX) {
    throw new ScanpayError('BAD_ARGUMENT', 'amount must be a bigint in [0, 2^64)');
  }
  new DataView(target.buffer, target.byteOffset + offset + DVD1_AMOUNT_OFFSET, 8).setBigUint64(0, amount, false);
}
