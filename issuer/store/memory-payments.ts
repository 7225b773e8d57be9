/**
 * The embedded store's payments after the payment (payment-types.ts PaymentStore): the same operations, checks,
 * order and answers as the Redis scripts (redis-payment-scripts.ts), in plain Maps. Each method reads and writes
 * without awaiting in between, so it is atomic as a script is. The cards' balances are the MemoryStore's own
 * rows, which it hands over; MemoryStore.authorizePayment creates the payment here in its own atomic step.
 */
import { OPERATION_RETENTION_MS } from './retention.ts';
import { ScanpayError } from '../../core/errors.ts';
import { OPERATION_REFUSAL, ledgerRecord, opIdOfRefund, refundIdOf, refundedStatus, takes, type DeclineReason, type PaymentOperation } from '../payment.ts';
import { ExpiringMap } from './expiring-map.ts';
import type {
  LedgerEntry, ListQuery, OperationOutcome, OperationRefusal, OperationRequest, Page, Payment, PaymentStore, Refund,
} from './payment-types.ts';
import type { CardRecord, LedgerRecord, PaymentRequest } from './types.ts';
import { checkedListQuery, checkedOperation, checkedPaymentId, checkedRefundReason, checkedIdempotency } from './validate.ts';
import { parseAmount, parseMerchant } from '../../protocol/values.ts';


interface StoredPayment {
  payment: Payment;
  /** The authorization's ledger record (receipts read it); null for a reversal that came first. */
  record: LedgerRecord | null;
  entries: LedgerEntry[];
  refunds: string[];
}

/** An operation's answer as kept with its opId (whether it is a replay is said when it is given). */
type Answer =
  | { ok: true; payment: Payment; refund: Refund | null; action: 'voided' | 'refunded' | 'none' | null }
  | { ok: false; refusal: OperationRefusal };

const copy = <T>(value: T): T => structuredClone(value);

export class MemoryPayments implements PaymentStore {
  readonly #payments = new Map<string, StoredPayment>();
  readonly #refunds = new Map<string, Refund>();
  readonly #operations = new ExpiringMap<{ keepUntil: number; fingerprint: string; outcome: Answer }>();
  readonly #idempotency = new ExpiringMap<{ keepUntil: number; fingerprint: string }>();

  /**
   * `cards`: the MemoryStore's rows, whose balances the operations move; `sessionMerchant`: the merchant of a
   * session the store still keeps (a reversal may come before its payment's authorization).
   */
  constructor(private readonly cards: Map<string, CardRecord>, private readonly sessionMerchant: (id: string) => string | null) {}

  // ── the authorization (called inside MemoryStore.authorizePayment) ──────────────────────────────────────────

  /** Whether a reversal came before this session's authorization: it then holds nothing. */
  reversedBefore(sessionId: string): boolean {
    return this.#payments.get(sessionId)?.payment.status === 'reversed';
  }

  /**
   * An authorization on `card`, decided (`reason` null: approved): the payment, and when approved its hold on the
   * card's balance (the authorization entry) and, for automatic capture, its capture entry. Returns its ledger record.
   */
  authorized(request: PaymentRequest, reason: DeclineReason | null, card: CardRecord): LedgerRecord {
    const { sessionId: id, merchant, cardToken, last4, currency, amount, at, captureMethod, holdWindowMs } = request;
    const approved = reason === null;
    const captured = approved && captureMethod === 'automatic';
    const payment: Payment = {
      id, merchant, cardToken, last4, currency, amount,
      status: !approved ? 'declined' : captured ? 'captured' : 'authorized', declineReason: reason, captureMethod,
      capturedAmount: captured ? amount : 0, refundedAmount: 0, holdExpiresAt: approved && !captured ? at + holdWindowMs : null,
      reversal: null, createdAt: at, updatedAt: at,
    };
    const stored: StoredPayment = { payment, record: null, entries: [], refunds: [] };
    this.#payments.set(id, stored);
    if (approved) this.#append(stored, card, 'authorization', amount, -amount, id, null, at);
    if (captured) this.#append(stored, card, 'capture', amount, 0, id, null, at);
    stored.record = ledgerRecord(request, reason, card.balance);
    return copy(stored.record);
  }

  record(sessionId: string): LedgerRecord | null {
    const record = this.#payments.get(sessionId)?.record;
    return record ? copy(record) : null;
  }

  // ── PaymentStore ──────────────────────────────────────────────────────────────────────────────────────────────

  async getPayment(id: string): Promise<Payment | null> {
    const stored = this.#payments.get(checkedPaymentId(id));
    return stored && stored.record ? copy(stored.payment) : null;
  }

  async entries(paymentId: string): Promise<LedgerEntry[]> {
    return copy(this.#payments.get(checkedPaymentId(paymentId))?.entries ?? []);
  }

  async listPayments(merchant: string, query: ListQuery): Promise<Page<Payment>> {
    const m = parseMerchant(merchant);
    const q = checkedListQuery(query);
    const mine = [...this.#payments.values()].filter((s) => s.record && s.payment.merchant === m).map((s) => s.payment);
    return page(mine, q, (p) => p.createdAt);
  }

  async capture(request: OperationRequest & { amount?: number }): Promise<OperationOutcome> {
    const r = checkedOperation(request);
    const amount = request.amount === undefined ? undefined : parseAmount(request.amount);
    return this.#operate(r, 'capture', (stored, card) => {
      const { payment } = stored;
      const captured = amount ?? payment.amount;
      if (captured > payment.amount) return { ok: false, refusal: 'AMOUNT_TOO_LARGE' };
      this.#append(stored, card, 'capture', captured, 0, r.opId, null, r.at);
      if (captured < payment.amount) this.#append(stored, card, 'release', payment.amount - captured, payment.amount - captured, r.opId, null, r.at);
      Object.assign(payment, { status: 'captured', capturedAmount: captured, holdExpiresAt: null, updatedAt: r.at });
      return { ok: true, payment: copy(payment), refund: null, action: null };
    });
  }

  async void(request: OperationRequest): Promise<OperationOutcome> {
    const r = checkedOperation(request);
    return this.#operate(r, 'void', (stored, card) => {
      this.#release(stored, card, 'void', 'voided', r.opId, r.at);
      return { ok: true, payment: copy(stored.payment), refund: null, action: null };
    });
  }

  async refund(request: OperationRequest & { amount: number; reason: string | null }): Promise<OperationOutcome> {
    const r = checkedOperation(request);
    const amount = parseAmount(request.amount);
    const reason = checkedRefundReason(request.reason);
    return this.#operate(r, 'refund', (stored, card) => {
      const { payment } = stored;
      if (amount > payment.capturedAmount - payment.refundedAmount) return { ok: false, refusal: 'AMOUNT_TOO_LARGE' };
      const refund = this.#refundOf(stored, card, amount, reason, r.opId, r.at);
      return { ok: true, payment: copy(payment), refund: copy(refund), action: null };
    });
  }

  async reverse(request: OperationRequest): Promise<OperationOutcome> {
    const r = checkedOperation(request);
    const replay = this.#replay(r);
    if (replay) return replay;
    let stored = this.#payments.get(r.paymentId);
    if (stored && stored.payment.merchant !== r.merchant) return this.#answer(r, { ok: false, refusal: 'PAYMENT_NOT_FOUND' });
    if (!stored) {
      if (this.sessionMerchant(r.paymentId) !== r.merchant) return this.#answer(r, { ok: false, refusal: 'PAYMENT_NOT_FOUND' });
      // before the authorization: a tombstone the authorization will find (it then holds nothing)
      const payment: Payment = {
        id: r.paymentId, merchant: r.merchant, cardToken: '', last4: '', currency: '', amount: 0, status: 'reversed', declineReason: null,
        captureMethod: 'automatic', capturedAmount: 0, refundedAmount: 0, holdExpiresAt: null, reversal: 'none', createdAt: r.at, updatedAt: r.at,
      };
      stored = { payment, record: null, entries: [], refunds: [] };
      this.#payments.set(r.paymentId, stored);
      return this.#answer(r, { ok: true, payment: copy(payment), refund: null, action: 'none' });
    }
    const { payment } = stored;
    if (payment.reversal !== null) return this.#answer(r, { ok: true, payment: copy(payment), refund: null, action: payment.reversal }, true);
    const card = this.cards.get(payment.cardToken);
    let action: 'voided' | 'refunded' | 'none' = 'none';
    let refund: Refund | null = null;
    if (card && takes('void', payment.status)) {
      this.#release(stored, card, 'void', 'voided', r.opId, r.at);
      action = 'voided';
    } else if (card && takes('refund', payment.status)) {
      refund = this.#refundOf(stored, card, payment.capturedAmount - payment.refundedAmount, 'reversal', r.opId, r.at);
      action = 'refunded';
    }
    payment.reversal = action;
    payment.updatedAt = r.at;
    return this.#answer(r, { ok: true, payment: copy(payment), refund: refund && copy(refund), action });
  }

  async getRefund(id: string): Promise<Refund | null> {
    if (opIdOfRefund(id) === null) throw new ScanpayError('BAD_ARGUMENT', 'a refund id is re_ and 32 lowercase hex characters');
    const refund = this.#refunds.get(id);
    return refund ? copy(refund) : null;
  }

  async listRefunds(merchant: string, query: ListQuery & { paymentId?: string }): Promise<Page<Refund>> {
    const m = parseMerchant(merchant);
    const q = checkedListQuery(query);
    if (query.paymentId !== undefined) {
      const stored = this.#payments.get(checkedPaymentId(query.paymentId));
      if (!stored || stored.payment.merchant !== m) return { data: [], hasMore: false };
      return { data: stored.refunds.map((id) => copy(this.#refunds.get(id)!)), hasMore: false };
    }
    return page([...this.#refunds.values()].filter((refund) => refund.merchant === m), q, (refund) => refund.createdAt);
  }

  async expireHolds(now: number, limit: number): Promise<number> {
    let released = 0;
    for (const stored of this.#payments.values()) {
      if (released >= limit) break;
      const { payment } = stored;
      if (!takes('expire', payment.status) || payment.holdExpiresAt === null || payment.holdExpiresAt > now) continue;
      const card = this.cards.get(payment.cardToken);
      if (!card) continue;
      this.#release(stored, card, 'expiry', 'expired', 'expiry', now);
      released++;
    }
    return released;
  }

  async claimIdempotencyKey(merchant: string, key: string, fingerprint: string, ttlMs: number): Promise<'new' | 'same' | 'different'> {
    const { name, fingerprint: f, ttlMs: ttl } = checkedIdempotency(merchant, key, fingerprint, ttlMs);
    const claimed = this.#idempotency.get(name);
    if (claimed) return claimed.fingerprint === f ? 'same' : 'different';
    this.#idempotency.set(name, { fingerprint: f, keepUntil: Date.now() + ttl });
    return 'new';
  }

  // ── the steps ─────────────────────────────────────────────────────────────────────────────────────────────────

  /**
   * An operation in the order every store runs it: its opId answered before (the same answer again; another
   * request under it: IDEMPOTENCY_KEY_REUSED), the payment (unknown or another merchant's: PAYMENT_NOT_FOUND),
   * its status (OPERATION_FROM), then `apply`. The answer is kept with the opId.
   */
  #operate(r: OperationRequest, operation: PaymentOperation, apply: (stored: StoredPayment, card: CardRecord) => Answer): OperationOutcome {
    const replay = this.#replay(r);
    if (replay) return replay;
    const stored = this.#payments.get(r.paymentId);
    if (!stored || !stored.record || stored.payment.merchant !== r.merchant) return this.#answer(r, { ok: false, refusal: 'PAYMENT_NOT_FOUND' });
    const card = this.cards.get(stored.payment.cardToken);
    if (!card || !takes(operation, stored.payment.status)) return this.#answer(r, { ok: false, refusal: OPERATION_REFUSAL[operation] });
    return this.#answer(r, apply(stored, card));
  }

  #replay(r: OperationRequest): OperationOutcome | null {
    const kept = this.#operations.get(r.opId);
    if (!kept) return null;
    if (kept.fingerprint !== r.fingerprint) return { ok: false, refusal: 'IDEMPOTENCY_KEY_REUSED', replayed: true };
    return { ...copy(kept.outcome), replayed: true } as OperationOutcome;
  }

  #answer(r: OperationRequest, outcome: Answer, replayed = false): OperationOutcome {
    this.#operations.set(r.opId, { fingerprint: r.fingerprint, outcome: copy(outcome), keepUntil: r.at + OPERATION_RETENTION_MS });
    return { ...outcome, replayed } as OperationOutcome;
  }

  /** A hold given back whole: a void, an expiry (or a reversal's void). */
  #release(stored: StoredPayment, card: CardRecord, type: 'void' | 'expiry', status: 'voided' | 'expired', cause: string, at: number): void {
    const { payment } = stored;
    this.#append(stored, card, type, payment.amount, payment.amount, cause, null, at);
    Object.assign(payment, { status, holdExpiresAt: null, updatedAt: at });
  }

  #refundOf(stored: StoredPayment, card: CardRecord, amount: number, reason: string | null, opId: string, at: number): Refund {
    const { payment } = stored;
    const refund: Refund = { id: refundIdOf(opId), paymentId: payment.id, merchant: payment.merchant, amount, currency: payment.currency, reason, createdAt: at };
    this.#append(stored, card, 'refund', amount, amount, opId, refund.id, at);
    payment.refundedAmount += amount;
    payment.status = refundedStatus(payment.capturedAmount, payment.refundedAmount);
    payment.updatedAt = at;
    this.#refunds.set(refund.id, refund);
    stored.refunds.push(refund.id);
    return refund;
  }

  /** One immutable entry, and its change to the card's balance. */
  #append(stored: StoredPayment, card: CardRecord, type: LedgerEntry['type'], amount: number, balanceChange: number, cause: string, refundId: string | null, at: number): void {
    card.balance += balanceChange;
    card.updatedAt = at;
    stored.entries.push({ paymentId: stored.payment.id, seq: stored.entries.length + 1, type, amount, balanceChange, balanceAfter: card.balance, cause, refundId, at });
  }
}

/** A page of records newest first (by time, then id), after `startingAfter` and within the created range. */
function page<T extends { id: string }>(all: T[], q: ListQuery, at: (t: T) => number): Page<T> {
  const newestFirst = all
    .filter((t) => (q.createdGte === undefined || at(t) >= q.createdGte) && (q.createdLt === undefined || at(t) < q.createdLt))
    .sort((a, b) => at(b) - at(a) || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  let from = 0;
  if (q.startingAfter !== undefined) {
    const after = newestFirst.findIndex((t) => t.id === q.startingAfter);
    if (after < 0) return { data: [], hasMore: false };
    from = after + 1;
  }
  const data = newestFirst.slice(from, from + q.limit).map((t) => copy(t));
  return { data, hasMore: from + q.limit < newestFirst.length };
}
