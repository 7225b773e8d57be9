/**
 * The messages between the gateway thread and its crypto workers, and their one codec. A batch travels as
 * one transferred buffer of fixed-size requests and comes back as one transferred buffer of fixed-size
 * answers. Requests carry ciphertexts and rows as they are at rest (the wrapped basic key, never a clear
 * one, and no issuer key: the worker holds the key ring); answers carry no PAN and no basic key.
 *
 *   open request  (112 B): payload[112]
 *   open answer    (37 B): status[1] ‖ cardToken[16] ‖ last4[4] ‖ basicKeyCheck[16]
 *   pin request   (264 B): payload[112] ‖ cardToken[16] ‖ wrappedBasicKey[60] ‖ pvv[32] ‖ pin[4] ‖ sid[16] ‖ merchant[16] ‖ amount[8, BE]
 *   pin answer     (33 B): status[1] ‖ cryptogram[32]
 */
import { DVD1_AMOUNT, DVD1_CRYPTOGRAM_SIZE, DVD1_FIELDS } from '../../core/dvd1-layout.ts';
import { WRAPPED_BASIC_KEY_SIZE } from '../../issuer/card-secrets.ts';
import type { CardOpening, PinCheck, PinChecked } from '../../issuer/card-engine.ts';
import { BASIC_KEY_CHECK_SIZE } from '../../issuer/key-ring.ts';
import { PAYLOAD_SIZE } from '../../issuer/payload.ts';
import { isMinorUnits, isPin, merchantBytes } from '../../protocol/values.ts';

export type PoolTaskKind = 'open' | 'pin'; // DVD-1 steps 1–2 (scan) or the whole of DVD-1 (PIN)

export interface PoolTask {
  kind: PoolTaskKind;
  packed: ArrayBuffer; // count requests of REQUEST_SIZE[kind] bytes, transferred
  count: number;
}

/** One transferred buffer: count answers of ANSWER_SIZE[kind] bytes. */
export type PoolTaskResult = ArrayBuffer;

// the DVD-1 record's field sizes, from its one layout
const PVV = DVD1_FIELDS.storedPvv[1];
const PIN = DVD1_FIELDS.pin[1];
const SID = DVD1_FIELDS.sid[1];
const MERCHANT = DVD1_FIELDS.merchant[1];
const AMOUNT = DVD1_AMOUNT[1]; // u64 big-endian, as in the record
const CRYPTOGRAM = DVD1_CRYPTOGRAM_SIZE;
const TOKEN = 16; // a card token's bytes (32 hex)
const LAST4 = 4;

export const REQUEST_SIZE: Record<PoolTaskKind, number> = {
  open: PAYLOAD_SIZE,
  pin: PAYLOAD_SIZE + TOKEN + WRAPPED_BASIC_KEY_SIZE + PVV + PIN + SID + MERCHANT + AMOUNT,
};
export const ANSWER_SIZE: Record<PoolTaskKind, number> = { open: 1 + TOKEN + LAST4 + BASIC_KEY_CHECK_SIZE, pin: 1 + CRYPTOGRAM };

const ascii = new TextDecoder('latin1');

/** A batch's requests (each REQUEST_SIZE[kind] bytes) side by side in one buffer: the task a worker runs. */
export function packTask(kind: PoolTaskKind, requests: readonly Uint8Array[]): PoolTask {
  const size = REQUEST_SIZE[kind];
  const packed = new Uint8Array(requests.length * size);
  requests.forEach((request, i) => packed.set(request, i * size));
  return { kind, packed: packed.buffer, count: requests.length };
}

function putHex(target: Uint8Array, at: number, hex: string, size: number, what: string): void {
  if (hex.length !== size * 2) throw new RangeError(`${what} must be ${size * 2} hex characters`);
  const written = Buffer.from(target.buffer, target.byteOffset + at, size).write(hex, 'hex');
  if (written !== size) throw new RangeError(`${what} must be ${size * 2} hex characters`);
}

function putBytes(target: Uint8Array, at: number, bytes: Uint8Array, size: number, what: string): void {
  if (!(bytes instanceof Uint8Array) || bytes.length !== size) throw new RangeError(`${what} must be ${size} bytes`);
  target.set(bytes, at);
}

export function encodeOpenRequest(payload: Uint8Array, target: Uint8Array, at: number): void {
  putBytes(target, at, payload, PAYLOAD_SIZE, 'payload');
}

export function decodeOpenRequest(source: Uint8Array, at: number): Uint8Array {
  return source.subarray(at, at + PAYLOAD_SIZE);
}

export function encodePinRequest(check: PinCheck, target: Uint8Array, at: number): void {
  putBytes(target, at, check.payload, PAYLOAD_SIZE, 'payload');
  let o = at + PAYLOAD_SIZE;
  putHex(target, o, check.card, TOKEN, 'card token');
  putBytes(target, (o += TOKEN), check.wrappedBasicKey, WRAPPED_BASIC_KEY_SIZE, 'wrapped basic key');
  putBytes(target, (o += WRAPPED_BASIC_KEY_SIZE), check.pvv, PVV, 'pvv');
  o += PVV;
  if (!isPin(check.pin)) throw new RangeError('the PIN is 4 digits');
  for (let i = 0; i < PIN; i++) target[o + i] = check.pin.charCodeAt(i);
  putHex(target, (o += PIN), check.sessionId, SID, 'session id');
  target.set(merchantBytes(check.merchant), (o += SID));
  o += MERCHANT;
  if (!isMinorUnits(check.amount)) throw new RangeError('amount must be a whole number of minor units ≥ 0');
  new DataView(target.buffer, target.byteOffset).setBigUint64(o, BigInt(check.amount), false);
}

export function decodePinRequest(source: Uint8Array, at: number): PinCheck {
  const hex = (from: number, size: number) => Buffer.from(source.buffer, source.byteOffset + from, size).toString('hex');
  let o = at + PAYLOAD_SIZE;
  const card = hex(o, TOKEN);
  const wrappedBasicKey = source.subarray((o += TOKEN), o + WRAPPED_BASIC_KEY_SIZE);
  const pvv = source.subarray((o += WRAPPED_BASIC_KEY_SIZE), o + PVV);
  const pin = ascii.decode(source.subarray((o += PVV), o + PIN));
  const sessionId = hex((o += PIN), SID);
  const merchantField = source.subarray((o += SID), o + MERCHANT);
  const end = merchantField.indexOf(0);
  const merchant = new TextDecoder().decode(end < 0 ? merchantField : merchantField.subarray(0, end));
  const amount = Number(new DataView(source.buffer, source.byteOffset).getBigUint64((o += MERCHANT), false));
  return { payload: source.subarray(at, at + PAYLOAD_SIZE), card, wrappedBasicKey, pvv, pin, sessionId, merchant, amount };
}

export function encodeOpenAnswer(opening: CardOpening, target: Uint8Array, at: number): void {
  target[at] = opening.status;
  if (opening.status !== 0) return; // the rest stays zero
  putHex(target, at + 1, opening.card!, TOKEN, 'card token');
  for (let i = 0; i < LAST4; i++) target[at + 1 + TOKEN + i] = opening.last4!.charCodeAt(i);
  target.set(opening.basicKeyCheck!, at + 1 + TOKEN + LAST4);
}

export function decodeOpenAnswer(source: Uint8Array, at: number): CardOpening {
  const status = source[at];
  if (status !== 0) return { status, card: null, last4: null, basicKeyCheck: null };
  const o = at + 1;
  return {
    status,
    card: Buffer.from(source.buffer, source.byteOffset + o, TOKEN).toString('hex'),
    last4: ascii.decode(source.subarray(o + TOKEN, o + TOKEN + LAST4)),
    basicKeyCheck: source.slice(o + TOKEN + LAST4, o + TOKEN + LAST4 + BASIC_KEY_CHECK_SIZE),
  };
}

export function encodePinAnswer(checked: PinChecked, target: Uint8Array, at: number): void {
  target[at] = checked.status;
  if (checked.status === 0) target.set(checked.cryptogram!, at + 1);
}

export function decodePinAnswer(source: Uint8Array, at: number): PinChecked {
  const status = source[at];
  return { status, cryptogram: status === 0 ? source.slice(at + 1, at + 1 + CRYPTOGRAM) : null };
}
