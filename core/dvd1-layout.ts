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

/** Checks one field and copies it in. */
function put(target: Uint8Array, offset: number, value: unknown, [at, length]: readonly [number, number], name: string): void {
  const bytes = abytes(value, name, length);
  target.set(bytes, offset + at);
}

function isObject(record: unknown): void {
  if (record === null || typeof record !== 'object') throw new ScanpayError('BAD_ARGUMENT', 'record must be an object');
}

/**
 * Checks the payload fields of `input` and writes them at `offset` in `target` (the rest stays zero).
 * Each field is read by name, not in a loop over names, so V8 keeps these property loads monomorphic.
 */
export function encodeDvd1OpenInput(input: Dvd1OpenInput, target: Uint8Array, offset: number): void {
  isObject(input);
  const f = DVD1_FIELDS;
  put(target, offset, input.kek, f.kek, 'kek');
  put(target, offset, input.hdr, f.hdr, 'hdr');
  put(target, offset, input.n1, f.n1, 'n1');
  put(target, offset, input.c1, f.c1, 'c1');
  put(target, offset, input.n2, f.n2, 'n2');
  put(target, offset, input.c2, f.c2, 'c2');
}

/** Checks every field of `record` and writes it at `offset` in `target`. */
export function encodeDvd1Record(record: Dvd1Record, target: Uint8Array, offset: number): void {
  encodeDvd1OpenInput(record, target, offset);
  const f = DVD1_FIELDS;
  put(target, offset, record.storedBasicKey, f.storedBasicKey, 'storedBasicKey');
  put(target, offset, record.storedPvv, f.storedPvv, 'storedPvv');
  put(target, offset, record.pin, f.pin, 'pin');
  put(target, offset, record.sid, f.sid, 'sid');
  put(target, offset, record.merchant, f.merchant, 'merchant');
  const amount = record.amount;
  if (typeof amount !== 'bigint' || amount < 0n || amount > U64_MAX) {
    throw new ScanpayError('BAD_ARGUMENT', 'amount must be a bigint in [0, 2^64)');
  }
  let hi = Number(amount >> 32n);
  let lo = Number(amount & 0xffffffffn);
  for (let i = 7, at = offset + DVD1_AMOUNT_OFFSET; i >= 4; i--, lo = Math.floor(lo / 256)) target[at + i] = lo & 0xff;
  for (let i = 3, at = offset + DVD1_AMOUNT_OFFSET; i >= 0; i--, hi = Math.floor(hi / 256)) target[at + i] = hi & 0xff;
}
