/**
 * Card payload v1 (docs/card-payload.md): the bytes an issuer writes on a card, and their QR text.
 *
 *   header[8] = version(1) ‖ keyId(u16 BE) ‖ generation(u32 BE) ‖ reserved(1) = 0
 *   payload   = header ‖ n1[12] ‖ c1[16+16] ‖ n2[12] ‖ c2[32+16]          (112 bytes)
 *   c1 = ChaCha20-Poly1305(issuerKey, n1, aad = header)        (ASCII PAN, 16 digits)
 *   c2 = ChaCha20-Poly1305(issuerKey, n2, aad = header ‖ tag1) (basic key, 32 bytes)
 * The header is authenticated by both tags, and c2 is bound to c1 through tag1, so a field spliced from
 * another card, or a header edited, fails authentication. The QR text is base45 (RFC 9285), which
 * fits QR alphanumeric mode: 168 characters.
 *
 * Payload v2 (a wallet's one-time code, 41 bytes, 62 characters) is defined in core/one-time-code.ts, engine-neutral
 * for the browser wallet; `scannedPayload` tells the two apart by decoded length and first byte.
 */
import { randomBytes } from 'node:crypto';
import base45 from 'base45';
import { decodeBase45 } from '../core/base45.ts';
import { ScanpayError } from '../core/errors.ts';
import type { CryptoCore, Dvd1OpenInput } from '../core/types.ts';
import { CODE_TEXT_LENGTH, CODE_VERSION, decodeCode, codeBytes, type OneTimeCode } from '../core/one-time-code.ts';

export const PAYLOAD_VERSION = 1;
export const HEADER_SIZE = 8;
export const PAYLOAD_SIZE = 112;
/** Base45 length of a v1 payload. Longer text is refused before any decoding work. */
export const PAYLOAD_TEXT_LENGTH = (PAYLOAD_SIZE / 2) * 3;
export const PAYLOAD_TEXT_MAX = 256;
const BASE45_TEXT = /^[0-9A-Z $%*+\-./:]*$/;

/** Base45's alphabet (RFC 9285), which is also QR's alphanumeric mode: 0-9, A-Z, space and $ % * + - . / : */
export function isBase45Text(text: unknown): text is string {
  return typeof text === 'string' && BASE45_TEXT.test(text);
}

export interface ParsedPayload {
  keyId: number;
  generation: number;
  /** The ciphertext fields, ready for the core once the issuer key is added. */
  fields: Omit<Dvd1OpenInput, 'kek'>;
}

export function encodeHeader(keyId: number, generation: number): Uint8Array {
  const header = new Uint8Array(HEADER_SIZE);
  const view = new DataView(header.buffer);
  view.setUint8(0, PAYLOAD_VERSION);
  view.setUint16(1, keyId, false);
  view.setUint32(3, generation, false);
  return header;
}

/** Seals a PAN and basic key into a v1 payload under one issuer key. */
export function sealPayload(
  core: CryptoCore, issuerKey: Uint8Array, keyId: number, generation: number, pan: string, basicKey: Uint8Array,
): Uint8Array {
  const header = encodeHeader(keyId, generation);
  const n1 = randomBytes(12);
  const n2 = randomBytes(12);
  const c1 = core.seal(issuerKey, n1, new TextEncoder().encode(pan), header);
  const aad2 = new Uint8Array(HEADER_SIZE + 16);
  aad2.set(header);
  aad2.set(c1.subarray(16), HEADER_SIZE);
  const c2 = core.seal(issuerKey, n2, basicKey, aad2);
  const payload = new Uint8Array(PAYLOAD_SIZE);
  let at = 0;
  for (const part of [header, n1, c1, n2, c2]) {
    payload.set(part, at);
    at += part.length;
  }
  return payload;
}

/** The issuer key id in the header of the payload that starts at `at` in `bytes` (its shape is the caller's to check). */
export function payloadKeyId(bytes: Uint8Array, at = 0): number {
  return (bytes[at + 1]! << 8) | bytes[at + 2]!;
}

/** Splits payload bytes into header values and fields. Checks shape only: authenticity is the core's job. */
export function parsePayload(bytes: Uint8Array): ParsedPayload {
  if (!(bytes instanceof Uint8Array)) throw new ScanpayError('PAYLOAD_MALFORMED', 'payload must be text or a Uint8Array');
  if (bytes.length !== PAYLOAD_SIZE) throw new ScanpayError('PAYLOAD_MALFORMED', `expected ${PAYLOAD_SIZE} bytes, got ${bytes.length}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint8(0) !== PAYLOAD_VERSION) throw new ScanpayError('PAYLOAD_MALFORMED', `unsupported version ${view.getUint8(0)}`);
  if (view.getUint8(7) !== 0) throw new ScanpayError('PAYLOAD_MALFORMED', 'reserved header byte is not zero');
  return {
    keyId: payloadKeyId(bytes),
    generation: view.getUint32(3, false),
    fields: { hdr: bytes.slice(0, 8), n1: bytes.slice(8, 20), c1: bytes.slice(20, 52), n2: bytes.slice(52, 64), c2: bytes.slice(64, 112) },
  };
}

export function payloadToText(bytes: Uint8Array): string {
  return base45.encode(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
}

/**
 * Decodes QR text to payload bytes. The length is checked before anything else, and only the canonical
 * base45 spelling is accepted (core/base45.ts decodeBase45: text that would not re-encode to itself is refused),
 * so no two texts map to one payload.
 */
export function payloadFromText(text: unknown): Uint8Array {
  if (typeof text !== 'string') throw new ScanpayError('PAYLOAD_MALFORMED', 'payload text must be a string');
  if (text.length > PAYLOAD_TEXT_MAX) throw new ScanpayError('PAYLOAD_TOO_LARGE', `${text.length} characters, limit ${PAYLOAD_TEXT_MAX}`);
  if (text.length !== PAYLOAD_TEXT_LENGTH || !BASE45_TEXT.test(text)) {
    throw new ScanpayError('PAYLOAD_MALFORMED', `expected ${PAYLOAD_TEXT_LENGTH} base45 characters`);
  }
  const bytes = decodeBase45(text);
  if (bytes === null || bytes.length !== PAYLOAD_SIZE) throw new ScanpayError('PAYLOAD_MALFORMED', 'not canonical base45');
  return bytes;
}

/** What a scanner read: a v1 card payload (112 bytes) or a v2 one-time code (41 bytes, its fields decoded). */
export type ScannedPayload =
  | { version: typeof PAYLOAD_VERSION; bytes: Uint8Array }
  | { version: typeof CODE_VERSION; bytes: Uint8Array; code: OneTimeCode };

/**
 * Either version from QR text, told apart by length (168 or 62 characters, so by decoded length) and then by the
 * version byte each parser checks: PAYLOAD_TOO_LARGE past PAYLOAD_TEXT_MAX characters, else PAYLOAD_MALFORMED for
 * anything that is not one of the two, canonically spelt.
 * @example
 *   const scanned = scannedPayload(text);
 *   if (scanned.version === 2) use(scanned.code.enrolmentId, scanned.code.counter); else open(scanned.bytes);
 */
export function scannedPayload(text: unknown): ScannedPayload {
  if (typeof text === 'string' && text.length === CODE_TEXT_LENGTH) {
    const bytes = codeBytes(text);
    return { version: CODE_VERSION, bytes, code: decodeCode(bytes) };
  }
  return { version: PAYLOAD_VERSION, bytes: payloadFromText(text) };
}
