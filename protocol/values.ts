/**
 * The values a payment carries, each defined once: the PIN, the session id, the scanner's device id, the merchant (and its DVD-1
 * encoding), the currency and the amount. Every layer that checks one uses this module — the frame schemas
 * (protocol/messages.ts), the store's boundary (issuer/store/validate.ts), the issuer, the auth page, the SDK
 * and the CLI — so a value one of them accepts is one every other accepts (docs/protocol.md §4.1 states the
 * rules). Each value has its rule (exported, so schemas and HTML forms state the same thing), a type guard
 * `isX` narrowing to a branded type, and a `parseX` that returns the value or throws a ScanpayError.
 * No Node APIs: the SDK and browsers load it too.
 * @example
 *   if (!isSessionId(id)) return notFound();                 // id: SessionId from here on
 *   const merchant = merchantBytes(session.merchant);        // 16 bytes, zero-padded; over 16 is refused
 */
import { DVD1_FIELDS } from '../core/dvd1-layout.ts';
import { ScanpayError } from '../core/errors.ts';

declare const brand: unique symbol;
/** A value that passed its check: `isX`/`parseX` make one, and plain strings or numbers do not type-check as one. */
type Branded<T, B extends string> = T & { readonly [brand]: B };

export type Pin = Branded<string, 'Pin'>;
export type SessionId = Branded<string, 'SessionId'>;
/** A scanner's device id: the name it is provisioned, authenticated, rate-limited, budgeted and revoked under. */
export type DeviceId = Branded<string, 'DeviceId'>;
export type Merchant = Branded<string, 'Merchant'>;
export type Currency = Branded<string, 'Currency'>;
/** Minor units (cents for EUR) of a payment: at least 1. */
export type Amount = Branded<number, 'Amount'>;
/** Minor units of a balance or a limit: at least 0. */
export type MinorUnits = Branded<number, 'MinorUnits'>;

function bad(detail: string): ScanpayError {
  return new ScanpayError('BAD_ARGUMENT', detail);
}

// ── PIN ───────────────────────────────────────────────────────────────────────────────────────────────
export const PIN_DIGITS = 4;
/** Exactly 4 ASCII digits: not Arabic-Indic or full-width ones, no whitespace, no trailing newline. */
export const PIN_PATTERN = '^[0-9]{4}$';
const PIN_RE = new RegExp(PIN_PATTERN);

export function isPin(value: unknown): value is Pin {
  return typeof value === 'string' && PIN_RE.test(value);
}

/** The PIN, or ScanpayError PIN_FORMAT (its value never in the message). */
export function parsePin(value: unknown): Pin {
  if (!isPin(value)) throw new ScanpayError('PIN_FORMAT');
  return value;
}

// ── session id ────────────────────────────────────────────────────────────────────────────────────────
/** 32 lower-case hex digits (its first 4 are its card's shard: issuer/store/keys.ts newSessionId). */
export const SESSION_ID_PATTERN = '^[0-9a-f]{32}$';
const SESSION_ID_RE = new RegExp(SESSION_ID_PATTERN);

export function isSessionId(value: unknown): value is SessionId {
  return typeof value === 'string' && SESSION_ID_RE.test(value);
}

export function parseSessionId(value: unknown, name = 'session id'): SessionId {
  if (!isSessionId(value)) throw bad(`${name} must be 32 lowercase hex characters`);
  return value;
}

// ── device id ─────────────────────────────────────────────────────────────────────────────────────────
/** 1–64 of `A–Z a–z 0–9 _ -`: it is written into scanner tokens (`.`-separated) and store keys as it is. */
export const DEVICE_ID_PATTERN = '^[A-Za-z0-9_-]{1,64}$';
const DEVICE_ID_RE = new RegExp(DEVICE_ID_PATTERN);

export function isDeviceId(value: unknown): value is DeviceId {
  return typeof value === 'string' && DEVICE_ID_RE.test(value);
}

export function parseDeviceId(value: unknown, name = 'device id'): DeviceId {
  if (!isDeviceId(value)) throw bad(`${name} must be 1 to 64 of [A-Za-z0-9_-]`);
  return value;
}

// ── merchant ──────────────────────────────────────────────────────────────────────────────────────────
/** The merchant field of a DVD-1 record (core/dvd1-layout.ts): the id is bound into the cryptogram there. */
export const MERCHANT_BYTES: number = DVD1_FIELDS.merchant[1];
/**
 * 1–16 characters of `A–Z a–z 0–9 . _ -`: ASCII only, so 16 characters are 16 bytes, and no NUL, so the
 * zero padding of merchantBytes cannot make two ids encode alike.
 */
export const MERCHANT_PATTERN = '^[A-Za-z0-9._-]+$';
export const MERCHANT_RULE = { minLength: 1, maxLength: MERCHANT_BYTES, pattern: MERCHANT_PATTERN } as const;
const MERCHANT_RE = new RegExp(MERCHANT_PATTERN);

export function isMerchant(value: unknown): value is Merchant {
  return typeof value === 'string' && value.length >= MERCHANT_RULE.minLength && value.length <= MERCHANT_RULE.maxLength && MERCHANT_RE.test(value);
}

export function parseMerchant(value: unknown, name = 'merchant'): Merchant {
  if (isMerchant(value)) return value;
  if (typeof value === 'string' && value.length > MERCHANT_BYTES && MERCHANT_RE.test(value)) {
    throw bad(`${name} is over ${MERCHANT_BYTES} bytes: it is refused, never truncated`);
  }
  throw bad(`${name} must be 1 to ${MERCHANT_BYTES} of [A-Za-z0-9._-]`);
}

/**
 * The merchant id as DVD-1 binds it: its ASCII bytes, zero-padded to 16. Anything that is not a merchant id
 * (empty, non-ASCII, over 16 bytes) is refused with BAD_ARGUMENT, never truncated or re-encoded.
 * @example
 *   merchantBytes('cafe-7');   // Uint8Array(16) [99, 97, 102, 101, 45, 55, 0, …]
 */
export function merchantBytes(merchant: string): Uint8Array {
  const id = parseMerchant(merchant);
  const out = new Uint8Array(MERCHANT_BYTES);
  for (let i = 0; i < id.length; i++) out[i] = id.charCodeAt(i); // ASCII: one byte per character
  return out;
}

// ── currency ──────────────────────────────────────────────────────────────────────────────────────────
/** An ISO 4217 alphabetic code: 3 upper-case letters (its shape; `known` below also asks the runtime's list). */
export const CURRENCY_PATTERN = '^[A-Z]{3}$';
const CURRENCY_RE = new RegExp(CURRENCY_PATTERN);
let knownCurrencies: ReadonlySet<string> | undefined;

export function isCurrency(value: unknown): value is Currency {
  return typeof value === 'string' && CURRENCY_RE.test(value);
}

/**
 * A currency shaped as ISO 4217 that the runtime's ICU also lists (Intl.supportedValuesOf): what a card is
 * issued in. The protocol and the store check the shape only, so a newer code is not refused on the wire.
 */
export function isKnownCurrency(value: unknown): value is Currency {
  if (!isCurrency(value)) return false;
  knownCurrencies ??= new Set(Intl.supportedValuesOf('currency'));
  return knownCurrencies.has(value);
}

export function parseCurrency(value: unknown, opts: { known?: boolean } = {}): Currency {
  if (opts.known ? !isKnownCurrency(value) : !isCurrency(value)) {
    throw bad(opts.known ? 'currency must be an ISO 4217 code, e.g. EUR' : 'currency must be an ISO 4217 alpha code (3 upper-case letters, e.g. EUR)');
  }
  return value as Currency;
}

// ── amounts ───────────────────────────────────────────────────────────────────────────────────────────
/**
 * The largest number of minor units anywhere: 2^53 − 1. JSON numbers and the Redis scripts (Lua doubles) are
 * exact only for safe integers, so nothing beyond is accepted, not even in a balance.
 */
export const MAX_MINOR_UNITS = Number.MAX_SAFE_INTEGER;
/** The smallest payment: 1 minor unit (a payment of nothing is refused). */
export const MIN_AMOUNT = 1;
/** A payment amount as the frame schemas state it (TypeBox Integer options). */
export const AMOUNT_RULE = { minimum: MIN_AMOUNT, maximum: MAX_MINOR_UNITS } as const;

function isUnits(value: unknown, min: number): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= MAX_MINOR_UNITS;
}

/** A payment amount: a whole number of minor units, 1 … 2^53 − 1. */
export function isAmount(value: unknown): value is Amount {
  return isUnits(value, MIN_AMOUNT);
}

/** A balance or limit: a whole number of minor units, 0 … 2^53 − 1. */
export function isMinorUnits(value: unknown): value is MinorUnits {
  return isUnits(value, 0);
}

export function parseAmount(value: unknown, name = 'amount'): Amount {
  if (!isAmount(value)) throw bad(`${name} must be a whole number of minor units from ${MIN_AMOUNT} to 2^53 − 1`);
  return value;
}

export function parseMinorUnits(value: unknown, name: string): MinorUnits {
  if (!isMinorUnits(value)) throw bad(`${name} must be a whole number of minor units ≥ 0`);
  return value;
}

/**
 * Where the holder enters the PIN of a payment (a merchant's policy, docs/protocol.md §5): `scanner`, on the
 * scanner (a `pin` frame) or on the page it shows; `holder-device`, on the holder's own phone only — the scanner
 * shows the page's URL as a QR code and every `pin` frame for the session is refused (PIN_ENTRY_HOLDER_DEVICE),
 * so no PIN ever crosses a scanner connection.
 */
export const PIN_ENTRIES = ['scanner', 'holder-device'] as const;
export type PinEntry = (typeof PIN_ENTRIES)[number];

export function isPinEntry(value: unknown): value is PinEntry {
  return value === 'scanner' || value === 'holder-device';
}

export function parsePinEntry(value: unknown, name = 'pinEntry'): PinEntry {
  if (!isPinEntry(value)) throw new ScanpayError('BAD_ARGUMENT', `${name} must be ${PIN_ENTRIES.join(' or ')}`);
  return value;
}
