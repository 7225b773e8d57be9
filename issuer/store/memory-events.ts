/**
 * The embedded store's events and merchants' journals (event-types.ts EventStore): the same contract as Redis
 * (redis-events.ts) in plain Maps. A payment's events are MemoryPayments' (written in each step's own atomic
 * call); each method here reads and writes without awaiting in between, so it is atomic as a script is.
 */
import { ScanpayError } from '../../core/errors.ts';
import { parseMerchant } from '../../protocol/values.ts';
import { ZERO_HASH, eventIdParts, type EventStore, type JournalHead, type JournalRecord, type OutboxMark, type PaymentEvent, type PaymentEventsRead, type Period } from './event-types.ts';
import type { MemoryPayments } from './memory-payments.ts';
import { checkedEventFrom, checkedEventId, checkedJournalRecord, checkedPaymentId, checkedPeriodNumber } from './validate.ts';

interface Journal {
  records: JournalRecord[];
  index: Map<string, number>; // event id → seq
  sealed: Map<string, number>; // payment id → events sealed
  open: { period: number; firstSeq: number; openedAt: number | null };
  closed: Map<number, Period>;
  lease: { owner: string; until: number } | null;
}

const copy = <T>(value: T): T => structuredClone(value);

export class MemoryEvents implements EventStore {
  readonly #journals = new Map<string, Journal>();
  readonly #receiptsDue = new Set<string>();

  constructor(private readonly payments: MemoryPayments, private readonly now: () => number = Date.now) {}

  #journal(merchant: string): Journal {
    const m = parseMerchant(merchant);
    let journal = this.#journals.get(m);
    if (!journal) {
      journal = { records: [], index: new Map(), sealed: new Map(), open: { period: 1, firstSeq: 1, openedAt: null }, closed: new Map(), lease: null };
      this.#journals.set(m, journal);
    }
    return journal;
  }

  async eventMerchants(): Promise<string[]> {
    return this.payments.eventMerchants();
  }

  readonly markGraceMs = 0; // a step marks its payment in the same synchronous step that writes its event

  async outbox(merchant: string, limit: number, after?: OutboxMark): Promise<OutboxMark[]> {
    return [...this.payments.outboxOf(parseMerchant(merchant))]
      .filter(([paymentId, mark]) => !after || mark > after.mark || (mark === after.mark && paymentId > after.paymentId))
      .sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, limit)
      .map(([paymentId, mark]) => ({ paymentId, mark }));
  }

  async clearMark(merchant: string, mark: OutboxMark, now: number, graceMs: number): Promise<boolean> {
    const outbox = this.payments.outboxOf(parseMerchant(merchant));
    if (outbox.get(mark.paymentId) !== mark.mark || mark.mark > now - graceMs) return false;
    return outbox.delete(mark.paymentId);
  }

  async clearMarks(merchant: string, marks: readonly OutboxMark[], now: number, graceMs: number): Promise<number> {
    let cleared = 0;
    for (const mark of marks) if (await this.clearMark(merchant, mark, now, graceMs)) cleared++;
    return cleared;
  }

  async paymentEvents(paymentId: string, from = 1): Promise<PaymentEvent[]> {
    return this.payments.eventsOf(checkedPaymentId(paymentId)).slice(checkedEventFrom(from) - 1);
  }

  async paymentsEvents(reads: readonly PaymentEventsRead[]): Promise<PaymentEvent[][]> {
    return Promise.all(reads.map((read) => this.paymentEvents(read.paymentId, read.from)));
  }

  async getEvent(id: string): Promise<PaymentEvent | null> {
    const { paymentId, n } = eventIdParts(checkedEventId(id))!;
    return this.payments.eventsOf(paymentId)[n - 1] ?? null;
  }

  async getEvents(ids: readonly string[]): Promise<(PaymentEvent | null)[]> {
    return Promise.all(ids.map((id) => this.getEvent(id)));
  }

  async journalHead(merchant: string): Promise<JournalHead> {
    const journal = this.#journal(merchant);
    return { seq: journal.records.length, hash: journal.records.at(-1)?.hash ?? ZERO_HASH, period: journal.open.period };
  }

  async sealedCount(merchant: string, paymentId: string): Promise<number> {
    return this.#journal(merchant).sealed.get(checkedPaymentId(paymentId)) ?? 0;
  }

  async sealedCounts(merchant: string, paymentIds: readonly string[]): Promise<number[]> {
    const sealed = this.#journal(merchant).sealed;
    return paymentIds.map((id) => sealed.get(checkedPaymentId(id)) ?? 0);
  }

  async appendJournal(merchant: string, head: JournalHead, records: JournalRecord[]): Promise<boolean> {
    const journal = this.#journal(merchant);
    const checked = records.map(checkedJournalRecord);
    if (journal.records.length !== head.seq || journal.open.period !== head.period) return false;
    const counts = new Map<string, number>();
    for (const record of checked) {
      const { paymentId, n } = eventIdParts(record.eventId)!;
      const sealed = counts.get(paymentId) ?? journal.sealed.get(paymentId) ?? 0;
      if (sealed + 1 !== n) throw new ScanpayError('BAD_ARGUMENT', `journal: event ${record.eventId} is not its payment's next`);
      counts.set(paymentId, n);
    }
    journal.open.openedAt ??= checked[0]?.sealedAt ?? null;
    for (const record of checked) {
      journal.records.push(record);
      journal.index.set(record.eventId, record.seq);
      journal.sealed.set(record.paymentId, counts.get(record.paymentId)!);
    }
    if (checked.length > 0) this.#receiptsDue.add(parseMerchant(merchant));
    return true;
  }

  async receiptsDue(): Promise<string[]> {
    return [...this.#receiptsDue];
  }

  async takeReceiptsDue(merchant: string): Promise<void> {
    this.#receiptsDue.delete(parseMerchant(merchant));
  }

  async markReceiptsDue(merchant: string): Promise<void> {
    this.#receiptsDue.add(parseMerchant(merchant));
  }

  async journal(merchant: string, fromSeq: number, limit: number): Promise<JournalRecord[]> {
    return copy(this.#journal(merchant).records.slice(fromSeq - 1, fromSeq - 1 + limit));
  }

  async journalRecordOf(merchant: string, eventId: string): Promise<JournalRecord | null> {
    const journal = this.#journal(merchant);
    const seq = journal.index.get(checkedEventId(eventId));
    return seq === undefined ? null : copy(journal.records[seq - 1]!);
  }

  async closePeriod(merchant: string, expected: number, at: number): Promise<Period> {
    const journal = this.#journal(merchant);
    const done = journal.closed.get(checkedPeriodNumber(expected));
    if (done) return copy(done);
    const { period, firstSeq, openedAt } = journal.open;
    if (expected !== period) throw new ScanpayError('PERIOD_NOT_OPEN', `period ${expected} is not open yet`);
    const closed: Period = {
      period, firstSeq, lastSeq: journal.records.length, openedAt: openedAt ?? at, closedAt: at, closingHash: journal.records.at(-1)?.hash ?? ZERO_HASH,
    };
    journal.closed.set(period, closed);
    journal.open = { period: period + 1, firstSeq: journal.records.length + 1, openedAt: at };
    return copy(closed);
  }

  async getPeriod(merchant: string, period: number): Promise<Period | null> {
    const journal = this.#journal(merchant);
    const closed = journal.closed.get(period);
    if (closed) return copy(closed);
    if (period !== journal.open.period) return null;
    return { period, firstSeq: journal.open.firstSeq, lastSeq: null, openedAt: journal.open.openedAt ?? 0, closedAt: null, closingHash: null };
  }

  async leaseSealer(merchant: string, owner: string, ttlMs: number): Promise<boolean> {
    const journal = this.#journal(merchant);
    const now = this.now();
    if (journal.lease && journal.lease.until > now && journal.lease.owner !== owner) return false;
    journal.lease = { owner, until: now + ttlMs };
    return true;
  }

  async releaseSealer(merchant: string, owner: string): Promise<void> {
    const journal = this.#journal(merchant);
    if (journal.lease?.owner === owner) journal.lease = null;
  }
}
