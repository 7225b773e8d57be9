/**
 * Typed errors: one base class for every layer, and the codes shared by the core wrapper, the issuer, its
 * store and the protocol. Every failure carries a stable `code` a caller can match on, and the `layer` that
 * owns that code; messages never carry secrets.
 *
 *   ScanpayBaseError                 abstract: `code`, `layer`
 *   ├─ ScanpayError   (here)         ERROR_CODES: layers core, issuer, store, protocol
 *   ├─ ScannerError   (sdk/)         SCANNER_CODES from the gateway (layer protocol), client codes (layer sdk)
 *   ├─ MerchantApiError (sdk/)       MERCHANT_API_ERRORS from the merchant API (layer protocol), client codes (layer sdk)
 *   ├─ ConfigError    (gateway/)     CONFIG (layer gateway)
 *   └─ CliError       (cli/)         USAGE, NO_SUCH_FILE, FILE_EXISTS, a decline reason (layer cli)
 *
 * docs/core.md §Errors lists the codes and where each is raised.
 * @example
 *   try { core.open(key, nonce, sealed) } catch (e) { if (isScanpayError(e, 'AEAD_TAG_INVALID')) ... }
 *   catch (e) { if (e instanceof ScanpayBaseError) log.warn({ code: e.code, layer: e.layer }) }
 */

/** Who owns a code: the crypto core, the issuer, its store, the scanner protocol, the gateway, the SDK, the CLI. */
export type ErrorLayer = 'core' | 'issuer' | 'store' | 'protocol' | 'gateway' | 'sdk' | 'cli';

/** What every scanpay error is: match `e instanceof ScanpayBaseError`, then `e.code` (and `e.layer` to route it). */
export abstract class ScanpayBaseError<C extends string = string> extends Error {
  readonly code: C;
  readonly layer: ErrorLayer;
  protected constructor(layer: ErrorLayer, code: C, message: string) {
    super(message);
    this.layer = layer;
    this.code = code;
  }
}

/** True for any scanpay error (of any layer), with `code` if given. */
export function isScanpayBaseError(e: unknown, code?: string): e is ScanpayBaseError {
  return e instanceof ScanpayBaseError && (code === undefined || e.code === code);
}

/** The crypto core's: input shape (the core wrapper and anything parsing bytes) and crypto outcomes. */
export const CORE_ERROR_CODES = {
  BAD_LENGTH: 'a byte field has the wrong length',
  TOO_LARGE: 'an input exceeds the size the core accepts',
  BAD_ARGUMENT: 'an argument has the wrong type or value',
  AEAD_TAG_INVALID: 'authentication tag did not verify',
  HKDF_LENGTH: 'HKDF output length exceeds 255 * 32 bytes',
  CORE_LOAD_FAILED: 'the WebAssembly core could not be loaded',
  CORE_SELFTEST_FAILED: 'the WebAssembly core failed its known-answer self-test',
  RECEIPT_MALFORMED: 'not a well-formed scanpay receipt',
  RECEIPT_KEY_UNKNOWN: 'the receipt names a receipt key not among the public keys given',
  RECEIPT_SIGNATURE_INVALID: 'the receipt signature does not verify',
  RECEIPT_CHAIN_BROKEN: 'the receipt does not follow the receipt before it',
} as const;

/** The issuer's: card payload legality (S22; the gateway decides how much of the reason a scanner sees) and its operations. */
export const ISSUER_ERROR_CODES = {
  PAYLOAD_TOO_LARGE: 'card payload is longer than any valid payload',
  PAYLOAD_MALFORMED: 'card payload is not a well-formed scanpay payload (v1 card or v2 one-time code)',
  KEY_UNKNOWN: 'no such issuer key in the key ring',
  KEY_RETIRED: 'card payload is sealed under a retired issuer key',
  PAYLOAD_TAG_INVALID: 'card payload failed authentication (tampered, spliced or wrong key)',
  PAN_INVALID: 'card number fails the Luhn check',
  CARD_UNKNOWN: 'no such card',
  BASIC_KEY_MISMATCH: 'card basic key does not match the issuer record',
  GENERATION_STALE: 'card payload is not the current generation',
  CARD_BLOCKED: 'card is blocked',
  CARD_LOCKED: 'card is locked after too many wrong PINs',
  KEYRING_INVALID: 'issuer key ring is missing or invalid',
  PIN_FORMAT: 'PIN must be exactly 4 decimal digits',
  PAN_EXHAUSTED: 'could not draw an unused card number',
  RECEIPT_KEY_MISSING: 'the key ring holds no receipt signing key',
} as const;

/** The payments module's (issuer/payment.ts): what a merchant may do with a payment after it, and its merchants. */
export const PAYMENT_ERROR_CODES = {
  PAYMENT_NOT_FOUND: 'no such payment',
  PAYMENT_NOT_CAPTURABLE: 'only an authorized, uncaptured payment can be captured',
  PAYMENT_NOT_VOIDABLE: 'only an authorized, uncaptured payment can be voided',
  PAYMENT_NOT_REFUNDABLE: 'nothing captured is left to refund on this payment',
  AMOUNT_TOO_LARGE: 'the amount exceeds what this payment allows',
  REFUND_NOT_FOUND: 'no such refund',
  IDEMPOTENCY_KEY_REUSED: 'this Idempotency-Key was used with a different request',
  MERCHANT_UNKNOWN: 'no such merchant',
  MERCHANT_EXISTS: 'a merchant with this id exists',
  MERCHANT_MISMATCH: 'the scanner is bound to another merchant',
  PERIOD_NOT_FOUND: 'no such settlement period',
  PERIOD_NOT_OPEN: 'only the open settlement period can be closed',
} as const;

/** The store's (issuer/store): the backing store failed, not the request. */
export const STORE_ERROR_CODES = {
  STORE_UNAVAILABLE: 'the store could not be reached or refused the operation',
  STORE_CONFLICT: 'a store update kept conflicting with concurrent writers',
  STORE_CORRUPT: 'a stored record could not be decoded',
} as const;

/**
 * The scanner fleet's own (protocol/fleet-key.ts, and the devices the store knows); the codes a scanner
 * receives are SCANNER_CODES (protocol/messages.ts).
 */
export const PROTOCOL_ERROR_CODES = {
  FLEET_KEY_INVALID: 'scanner fleet key is missing or invalid',
  DEVICE_UNKNOWN: 'no such scanner device in the store',
} as const;

/** Every ScanpayError code and its message, all layers together (each code means the same everywhere). */
export const ERROR_CODES = { ...CORE_ERROR_CODES, ...ISSUER_ERROR_CODES, ...PAYMENT_ERROR_CODES, ...STORE_ERROR_CODES, ...PROTOCOL_ERROR_CODES } as const;

export type ErrorCode = keyof typeof ERROR_CODES;

const LAYER_OF: Readonly<Record<ErrorCode, ErrorLayer>> = Object.freeze({
  ...layer(CORE_ERROR_CODES, 'core'),
  ...layer(ISSUER_ERROR_CODES, 'issuer'),
  ...layer(PAYMENT_ERROR_CODES, 'issuer'),
  ...layer(STORE_ERROR_CODES, 'store'),
  ...layer(PROTOCOL_ERROR_CODES, 'protocol'),
});

function layer<T extends object>(codes: T, owner: ErrorLayer): Record<keyof T, ErrorLayer> {
  return Object.fromEntries(Object.keys(codes).map((code) => [code, owner])) as Record<keyof T, ErrorLayer>;
}

/** The error of the core, the issuer, the store and the fleet key: one of ERROR_CODES, its message, a detail. */
export class ScanpayError extends ScanpayBaseError<ErrorCode> {
  /** What went wrong in this case, without the code's general message (`message` is both). */
  readonly detail: string | undefined;
  constructor(code: ErrorCode, detail?: string) {
    super(LAYER_OF[code], code, detail ? `${ERROR_CODES[code]}: ${detail}` : ERROR_CODES[code]);
    this.name = 'ScanpayError';
    this.detail = detail;
  }
}

export function isScanpayError(e: unknown, code?: ErrorCode): e is ScanpayError {
  return e instanceof ScanpayError && (code === undefined || e.code === code);
}
