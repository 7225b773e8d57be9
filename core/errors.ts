/**
 * Typed errors shared by the core wrapper, the issuer, the gateway and the protocol.
 * Every failure carries a stable `code` a caller can match on; messages never carry secrets.
 * @example
 *   try { core.open(key, nonce, sealed) } catch (e) { if (isScanpayError(e, 'AEAD_TAG_INVALID')) ... }
 */
export const ERROR_CODES = {
  // input shape (core wrapper and anything parsing bytes)
  BAD_LENGTH: 'a byte field has the wrong length',
  TOO_LARGE: 'an input exceeds the size the core accepts',
  BAD_ARGUMENT: 'an argument has the wrong type or value',
  // crypto outcomes
  AEAD_TAG_INVALID: 'authentication tag did not verify',
  HKDF_LENGTH: 'HKDF output length exceeds 255 * 32 bytes',
  CORE_LOAD_FAILED: 'the WebAssembly core could not be loaded',
  CORE_SELFTEST_FAILED: 'the WebAssembly core failed its known-answer self-test',
  // card payload legality (S22); the gateway decides how much of the reason a scanner sees
  PAYLOAD_TOO_LARGE: 'card payload is longer than any valid payload',
  PAYLOAD_MALFORMED: 'card payload is not a well-formed scanpay v1 payload',
  KEY_UNKNOWN: 'card payload names an unknown issuer key',
  KEY_RETIRED: 'card payload is sealed under a retired issuer key',
  PAYLOAD_TAG_INVALID: 'card payload failed authentication (tampered, spliced or wrong key)',
  PAN_INVALID: 'card number fails the Luhn check',
  CARD_UNKNOWN: 'no such card',
  BASIC_KEY_MISMATCH: 'card basic key does not match the issuer record',
  GENERATION_STALE: 'card payload is not the current generation',
  CARD_BLOCKED: 'card is blocked',
  CARD_LOCKED: 'card is locked after too many wrong PINs',
  // issuer operations
  KEYRING_INVALID: 'issuer key ring is missing or invalid',
  PIN_FORMAT: 'PIN must be exactly 4 decimal digits',
  PAN_EXHAUSTED: 'could not draw an unused card number',
  // store (issuer/store): the backing store failed, not the request
  STORE_UNAVAILABLE: 'the store could not be reached or refused the operation',
  STORE_CONFLICT: 'a store update kept conflicting with concurrent writers',
  STORE_CORRUPT: 'a stored record could not be decoded',
  // scanner fleet (protocol/fleet-key.ts)
  FLEET_KEY_INVALID: 'scanner fleet key is missing or invalid',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class ScanpayError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, detail?: string) {
    super(detail ? `${ERROR_CODES[code]}: ${detail}` : ERROR_CODES[code]);
    this.name = 'ScanpayError';
    this.code = code;
  }
}

export function isScanpayError(e: unknown, code?: ErrorCode): e is ScanpayError {
  return e instanceof ScanpayError && (code === undefined || e.code === code);
}
