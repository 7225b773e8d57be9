/**
 * The DVD-1 codec: the record and result layout, the status bits and the HKDF labels as TypeScript knows
 * them, and the packer that the object API (core/wasm-core.ts) and the worker pool (gateway/pool/) share. The layout is defined once, in assembly/dvd1-layout.ts; the module exports every
 * value as a global, and `checkDvd1Layout` compares them with this file when a module is loaded, so a
 * module and a wrapper that disagree refuse to work together (CORE_LOAD_FAILED) instead of mis-packing.
 * @example
 *   const packed = new Uint8Array(records.length * DVD1_RECORD_SIZE);
 *   records.forEach((r, i) => encodeDvd1Record(r, packed, i * DVD1_RECORD_SIZE));
 */
import { ScanpayError } from './errors.ts';
import { abytes } from './bytes.ts';
import type { Dvd1OpenInput, Dvd1Record } from './types.ts';

export const DVD1_RECORD_SIZE = 256;

/** Byte field → [offset, length] inside one record. */
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
/** The amount: a u64, big-endian, at [offset, length]. */
export const DVD1_AMOUNT = [244, 8] as const;
export const DVD1_AMOUNT_OFFSET = DVD1_AMOUNT[0];

/** dvd1Batch: one cryptogram per record (all zero for a failed record). */
export const DVD1_CRYPTOGRAM_SIZE = 32;
/** dvd1OpenBatch: PAN ‖ basic key per record (all zero for a failed record). */
export const DVD1_OPENED_SIZE = 48;
export const DVD1_OPENED_FIELDS = { pan: [0, 16], basicKey: [16, 32] } as const satisfies Record<string, readonly [number, number]>;

/** Status bits of one DVD-1 record; 0 means every check passed. */
export const DVD1_STATUS = {
  PAN_TAG: 1, // encrypted PAN did not authenticate
  KEY_TAG: 2, // encrypted basic key did not authenticate
  LUHN: 4, // decrypted PAN fails Luhn
  BASIC_KEY: 8, // decrypted basic key differs from the stored one
  PVV: 16, // PIN verification value differs from the stored one
} as const;

/** HKDF info labels: kPin's info, and the prefix of kTxn's (followed by merchant ‖ amount). */
export const DVD1_LABELS = { pin: 'scanpay/v1/pin', txn: 'scanpay/v1/txn' } as const;

const U64_MAX = (1n << 64n) - 1n;
const snake = (name: string): string => name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();

/** The i32 globals a module must export, with the values this file expects (docs/abi.md). */
export function expectedDvd1Globals(): Record<string, number> {
  const globals: Record<string, number> = { DVD1_RECORD_SIZE };
  for (const [name, [offset, length]] of Object.entries({ ...DVD1_FIELDS, amount: DVD1_AMOUNT })) {
    globals[`DVD1_${snake(name)}_OFFSET`] = offset;
    globals[`DVD1_${snake(name)}_LENGTH`] = length;
  }
  globals.DVD1_CRYPTOGRAM_SIZE = DVD1_CRYPTOGRAM_SIZE;
  globals.DVD1_OPENED_SIZE = DVD1_OPENED_SIZE;
  for (const [name, [offset, length]] of Object.entries(DVD1_OPENED_FIELDS)) {
    globals[`DVD1_OPENED_${snake(name)}_OFFSET`] = offset;
    globals[`DVD1_OPENED_${snake(name)}_LENGTH`] = length;
  }
  for (const [bit, value] of Object.entries(DVD1_STATUS)) globals[`DVD1_STATUS_${bit}`] = value;
  for (const [name, label] of Object.entries(DVD1_LABELS)) globals[`DVD1_LABEL_${snake(name)}_LENGTH`] = label.length;
  return globals;
}

function globalValue(exports: WebAssembly.Exports, name: string): number | undefined {
  const g = exports[name];
  return g instanceof WebAssembly.Global && typeof g.value === 'number' ? g.value : undefined;
}

/** Where the module's layout differs from this file's, one line per difference (empty: they agree). */
export function dvd1LayoutMismatches(exports: WebAssembly.Exports): string[] {
  const mismatches: string[] = [];
  for (const [name, want] of Object.entries(expectedDvd1Globals())) {
    const got = globalValue(exports, name);
    if (got !== want) mismatches.push(`${name} is ${got ?? 'not exported'}, expected ${want}`);
  }
  const memory = exports.memory;
  for (const [name, label] of Object.entries(DVD1_LABELS)) {
    const global = `DVD1_LABEL_${snake(name)}`;
    const at = globalValue(exports, global);
    if (at === undefined || !(memory instanceof WebAssembly.Memory) || at < 0 || at + label.length > memory.buffer.byteLength) {
      mismatches.push(`${global} is not the address of a label in memory`);
      continue;
    }
    const bytes = new Uint8Array(memory.buffer, at, label.length);
    const text = String.fromCharCode(...bytes);
    if (text !== label) mismatches.push(`${global} is ${JSON.stringify(text)}, expected ${JSON.stringify(label)}`);
  }
  return mismatches;
}

/** Throws CORE_LOAD_FAILED unless the module exports exactly the layout of this file. */
export function checkDvd1Layout(exports: WebAssembly.Exports): void {
  const mismatches = dvd1LayoutMismatches(exports);
  if (mismatches.length > 0) {
    throw new ScanpayError('CORE_LOAD_FAILED', `the module's DVD-1 layout differs from this wrapper's (docs/abi.md): ${mismatches.join('; ')}`);
  }
}

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
