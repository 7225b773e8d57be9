/**
 * The secrets the issuer derives or protects per card, all computed by the WASM core:
 * - the basic key at rest, wrapped under the key ring's storage key and bound to its card token (so a row
 *   moved to another card fails to open, and unwrapping needs no PAN);
 * - the PIN verification value, HMAC(kPin, PAN ‖ PIN) with kPin = HKDF(basicKey, "", "scanpay/v1/pin") (DVD-1 step 3–4);
 * - a wallet enrolment's PAN at rest (payload v2: a code carries no PAN, but its PVV and cryptogram need it), wrapped
 *   under the storage key by the crypto worker that verified the enrolment's PIN, bound to the card token and the
 *   enrolment id (so it opens only for codes of that enrolment of that card).
 */
import { randomBytes } from 'node:crypto';
import { DVD1_LABELS } from '../core/dvd1-layout.ts';
import { ScanpayError } from '../core/errors.ts';
import type { CryptoCore } from '../core/types.ts';
import { parsePin } from '../protocol/values.ts';

const WRAP_LABEL = 'scanpay/v1/bk:';
const PIN_LABEL = new TextEncoder().encode(DVD1_LABELS.pin); // the label DVD-1 derives kPin with
const EMPTY = new Uint8Array(0);
export const WRAPPED_BASIC_KEY_SIZE = 12 + 32 + 16;
const PAN_WRAP_LABEL = 'scanpay/v2/pan:';
const PAN_LENGTH = 16;
export const WRAPPED_PAN_SIZE = 12 + PAN_LENGTH + 16;

const ascii = (s: string) => new TextEncoder().encode(s);
const WRAP_LABEL_BYTES = ascii(WRAP_LABEL);

/** The wrap's AAD: label ‖ card token, the token as its 32 hex characters (a string, or their ASCII bytes). */
function wrapAad(cardToken: string | Uint8Array): Uint8Array {
  if (typeof cardToken === 'string') return ascii(WRAP_LABEL + cardToken);
  const aad = new Uint8Array(WRAP_LABEL_BYTES.length + cardToken.length);
  aad.set(WRAP_LABEL_BYTES);
  aad.set(cardToken, WRAP_LABEL_BYTES.length);
  return aad;
}

/** The PIN (4 ASCII digits, protocol/values.ts), or ScanpayError PIN_FORMAT. */
export function assertPin(pin: unknown): string {
  return parsePin(pin);
}

/** nonce ‖ ChaCha20-Poly1305(storageKey, nonce, aad = label ‖ card token) of the basic key. */
export function wrapBasicKey(core: CryptoCore, storageKey: Uint8Array, cardToken: string, basicKey: Uint8Array): Uint8Array {
  const nonce = randomBytes(12);
  const sealed = core.seal(storageKey, nonce, basicKey, wrapAad(cardToken));
  const wrapped = new Uint8Array(WRAPPED_BASIC_KEY_SIZE);
  wrapped.set(nonce);
  wrapped.set(sealed, 12);
  return wrapped;
}

/**
 * The basic key in clear; the caller wipes it. Throws AEAD_TAG_INVALID if the row was altered or moved.
 * `cardToken`: its 32 hex characters, as a string or as their ASCII bytes (the crypto engine's batch format).
 */
export function unwrapBasicKey(core: CryptoCore, storageKey: Uint8Array, cardToken: string | Uint8Array, wrapped: Uint8Array): Uint8Array {
  if (wrapped.length !== WRAPPED_BASIC_KEY_SIZE) throw new ScanpayError('BAD_LENGTH', 'wrapped basic key');
  return core.open(storageKey, wrapped.subarray(0, 12), wrapped.subarray(12), wrapAad(cardToken));
}

export function pinVerificationValue(core: CryptoCore, basicKey: Uint8Array, pan: string, pin: string): Uint8Array {
  const pinKey = core.hkdf(basicKey, EMPTY, PIN_LABEL, 32);
  try {
    return core.hmacSha256(pinKey, ascii(pan + assertPin(pin)));
  } finally {
    pinKey.fill(0);
  }
}

/** The PAN wrap's AAD: label ‖ card token (32 ASCII hex characters, as a string or bytes) ‖ enrolment id (16 raw bytes). */
function panWrapAad(cardToken: string | Uint8Array, enrolmentId: Uint8Array): Uint8Array {
  const token = typeof cardToken === 'string' ? ascii(cardToken) : cardToken;
  const label = ascii(PAN_WRAP_LABEL);
  const aad = new Uint8Array(label.length + token.length + enrolmentId.length);
  aad.set(label);
  aad.set(token, label.length);
  aad.set(enrolmentId, label.length + token.length);
  return aad;
}

/** nonce ‖ ChaCha20-Poly1305(storageKey, nonce, aad = "scanpay/v2/pan:" ‖ card token ‖ enrolment id) of the 16 ASCII PAN digits. */
export function wrapPan(core: CryptoCore, storageKey: Uint8Array, cardToken: string | Uint8Array, enrolmentId: Uint8Array, pan: Uint8Array): Uint8Array {
  if (pan.length !== PAN_LENGTH) throw new ScanpayError('BAD_LENGTH', 'PAN');
  const nonce = randomBytes(12);
  const sealed = core.seal(storageKey, nonce, pan, panWrapAad(cardToken, enrolmentId));
  const wrapped = new Uint8Array(WRAPPED_PAN_SIZE);
  wrapped.set(nonce);
  wrapped.set(sealed, 12);
  return wrapped;
}

/** The PAN's 16 ASCII digits; the caller wipes them. AEAD_TAG_INVALID if the wrap was altered or moved to another card or enrolment. */
export function unwrapPan(core: CryptoCore, storageKey: Uint8Array, cardToken: string | Uint8Array, enrolmentId: Uint8Array, wrapped: Uint8Array): Uint8Array {
  if (wrapped.length !== WRAPPED_PAN_SIZE) throw new ScanpayError('BAD_LENGTH', 'wrapped PAN');
  return core.open(storageKey, wrapped.subarray(0, 12), wrapped.subarray(12), panWrapAad(cardToken, enrolmentId));
}
