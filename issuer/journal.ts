/**
 * Merchants' journals (docs/ledger.md §The journal): the sealer that turns each payment's events into its
 * merchant's journal records — in order per payment, each record chained by hash to the one before, each in
 * exactly one settlement period — and the check an auditor runs over a journal (`scanpay journal verify`).
 *
 * One sealer at a time per merchant (the store's lease); a sealer computes records from the journal's head and
 * appends them only if the head has not moved (the store's compare-and-append), so two gateways sealing the same
 * merchant never fork the chain, and a sealer that dies mid-way leaves nothing half-written: its events stay
 * marked in the outbox until a live one seals them.
 * @example
 *   const sealed = await sealMerchant(store.events, 'acme', { owner: gatewayId, now: Date.now() });
 *   const report = await verifyJournal(store, 'acme');   // report.ok, report.problems
 */
import { createHash } from 'node:crypto';
import { ZERO_HASH, type EventStore, type JournalHead, type JournalRecord, type OutboxMark, type PaymentEvent } from './store/event-types.ts';
import type { LedgerEntry, Payment, Refund } from './store/payment-types.ts';
import type { Store } from './store/types.ts';

/** How long a sealer's lease lasts unless renewed: past it another gateway may seal the merchant. */
export const SEALER_LEASE_MS = 15_000;
/** Outbox marks one sealing step reads and seals in one append. */
const PAGE = 200;
/** Pages one sealing round goes through at most: a round is bounded, the next one goes on. */
const ROUND_PAGES = 50;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

function paymentFields(p: Payment): unknown[] {
  return [p.id, p.merchant, p.cardToken, p.last4, p.currency, p.amount, p.status, p.declineReason, p.captureMethod, p.capturedAmount,
    p.refundedAmount, p.holdExpiresAt, p.reversal, p.createdAt, p.updatedAt];
}

function refundFields(r: Refund | null): unknown[] | null {
  return r && [r.id, r.paymentId, r.merchant, r.amount, r.currency, r.reason, r.createdAt];
}

function entryFields(e: LedgerEntry): unknown[] {
  return [e.paymentId, e.seq, e.type, e.amount, e.balanceChange, e.balanceAfter, e.cause, e.refundId, e.at];
}

/**
 * An event's canonical bytes: a JSON array of its fields in a fixed order (docs/ledger.md lists it), so any
 * implementation that reads the event can hash it the same way; its SHA-256 is the record's `eventHash`.
 */
export function canonicalEvent(event: PaymentEvent): string {
  return JSON.stringify([
    'scanpay/v1/event', event.id, event.type, event.merchant, event.paymentId, event.n, event.createdAt,
    paymentFields(event.payment), refundFields(event.refund), event.action, event.entries.map(entryFields),
  ]);
}

export function eventHash(event: PaymentEvent): string {
  return sha256(canonicalEvent(event));
}

/** A record's hash: over the previous record's hash and this record's fields (docs/ledger.md). */
export function recordHash(r: Omit<JournalRecord, 'hash'>): string {
  return sha256(['scanpay/v1/journal', r.prevHash, r.seq, r.eventId, r.type, r.paymentId, r.period, r.eventHash, r.sealedAt].join('\n'));
}

/** The records that seal `events` (each its payment's next) onto `head`. */
export function recordsFor(head: JournalHead, events: readonly PaymentEvent[], sealedAt: number): JournalRecord[] {
  const records: JournalRecord[] = [];
  let prevHash = head.hash;
  for (const [i, event] of events.entries()) {
    const unhashed = {
      seq: head.seq + i + 1, eventId: event.id, type: event.type, paymentId: event.paymentId, period: head.period,
      eventHash: eventHash(event), prevHash, sealedAt,
    };
    const record = { ...unhashed, hash: recordHash(unhashed) };
    records.push(record);
    prevHash = record.hash;
  }
  return records;
}

export interface SealOptions {
  /** Who seals (one gateway process): the lease's holder. */
  owner: string;
  now: number;
  graceMs?: number;
}

/**
 * One sealing round for a merchant: if this owner holds (or takes) the lease, goes through the merchant's outbox a
 * page of marks at a time (oldest first, at most ROUND_PAGES pages), seals each page's unsealed events in one
 * append, then clears the marks it has read past (those past the store's grace). Resolves to the records appended
 * (none when another sealer holds the lease, or there was nothing new).
 */
export async function sealMerchant(events: EventStore, merchant: string, opts: SealOptions): Promise<JournalRecord[]> {
  if (!(await events.leaseSealer(merchant, opts.owner, SEALER_LEASE_MS))) return [];
  const graceMs = opts.graceMs ?? events.markGraceMs;
  const sealed: JournalRecord[] = [];
  let after: OutboxMark | undefined;
  for (let page = 0; page < ROUND_PAGES; page++) {
    const marks = await events.outbox(merchant, PAGE, after);
    if (marks.length === 0) break;
    const records = await sealMarks(events, merchant, marks, opts.now);
    if (!records) break; // the head kept moving: the marks stay for the next round
    sealed.push(...records);
    // every event read is sealed: a mark unchanged since it was read (and past the grace) has nothing more
    await events.clearMarks(merchant, marks, opts.now, graceMs);
    after = marks.at(-1);
  }
  return sealed;
}

/** Seals the unsealed events of the marked payments onto the journal's head: the records, or null if it kept moving. */
async function sealMarks(events: EventStore, merchant: string, marks: readonly OutboxMark[], now: number): Promise<JournalRecord[] | null> {
  // the events are read after the marks: an event written after its mark was read marks again (event-types.ts)
  for (let tries = 0; tries < 3; tries++) {
    const head = await events.journalHead(merchant);
    const sealed = await events.sealedCounts(merchant, marks.map((mark) => mark.paymentId));
    const pending = await events.paymentsEvents(marks.map((mark, i) => ({ paymentId: mark.paymentId, from: sealed[i]! + 1 })));
    const records = recordsFor(head, pending.flat(), now);
    if (records.length === 0 || await events.appendJournal(merchant, head, records)) return records;
    // the head moved (a period closed, or a sealer whose lease had lapsed appended): recompute from the new head
  }
  return null;
}

export interface JournalReport {
  merchant: string;
  records: number;
  payments: number;
  problems: string[];
  ok: boolean;
}

/**
 * Checks a merchant's journal against itself and against the payments: every record's hash and link, its
 * event's hash (so an edited event or entry is found), the events of each payment sealed in order, and every
 * entry of the merchant's payments covered by a sealed event (so a removed or added entry is found). A journal
 * rewritten wholesale from some record on is found by comparing the closing hash of a period published before.
 */
export async function verifyJournal(store: Pick<Store, 'events' | 'payments'>, merchant: string): Promise<JournalReport> {
  const problems: string[] = [];
  const seen = new Map<string, number>(); // payment id → events sealed so far
  let prevHash = ZERO_HASH;
  let seq = 0;
  let period = 1;
  for (;;) {
    const batch = await store.events.journal(merchant, seq + 1, 500);
    if (batch.length === 0) break;
    for (const record of batch) {
      seq++;
      const at = `record ${seq}`;
      if (record.seq !== seq) problems.push(`${at}: says it is record ${record.seq}`);
      if (record.prevHash !== prevHash) problems.push(`${at}: does not link to the record before it`);
      const { hash, ...rest } = record;
      if (recordHash(rest) !== hash) problems.push(`${at}: its hash does not match its fields`);
      if (record.period < period) problems.push(`${at}: is in period ${record.period}, after a record of period ${period}`);
      period = record.period;
      const n = (seen.get(record.paymentId) ?? 0) + 1;
      seen.set(record.paymentId, n);
      if (record.eventId !== `ev_${record.paymentId}_${n}`) problems.push(`${at}: seals ${record.eventId} where event ${n} of its payment was due`);
      const event = await store.events.getEvent(record.eventId);
      if (!event) problems.push(`${at}: its event ${record.eventId} is gone`);
      else if (eventHash(event) !== record.eventHash) problems.push(`${at}: its event ${record.eventId} was changed`);
      prevHash = hash;
    }
  }
  let payments = 0;
  for (let after: string | undefined; ;) {
    const page = await store.payments.listPayments(merchant, { limit: 100, startingAfter: after });
    for (const payment of page.data) {
      payments++;
      const [entries, events] = await Promise.all([store.payments.entries(payment.id), store.events.paymentEvents(payment.id)]);
      const sealed = seen.get(payment.id) ?? 0;
      if (sealed > events.length) problems.push(`payment ${payment.id}: the journal seals ${sealed} events, it has ${events.length}`);
      const covered = events.flatMap((e) => e.entries);
      const same = covered.length === entries.length && covered.every((e, i) => JSON.stringify(entryFields(e)) === JSON.stringify(entryFields(entries[i]!)));
      if (!same) problems.push(`payment ${payment.id}: its ledger entries differ from the ones its events recorded`);
    }
    if (!page.hasMore) break;
    after = page.data.at(-1)!.id;
  }
  return { merchant, records: seq, payments, problems, ok: problems.length === 0 };
}
