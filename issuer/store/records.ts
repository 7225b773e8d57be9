/**
 * Copies of the store's records, field by field: what goes in or comes out of a store never shares an
 * object or a byte array with what it keeps, and unknown extra properties are dropped (as Redis drops them).
 * (How a PIN attempt's outcome and a ledger record are decided and assembled: issuer/payment.ts.)
 */
import type { AuthSession, CardRecord, LedgerRecord, PinResult, SessionRecord } from './types.ts';
import type { EnrolmentRecord } from './wallet-types.ts';

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
    // the wallet policy only when set (a row written before it has none: its defaults, wallet-types.ts cardPolicy)
    ...(c.staticQr === undefined ? {} : { staticQr: c.staticQr, staticQrLimit: c.staticQrLimit, codeNoPinLimit: c.codeNoPinLimit }),
  };
}

export function copyEnrolment(e: EnrolmentRecord): EnrolmentRecord {
  const { id, cardToken, createdAt, status, revokedAt, lastCounter } = e;
  return { id, cardToken, createdAt, status, revokedAt, lastCounter, wrappedPan: new Uint8Array(e.wrappedPan) };
}

export function copySessionRecord(s: SessionRecord): SessionRecord {
  const { id, deviceId, cardToken, last4, amount, currency, merchant, captureMethod, holdWindowMs, createdAt, expiresAt } = s;
  const copy: SessionRecord = { id, deviceId, cardToken, last4, amount, currency, merchant, captureMethod, holdWindowMs, createdAt, expiresAt };
  if (s.pinEntry === 'holder-device') copy.pinEntry = 'holder-device'; // absent: the scanner's (a record written before keeps its bytes)
  if (s.purpose === 'wallet-enrolment') copy.purpose = 'wallet-enrolment'; // absent: a payment's
  if (s.via === 'code') copy.via = 'code'; // absent: a scan of the printed card
  return copy;
}

export function copySession(s: AuthSession): AuthSession {
  return { ...copySessionRecord(s), payload: new Uint8Array(s.payload) };
}

/** Field by field, without the payload (a re-sent openSession names the same session by these). */
export function sameSession(a: SessionRecord, b: SessionRecord): boolean {
  return a.id === b.id && a.deviceId === b.deviceId && a.cardToken === b.cardToken && a.last4 === b.last4 && a.amount === b.amount
    && a.currency === b.currency && a.merchant === b.merchant && a.captureMethod === b.captureMethod && a.holdWindowMs === b.holdWindowMs
    && (a.pinEntry === 'holder-device') === (b.pinEntry === 'holder-device') && a.purpose === b.purpose && a.via === b.via
    && a.createdAt === b.createdAt && a.expiresAt === b.expiresAt;
}

export function copyLedger(r: LedgerRecord): LedgerRecord {
  const { sessionId, cardToken, last4, merchant, amount, currency, outcome, reason, cryptogram, balanceAfter, at } = r;
  return { sessionId, cardToken, last4, merchant, amount, currency, outcome, reason, cryptogram, balanceAfter, at };
}

export function copyResult(r: PinResult): PinResult {
  return { outcome: r.outcome, reason: r.reason, ...(r.attemptsLeft === undefined ? {} : { attemptsLeft: r.attemptsLeft }), ledger: r.ledger };
}
