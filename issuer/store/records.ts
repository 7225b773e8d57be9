/**
 * Copies of the store's records, field by field: what goes in or comes out of a store never shares an
 * object or a byte array with what it keeps, and unknown extra properties are dropped (as Redis drops them).
 * Also the one place a ledger record is assembled, so both stores write the same fields.
 */
import type { AuthSession, CardRecord, LedgerRecord, PaymentRequest } from './types.ts';

/** Why a payment was declined; null in a record means approved. */
export type DeclineReason = 'CARD_UNKNOWN' | 'CARD_BLOCKED' | 'CARD_LOCKED' | 'CURRENCY_MISMATCH' | 'OVER_LIMIT' | 'INSUFFICIENT_FUNDS';

export function copyCard(c: CardRecord): CardRecord {
  return {
    pan: c.pan,
    generation: c.generation,
    keyId: c.keyId,
    status: c.status,
    wrappedBasicKey: new Uint8Array(c.wrappedBasicKey),
    pvv: new Uint8Array(c.pvv),
    currency: c.currency,
    limit: c.limit,
    balance: c.balance,
    pinFailures: c.pinFailures,
    updatedAt: c.updatedAt,
  };
}

export function copySession(s: AuthSession): AuthSession {
  const { id, scannerId, pan, payload, amount, currency, merchant, createdAt, expiresAt } = s;
  return { id, scannerId, pan, payload, amount, currency, merchant, createdAt, expiresAt };
}

export function copyLedger(r: LedgerRecord): LedgerRecord {
  const { sessionId, pan, merchant, amount, currency, outcome, reason, cryptogram, balanceAfter, at } = r;
  return { sessionId, pan, merchant, amount, currency, outcome, reason, cryptogram, balanceAfter, at };
}

/**
 * The decision authorizePayment makes for a card row (null: approve). The Redis script AUTHORIZE_PAYMENT
 * (redis-scripts.ts) makes the same checks in the same order; the contract suite holds the two together.
 */
export function declineReason(card: CardRecord | undefined, request: PaymentRequest): DeclineReason | null {
  if (!card) return 'CARD_UNKNOWN';
  if (card.status === 'blocked') return 'CARD_BLOCKED';
  if (card.status === 'locked') return 'CARD_LOCKED';
  if (card.currency !== request.currency) return 'CURRENCY_MISMATCH';
  if (request.amount > card.limit) return 'OVER_LIMIT';
  if (request.amount > card.balance) return 'INSUFFICIENT_FUNDS';
  return null;
}

export function ledgerRecord(request: PaymentRequest, reason: DeclineReason | null, balanceAfter: number): LedgerRecord {
  const { sessionId, pan, merchant, amount, currency, cryptogram, at } = request;
  return { sessionId, pan, merchant, amount, currency, outcome: reason ? 'declined' : 'approved', reason, cryptogram, balanceAfter, at };
}
