/**
 * The store contract for money after the payment (docs/ledger.md): a payment authorized at S25 holds its amount
 * against the card's balance, and is captured (at once, or later by its merchant), voided, refunded (in part, any
 * number of times, never past what was captured), reversed, or released when its hold expires. Every change is an
 * immutable ledger entry appended to the payment, in the same atomic step that moves the card's balance, so a
 * card's balance always equals its opening balance plus the balance changes of every entry on it. Each operation
 * is idempotent by its operation id (a merchant's Idempotency-Key, or a reversal's own), across every gateway.
 */
import type { DeclineCode as DeclineReason } from '../../protocol/messages.ts';

/**
 * authorized: held, not captured (manual capture); captured; partially_refunded / refunded; voided (released by
 * its merchant); expired (released when its hold window passed); declined (by the issuer: funds, limit, currency;
 * nothing held); reversed (a reversal came before the authorization could: nothing held, none will be).
 */
export type PaymentStatus = 'authorized' | 'captured' | 'partially_refunded' | 'refunded' | 'voided' | 'expired' | 'declined' | 'reversed';

/** When an approved payment is captured: at once, in its authorization's step, or when its merchant asks. */
export type CaptureMethod = 'automatic' | 'manual';

/** A payment as its merchant sees it: the session id a scanner saw is its id. */
export interface Payment {
  id: string;
  merchant: string;
  cardToken: string;
  last4: string;
  currency: string;
  amount: number; // what was authorized (minor units)
  status: PaymentStatus;
  declineReason: DeclineReason | null; // set when status is declined
  captureMethod: CaptureMethod;
  capturedAmount: number;
  refundedAmount: number;
  holdExpiresAt: number | null; // ms since epoch: an authorized payment's hold is released then
  /** How a reversal ended, once one came: voided, refunded, or none (nothing was held). */
  reversal: 'voided' | 'refunded' | 'none' | null;
  createdAt: number;
  updatedAt: number;
}

/**
 * One immutable ledger entry. `balanceChange` is what it did to the card's balance: an authorization holds
 * (−amount), a capture moves nothing (the hold becomes the charge), a release gives back what a partial capture
 * did not take, a void or an expiry gives back the hold, a refund gives back what it refunds.
 */
export type EntryType = 'authorization' | 'capture' | 'release' | 'void' | 'expiry' | 'refund';

export interface LedgerEntry {
  paymentId: string;
  seq: number; // 1, 2, … per payment: its entries in the order they were made
  type: EntryType;
  amount: number; // ≥ 0
  balanceChange: number; // signed
  balanceAfter: number; // the card's balance right after it
  /** The operation that made it: a session id (authorization), an operation id (merchant or reversal), or `expiry`. */
  cause: string;
  refundId: string | null;
  at: number;
}

export interface Refund {
  id: string;
  paymentId: string;
  merchant: string;
  amount: number;
  currency: string;
  reason: string | null;
  createdAt: number;
}

/** One call of a merchant's (or a scanner's) operation on a payment. */
export interface OperationRequest {
  paymentId: string;
  /** Whose payment it must be: another merchant's answers exactly as an unknown one (PAYMENT_NOT_FOUND). */
  merchant: string;
  /** The operation's idempotency id, on the payment's shard (payment.ts operationId): the same id answers the same. */
  opId: string;
  /** What the request asked, hashed: the same opId with another fingerprint is IDEMPOTENCY_KEY_REUSED. */
  fingerprint: string;
  at: number;
}

export type OperationRefusal =
  | 'PAYMENT_NOT_FOUND' | 'PAYMENT_NOT_CAPTURABLE' | 'PAYMENT_NOT_VOIDABLE' | 'PAYMENT_NOT_REFUNDABLE' | 'AMOUNT_TOO_LARGE'
  | 'IDEMPOTENCY_KEY_REUSED';

/**
 * What an operation answered: done, with the payment as it stood right after (and the refund it made, and what
 * a reversal did), or refused with a typed reason and nothing changed. Kept with its opId for 24 h: the same
 * opId answers exactly this again (`replayed`), whatever happened to the payment since.
 */
export type OperationOutcome =
  | { ok: true; payment: Payment; refund: Refund | null; action: 'voided' | 'refunded' | 'none' | null; replayed: boolean }
  | { ok: false; refusal: OperationRefusal; replayed: boolean };

/** A page of a merchant's payments or refunds, newest first. */
export interface ListQuery {
  limit: number; // 1..100
  startingAfter?: string; // the id of the last one of the page before
  createdGte?: number;
  createdLt?: number;
}

export interface Page<T> {
  data: T[];
  hasMore: boolean;
}

export interface PaymentStore {
  getPayment(id: string): Promise<Payment | null>;
  /** Every entry of a payment, in order. */
  entries(paymentId: string): Promise<LedgerEntry[]>;
  /** A merchant's payments, newest first (by createdAt, then id). */
  listPayments(merchant: string, query: ListQuery): Promise<Page<Payment>>;
  /** Captures an authorized payment, all of it or `amount` of it (the rest released). */
  capture(request: OperationRequest & { amount?: number }): Promise<OperationOutcome>;
  /** Releases an authorized, uncaptured payment's hold. */
  void(request: OperationRequest): Promise<OperationOutcome>;
  /** Refunds `amount` of what is captured and not yet refunded; the refund's id comes from the opId. */
  refund(request: OperationRequest & { amount: number; reason: string | null }): Promise<OperationOutcome>;
  /**
   * ISO 8583 reversal for a lost answer: an authorized payment is voided, a captured one refunded in full (what
   * is left), one that holds nothing is left as it is; a payment not yet authorized is reversed before it can be
   * (its authorization will then hold nothing). The first reversal's action is kept: a later one, whatever its
   * opId, answers the same and changes nothing.
   */
  reverse(request: OperationRequest): Promise<OperationOutcome>;
  getRefund(id: string): Promise<Refund | null>;
  /** A merchant's refunds, newest first; or one payment's (oldest first, all of them). */
  listRefunds(merchant: string, query: ListQuery & { paymentId?: string }): Promise<Page<Refund>>;
  /** Releases the holds whose window has passed (at most `limit`), each exactly once; resolves to how many it released. */
  expireHolds(now: number, limit: number): Promise<number>;
  /**
   * Claims an Idempotency-Key of a merchant for a request fingerprint, for ttlMs: 'new' (first use), 'same' (used
   * before with this fingerprint: the operation answers as it did), 'different' (used with another request).
   */
  claimIdempotencyKey(merchant: string, key: string, fingerprint: string, ttlMs: number): Promise<'new' | 'same' | 'different'>;
}
