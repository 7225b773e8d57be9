/**
 * The DVD-1 codec: the record and result layout, the status bits and the HKDF labels as TypeScript knows
 * them, the record types, and the one packer and unpacker that the object API (core/wasm-core.ts) and the
 * crypto engine's batch format (issuer/card-batch.ts, which the worker pool carries) share: the slot
 * offsets, the payload span and the amount's encoding are written down here only. The layout is defined
 * once, in assembly/dvd1-layout.ts; the module exports every value as a global, and `checkDvd1Layout`
 * compares them with this file when a module is loaded, so a module and a wrapper that disagree refuse to
 * work together (CORE_LOAD_FAILED) instead of mis-packing.
 * @example
 *   const packed = new Uint8Array(records.length * DVD1_RECORD_SIZE);
 *   records.forEach((r, i) => encodeDvd1Record(r, packed, i * DVD1_RECORD_SIZE));
 */
import { ScanpayError } from './errors.ts';
import { abytes } from './bytes.ts';

/** One DVD-1 record: the crypto of one payment (issue #2, docs/core.md §DVD-1). */
export interface Dvd1Record {
  kek: Uint8Array; // 32 B issuer key
  hdr: Uint8Array; // 8 B payload header (AAD of both fields)
  n1: Uint8Array; // 12 B nonce of the encrypted PAN
  c1: Uint8Array; // 32 B: 16 B ciphertext of the ASCII PAN ‖ 16 B tag1
  n2: Uint8Array; // 12 B nonce of the encrypted basic key
  c2: Uint8Array; // 48 B: 32 B ciphertext of the basic key ‖ 16 B tag2 (AAD = hdr ‖ tag1)
  storedBasicKey: Uint8Array; // 32 B
  storedPvv: Uint8Array; // 32 B = HMAC(kPin, PAN ‖ PIN)
  pin: Uint8Array; // 4 ASCII digits
  sid: Uint8Array; // 16 B session id
  merchant: Uint8Array; // 16 B
  amount: bigint; // u64, encoded big-endian
}

/**
 * One code record (dvd1CodeBatch): a wallet's one-time code (card payload v2) checked against the card row, with
 * the PIN record's card-row and payment fields. `pin` is 4 zero bytes (or anything: not checked) when !withPin.
 */
export interface Dvd1CodeRecord extends Pick<Dvd1Record, 'storedBasicKey' | 'storedPvv' | 'pin' | 'sid' | 'merchant' | 'amount'> {
  code: Uint8Array; // 41 B as scanned: version ‖ enrolment id ‖ step ‖ counter ‖ mac (core/one-time-code.ts)
  pan: Uint8Array; // 16 ASCII digits (the worker unwraps it from the enrolment row)
  withPin: boolean; // the PIN was taken too: check it against storedPvv
}

/** dvd1EnrolBatch's answer for one PIN record: the wallet key and PAN only when every check passed. */
export interface Dvd1Enrolled {
  ok: boolean;
  status: number; // dvd1Batch's bits
  walletKey: Uint8Array | null; // 32 B: the caller wipes it
  pan: Uint8Array | null; // 16 ASCII digits: the caller wipes it
}

/** Packed dvd1EnrolBatch outputs: enrolled[i*48..+48] = wallet key ‖ PAN, and statuses[i]. The caller wipes `enrolled`. */
export interface Dvd1PackedEnrolled {
  enrolled: Uint8Array;
  statuses: Uint8Array;
  passed: number;
}

/** The payload half of a record: what DVD-1 steps 1–2 need before the card is looked up. */
export type Dvd1OpenInput = Pick<Dvd1Record, 'kek' | 'hdr' | 'n1' | 'c1' | 'n2' | 'c2'>;

/** Result of steps 1–2 for one payload: PAN and basic key only when every check passed. */
export interface Dvd1Opened {
  ok: boolean;
  status: number; // PAN_TAG | KEY_TAG | LUHN bits
  pan: Uint8Array | null; // 16 ASCII digits
  basicKey: Uint8Array | null; // 32 B: the caller must wipe it (fill(0)) when done
}

export interface Dvd1Result {
  ok: boolean; // status === 0
  status: number; // OR of DVD1_STATUS bits
  cryptogram: Uint8Array; // 32 B; all zero when !ok
}

/** Packed DVD-1 outputs: cryptograms[i*32..+32] and statuses[i] for record i. */
export interface Dvd1PackedResult {
  cryptograms: Uint8Array;
  statuses: Uint8Array;
  passed: number;
}

/** Packed DVD-1 open outputs: opened[i*48..+48] = PAN ‖ basic key, and statuses[i], for record i. The caller wipes `opened`. */
export interface Dvd1PackedOpened {
  opened: Uint8Array;
  statuses: Uint8Array;
  passed: number;
}

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
/**
 * The card payload (docs/card-payload.md: hdr ‖ n1 ‖ c1 ‖ n2 ‖ c2, 112 bytes) at [offset, length]: its fields
 * have their slots side by side in the same order, so a payload goes into a record in one copy.
 */
export const DVD1_PAYLOAD = [DVD1_FIELDS.hdr[0], DVD1_FIELDS.c2[0] + DVD1_FIELDS.c2[1] - DVD1_FIELDS.hdr[0]] as const;

/**
 * The code record's own fields (dvd1CodeBatch), in the PIN record's payload half; its other fields are the PIN
 * record's storedBasicKey, storedPvv, pin, sid, merchant and amount slots. `withPin` is one byte: 1 or 0.
 */
export const DVD1_CODE_FIELDS = {
  signed: [0, 25],
  mac: [25, 16],
  pan: [48, 16],
  withPin: [64, 1],
} as const satisfies Record<string, readonly [number, number]>;
/** The code's 41 bytes as scanned (signed ‖ mac) at [offset, length]: one copy into a code record. */
export const DVD1_CODE = [DVD1_CODE_FIELDS.signed[0], DVD1_CODE_FIELDS.signed[1] + DVD1_CODE_FIELDS.mac[1]] as const;

/** dvd1EnrolBatch: one 16-byte enrolment id per record, in an array of their own beside the records. */
export const DVD1_ENROLMENT_ID_SIZE = 16;
/** dvd1EnrolBatch: wallet key ‖ PAN per record (all zero for a failed record). */
export const DVD1_ENROLLED_SIZE = 48;
export const DVD1_ENROLLED_FIELDS = { walletKey: [0, 32], pan: [32, 16] } as const satisfies Record<string, readonly [number, number]>;

/** dvd1Batch and dvd1CodeBatch: one cryptogram per record (all zero for a failed record). */
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
  CODE_MAC: 128, // code records: the code's mac (or its version byte) does not verify
} as const;

/**
 * Labels: kPin's HKDF info, the prefix of kTxn's (followed by merchant ‖ amount), the prefix of the wallet key's
 * (followed by the enrolment id) and the code MAC's (followed by the code's 25 signed bytes).
 */
export const DVD1_LABELS = { pin: 'scanpay/v1/pin', txn: 'scanpay/v1/txn', walletKey: 'scanpay/v2/wallet-key', code: 'scanpay/v2/code\n' } as const;

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
  for (const [name, [offset, length]] of Object.entries(DVD1_CODE_FIELDS)) {
    globals[`DVD1_CODE_${snake(name)}_OFFSET`] = offset;
    globals[`DVD1_CODE_${snake(name)}_LENGTH`] = length;
  }
  globals.DVD1_ENROLMENT_ID_LENGTH = DVD1_ENROLMENT_ID_SIZE;
  globals.DVD1_ENROLLED_SIZE = DVD1_ENROLLED_SIZE;
  for (const [name, [offset, length]] of Object.entries(DVD1_ENROLLED_FIELDS)) {
    globals[`DVD1_ENROLLED_${snake(name)}_OFFSET`] = offset;
    globals[`DVD1_ENROLLED_${snake(name)}_LENGTH`] = length;
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

/** `value` when it is a Uint8Array of `length` bytes; else the typed error abytes throws. */
function field(value: unknown, name: string, length: number): Uint8Array {
  return value instanceof Uint8Array && value.length === length ? value : abytes(value, name, length);
}

function isObject(record: unknown): void {
  if (record === null || typeof record !== 'object') throw new ScanpayError('BAD_ARGUMENT', 'record must be an object');
}

/** The amount's 8 bytes on their way into a record: DataView.setBigUint64 splits a bigint without allocating one. */
const AMOUNT_BYTES = new Uint8Array(DVD1_AMOUNT[1]);
const AMOUNT_VIEW = new DataView(AMOUNT_BYTES.buffer);

/** Checks a record's amount (a bigint in [0, 2^64)) and writes it into the amount slot of the record at `offset`. */
function encodeAmount(amount: unknown, target: Uint8Array, offset: number): void {
  if (typeof amount !== 'bigint' || amount < 0n || amount > U64_MAX) {
    throw new ScanpayError('BAD_ARGUMENT', 'amount must be a bigint in [0, 2^64)');
  }
  writeDvd1Amount(target, offset, amount);
}

/**
 * Checks the payload fields of `input` and writes them at `offset` in `target` (the rest is left as it is).
 * Each field is read once, by name, not in a loop over names, so V8 keeps these property loads monomorphic.
 * On a bad field it throws having written only some of the record: the caller wipes `target` (both callers do).
 */
export function encodeDvd1OpenInput(input: Dvd1OpenInput, target: Uint8Array, offset: number): void {
  isObject(input);
  const f = DVD1_FIELDS;
  target.set(field(input.kek, 'kek', f.kek[1]), offset + f.kek[0]);
  target.set(field(input.hdr, 'hdr', f.hdr[1]), offset + f.hdr[0]);
  target.set(field(input.n1, 'n1', f.n1[1]), offset + f.n1[0]);
  target.set(field(input.c1, 'c1', f.c1[1]), offset + f.c1[0]);
  target.set(field(input.n2, 'n2', f.n2[1]), offset + f.n2[0]);
  target.set(field(input.c2, 'c2', f.c2[1]), offset + f.c2[0]);
}

/** Checks every field of `record` and writes it at `offset` in `target` (bytes 252–255 are left as they are). */
export function encodeDvd1Record(record: Dvd1Record, target: Uint8Array, offset: number): void {
  encodeDvd1OpenInput(record, target, offset);
  const f = DVD1_FIELDS;
  target.set(field(record.storedBasicKey, 'storedBasicKey', f.storedBasicKey[1]), offset + f.storedBasicKey[0]);
  target.set(field(record.storedPvv, 'storedPvv', f.storedPvv[1]), offset + f.storedPvv[0]);
  target.set(field(record.pin, 'pin', f.pin[1]), offset + f.pin[0]);
  target.set(field(record.sid, 'sid', f.sid[1]), offset + f.sid[0]);
  target.set(field(record.merchant, 'merchant', f.merchant[1]), offset + f.merchant[0]);
  encodeAmount(record.amount, target, offset);
}

/** Checks every field of a code record and writes it at `offset` in `target` (the unused bytes are left as they are). */
export function encodeDvd1CodeRecord(record: Dvd1CodeRecord, target: Uint8Array, offset: number): void {
  isObject(record);
  const f = DVD1_FIELDS;
  const c = DVD1_CODE_FIELDS;
  target.set(field(record.code, 'code', DVD1_CODE[1]), offset + DVD1_CODE[0]);
  target.set(field(record.pan, 'pan', c.pan[1]), offset + c.pan[0]);
  if (typeof record.withPin !== 'boolean') throw new ScanpayError('BAD_ARGUMENT', 'withPin must be a boolean');
  target[offset + c.withPin[0]] = record.withPin ? 1 : 0;
  target.set(field(record.storedBasicKey, 'storedBasicKey', f.storedBasicKey[1]), offset + f.storedBasicKey[0]);
  target.set(field(record.storedPvv, 'storedPvv', f.storedPvv[1]), offset + f.storedPvv[0]);
  target.set(field(record.pin, 'pin', f.pin[1]), offset + f.pin[0]);
  target.set(field(record.sid, 'sid', f.sid[1]), offset + f.sid[0]);
  target.set(field(record.merchant, 'merchant', f.merchant[1]), offset + f.merchant[0]);
  encodeAmount(record.amount, target, offset);
}

/** packDvd1Records for code records. */
export function packDvd1CodeRecords(records: readonly Dvd1CodeRecord[], first: number, count: number, target: Uint8Array, offset: number): void {
  for (let i = 0; i < count; i++) encodeDvd1CodeRecord(records[first + i]!, target, offset + i * DVD1_RECORD_SIZE);
}

/** The code record at `offset` in `source` with views into `source` (viewDvd1Record's counterpart). */
export function viewDvd1CodeRecord(source: Uint8Array, offset: number): Dvd1CodeRecord {
  const view = (slot: readonly [number, number]) => source.subarray(offset + slot[0], offset + slot[0] + slot[1]);
  const { storedBasicKey, storedPvv, pin, sid, merchant, amount } = viewDvd1Record(source, offset);
  const withPin = source[offset + DVD1_CODE_FIELDS.withPin[0]] !== 0;
  return { code: view(DVD1_CODE), pan: view(DVD1_CODE_FIELDS.pan), withPin, storedBasicKey, storedPvv, pin, sid, merchant, amount };
}

/**
 * dvd1EnrolBatch results from its outputs (`enrolled`: count × 48 bytes, `statuses`: count bytes): wallet key and
 * PAN copied out for the records that passed (each caller wipes them), null for the rest. The caller wipes `enrolled`.
 */
export function decodeDvd1Enrolled(enrolled: Uint8Array, statuses: Uint8Array): Dvd1Enrolled[] {
  const { walletKey, pan } = DVD1_ENROLLED_FIELDS;
  const results = new Array<Dvd1Enrolled>(statuses.length);
  for (let i = 0; i < statuses.length; i++) {
    const status = statuses[i]!;
    const at = i * DVD1_ENROLLED_SIZE;
    results[i] = status === 0
      ? { ok: true, status, walletKey: enrolled.slice(at + walletKey[0], at + walletKey[0] + walletKey[1]), pan: enrolled.slice(at + pan[0], at + pan[0] + pan[1]) }
      : { ok: false, status, walletKey: null, pan: null };
  }
  return results;
}

/**
 * encodeDvd1Record over `count` records from `records[first]`, one after another from `offset` in `target`.
 * One pass, each record checked and written while its small arrays are in cache (a batch's arrays need not all
 * fit: checking every record first and copying afterwards measured no faster). The object API's packer: a loop
 * of its own, so that the call in it sees one function (it can be inlined) where a per-record callback shared
 * by dvd1Batch and dvd1OpenBatch saw two.
 */
export function packDvd1Records(records: readonly Dvd1Record[], first: number, count: number, target: Uint8Array, offset: number): void {
  for (let i = 0; i < count; i++) encodeDvd1Record(records[first + i]!, target, offset + i * DVD1_RECORD_SIZE);
}

/** packDvd1Records for open inputs: only their payload fields are written (the rest of each record is left as it is). */
export function packDvd1OpenInputs(inputs: readonly Dvd1OpenInput[], first: number, count: number, target: Uint8Array, offset: number): void {
  for (let i = 0; i < count; i++) encodeDvd1OpenInput(inputs[first + i]!, target, offset + i * DVD1_RECORD_SIZE);
}

/**
 * Writes `amount` into the amount slot of the record at `offset`, u64 big-endian. It checks nothing: the
 * caller passes a bigint in [0, 2^64) or a safe integer ≥ 0 (the amounts of protocol/values.ts).
 */
export function writeDvd1Amount(target: Uint8Array, offset: number, amount: bigint | number): void {
  if (typeof amount === 'bigint') AMOUNT_VIEW.setBigUint64(0, amount, false);
  else {
    AMOUNT_VIEW.setUint32(0, Math.floor(amount / 0x1_0000_0000), false);
    AMOUNT_VIEW.setUint32(4, amount >>> 0, false);
  }
  target.set(AMOUNT_BYTES, offset + DVD1_AMOUNT[0]);
}

/**
 * The record at `offset` in `source` as a Dvd1Record whose byte fields are views into `source` (no copies:
 * wiping `source` wipes them). For implementations of the packed batch that work record by record.
 */
export function viewDvd1Record(source: Uint8Array, offset: number): Dvd1Record {
  const f = DVD1_FIELDS;
  const view = (slot: readonly [number, number]) => source.subarray(offset + slot[0], offset + slot[0] + slot[1]);
  const at = source.byteOffset + offset + DVD1_AMOUNT[0];
  return {
    kek: view(f.kek), hdr: view(f.hdr), n1: view(f.n1), c1: view(f.c1), n2: view(f.n2), c2: view(f.c2),
    storedBasicKey: view(f.storedBasicKey), storedPvv: view(f.storedPvv), pin: view(f.pin), sid: view(f.sid), merchant: view(f.merchant),
    amount: new DataView(source.buffer, at, DVD1_AMOUNT[1]).getBigUint64(0, false),
  };
}

/**
 * dvd1Batch results from its outputs (`cryptograms`: count × 32 bytes, `statuses`: count bytes), each
 * cryptogram copied into its own array, so the outputs can be wiped or reused afterwards.
 */
export function decodeDvd1Results(cryptograms: Uint8Array, statuses: Uint8Array): Dvd1Result[] {
  const results = new Array<Dvd1Result>(statuses.length);
  for (let i = 0; i < statuses.length; i++) {
    const status = statuses[i]!;
    const at = i * DVD1_CRYPTOGRAM_SIZE;
    results[i] = { ok: status === 0, status, cryptogram: cryptograms.slice(at, at + DVD1_CRYPTOGRAM_SIZE) };
  }
  return results;
}

/**
 * dvd1OpenBatch results from its outputs (`opened`: count × 48 bytes, `statuses`: count bytes): PAN and
 * basic key copied out for the records that passed (each caller wipes its basic key), null for the rest.
 * The caller wipes `opened`.
 */
export function decodeDvd1Opened(opened: Uint8Array, statuses: Uint8Array): Dvd1Opened[] {
  const { pan, basicKey } = DVD1_OPENED_FIELDS;
  const results = new Array<Dvd1Opened>(statuses.length);
  for (let i = 0; i < statuses.length; i++) {
    const status = statuses[i]!;
    const at = i * DVD1_OPENED_SIZE;
    results[i] = status === 0
      ? { ok: true, status, pan: opened.slice(at + pan[0], at + pan[0] + pan[1]), basicKey: opened.slice(at + basicKey[0], at + basicKey[0] + basicKey[1]) }
      : { ok: false, status, pan: null, basicKey: null };
  }
  return results;
}
