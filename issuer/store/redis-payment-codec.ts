/**
 * How payments after the payment sit in Redis (redis-payment-scripts.ts), decoded: a payment hash, a refund
 * hash, an entry (one list element), and an operation's answer (the payment's and refund's fields as the script
 * read them, JSON arrays of field and value). Decoding checks every value, so a row damaged outside the store
 * surfaces as STORE_CORRUPT instead of as a wrong amount.
 */
import { ScanpayError } from '../../core/errors.ts';
import { DECLINE_REASONS, decisionResult, type DeclineReason } from '../payment.ts';
import type { EntryType, LedgerEntry, OperationOutcome, OperationRefusal, Payment, PaymentStatus, Refund } from './payment-types.ts';
import { decimal, decoded } from './redis-codec.ts';

const STATUSES: readonly PaymentStatus[] = ['authorized', 'captured', 'partially_refunded', 'refunded', 'voided', 'expired', 'declined', 'reversed'];
const ENTRY_TYPES: readonly EntryType[] = ['authorization', 'capture', 'release', 'void', 'expiry', 'refund'];
const REFUSALS: readonly OperationRefusal[] = [
  'PAYMENT_NOT_FOUND', 'PAYMENT_NOT_CAPTURABLE', 'PAYMENT_NOT_VOIDABLE', 'PAYMENT_NOT_REFUNDABLE', 'AMOUNT_TOO_LARGE', 'IDEMPOTENCY_KEY_REUSED',
];
const ACTIONS = ['voided', 'refunded', 'none'] as const;

const corrupt = () => new ScanpayError('STORE_CORRUPT', 'malformed');

function amount(value: string | undefined): number {
  const n = decimal(value);
  if (!Number.isSafeInteger(n) || n < 0) throw corrupt();
  return n;
}

function oneOf<T extends string>(value: string | undefined, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) throw corrupt();
  return value as T;
}

/** Field → value of a hash as HGETALL (or a script's cjson of it) gives it. */
function pairs(flat: readonly string[]): Record<string, string> {
  const hash: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) hash[flat[i]!] = flat[i + 1]!;
  return hash;
}

/**
 * A payment hash; null when it holds no authorization record (nothing there, or a reversal that came first:
 * unless `tombstones`, which an operation's answer may show).
 */
export function paymentFromHash(hash: Record<string, string>, tombstones = false): Payment | null {
  if (hash.head === undefined && !(tombstones && hash.status === 'reversed')) return null;
  return decoded('payment', () => {
    const status = oneOf(hash.status, STATUSES);
    const declined = hash.decision?.startsWith('declined:') ? hash.decision.slice('declined:'.length) : null;
    if (hash.decision !== undefined) decisionResult(hash.decision); // a decision the payments module knows
    const reversal = hash.reversal ? oneOf(hash.reversal, ACTIONS) : null;
    if (hash.head === undefined) {
      // a reversal's tombstone: nothing was authorized
      return {
        id: hash.id!, merchant: hash.merchant!, cardToken: '', last4: '', currency: '', amount: 0, status, declineReason: null,
        captureMethod: 'automatic', capturedAmount: 0, refundedAmount: 0, holdExpiresAt: null, reversal, createdAt: amount(hash.createdAt), updatedAt: amount(hash.updatedAt),
      };
    }
    return {
      id: hash.id!, merchant: hash.merchant!, cardToken: hash.cardToken!, last4: hash.last4!, currency: hash.currency!, amount: amount(hash.amount),
      status, declineReason: declined === null ? null : oneOf(declined, DECLINE_REASONS) as DeclineReason,
      captureMethod: oneOf(hash.captureMethod, ['automatic', 'manual'] as const), capturedAmount: amount(hash.captured),
      refundedAmount: amount(hash.refunded), holdExpiresAt: hash.holdExpiresAt ? amount(hash.holdExpiresAt) : null, reversal,
      createdAt: amount(hash.createdAt), updatedAt: amount(hash.updatedAt),
    };
  });
}

export function refundFromHash(hash: Record<string, string>): Refund | null {
  if (hash.id === undefined) return null;
  return decoded('refund', () => ({
    id: hash.id!, paymentId: hash.paymentId!, merchant: hash.merchant!, amount: amount(hash.amount), currency: hash.currency!,
    reason: hash.reason ? hash.reason : null, createdAt: amount(hash.createdAt),
  }));
}

/** One list element `type|amount|balanceChange|balanceAfter|cause|refundId|at`, the seq'th of its payment. */
export function entryFromText(paymentId: string, seq: number, text: string): LedgerEntry {
  return decoded('ledger entry', () => {
    const [type, amt, change, after, cause, refundId, at] = text.split('|');
    const balanceChange = decimal(change);
    if (!Number.isSafeInteger(balanceChange) || cause === undefined || at === undefined) throw corrupt();
    return {
      paymentId, seq, type: oneOf(type, ENTRY_TYPES), amount: amount(amt), balanceChange, balanceAfter: amount(after), cause,
      refundId: refundId ? refundId : null, at: amount(at),
    };
  });
}

/** An operation script's reply (redis-payment-scripts.ts OperationReply) as its outcome. */
export function outcomeFromReply([replayed, result, action, payment, refund]: [number, string, string, string, string]): OperationOutcome {
  return decoded('operation answer', () => {
    if (result !== 'ok') return { ok: false, refusal: oneOf(result, REFUSALS), replayed: replayed === 1 };
    const p = paymentFromHash(pairs(JSON.parse(payment) as string[]), true);
    if (!p) throw corrupt();
    return {
      ok: true, payment: p, refund: refund ? refundFromHash(pairs(JSON.parse(refund) as string[])) : null,
      action: action ? oneOf(action, ACTIONS) : null, replayed: replayed === 1,
    };
  });
}
