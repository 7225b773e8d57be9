/**
 * How the store's records sit in Redis (layout in redis-store.ts and docs/storage.md): a card is a hash of
 * decimal strings and base64 byte fields, a session's contract fields are one JSON string, a ledger record is
 * a JSON string. Decoding re-runs the boundary checks, so a row damaged outside the store surfaces as
 * STORE_CORRUPT instead of as a wrong number.
 */
import { ScanpayError, isScanpayError } from '../../core/errors.ts';
import { copyLedger } from './records.ts';
import type { AuthSession, CardRecord, LedgerRecord, PaymentRequest } from './types.ts';
import { checkedCard, checkedSession } from './validate.ts';

export interface KeyLayout {
  card(pan: string): string;
  cardCount: string;
  session(id: string): string;
  ledger(sessionId: string): string;
}

export function keyLayout(prefix: string): KeyLayout {
  return {
    card: (pan) => `${prefix}card:${pan}`,
    cardCount: `${prefix}cards`,
    session: (id) => `${prefix}session:${id}`,
    ledger: (sessionId) => `${prefix}ledger:${sessionId}`,
  };
}

/** Runs a boundary check on data read back from Redis; its failure means the row, not the caller, is bad. */
function decoded<T>(what: string, decode: () => T): T {
  try {
    return decode();
  } catch (e) {
    // A JSON SyntaxError quotes the text it choked on, which may hold a PAN: keep only our own messages.
    const detail = isScanpayError(e) ? e.message : 'not a valid record';
    throw new ScanpayError('STORE_CORRUPT', `${what}: ${detail}`);
  }
}

/** Field → value, in the order HSET writes them; every field is always present. */
export function cardToHash(card: CardRecord): Record<string, string> {
  return {
    pan: card.pan,
    generation: String(card.generation),
    keyId: String(card.keyId),
    status: card.status,
    wrappedBasicKey: Buffer.from(card.wrappedBasicKey).toString('base64'),
    pvv: Buffer.from(card.pvv).toString('base64'),
    currency: card.currency,
    limit: String(card.limit),
    balance: String(card.balance),
    pinFailures: String(card.pinFailures),
    updatedAt: String(card.updatedAt),
  };
}

/** A decimal string as written by cardToHash (or HINCRBY); anything else stays NaN and fails the check. */
const decimal = (value: string | undefined): number => (value !== undefined && /^-?[0-9]{1,16}$/.test(value) ? Number(value) : NaN);
const bytes = (value: string | undefined): Uint8Array => new Uint8Array(Buffer.from(value ?? '', 'base64'));

export function cardFromHash(hash: Record<string, string>): CardRecord {
  return decoded('card record', () =>
    checkedCard({
      pan: hash.pan,
      generation: decimal(hash.generation),
      keyId: decimal(hash.keyId),
      status: hash.status,
      wrappedBasicKey: bytes(hash.wrappedBasicKey),
      pvv: bytes(hash.pvv),
      currency: hash.currency,
      limit: decimal(hash.limit),
      balance: decimal(hash.balance),
      pinFailures: decimal(hash.pinFailures),
      updatedAt: decimal(hash.updatedAt),
    }),
  );
}

export function sessionFromJson(json: string): AuthSession {
  return decoded('session', () => checkedSession(JSON.parse(json)));
}

export function ledgerFromJson(json: string): LedgerRecord {
  return decoded('ledger record', () => copyLedger(JSON.parse(json) as LedgerRecord));
}

/**
 * The request's half of a ledger record as JSON without its closing brace: the script AUTHORIZE_PAYMENT appends
 * outcome, reason and balanceAfter. Encoding stays in JavaScript because Lua's cjson prints numbers with 14
 * significant digits, which would round amounts above 10^14.
 */
export function ledgerHead(request: PaymentRequest): string {
  const { sessionId, pan, merchant, amount, currency, cryptogram, at } = request;
  return JSON.stringify({ sessionId, pan, merchant, amount, currency, cryptogram, at }).slice(0, -1);
}
