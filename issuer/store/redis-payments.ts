/**
 * Payments after the payment on Redis (payment-types.ts PaymentStore): each operation is one script over the
 * payment's keys (redis-payment-scripts.ts), acknowledged after WAIT when the store waits for replicas. The
 * merchant's indexes are on the merchant's slot: on one Redis the scripts write them; on a cluster the store
 * writes them before the script, and a listing skips an entry whose record never came.
 */
import { ScanpayError } from '../../core/errors.ts';
import { opIdOfRefund, refundIdOf } from '../payment.ts';
import { OPERATION_RETENTION_MS } from './retention.ts';
import type { LedgerEntry, ListQuery, OperationOutcome, OperationRequest, Page, Payment, PaymentStore, Refund } from './payment-types.ts';
import { entryFromText, outcomeFromReply, paymentFromHash, refundFromHash } from './redis-payment-codec.ts';
import type { RedisContext } from './redis-context.ts';
import type { OperationArgv, OperationKeys, OperationReply } from './redis-payment-scripts.ts';
import { checkedIdempotency, checkedListQuery, checkedOperation, checkedPaymentId, checkedRefundReason } from './validate.ts';
import { createHash } from 'node:crypto';
import { parseAmount, parseMerchant } from '../../protocol/values.ts';

export class RedisPayments implements PaymentStore {
  /** Merchants this process has put in the event merchants' set (a cluster's marks). */
  readonly #eventMerchants = new Set<string>();

  constructor(private readonly ctx: RedisContext) {}

  async getPayment(id: string): Promise<Payment | null> {
    const hash = await this.ctx.run((redis) => redis.hgetall(this.ctx.keys.payment(checkedPaymentId(id))));
    return paymentFromHash(hash);
  }

  async entries(paymentId: string): Promise<LedgerEntry[]> {
    const id = checkedPaymentId(paymentId);
    const texts = await this.ctx.run((redis) => redis.lrange(this.ctx.keys.entries(id), 0, -1));
    return texts.map((text, i) => entryFromText(id, i + 1, text));
  }

  async listPayments(merchant: string, query: ListQuery): Promise<Page<Payment>> {
    const m = parseMerchant(merchant);
    const q = checkedListQuery(query);
    return this.#page(this.ctx.keys.merchantPayments(m), q, async (ids) => {
      const found = await Promise.all(ids.map((id) => this.getPayment(id)));
      return found.filter((p): p is Payment => p !== null && p.merchant === m);
    });
  }

  async capture(request: OperationRequest & { amount?: number }): Promise<OperationOutcome> {
    const r = checkedOperation(request);
    const amount = request.amount === undefined ? '' : parseAmount(request.amount);
    return this.#operate(r, (keys, argv) => this.ctx.durable('scanpayCapture', ...keys, ...argv, amount));
  }

  async void(request: OperationRequest): Promise<OperationOutcome> {
    const r = checkedOperation(request);
    return this.#operate(r, (keys, argv) => this.ctx.durable('scanpayVoid', ...keys, ...argv));
  }

  async refund(request: OperationRequest & { amount: number; reason: string | null }): Promise<OperationOutcome> {
    const r = checkedOperation(request);
    const amount = parseAmount(request.amount);
    const reason = checkedRefundReason(request.reason);
    const refundId = refundIdOf(r.opId);
    const index = await this.#refundIndex(r.merchant, refundId, r.at);
    return this.#operate(r, (keys, argv) => this.ctx.durable('scanpayRefund', ...keys, this.ctx.keys.refund(refundId), ...argv, amount, reason ?? '', refundId, index));
  }

  async reverse(request: OperationRequest): Promise<OperationOutcome> {
    const r = checkedOperation(request);
    const refundId = refundIdOf(r.opId);
    const index = await this.#refundIndex(r.merchant, refundId, r.at);
    return this.#operate(r, (keys, argv) => this.ctx.durable('scanpayReverse',
      ...keys, this.ctx.keys.refund(refundId), this.ctx.keys.session(r.paymentId), ...argv, refundId, index, r.paymentId));
  }

  /**
   * Runs a step that may write an event of `paymentId`, with the merchant's outbox and the event merchants' set
   * for its script to mark (on one Redis; the set '' once this process has seen the merchant added to it: a
   * merchant stays in it for good, so the step need not add it again); on a cluster they are on other slots, so
   * the store marks the payment before the step and again after it (event-types.ts: a sealer that read between
   * them sees the mark move).
   */
  async marked<T>(merchant: string, paymentId: string, at: number, step: (outbox: string, eventMerchants: string) => Promise<T>): Promise<T> {
    const { keys } = this.ctx;
    if (!this.ctx.cluster) return step(keys.outbox(merchant), this.#eventMerchants.has(merchant) ? '' : keys.eventMerchants);
    await this.#mark(merchant, paymentId, at);
    const result = await step('', '');
    await this.#mark(merchant, paymentId, at);
    return result;
  }

  /** A step given the event merchants' set (marked) wrote an event of the merchant's: the set holds it now. */
  wroteEvent(merchant: string): void {
    this.#eventMerchants.add(merchant);
  }

  async #mark(merchant: string, paymentId: string, at: number): Promise<void> {
    if (!this.#eventMerchants.has(merchant)) {
      await this.ctx.run((redis) => redis.sadd(this.ctx.keys.eventMerchants, merchant));
      this.#eventMerchants.add(merchant); // a merchant stays in the set for good: added once per process
    }
    await this.ctx.run((redis) => redis.scanpayMark(this.ctx.keys.outbox(merchant), paymentId, at));
  }

  async #operate(r: OperationRequest, step: (keys: OperationKeys, argv: OperationArgv) => Promise<OperationReply>): Promise<OperationOutcome> {
    const { keys } = this.ctx;
    return outcomeFromReply(await this.marked(r.merchant, r.paymentId, r.at, (outbox, eventMerchants) => step(
      [keys.payment(r.paymentId), keys.entries(r.paymentId), keys.operation(r.opId), keys.events(r.paymentId)],
      [r.merchant, r.fingerprint, r.at, keys.cardKeyPrefix(r.paymentId), OPERATION_RETENTION_MS, r.opId, outbox, eventMerchants],
    )));
  }

  async getRefund(id: string): Promise<Refund | null> {
    if (opIdOfRefund(id) === null) throw new ScanpayError('BAD_ARGUMENT', 'a refund id is re_ and 32 lowercase hex characters');
    return refundFromHash(await this.ctx.run((redis) => redis.hgetall(this.ctx.keys.refund(id))));
  }

  async listRefunds(merchant: string, query: ListQuery & { paymentId?: string }): Promise<Page<Refund>> {
    const m = parseMerchant(merchant);
    const q = checkedListQuery(query);
    const refunds = (ids: string[]) => Promise.all(ids.map((id) => this.getRefund(id)))
      .then((found) => found.filter((refund): refund is Refund => refund !== null && refund.merchant === m));
    if (query.paymentId !== undefined) {
      const [owner, ids] = await this.ctx.run((redis) => redis.hmget(this.ctx.keys.payment(checkedPaymentId(query.paymentId!)), 'merchant', 'refunds'));
      if (owner !== m || !ids) return { data: [], hasMore: false };
      return { data: await refunds(ids.split(',')), hasMore: false };
    }
    return this.#page(this.ctx.keys.merchantRefunds(m), q, refunds);
  }

  async expireHolds(now: number, limit: number): Promise<number> {
    const { keys } = this.ctx;
    const due = await this.ctx.run((redis) => redis.zrangebyscore(keys.holds, '-inf', now, 'LIMIT', 0, limit));
    let released = 0;
    for (const id of due) {
      const merchant = await this.ctx.run((redis) => redis.hget(keys.payment(id), 'merchant'));
      if (merchant !== null) {
        released += await this.marked(merchant, id, now, (outbox, eventMerchants) =>
          this.ctx.durable('scanpayExpireHold', keys.payment(id), keys.entries(id), keys.events(id), now, keys.cardKeyPrefix(id), outbox, eventMerchants));
      }
      // released now, released before (captured, voided), or never authorized (a cluster's index written first): off the list
      await this.ctx.run((redis) => redis.zrem(keys.holds, id));
    }
    return released;
  }

  async claimIdempotencyKey(merchant: string, key: string, fingerprint: string, ttlMs: number): Promise<'new' | 'same' | 'different'> {
    const claim = checkedIdempotency(merchant, key, fingerprint, ttlMs);
    const keyHash = createHash('sha256').update(key).digest('hex');
    return this.ctx.run((redis) => redis.scanpayClaimIdempotency(this.ctx.keys.idempotency(parseMerchant(merchant), keyHash), claim.fingerprint, claim.ttlMs));
  }

  /** The merchant's refund index for a script to write ('' on a cluster: written here first, by the refund's time). */
  async #refundIndex(merchant: string, refundId: string, at: number): Promise<string> {
    const index = this.ctx.keys.merchantRefunds(merchant);
    if (!this.ctx.cluster) return index;
    await this.ctx.run((redis) => redis.zadd(index, at, refundId));
    return '';
  }

  /**
   * A page from a merchant's index (a sorted set by time), newest first: after `startingAfter` (by its place in
   * the index) and within the created range; entries whose record never came (a cluster) are skipped.
   */
  async #page<T extends { id: string }>(index: string, q: ListQuery, load: (ids: string[]) => Promise<T[]>): Promise<Page<T>> {
    let max = q.createdLt === undefined ? '+inf' : `(${q.createdLt}`;
    const min = q.createdGte === undefined ? '-inf' : String(q.createdGte);
    let after: { score: number; id: string } | null = null;
    if (q.startingAfter !== undefined) {
      const score = await this.ctx.run((redis) => redis.zscore(index, q.startingAfter!));
      if (score === null) return { data: [], hasMore: false };
      after = { score: Number(score), id: q.startingAfter };
      max = String(Math.min(Number(score), q.createdLt === undefined ? Infinity : q.createdLt - 1));
    }
    const data: T[] = [];
    let offset = 0;
    const batch = q.limit + 1;
    for (;;) {
      const raw = await this.ctx.run((redis) => redis.zrevrangebyscore(index, max, min, 'WITHSCORES', 'LIMIT', offset, batch));
      if (raw.length === 0) return { data, hasMore: false };
      offset += raw.length / 2;
      const ids: string[] = [];
      for (let i = 0; i < raw.length; i += 2) {
        const id = raw[i]!;
        const score = Number(raw[i + 1]);
        // newest first, ties by id descending (Redis's REV order): skip up to and including the cursor
        if (after && (score > after.score || (score === after.score && id >= after.id))) continue;
        ids.push(id);
      }
      for (const record of await load(ids)) {
        if (data.length === q.limit) return { data, hasMore: true };
        data.push(record);
      }
    }
  }
}
