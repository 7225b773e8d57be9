/**
 * Copies of the store's records, field by field: what goes in or comes out of a store never shares an
 * object or a byte array with what it keeps, and unknown extra properties are dropped (as Redis drops them).
 * Also the one place the outcome of a PIN attempt and a ledger record are assembled, so both stores agree.
 */
import type { AuthSession, CardRecord, LedgerRecord, PaymentRequest, PinResult, SessionRecord } from './types.ts';

/** Why a payment with a verified PIN was declined; null in a record means approved. */
export type DeclineReason = 'CURRENCY_MISMATCH' | 'OVER_LIMIT' | 'INSUFFICIENT_FUNDS';

export function copyCard(c: CardRecord): CardRecord {
  return {
    token: c.token,
    last4: c.last4,
    generation: c.generation,
    keyId: c.keyId,
    status: c.status,
    wrappedBasicKey: new Uint8Array(c.wrappedBasicKey),
    basicKeyCheck: new Uint8Array(c.basicKeyCheck),
    pvv: new Uint8Array(c.pvv),
    currency: c.currency,
    limit: c.limit,
    balance: c.balance,
    pinFailures: c.pinFailures,
    pinPaceUntil: c.pinPaceUntil,
    updatedAt: c.updatedAt,
  };
}

export function copySessionRecord(s: SessionRecord): SessionRecord {
  const { id, scannerId, card, last4, amount, currency, merchant, createdAt, expiresAt } = s;
  return { id, scannerId, card, last4, amount, currency, merchant, createdAt, expiresAt };
}

export function copySession(s: AuthSession): AuthSession {
  return { ...copySessionRecord(s), payload: new Uint8Array(s.payload) };
}

/** Field by field, without the payload (a re-sent openSession names the same session by these). */
export function sameSession(a: SessionRecord, b: SessionRecord): boolean {
  return a.id === b.id && a.scannerId === b.scannerId && a.card === b.card && a.last4 === b.last4 && a.amount === b.amount
    && a.currency === b.currency && a.merchant === b.merchant && a.createdAt === b.createdAt && a.expiresAt === b.expiresAt;
}

export function copyLedger(r: LedgerRecord): LedgerRecord {
  const { sessionId, card, last4, merchant, amount, currency, outcome, reason, cryptogram, balanceAfter, at } = r;
  return { sessionId, card, last4, merchant, amount, currency, outcome, reason, cryptogram, balanceAfter, at };
}

export function copyResult(r: PinResult): PinResult {
  return { outcome: r.outcome, reason: r.reason, ...(r.attemptsLeft === undefined ? {} : { attemptsLeft: r.attemptsLeft }), ledger: r.ledger };
}

/**
 * The answer for a card that takes no PIN. Locked (or out of attempts) reads exactly as the wrong PIN
 * that locked it, so a right PIN after the lock tells nothing. The Redis scripts build the same JSON.
 */
export function refusedCardResult(status: 'locked' | 'blocked' | 'gone'): PinResult {
  if (status === 'locked') return { outcome: 'declined', reason: 'CARD_LOCKED', attemptsLeft: 0, ledger: false };
  return { outcome: 'declined', reason: status === 'blocked' ? 'CARD_BLOCKED' : 'CARD_INVALID', ledger: false };
}

/** A wrong PIN: CARD_LOCKED once the count reaches lockAt, else PIN_WRONG with what is left. */
export function wrongPinResult(failures: number, lockAt: number): PinResult {
  return failures >= lockAt ? refusedCardResult('locked') : { outcome: 'declined', reason: 'PIN_WRONG', attemptsLeft: lockAt - failures, ledger: false };
}

/**
 * The decision authorizePayment makes for an active card (null: approve). The Redis script AUTHORIZE_PAYMENT
 * (redis-scripts.ts) makes the same checks in the same order; the contract suite holds the two together.
 */
export function declineReason(card: CardRecord, request: PaymentRequest): DeclineReason | null {
  if (card.currency !== request.currency) return 'CURRENCY_MISMATCH';
  if (request.amount > card.limit) return 'OVER_LIMIT';
  if (request.amount > card.balance) return 'INSUFFICIENT_FUNDS';
  return null;
}

export function ledgerRecord(request: PaymentRequest, reason: DeclineReason | null, balanceAfter: number): LedgerRecord {
  const { sessionId, card, last4, merchant, amount, currency, cryptogram, at } = request;
  return { sessionId, card, last4, merchant, amount, currency, outcome: reason ? 'declined' : 'approved', reason, cryptogram, balanceAfter, at };
}

export function ledgerResult(record: LedgerRecord): PinResult {
  return { outcome: record.outcome, reason: record.reason, ledger: true };
}
