/**
 * Events and merchants' journals on Redis (event-types.ts EventStore): a payment's events on its slot (written by
 * the payment scripts), a merchant's outbox, journal, sealed counts, periods and sealer lease on the merchant's
 * (redis-event-scripts.ts).
 */
import { ZERO_HASH, eventIdParts, type EventStore, type PaymentEventsRead, type JournalHead, type JournalRecord, type OutboxMark, type PaymentEvent, type Period } from './event-types.ts';
import type { RedisContext } from './redis-context.ts';
import { MARK_GRACE_MS } from './retention.ts';
import { decoded } from './redis-codec.ts';
import { entryFromText, eventFromText } from './redis-payment-codec.ts';
import { checkedEventFrom, checkedEventId, checkedJournalRecord, checkedPaymentId, checkedPeriod, checkedPeriodNumber } from './validate.ts';
import { ScanpayError } from '../../core/errors.ts';
import { parseMerchant } from '../../protocol/values.ts';

/** Marks one CLEAR_MARKS call takes at most (its arguments stay well under Lua's unpack limit). */
const MARKS_PER_CALL = 1_000;

/** A payment's events (their texts) from the `from`'th, with its entries' texts: what an event holds of them. */
function eventsFromTexts(id: string, from: number, texts: readonly string[], entryTexts: readonly string[]): PaymentEvent[] {
  const entries = entryTexts.map((text, i) => entryFromText(id, i + 1, text));
  return texts.map((text, i) => eventFromText(id, from + i, text, entries));
}

export class RedisEvents implements EventStore {
  constructor(private readonly ctx: RedisContext) {}

  eventMerchants(): Promise<string[]> {
    return this.ctx.run((redis) => redis.smembers(this.ctx.keys.eventMerchants));
  }

  /** One Redis: the payment scripts mark the outbox themselves. A cluster: the store marks before and after the step. */
  get markGraceMs(): number {
    return this.ctx.cluster ? MARK_GRACE_MS : 0;
  }

  async outbox(merchant: string, limit: number, after?: OutboxMark): Promise<OutboxMark[]> {
    const key = this.ctx.keys.outbox(parseMerchant(merchant));
    const marks = (raw: string[]) => {
      const out: OutboxMark[] = [];
      for (let i = 0; i < raw.length; i += 2) out.push({ paymentId: raw[i]!, mark: Number(raw[i + 1]) });
      return out;
    };
    if (!after) return marks(await this.ctx.run((redis) => redis.zrange(key, 0, limit - 1, 'WITHSCORES')));
    // Redis orders equal scores by member: the rest of `after`'s score (as many as payments marked in that
    // millisecond), then the marks above it
    const [ties, above] = await this.ctx.run((redis) => Promise.all([
      redis.zrangebyscore(key, after.mark, after.mark, 'WITHSCORES'),
      redis.zrangebyscore(key, `(${after.mark}`, '+inf', 'WITHSCORES', 'LIMIT', 0, limit),
    ]));
    return [...marks(ties).filter((m) => m.paymentId > after.paymentId), ...marks(above)].slice(0, limit);
  }

  async clearMark(merchant: string, mark: OutboxMark, now: number, graceMs: number): Promise<boolean> {
    return (await this.clearMarks(merchant, [mark], now, graceMs)) === 1;
  }

  async clearMarks(merchant: string, marks: readonly OutboxMark[], now: number, graceMs: number): Promise<number> {
    const key = this.ctx.keys.outbox(parseMerchant(merchant));
    let cleared = 0;
    for (let i = 0; i < marks.length; i += MARKS_PER_CALL) {
      const args = marks.slice(i, i + MARKS_PER_CALL).flatMap((mark) => [checkedPaymentId(mark.paymentId), mark.mark]);
      cleared += await this.ctx.run((redis) => redis.scanpayClearMarks(key, now - graceMs, ...args));
    }
    return cleared;
  }

  async paymentEvents(paymentId: string, from = 1): Promise<PaymentEvent[]> {
    return (await this.paymentsEvents([{ paymentId, from }]))[0]!;
  }

  async paymentsEvents(reads: readonly PaymentEventsRead[]): Promise<PaymentEvent[][]> {
    const ranges = reads.map((read) => ({ id: checkedPaymentId(read.paymentId), start: checkedEventFrom(read.from) - 1, stop: -1 }));
    const lists = await this.#eventLists(ranges);
    return ranges.map(({ id, start }, i) => eventsFromTexts(id, start + 1, ...lists[i]!));
  }

  async getEvent(id: string): Promise<PaymentEvent | null> {
    return (await this.getEvents([id]))[0]!;
  }

  async getEvents(ids: readonly string[]): Promise<(PaymentEvent | null)[]> {
    const ranges = ids.map((id) => {
      const { paymentId, n } = eventIdParts(checkedEventId(id))!;
      return { id: paymentId, start: n - 1, stop: n - 1 };
    });
    const lists = await this.#eventLists(ranges);
    return ranges.map(({ id, start }, i) => eventsFromTexts(id, start + 1, ...lists[i]!)[0] ?? null);
  }

  /**
   * For each range, the texts of the payment's events in it (LRANGE start..stop) and of all its entries: on one Redis
   * in one script for many payments (their keys are on many slots); on a cluster, or for one payment, two reads each.
   */
  async #eventLists(ranges: readonly { id: string; start: number; stop: number }[]): Promise<[string[], string[]][]> {
    const { keys } = this.ctx;
    if (ranges.length === 0) return [];
    if (this.ctx.cluster || ranges.length === 1) {
      return this.ctx.run((redis) => Promise.all(ranges.map(({ id, start, stop }) => Promise.all([
        redis.lrange(keys.events(id), start, stop), redis.lrange(keys.entries(id), 0, -1),
      ]))));
    }
    const lists = await this.ctx.run((redis) => redis.scanpayEventLists(
      2 * ranges.length, ...ranges.flatMap(({ id }) => [keys.events(id), keys.entries(id)]), ...ranges.flatMap(({ start, stop }) => [start, stop]),
    ));
    return ranges.map((_, i) => [lists[2 * i]!, lists[2 * i + 1]!]);
  }

  async journalHead(merchant: string): Promise<JournalHead> {
    const { keys } = this.ctx;
    const m = parseMerchant(merchant);
    // the length first, then the record at that place: a record appended in between is not taken for the head
    const seq = await this.ctx.run((redis) => redis.llen(keys.journal(m)));
    const [last, open] = await this.ctx.run((redis) => Promise.all([
      seq === 0 ? null : redis.lindex(keys.journal(m), seq - 1), redis.hget(keys.periods(m), 'open'),
    ]));
    return { seq, hash: last === null ? ZERO_HASH : recordFromText(last).hash, period: open === null ? 1 : Number(open) };
  }

  async sealedCount(merchant: string, paymentId: string): Promise<number> {
    const n = await this.ctx.run((redis) => redis.hget(this.ctx.keys.sealed(parseMerchant(merchant)), checkedPaymentId(paymentId)));
    return n === null ? 0 : Number(n);
  }

  async sealedCounts(merchant: string, paymentIds: readonly string[]): Promise<number[]> {
    if (paymentIds.length === 0) return [];
    const ids = paymentIds.map(checkedPaymentId);
    const counts = await this.ctx.run((redis) => redis.hmget(this.ctx.keys.sealed(parseMerchant(merchant)), ...ids));
    return counts.map((n) => (n === null ? 0 : Number(n)));
  }

  async appendJournal(merchant: string, head: JournalHead, records: JournalRecord[]): Promise<boolean> {
    const { keys } = this.ctx;
    const m = parseMerchant(merchant);
    // one Redis: the script marks the merchant's receipts due with the append; a cluster: right after (its own slot)
    const due = this.ctx.cluster || records.length === 0 ? '' : keys.receiptsDue;
    const args: (string | number)[] = [head.seq, String(head.period), records[0]?.sealedAt ?? 0, due, m];
    for (const record of records.map(checkedJournalRecord)) {
      const { paymentId, n } = eventIdParts(record.eventId)!;
      args.push(paymentId, n, record.eventId, JSON.stringify(record));
    }
    const appended = await this.ctx.durable('scanpayAppendJournal', keys.journal(m), keys.journalIndex(m), keys.sealed(m), keys.periods(m), ...args);
    if (appended === 1 && this.ctx.cluster && records.length > 0) await this.markReceiptsDue(m);
    return appended === 1;
  }

  receiptsDue(): Promise<string[]> {
    return this.ctx.run((redis) => redis.smembers(this.ctx.keys.receiptsDue));
  }

  async takeReceiptsDue(merchant: string): Promise<void> {
    await this.ctx.run((redis) => redis.srem(this.ctx.keys.receiptsDue, parseMerchant(merchant)));
  }

  async markReceiptsDue(merchant: string): Promise<void> {
    await this.ctx.run((redis) => redis.sadd(this.ctx.keys.receiptsDue, parseMerchant(merchant)));
  }

  async journal(merchant: string, fromSeq: number, limit: number): Promise<JournalRecord[]> {
    const texts = await this.ctx.run((redis) => redis.lrange(this.ctx.keys.journal(parseMerchant(merchant)), fromSeq - 1, fromSeq - 2 + limit));
    return texts.map(recordFromText);
  }

  async journalRecordOf(merchant: string, eventId: string): Promise<JournalRecord | null> {
    const { keys } = this.ctx;
    const m = parseMerchant(merchant);
    const seq = await this.ctx.run((redis) => redis.hget(keys.journalIndex(m), checkedEventId(eventId)));
    if (seq === null) return null;
    const text = await this.ctx.run((redis) => redis.lindex(keys.journal(m), Number(seq) - 1));
    return text === null ? null : recordFromText(text);
  }

  async closePeriod(merchant: string, period: number, at: number): Promise<Period> {
    const m = parseMerchant(merchant);
    // idempotent by the period's number: a retry after a lost reply (or a failover) answers the close it made
    const text = await this.ctx.durable('scanpayClosePeriod', this.ctx.keys.periods(m), this.ctx.keys.journal(m), at, ZERO_HASH, checkedPeriodNumber(period));
    if (text === '') throw new ScanpayError('PERIOD_NOT_OPEN', `period ${period} is not open yet`);
    return decoded('period', () => checkedPeriod(JSON.parse(text)));
  }

  async getPeriod(merchant: string, period: number): Promise<Period | null> {
    const m = parseMerchant(merchant);
    const [closed, open, first, openedAt] = await this.ctx.run((redis) => redis.hmget(this.ctx.keys.periods(m), `p:${period}`, 'open', `first:${period}`, `openedAt:${period}`));
    if (closed !== null) return decoded('period', () => checkedPeriod(JSON.parse(closed)));
    if (period !== Number(open ?? 1)) return null;
    return { period, firstSeq: first === null ? 1 : Number(first), lastSeq: null, openedAt: openedAt === null ? 0 : Number(openedAt), closedAt: null, closingHash: null };
  }

  async leaseSealer(merchant: string, owner: string, ttlMs: number): Promise<boolean> {
    return (await this.ctx.run((redis) => redis.scanpayLease(this.ctx.keys.sealerLease(parseMerchant(merchant)), owner, ttlMs))) === 1;
  }

  async releaseSealer(merchant: string, owner: string): Promise<void> {
    await this.ctx.run((redis) => redis.scanpayRelease(this.ctx.keys.sealerLease(parseMerchant(merchant)), owner));
  }
}

function recordFromText(text: string): JournalRecord {
  return decoded('journal record', () => checkedJournalRecord(JSON.parse(text)));
}
