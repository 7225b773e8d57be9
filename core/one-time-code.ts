/**
 * Card payload v2: the one-time payment code a browser wallet shows (docs/card-payload.md §Payload v2, issue 26).
 * Engine-neutral (no Node APIs): the wallet page runs it beside the WASM core, the gateway parses with it.
 *
 *   code[41]  = version(1) = 0x02 ‖ enrolmentId[16] ‖ step(u32 BE) ‖ counter(u32 BE) ‖ mac[16]
 *   mac       = HMAC-SHA256(walletKey, "scanpay/v2/code\n" ‖ code[0..25])[0..16]
 *   walletKey = HKDF-SHA256(ikm = basic key, salt = "", info = "scanpay/v2/wallet-key" ‖ enrolmentId, L = 32)
 *   step      = floor(unix seconds / 30); text = base45 (RFC 9285) of the 41 bytes: 62 characters
 *
 * Parsing errors match v1's (issuer/payload.ts): text longer than PAYLOAD_TEXT_MAX is PAYLOAD_TOO_LARGE, any
 * other shape PAYLOAD_MALFORMED; only the canonical base45 spelling is accepted. Authenticity is not checked
 * here: the gateway's crypto workers verify the MAC (the DVD-1 code record, docs/core.md).
 * @example
 *   const walletKey = deriveWalletKey(core, basicKey, enrolmentId);          // once, at enrolment (the worker does it)
 *   const { text } = oneTimeCode(core, walletKey, { enrolmentId, step: codeTimeStep(Date.now()), counter: 7 });
 */
import { abytes, aint } from './bytes.ts';
import { decodeBase45, encodeBase45 } from './base45.ts';
import { DVD1_LABELS } from './dvd1-layout.ts';
import { ScanpayError } from './errors.ts';
import type { CryptoCore } from './types.ts';

export const CODE_VERSION = 2;
export const ENROLMENT_ID_SIZE = 16;
export const WALLET_KEY_SIZE = 32;
/** The bytes the MAC covers (after its label): version ‖ enrolment id ‖ step ‖ counter. */
export const CODE_SIGNED_SIZE = 1 + ENROLMENT_ID_SIZE + 4 + 4;
export const CODE_MAC_SIZE = 16;
export const CODE_SIZE = CODE_SIGNED_SIZE + CODE_MAC_SIZE;
/** Base45 length of a code: 62 characters. */
export const CODE_TEXT_LENGTH = (CODE_SIZE - 1) / 2 * 3 + 2;
/** Longest text either payload version's parser looks at (v1's PAYLOAD_TEXT_MAX): longer is PAYLOAD_TOO_LARGE. */
export const CODE_TEXT_MAX = 256;
/** Seconds per time step, and the steps of clock skew accepted either side of the gateway's (the contract's window rule). */
export const CODE_STEP_SECONDS = 30;
export const CODE_SKEW_STEPS = 1;
/** The HKDF info prefix of the wallet key (followed by the 16 raw enrolment id bytes) and the MAC's label (the core's). */
export const CODE_LABELS = { walletKey: DVD1_LABELS.walletKey, code: DVD1_LABELS.code } as const;

/** Field → [offset, length] in the 41 code bytes. */
export const CODE_FIELDS = {
  version: [0, 1],
  enrolmentId: [1, ENROLMENT_ID_SIZE],
  step: [17, 4],
  counter: [21, 4],
  mac: [CODE_SIGNED_SIZE, CODE_MAC_SIZE],
} as const satisfies Record<string, readonly [number, number]>;

/** What a code says before its MAC: whose it is and when. */
export interface CodeFields {
  enrolmentId: Uint8Array; // 16 B
  step: number; // u32: floor(unix seconds / 30) when it was shown
  counter: number; // u32: the wallet's per-enrolment counter
}

export interface OneTimeCode extends CodeFields {
  mac: Uint8Array; // 16 B
}

const U32_MAX = 0xffff_ffff;
const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);
const WALLET_KEY_INFO = ascii(CODE_LABELS.walletKey);
const CODE_LABEL = ascii(CODE_LABELS.code);
const EMPTY = new Uint8Array(0);

function writeU32(target: Uint8Array, at: number, value: number): void {
  target[at] = value >>> 24;
  target[at + 1] = value >>> 16;
  target[at + 2] = value >>> 8;
  target[at + 3] = value;
}

const readU32 = (bytes: Uint8Array, at: number): number =>
  ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;

/** Checks the fields once (BAD_ARGUMENT / BAD_LENGTH) and writes version ‖ enrolment id ‖ step ‖ counter at `at`. */
function writeSigned(fields: CodeFields, target: Uint8Array, at: number): void {
  if (fields === null || typeof fields !== 'object') throw new ScanpayError('BAD_ARGUMENT', 'code fields must be an object');
  const enrolmentId = abytes(fields.enrolmentId, 'enrolmentId', ENROLMENT_ID_SIZE);
  const step = aint(fields.step, 'step', 0, U32_MAX);
  const counter = aint(fields.counter, 'counter', 0, U32_MAX);
  target[at] = CODE_VERSION;
  target.set(enrolmentId, at + CODE_FIELDS.enrolmentId[0]);
  writeU32(target, at + CODE_FIELDS.step[0], step);
  writeU32(target, at + CODE_FIELDS.counter[0], counter);
}

/** The 41 code bytes of `code` (its fields checked: BAD_ARGUMENT / BAD_LENGTH). */
export function encodeCode(code: OneTimeCode): Uint8Array {
  const bytes = new Uint8Array(CODE_SIZE);
  writeSigned(code, bytes, 0);
  bytes.set(abytes(code.mac, 'mac', CODE_MAC_SIZE), CODE_FIELDS.mac[0]);
  return bytes;
}

/** The code's text: base45 of its 41 bytes (62 characters, QR alphanumeric). */
export function codeText(bytes: Uint8Array): string {
  abytes(bytes, 'code', CODE_SIZE);
  return encodeBase45(bytes);
}

/**
 * The 41 bytes of code text: PAYLOAD_TOO_LARGE past CODE_TEXT_MAX characters (before any other work),
 * PAYLOAD_MALFORMED unless it is 62 characters of canonical base45 whose first byte is version 2.
 */
export function codeBytes(text: unknown): Uint8Array {
  if (typeof text !== 'string') throw new ScanpayError('PAYLOAD_MALFORMED', 'code text must be a string');
  if (text.length > CODE_TEXT_MAX) throw new ScanpayError('PAYLOAD_TOO_LARGE', `${text.length} characters, limit ${CODE_TEXT_MAX}`);
  if (text.length !== CODE_TEXT_LENGTH) throw new ScanpayError('PAYLOAD_MALFORMED', `expected ${CODE_TEXT_LENGTH} base45 characters`);
  const bytes = decodeBase45(text);
  if (bytes === null) throw new ScanpayError('PAYLOAD_MALFORMED', 'not canonical base45');
  if (bytes[0] !== CODE_VERSION) throw new ScanpayError('PAYLOAD_MALFORMED', `unsupported version ${bytes[0]}`);
  return bytes;
}

/**
 * A code's fields from its 41 bytes or its text (codeBytes' errors); PAYLOAD_MALFORMED for bytes of another
 * length or version. The fields are copies: the input can be wiped or reused.
 */
export function decodeCode(input: Uint8Array | string): OneTimeCode {
  const bytes = typeof input === 'string' ? codeBytes(input) : input;
  if (!(bytes instanceof Uint8Array)) throw new ScanpayError('PAYLOAD_MALFORMED', 'code must be text or a Uint8Array');
  if (bytes.length !== CODE_SIZE) throw new ScanpayError('PAYLOAD_MALFORMED', `expected ${CODE_SIZE} bytes, got ${bytes.length}`);
  if (bytes[0] !== CODE_VERSION) throw new ScanpayError('PAYLOAD_MALFORMED', `unsupported version ${bytes[0]}`);
  const [idAt, idLength] = CODE_FIELDS.enrolmentId;
  const [macAt, macLength] = CODE_FIELDS.mac;
  return {
    enrolmentId: bytes.slice(idAt, idAt + idLength),
    step: readU32(bytes, CODE_FIELDS.step[0]),
    counter: readU32(bytes, CODE_FIELDS.counter[0]),
    mac: bytes.slice(macAt, macAt + macLength),
  };
}

/**
 * What the MAC covers: "scanpay/v2/code\n" ‖ version ‖ enrolment id ‖ step ‖ counter (41 bytes). For a wallet
 * that keeps its key in WebCrypto: HMAC-SHA256 of this under the wallet key, first 16 bytes, is the code's mac.
 */
export function codeMessage(fields: CodeFields): Uint8Array {
  const message = new Uint8Array(CODE_LABEL.length + CODE_SIGNED_SIZE);
  message.set(CODE_LABEL);
  writeSigned(fields, message, CODE_LABEL.length);
  return message;
}

/** The time step of an instant: floor(unix seconds / 30). */
export function codeTimeStep(unixMs: number): number {
  if (typeof unixMs !== 'number' || !Number.isFinite(unixMs) || unixMs < 0) throw new ScanpayError('BAD_ARGUMENT', 'unixMs must be a finite number ≥ 0');
  return aint(Math.floor(unixMs / 1000 / CODE_STEP_SECONDS), 'step', 0, U32_MAX);
}

/**
 * The window rule (docs/card-payload.md §Acceptance): true when `step` is within CODE_SKEW_STEPS (one 30-second
 * step) of the step of `nowMs` (the gateway's clock), either side. The counter rule is the store's (atomic).
 * @example
 *   if (!codeInWindow(decodeCode(text).step, Date.now())) refuse('CODE_EXPIRED');
 */
export function codeInWindow(step: number, nowMs: number): boolean {
  const now = codeTimeStep(nowMs);
  aint(step, 'step', 0, U32_MAX);
  return Math.abs(step - now) <= CODE_SKEW_STEPS;
}

/**
 * The wallet key of one enrolment: HKDF-SHA256(basicKey, salt = "", "scanpay/v2/wallet-key" ‖ enrolmentId), 32 B.
 * The caller wipes it. (The gateway derives it only in a crypto worker, in the DVD-1 enrol and code records;
 * this function is for tests, tools and third parties reproducing docs/card-payload.md's example.)
 */
export function deriveWalletKey(core: CryptoCore, basicKey: Uint8Array, enrolmentId: Uint8Array): Uint8Array {
  abytes(basicKey, 'basicKey', 32);
  abytes(enrolmentId, 'enrolmentId', ENROLMENT_ID_SIZE);
  const info = new Uint8Array(WALLET_KEY_INFO.length + ENROLMENT_ID_SIZE);
  info.set(WALLET_KEY_INFO);
  info.set(enrolmentId, WALLET_KEY_INFO.length);
  return core.hkdf(basicKey, EMPTY, info, WALLET_KEY_SIZE);
}

/**
 * A one-time code: its 41 bytes and its 62-character text. The full HMAC is wiped once its first 16 bytes
 * are in the code; `walletKey` is the caller's (left as it is).
 */
export function oneTimeCode(core: CryptoCore, walletKey: Uint8Array, fields: CodeFields): { bytes: Uint8Array; text: string } {
  abytes(walletKey, 'walletKey', WALLET_KEY_SIZE);
  const message = codeMessage(fields);
  const mac = core.hmacSha256(walletKey, message);
  const bytes = new Uint8Array(CODE_SIZE);
  bytes.set(message.subarray(CODE_LABEL.length));
  bytes.set(mac.subarray(0, CODE_MAC_SIZE), CODE_FIELDS.mac[0]);
  mac.fill(0);
  return { bytes, text: encodeBase45(bytes) };
}
