/**
 * How the store's records sit in Redis (layout in keys.ts and docs/storage.md): a card is a hash of decimal
 * strings and base64 byte fields, a session's contract fields are one JSON string, a ledger record is a hash of
 * its request half (JSON), decision and balance after, and a PIN attempt's outcome is its raw decision. Decoding re-runs the boundary checks, so a
 * row damaged outside the store surfaces as STORE_CORRUPT instead of as a wrong number.
 */
import { ScanpayError, isScanpayError } from '../../core/errors.ts';
import type { CardRecord, LedgerRecord, PaymentRequest, PinResult, SessionRecord } from './types.ts';
import { decisionResult, ledgerRecord, type DeclineReason } from '../payment.ts';
import type { EnrolmentRecord } from './wallet-types.ts';
import { checkedCard, checkedEnrolment, checkedLedger, checkedPayload, checkedRequestHalf, checkedSessionRecord } from './validate.ts';
import { copySessionRecord } from './records.ts';

/** Runs a boundary check on data read back from Redis; its failure means the row, not the caller, is bad. */
export function decoded<T>(what: string, decode: () => T): T {
  try {
    return decode();
  } catch (e) {
    // A JSON SyntaxError quotes the text it choked on: keep only our own messages.
    const detail = isScanpayError(e) ? e.message : 'not a valid record';
    throw new ScanpayError('STORE_CORRUPT', `${what}: ${detail}`);
  }
}

/** A card hash's fields: the order cardToHash writes them in and the scripts read them back in (HMGET). */
export const CARD_FIELDS = [
  'token', 'last4', 'generation', 'keyId', 'status', 'wrappedBasicKey', 'pvv', 'basicKeyCheck', 'currency', 'limit', 'balance',
  'pinFailures', 'pinPaceUntil', 'updatedAt', 'staticQr', 'staticQrLimit', 'codeNoPinLimit',
] as const;

/** The card fields a row may lack: its wallet policy (a row written before it: the defaults). */
type PolicyField = 'staticQr' | 'staticQrLimit' | 'codeNoPinLimit';

/** Field → value, in the order HSET writes them; every field is present but the wallet policy's, written once set. */
export function cardToHash(card: CardRecord): Record<Exclude<(typeof CARD_FIELDS)[number], PolicyField>, string> & Partial<Record<PolicyField, string>> {
  return {
    token: card.token,
    last4: card.last4,
    generation: String(card.generation),
    keyId: String(card.keyId),
    status: card.status,
    wrappedBasicKey: Buffer.from(card.wrappedBasicKey).toString('base64'),
    pvv: Buffer.from(card.pvv).toString('base64'),
    basicKeyCheck: Buffer.from(card.basicKeyCheck).toString('base64'),
    currency: card.currency,
    limit: String(card.limit),
    balance: String(card.balance),
    pinFailures: String(card.pinFailures),
    pinPaceUntil: String(card.pinPaceUntil),
    updatedAt: String(card.updatedAt),
    ...(card.staticQr === undefined ? {} : { staticQr: card.staticQr, staticQrLimit: String(card.staticQrLimit), codeNoPinLimit: String(card.codeNoPinLimit) }),
  };
}

/** A decimal string as written by cardToHash (or HINCRBY); anything else stays NaN and fails the check. */
export const decimal = (value: string | undefined): number => (value !== undefined && /^-?[0-9]{1,16}$/.test(value) ? Number(value) : NaN);
const bytes = (value: string | undefined): Uint8Array => new Uint8Array(Buffer.from(value ?? '', 'base64'));

export function cardFromHash(hash: Record<string, string>): CardRecord {
  return decoded('card record', () =>
    checkedCard({
      token: hash.token,
      last4: hash.last4,
      generation: decimal(hash.generation),
      keyId: decimal(hash.keyId),
      status: hash.status,
      wrappedBasicKey: bytes(hash.wrappedBasicKey),
      pvv: bytes(hash.pvv),
      basicKeyCheck: bytes(hash.basicKeyCheck),
      currency: hash.currency,
      limit: decimal(hash.limit),
      balance: decimal(hash.balance),
      pinFailures: decimal(hash.pinFailures),
      pinPaceUntil: decimal(hash.pinPaceUntil),
      updatedAt: decimal(hash.updatedAt),
      ...(hash.staticQr === undefined ? {} : { staticQr: hash.staticQr, staticQrLimit: decimal(hash.staticQrLimit), codeNoPinLimit: decimal(hash.codeNoPinLimit) }),
    }),
  );
}

/** An enrolment hash (id, cardToken, createdAt, status, revokedAt, lastCounter, wrappedPan) as ENROLMENT_FIELDS values; null when it has none. */
export function enrolmentFromValues(values: readonly (string | null | undefined)[]): EnrolmentRecord | null {
  const [id, cardToken, createdAt, status, revokedAt, lastCounter, wrappedPan] = values;
  if (id === null || id === undefined) return null;
  return decoded('enrolment', () => checkedEnrolment({
    id, cardToken, createdAt: decimal(createdAt ?? undefined), status, revokedAt: revokedAt == null ? null : decimal(revokedAt), lastCounter: decimal(lastCounter ?? undefined),
    wrappedPan: bytes(wrappedPan ?? undefined),
  }));
}

/** An enrolment hash's fields, in the order scripts and reads return them (HMGET). */
export const ENROLMENT_FIELDS = ['id', 'cardToken', 'createdAt', 'status', 'revokedAt', 'lastCounter', 'wrappedPan'] as const;

/** A card as a script returns it: the values of CARD_FIELDS in that order (HMGET; null for a missing field). */
export function cardFromValues(values: readonly (string | null)[]): CardRecord {
  const hash: Record<string, string> = {};
  CARD_FIELDS.forEach((field, i) => {
    const value = values[i];
    if (typeof value === 'string') hash[field] = value;
  });
  return cardFromHash(hash);
}

/** A session's fields but its payload as one JSON string (the payload is a key of its own, in base64). */
export function sessionToJson(session: SessionRecord): string {
  // copySessionRecord: pinEntry only when `holder-device`
  return JSON.stringify(copySessionRecord(session));
}

/**
 * What the PIN scripts judge a session by besides its JSON, as the session hash's own fields `purpose`
 * ('payment' or 'wallet-enrolment') and `pinEntry` ('holder-device' or ''), written with the session (OPEN_SESSION,
 * CONSUME_CODE) so that a PIN attempt reads them in its HMGET instead of decoding the JSON (SESSION_KIND_LUA).
 */
export function sessionKind(session: Pick<SessionRecord, 'purpose' | 'pinEntry'>): [purpose: string, pinEntry: string] {
  return [session.purpose ?? 'payment', session.pinEntry ?? ''];
}

/**
 * Lua: a session's purpose and PIN entry from its hash's `purpose` and `pinEntry` (sessionKind), or, for a session
 * stored before it had them, from its JSON (`json`; an absent purpose is 'payment', as sessionKind writes it).
 */
export const SESSION_KIND_LUA = `
local function session_kind(json, purpose, pinEntry)
  if purpose then return purpose, pinEntry end
  local sj = cjson.decode(json)
  return sj.purpose or 'payment', sj.pinEntry
end`;

export function sessionFromJson(json: string): SessionRecord {
  return decoded('session', () => checkedSessionRecord(JSON.parse(json)));
}

/** A session's payload as its key holds it; its size is checked where the attempt's session is (checkedSession). */
export function payloadFromBase64(text: string, via?: 'code'): Uint8Array {
  return decoded('session payload', () => checkedPayload(bytes(text), via));
}

/**
 * A ledger record as the store keeps it: the request half as JSON (ledgerHead, encoded here, since Lua's cjson
 * prints numbers with 14 significant digits and would round amounts above 10^14) and the decision and balance
 * after that AUTHORIZE_PAYMENT recorded; assembled by payment.ts, as the embedded store assembles it.
 */
export function ledgerFromFields(head: string | null | undefined, decision: string | null | undefined, balanceAfter: string | null | undefined): LedgerRecord {
  return decoded('ledger record', () => {
    const result = decisionResult(decision ?? '');
    if (!result.ledger) throw new ScanpayError('STORE_CORRUPT', 'malformed');
    const request = checkedRequestHalf(JSON.parse(head ?? ''), 'ledger record');
    return checkedLedger({ ...request, outcome: result.outcome, reason: result.reason, balanceAfter: decimal(balanceAfter ?? undefined) });
  });
}

/**
 * The record AUTHORIZE_PAYMENT has just written for `request` (already checked), from the decision and balance
 * after it returned: assembled by payment.ts as the embedded store assembles it; only the decision is checked.
 */
export function writtenLedger(request: PaymentRequest, decision: string, balanceAfter: string | undefined): LedgerRecord {
  return decoded('ledger record', () => {
    const result = decisionResult(decision);
    if (!result.ledger) throw new ScanpayError('STORE_CORRUPT', 'malformed');
    return ledgerRecord(request, result.reason as DeclineReason | null, decimal(balanceAfter));
  });
}

/** A PIN attempt's stored decision (payment.ts Decision) as its result. */
export function resultFromDecision(decision: string): PinResult {
  return decoded('PIN result', () => {
    try {
      return decisionResult(decision);
    } catch {
      throw new ScanpayError('STORE_CORRUPT', 'malformed');
    }
  });
}

/** The request's half of a ledger record as JSON; the script stores it beside the decision it makes. */
export function ledgerHead(request: PaymentRequest): string {
  const { sessionId, cardToken, last4, merchant, amount, currency, cryptogram, at } = request;
  return JSON.stringify({ sessionId, cardToken, last4, merchant, amount, currency, cryptogram, at });
}
