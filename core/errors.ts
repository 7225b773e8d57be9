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
