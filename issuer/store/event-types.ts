/**
 * The store contract for what merchants are told (docs/ledger.md §Events and the journal): every change to a
 * payment is an event, written in the same atomic step as the ledger entries it made (or, for a decline, as the
 * payment's record), on the payment's slot: no entry without its event, no event without its entry. An event
 * names its payment and holds the payment (and refund) as that step left it, and the entries it made.
 *
 * Events are then *sealed* into their merchant's journal, one merchant at a time by whichever gateway holds the
 * merchant's seal lease (issuer/journal.ts): each journal record covers one event, in the order the events of a
 * payment were made, chained by hash to the record before it (so an edited, removed or reordered entry is found),
 * and lands in exactly one settlement period (the merchant's open one when it is sealed). Webhook deliveries and
 * `GET /v1/events` read the journal.
 *
 * How a sealer finds new events: each step that writes an event also marks its payment in its merchant's outbox
 * (a sorted set on the merchant's slot, scored by when it was marked). On one Redis the step's script marks it;
 * on a cluster the store marks it before the step and again after it, and a mark is cleared only once the
 * sealer has read the payment's events *after* the mark's last write, and the mark is older than a grace time
 * (a step that ran after the sealer read cannot be lost: it marks again, or is within the grace).
 */
import type { Payment, Refund, LedgerEntry } from './payment-types.ts';

export type EventType =
  | 'payment.approved' // authorized: captured at once (automatic), or held (manual capture)
  | 'payment.declined' // declined by the issuer (funds, limit, currency): nothing held
  | 'payment.captured' // a manual capture: all of it, or part (the rest released)
  | 'payment.voided' // its merchant released the hold
  | 'payment.expired' // the hold window passed: released
  | 'payment.reversed' // a reversal: voided, refunded, or nothing to undo
  | 'refund.created';

export const EVENT_TYPES: readonly EventType[] = [
  'payment.approved', 'payment.declined', 'payment.captured', 'payment.voided', 'payment.expired', 'payment.reversed', 'refund.created',
];

/** `ev_<payment id>_<n>` → its payment id and n, or null for a string that is no event id. */
export function eventIdParts(id: string): { paymentId: string; n: number } | null {
  const m = /^ev_([0-9a-f]{32})_([1-9][0-9]{0,5})$/.exec(id);
  return m ? { paymentId: m[1]!, n: Number(m[2]) } : null;
}

export function eventId(paymentId: string, n: number): string {
  return `ev_${paymentId}_${n}`;
}

/** The previous hash of a journal's first record, and the closing hash of a period closed on an empty journal. */
export const ZERO_HASH = '0'.repeat(64);

export interface PaymentEvent {
  /** `ev_<payment id>_<n>`: the n'th event of its payment (1, 2, …). */
  id: string;
  type: EventType;
  merchant: string;
  paymentId: string;
  n: number;
  createdAt: number;
  /** The payment as the step that made the event left it. */
  payment: Payment;
  /** The refund it made (refund.created, or a reversal that refunded); else null. */
  refund: Refund | null;
  /** A reversal's action; else null. */
  action: 'voided' | 'refunded' | 'none' | null;
  /** The ledger entries the step made (none for a decline, or a reversal with nothing to undo). */
  entries: LedgerEntry[];
}

/** A payment the outbox says may have events its merchant's journal has not sealed, and the mark's score. */
/** A payment's events to read: those from the `from`'th (1-based) on. */
export interface PaymentEventsRead {
  paymentId: string;
  from: number;
}

export interface OutboxMark {
  paymentId: string;
  mark: number;
}

/**
 * One sealed event in its merchant's journal. `hash` = SHA-256 over the previous record's hash and this record's
 * canonical fields (issuer/journal.ts recordHash), the first record's previous hash being 64 zeros.
 */
export interface JournalRecord {
  seq: number; // 1, 2, … per merchant
  eventId: string;
  type: EventType;
  paymentId: string;
  period: number;
  /** SHA-256 of the event's canonical bytes (issuer/journal.ts eventHash). */
  eventHash: string;
  prevHash: string;
  hash: string;
  sealedAt: number;
}

export interface JournalHead {
  seq: number; // 0 when empty
  hash: string; // the last record's hash (64 zeros when empty)
  period: number; // the open period (1 until the first close)
}

export interface Period {
  period: number;
  /** Journal records firstSeq..lastSeq belong to it (lastSeq < firstSeq: none yet). */
  firstSeq: number;
  lastSeq: number | null; // null while open
  openedAt: number;
  closedAt: number | null;
  /** The journal's hash at the close: publishing it anchors every record before it. */
  closingHash: string | null;
}

export interface EventStore {
  /** Merchants that have had events (the sealers' work list). */
  eventMerchants(): Promise<string[]>;
  /**
   * How long a mark must stay after its last write before it may be cleared: 0 where the step that writes an
   * event marks it in the same atomic step (memory, one Redis); on a cluster, where the mark is written before the
   * step, long enough that a step still running when its mark was read marks again after (issuer/journal.ts).
   */
  readonly markGraceMs: number;
  /**
   * Up to `limit` marked payments of a merchant, oldest mark first (ties by payment id), from just after `after` (a
   * mark this returned: the page after it; default the first). Marks of different payments may be equal.
   */
  outbox(merchant: string, limit: number, after?: OutboxMark): Promise<OutboxMark[]>;
  /** Clears a mark if it still has this score and is older than `graceMs` at `now`; true when cleared. */
  clearMark(merchant: string, mark: OutboxMark, now: number, graceMs: number): Promise<boolean>;
  /** clearMark for each of `marks` (of different payments), in one store step: how many it cleared. */
  clearMarks(merchant: string, marks: readonly OutboxMark[], now: number, graceMs: number): Promise<number>;
  /** A payment's events from the `from`'th (1-based), in order. */
  paymentEvents(paymentId: string, from?: number): Promise<PaymentEvent[]>;
  /**
   * paymentEvents of each read, in order, in one store step where the store can (one Redis: one script; a cluster,
   * whose payments are on slots of their own: one read per payment). What a sealer reads for a page of marks.
   */
  paymentsEvents(reads: readonly PaymentEventsRead[]): Promise<PaymentEvent[][]>;
  getEvent(id: string): Promise<PaymentEvent | null>;
  /** getEvent of each id, in order, in one store step where the store can (as paymentsEvents). */
  getEvents(ids: readonly string[]): Promise<(PaymentEvent | null)[]>;

  journalHead(merchant: string): Promise<JournalHead>;
  /** How many of a payment's events its merchant's journal holds. */
  sealedCount(merchant: string, paymentId: string): Promise<number>;
  /** sealedCount of each payment, in order, in one store read. */
  sealedCounts(merchant: string, paymentIds: readonly string[]): Promise<number[]>;
  /**
   * Appends records to a merchant's journal if its head is still `head.seq` and its open period `head.period`
   * (the caller computed the hashes from that head): true, or false with nothing written when another sealer
   * moved it. Each record's event must be the next unsealed one of its payment.
   */
  appendJournal(merchant: string, head: JournalHead, records: JournalRecord[]): Promise<boolean>;
  /** Records from `fromSeq` on, at most `limit`, in order. */
  journal(merchant: string, fromSeq: number, limit: number): Promise<JournalRecord[]>;
  /**
   * Merchants whose journal has grown since a receipt round last took them up: appendJournal marks its merchant
   * (in its own step where it can, one Redis and memory; right after it on a cluster), so a receipt round visits
   * only these, not every merchant. A round takes the merchant's mark (takeReceiptsDue) before it reads the
   * journal, so a record appended after that read marks it again; a round that may have left records unread
   * marks it again itself (markReceiptsDue).
   */
  receiptsDue(): Promise<string[]>;
  takeReceiptsDue(merchant: string): Promise<void>;
  markReceiptsDue(merchant: string): Promise<void>;
  /** The journal record of an event, once sealed. */
  journalRecordOf(merchant: string, eventId: string): Promise<JournalRecord | null>;

  /**
   * Closes the merchant's period `period` at `at` if it is the open one (its last record is the journal's head now)
   * and opens the next; if it is already closed, answers it as it was closed (so a retry closes nothing more).
   * PERIOD_NOT_OPEN for a period not opened yet.
   */
  closePeriod(merchant: string, period: number, at: number): Promise<Period>;
  getPeriod(merchant: string, period: number): Promise<Period | null>;

  /**
   * A lease on sealing a merchant's journal, for `ttlMs`: true when `owner` holds it now (taken or renewed).
   * Only the holder seals, so records are appended one merchant at a time without losing each other's work.
   */
  leaseSealer(merchant: string, owner: string, ttlMs: number): Promise<boolean>;
  releaseSealer(merchant: string, owner: string): Promise<void>;
}
