/**
 * The crypto engine's batch format (card-engine.ts): S22 opens and S25 PIN checks on their way to the thread
 * that holds the keys (card-crypto.ts), and their answers. A request is a DVD-1 record (core/dvd1-layout.ts)
 * with every slot its caller knows written once, here, on the caller's thread; the two slots only the key
 * holder can fill (kek, storedBasicKey) stay zero until CardCrypto fills them in place and hands the records
 * to the core's packed batch as they are. A PIN check also carries what the record has no slot for: the card
 * row's wrapped basic key and the card token it is bound to (as its 32 hex characters: the wrap's AAD).
 *
 *   open request  (256 B): record: payload in hdr‖n1‖c1‖n2‖c2, the rest zero
 *   pin request   (348 B): record: payload, storedPvv, pin, sid, merchant, amount; kek and storedBasicKey zero
 *                          ‖ side: wrappedBasicKey[60] ‖ cardToken[32, ASCII hex]
 *   enrol request (364 B): record: as a PIN request's, with sid, merchant and amount zero
 *                          ‖ side: wrappedBasicKey[60] ‖ cardToken[32, ASCII hex] ‖ enrolmentId[16]
 *   code request  (392 B): code record: code[41], withPin, storedPvv, pin (zero without one), sid, merchant, amount;
 *                          storedBasicKey and pan zero ‖ side: wrappedBasicKey[60] ‖ cardToken[32, ASCII hex] ‖ wrappedPan[44]
 *   a batch of n: open: n records; the others: n records, then their n side areas (a request is a batch of one)
 *   open answer   (53 B): status[1] ‖ cardToken[32, ASCII hex] ‖ last4[4] ‖ basicKeyCheck[16]
 *   pin answer    (33 B): status[1] ‖ cryptogram[32]        (the code answer too)
 *   enrol answer  (77 B): status[1] ‖ walletKey[32] ‖ wrappedPan[44]
 *
 * Values are checked once, at their boundary (the frame schemas and the store's validate.ts, by the rules of
 * protocol/values.ts); the encoders here only write them. A field of the wrong size is a programming error:
 * RangeError, naming the field and never its value.
 * @example
 *   const request = new Uint8Array(PIN_REQUEST_SIZE);
 *   encodePinRequest(check, request);                       // then CardCrypto.checkPinBatch(request, 1, answer)
 */
import {
  DVD1_CODE, DVD1_CODE_FIELDS, DVD1_CRYPTOGRAM_SIZE, DVD1_ENROLMENT_ID_SIZE, DVD1_FIELDS, DVD1_PAYLOAD, DVD1_RECORD_SIZE, writeDvd1Amount,
} from '../core/dvd1-layout.ts';
import type { CardOpening, CodeCheck, CodeChecked, EnrolmentCheck, EnrolmentChecked, PinCheck, PinChecked } from './card-engine.ts';
import { WRAPPED_BASIC_KEY_SIZE, WRAPPED_PAN_SIZE } from './card-secrets.ts';
import { BASIC_KEY_CHECK_SIZE } from './key-ring.ts';

/** A card token's text: 32 lower-case hex characters (IssuerKeyRing.cardToken), one byte each here. */
const CARD_TOKEN_TEXT = 32;
const LAST4 = 4;

/** Side area of a PIN request: field → [offset, length]. */
export const PIN_SIDE_FIELDS = {
  wrappedBasicKey: [0, WRAPPED_BASIC_KEY_SIZE],
  cardToken: [WRAPPED_BASIC_KEY_SIZE, CARD_TOKEN_TEXT],
} as const satisfies Record<string, readonly [number, number]>;
export const PIN_SIDE_SIZE = WRAPPED_BASIC_KEY_SIZE + CARD_TOKEN_TEXT;

/** Side area of an enrolment request: a PIN request's, then the enrolment id's 16 bytes. */
export const ENROL_SIDE_FIELDS = { ...PIN_SIDE_FIELDS, enrolmentId: [PIN_SIDE_SIZE, DVD1_ENROLMENT_ID_SIZE] } as const;
export const ENROL_SIDE_SIZE = PIN_SIDE_SIZE + DVD1_ENROLMENT_ID_SIZE;
/** Side area of a code request: a PIN request's, then the enrolment row's wrapped PAN. */
export const CODE_SIDE_FIELDS = { ...PIN_SIDE_FIELDS, wrappedPan: [PIN_SIDE_SIZE, WRAPPED_PAN_SIZE] } as const;
export const CODE_SIDE_SIZE = PIN_SIDE_SIZE + WRAPPED_PAN_SIZE;

export const OPEN_REQUEST_SIZE = DVD1_RECORD_SIZE;
export const PIN_REQUEST_SIZE = DVD1_RECORD_SIZE + PIN_SIDE_SIZE;
export const ENROL_REQUEST_SIZE = DVD1_RECORD_SIZE + ENROL_SIDE_SIZE;
export const CODE_REQUEST_SIZE = DVD1_RECORD_SIZE + CODE_SIDE_SIZE;

/** Open answer: field → [offset, length]. */
export const OPEN_ANSWER_FIELDS = {
  status: [0, 1],
  cardToken: [1, CARD_TOKEN_TEXT],
  last4: [1 + CARD_TOKEN_TEXT, LAST4],
  basicKeyCheck: [1 + CARD_TOKEN_TEXT + LAST4, BASIC_KEY_CHECK_SIZE],
} as const satisfies Record<string, readonly [number, number]>;
export const OPEN_ANSWER_SIZE = 1 + CARD_TOKEN_TEXT + LAST4 + BASIC_KEY_CHECK_SIZE;
export const PIN_ANSWER_SIZE = 1 + DVD1_CRYPTOGRAM_SIZE;
export const CODE_ANSWER_SIZE = PIN_ANSWER_SIZE;
const WALLET_KEY_SIZE = 32;
/** Enrolment answer: field → [offset, length]. */
export const ENROL_ANSWER_FIELDS = {
  status: [0, 1],
  walletKey: [1, WALLET_KEY_SIZE],
  wrappedPan: [1 + WALLET_KEY_SIZE, WRAPPED_PAN_SIZE],
} as const satisfies Record<string, readonly [number, number]>;
export const ENROL_ANSWER_SIZE = 1 + WALLET_KEY_SIZE + WRAPPED_PAN_SIZE;

const latin1 = new TextDecoder('latin1');

function putBytes(target: Uint8Array, at: number, bytes: Uint8Array, size: number, what: string): void {
  if (bytes.length !== size) throw new RangeError(`${what} must be ${size} bytes`);
  target.set(bytes, at);
}

/** One byte per character (the values written here are ASCII by their rules), zero-padded to `size` when `padded`. */
function putText(target: Uint8Array, at: number, text: string, size: number, what: string, padded = false): void {
  if (padded ? text.length > size : text.length !== size) throw new RangeError(`${what} must be ${padded ? 'at most ' : ''}${size} characters`);
  for (let i = 0; i < text.length; i++) target[at + i] = text.charCodeAt(i);
}

function putHex(target: Uint8Array, at: number, hex: string, size: number, what: string): void {
  const written = hex.length === size * 2 ? Buffer.from(target.buffer, target.byteOffset + at, size).write(hex, 'hex') : -1;
  if (written !== size) throw new RangeError(`${what} must be ${size * 2} hex characters`);
}

/** Writes an open request: the payload's 112 bytes into the record at `at` in `target` (its other slots are left as they are). */
export function encodeOpenRequest(payload: Uint8Array, target: Uint8Array, at = 0): void {
  putBytes(target, at + DVD1_PAYLOAD[0], payload, DVD1_PAYLOAD[1], 'payload');
}

/**
 * Writes a PIN request into `request` (PIN_REQUEST_SIZE bytes, zero where the key holder fills in): the
 * record first, its side area after it. The merchant goes in as protocol/values.ts merchantBytes binds it
 * (ASCII, zero-padded), the session id as its 16 bytes, the amount as the record's u64.
 */
export function encodePinRequest(check: PinCheck, request: Uint8Array): void {
  if (request.length !== PIN_REQUEST_SIZE) throw new RangeError(`a PIN request is ${PIN_REQUEST_SIZE} bytes`);
  const f = DVD1_FIELDS;
  encodeOpenRequest(check.payload, request);
  putBytes(request, f.storedPvv[0], check.pvv, f.storedPvv[1], 'pvv');
  putText(request, f.pin[0], check.pin, f.pin[1], 'the PIN');
  putHex(request, f.sid[0], check.sessionId, f.sid[1], 'session id');
  putText(request, f.merchant[0], check.merchant, f.merchant[1], 'merchant', true);
  writeDvd1Amount(request, 0, check.amount);
  const side = DVD1_RECORD_SIZE;
  putBytes(request, side + PIN_SIDE_FIELDS.wrappedBasicKey[0], check.wrappedBasicKey, WRAPPED_BASIC_KEY_SIZE, 'wrapped basic key');
  putText(request, side + PIN_SIDE_FIELDS.cardToken[0], check.card, CARD_TOKEN_TEXT, 'card token');
}

/**
 * Requests of one kind with a side area (PIN, enrolment, code: each DVD1_RECORD_SIZE + sideSize bytes) as one batch:
 * their records side by side, then their side areas.
 */
export function packSidedBatch(requests: readonly Uint8Array[], sideSize: number): Uint8Array {
  const count = requests.length;
  const size = DVD1_RECORD_SIZE + sideSize;
  const batch = new Uint8Array(count * size);
  requests.forEach((request, i) => {
    batch.set(request.subarray(0, DVD1_RECORD_SIZE), i * DVD1_RECORD_SIZE);
    batch.set(request.subarray(DVD1_RECORD_SIZE, size), count * DVD1_RECORD_SIZE + i * sideSize);
  });
  return batch;
}

/** A batch of `count` sided requests as its two parts (views): the records the core reads, and the side areas. */
export function sidedBatchParts(batch: Uint8Array, count: number, sideSize: number): { records: Uint8Array; sides: Uint8Array } {
  const size = DVD1_RECORD_SIZE + sideSize;
  if (batch.length !== count * size) throw new RangeError(`a batch of ${count} requests of ${size} bytes is ${count * size} bytes`);
  const split = count * DVD1_RECORD_SIZE;
  return { records: batch.subarray(0, split), sides: batch.subarray(split) };
}

/**
 * Writes an enrolment request into `request` (ENROL_REQUEST_SIZE bytes, zero where the key holder fills in): a PIN
 * request's record without a payment (sid, merchant and amount stay zero), and the enrolment id in its side area.
 */
export function encodeEnrolmentRequest(check: EnrolmentCheck, request: Uint8Array): void {
  if (request.length !== ENROL_REQUEST_SIZE) throw new RangeError(`an enrolment request is ${ENROL_REQUEST_SIZE} bytes`);
  const f = DVD1_FIELDS;
  encodeOpenRequest(check.payload, request);
  putBytes(request, f.storedPvv[0], check.pvv, f.storedPvv[1], 'pvv');
  putText(request, f.pin[0], check.pin, f.pin[1], 'the PIN');
  const side = DVD1_RECORD_SIZE;
  putBytes(request, side + ENROL_SIDE_FIELDS.wrappedBasicKey[0], check.wrappedBasicKey, WRAPPED_BASIC_KEY_SIZE, 'wrapped basic key');
  putText(request, side + ENROL_SIDE_FIELDS.cardToken[0], check.card, CARD_TOKEN_TEXT, 'card token');
  putHex(request, side + ENROL_SIDE_FIELDS.enrolmentId[0], check.enrolmentId, DVD1_ENROLMENT_ID_SIZE, 'enrolment id');
}

/**
 * Writes a code request into `request` (CODE_REQUEST_SIZE bytes, zero where the key holder fills in: the stored
 * basic key and the PAN): the code as scanned, withPin and the PIN when one was taken, the card row's PVV and the
 * payment as a PIN request writes them; the wrapped basic key, card token and wrapped PAN in its side area.
 */
export function encodeCodeRequest(check: CodeCheck, request: Uint8Array): void {
  if (request.length !== CODE_REQUEST_SIZE) throw new RangeError(`a code request is ${CODE_REQUEST_SIZE} bytes`);
  const f = DVD1_FIELDS;
  putBytes(request, DVD1_CODE[0], check.code, DVD1_CODE[1], 'code');
  if (check.pin !== null) {
    request[DVD1_CODE_FIELDS.withPin[0]] = 1;
    putText(request, f.pin[0], check.pin, f.pin[1], 'the PIN');
  }
  putBytes(request, f.storedPvv[0], check.pvv, f.storedPvv[1], 'pvv');
  putHex(request, f.sid[0], check.sessionId, f.sid[1], 'session id');
  putText(request, f.merchant[0], check.merchant, f.merchant[1], 'merchant', true);
  writeDvd1Amount(request, 0, check.amount);
  const side = DVD1_RECORD_SIZE;
  putBytes(request, side + CODE_SIDE_FIELDS.wrappedBasicKey[0], check.wrappedBasicKey, WRAPPED_BASIC_KEY_SIZE, 'wrapped basic key');
  putText(request, side + CODE_SIDE_FIELDS.cardToken[0], check.card, CARD_TOKEN_TEXT, 'card token');
  putBytes(request, side + CODE_SIDE_FIELDS.wrappedPan[0], check.wrappedPan, WRAPPED_PAN_SIZE, 'wrapped PAN');
}

/** PIN requests (each PIN_REQUEST_SIZE bytes) as one batch: their records side by side, then their side areas. */
export function packPinBatch(requests: readonly Uint8Array[]): Uint8Array {
  return packSidedBatch(requests, PIN_SIDE_SIZE);
}

/** A PIN batch of `count` requests as its two parts (views): the records the core reads, and the side areas. */
export function pinBatchParts(batch: Uint8Array, count: number): { records: Uint8Array; sides: Uint8Array } {
  return sidedBatchParts(batch, count, PIN_SIDE_SIZE);
}

/** Writes open answer `i`: the status, and for status 0 the card token, the last 4 digits and the basic-key check. */
export function writeOpenAnswer(answers: Uint8Array, i: number, status: number, opened?: { card: string; last4: string; basicKeyCheck: Uint8Array }): void {
  const at = i * OPEN_ANSWER_SIZE;
  const f = OPEN_ANSWER_FIELDS;
  answers[at] = status;
  if (!opened) return; // the rest stays zero
  putText(answers, at + f.cardToken[0], opened.card, CARD_TOKEN_TEXT, 'card token');
  putText(answers, at + f.last4[0], opened.last4, LAST4, 'last 4 digits');
  putBytes(answers, at + f.basicKeyCheck[0], opened.basicKeyCheck, BASIC_KEY_CHECK_SIZE, 'basic-key check');
}

export function decodeOpenAnswer(answers: Uint8Array, i: number): CardOpening {
  const at = i * OPEN_ANSWER_SIZE;
  const status = answers[at]!;
  if (status !== 0) return { status, card: null, last4: null, basicKeyCheck: null };
  const field = ([offset, length]: readonly [number, number]) => answers.subarray(at + offset, at + offset + length);
  const f = OPEN_ANSWER_FIELDS;
  return { status, card: latin1.decode(field(f.cardToken)), last4: latin1.decode(field(f.last4)), basicKeyCheck: field(f.basicKeyCheck).slice() };
}

/** Writes PIN answer `i`: the status, and for status 0 the cryptogram. */
export function writePinAnswer(answers: Uint8Array, i: number, status: number, cryptogram?: Uint8Array): void {
  const at = i * PIN_ANSWER_SIZE;
  answers[at] = status;
  if (cryptogram) putBytes(answers, at + 1, cryptogram, DVD1_CRYPTOGRAM_SIZE, 'cryptogram');
}

export function decodePinAnswer(answers: Uint8Array, i: number): PinChecked {
  const at = i * PIN_ANSWER_SIZE;
  const status = answers[at]!;
  return { status, cryptogram: status === 0 ? answers.slice(at + 1, at + 1 + DVD1_CRYPTOGRAM_SIZE) : null };
}

/** Writes code answer `i`: the status, and for status 0 the cryptogram (the PIN answer's format). */
export function writeCodeAnswer(answers: Uint8Array, i: number, status: number, cryptogram?: Uint8Array): void {
  writePinAnswer(answers, i, status, cryptogram);
}

export function decodeCodeAnswer(answers: Uint8Array, i: number): CodeChecked {
  const { status, cryptogram } = decodePinAnswer(answers, i);
  return { ok: status === 0, status, cryptogram };
}

/** Writes enrolment answer `i`: the status, and for status 0 the wallet key and the wrapped PAN. */
export function writeEnrolmentAnswer(answers: Uint8Array, i: number, status: number, enrolled?: { walletKey: Uint8Array; wrappedPan: Uint8Array }): void {
  const at = i * ENROL_ANSWER_SIZE;
  const f = ENROL_ANSWER_FIELDS;
  answers[at] = status;
  if (!enrolled) return;
  putBytes(answers, at + f.walletKey[0], enrolled.walletKey, WALLET_KEY_SIZE, 'wallet key');
  putBytes(answers, at + f.wrappedPan[0], enrolled.wrappedPan, WRAPPED_PAN_SIZE, 'wrapped PAN');
}

/** Enrolment answer `i`, its wallet key and wrapped PAN copied out (the caller wipes `answers`, and the wallet key once handed over). */
export function decodeEnrolmentAnswer(answers: Uint8Array, i: number): EnrolmentChecked {
  const at = i * ENROL_ANSWER_SIZE;
  const status = answers[at]!;
  if (status !== 0) return { ok: false, status, walletKey: null, wrappedPan: null };
  const field = ([offset, length]: readonly [number, number]) => answers.slice(at + offset, at + offset + length);
  return { ok: true, status, walletKey: field(ENROL_ANSWER_FIELDS.walletKey), wrappedPan: field(ENROL_ANSWER_FIELDS.wrappedPan) };
}
