/**
 * End-of-day reconciliation (docs/ledger.md §Periods and settlement): a merchant's journal is divided into
 * periods; closing one (`closeSettlementPeriod`) fixes which journal records it holds, and its settlement report
 * lists every ledger entry those records' events made, with totals per currency computed from that list alone —
 * so the report reconciles with its entries by construction, and a closed period's report is the same bytes on
 * every gateway (it reads only the immutable journal and events).
 *
 * Which period an entry lands in is decided when its event is sealed (issuer/journal.ts): the open period then.
 * A close seals what is pending under the merchant's seal lease and closes before giving it back, so what was
 * acknowledged before the close is in the period it closes; an event sealed after the close is in the next period,
 * never in both and never in none.
 * @example
 *   const period = await closeSettlementPeriod(store, 'acme', { owner: gatewayId, now: Date.now() });
 *   const report = await settlementReport(store, 'acme', period.period);
 *   console.log(settlementCsv(report!));
 */
import { ScanpayError } from '../core/errors.ts';
import { SEALER_LEASE_MS, sealMerchant } from './journal.ts';
import type { EventType, Period } from './store/event-types.ts';
import type { EntryType } from './store/payment-types.ts';
import type { Store } from './store/types.ts';

/** How many entries, and their amounts' sum (minor units). */
export interface Total {
  count: number;
  amount: number;
}

/** One currency's totals in a period. `net` = captures − refunds: what the period moves to the merchant. */
export interface CurrencyTotals {
  currency: string;
  authorizations: Total;
  captures: Total;
  releases: Total;
  voids: Total;
  expiries: Total;
  refunds: Total;
  /** Reversals (events): how many, and the amount their entries released or refunded (counted in voids or refunds too). */
  reversals: Total;
  net: number;
}

/** One ledger entry as the report lists it: which journal record (and event) brought it into the period. */
export interface SettlementEntry {
  journalSeq: number;
  eventId: string;
  eventType: EventType;
  paymentId: string;
  /** The entry's number within its payment (1, 2, …). */
  entrySeq: number;
  type: EntryType;
  amount: number;
  currency: string;
  refundId: string | null;
  at: number;
}

export interface SettlementReport {
  merchant: string;
  period: number;
  status: 'open' | 'closed';
  openedAt: number;
  closedAt: number | null;
  /** The journal records the period holds: firstSeq..lastSeq (none when lastSeq < firstSeq). */
  firstSeq: number;
  lastSeq: number;
  /** The journal's hash at the close (null while open): publishing it anchors every record before it. */
  closingHash: string | null;
  /** Per currency, in code order. */
  currencies: CurrencyTotals[];
  /** Every entry, in journal order (then entry order). */
  entries: SettlementEntry[];
}

const TOTAL_OF: Readonly<Record<EntryType, Exclude<keyof CurrencyTotals, 'currency' | 'reversals' | 'net'>>> = {
  authorization: 'authorizations', capture: 'captures', release: 'releases', void: 'voids', expiry: 'expiries', refund: 'refunds',
};
const PAGE = 500;
/** How long a close waits for the merchant's seal lease (sealing rounds are short; gateways give the lease back after each). */
export const CLOSE_LEASE_WAIT_MS = 2_000;

export interface CloseOptions {
  /** Who closes (a gateway process, or the CLI): the seal lease's holder for the sealing round before the close. */
  owner: string;
  now: number;
}

/** The merchant's open period's number (1 until the first close). */
export async function openPeriod(store: Pick<Store, 'events'>, merchant: string): Promise<number> {
  return (await store.events.journalHead(merchant)).period;
}

/**
 * Closes the merchant's period `period` if it is the open one. It waits (up to CLOSE_LEASE_WAIT_MS) for the
 * merchant's seal lease, seals what is pending and closes while holding it, so the close does not cut a sealing
 * round short: what was done before the close is in the period it closes. Without the lease in time (a sealer
 * that died holding it) it closes anyway, and what is pending lands in the next period. A period already closed is
 * answered as it was closed, so a retry closes nothing more; one not opened yet is PERIOD_NOT_OPEN.
 */
export async function closeSettlementPeriod(store: Pick<Store, 'events'>, merchant: string, period: number, opts: CloseOptions): Promise<Period> {
  const closed = await store.events.getPeriod(merchant, period);
  if (closed?.closedAt != null) return closed;
  let leased = false;
  for (const deadline = Date.now() + CLOSE_LEASE_WAIT_MS; !leased && Date.now() < deadline;) {
    leased = await store.events.leaseSealer(merchant, opts.owner, SEALER_LEASE_MS);
    if (!leased) await new Promise((r) => setTimeout(r, 10));
  }
  try {
    if (leased) await sealMerchant(store.events, merchant, { ...opts, now: Date.now() });
    return await store.events.closePeriod(merchant, period, opts.now);
  } finally {
    if (leased) await store.events.releaseSealer(merchant, opts.owner);
  }
}

/** A period's settlement report, or null if the merchant has no such period. */
export async function settlementReport(store: Pick<Store, 'events'>, merchant: string, period: number): Promise<SettlementReport | null> {
  const found = await store.events.getPeriod(merchant, period);
  if (!found) return null;
  const lastSeq = found.lastSeq ?? (await store.events.journalHead(merchant)).seq;
  const entries: SettlementEntry[] = [];
  const reversals = new Map<string, Total>();
  for (let seq = found.firstSeq; seq <= lastSeq;) {
    const records = (await store.events.journal(merchant, seq, Math.min(PAGE, lastSeq - seq + 1))).filter((r) => r.period === period);
    if (records.length === 0) break; // an open period's head moved on into the next: the rest is not this period's
    const events = await store.events.getEvents(records.map((r) => r.eventId));
    for (const [i, record] of records.entries()) {
      const event = events[i];
      // the journal names an event that is gone: `scanpay journal verify` says so; a report must not silently skip it
      if (!event) throw new ScanpayError('STORE_CORRUPT', `journal record ${record.seq} names an event the store no longer has`);
      const currency = event.payment.currency;
      for (const e of event.entries) {
        entries.push({
          journalSeq: record.seq, eventId: event.id, eventType: event.type, paymentId: event.paymentId, entrySeq: e.seq, type: e.type,
          amount: e.amount, currency, refundId: e.refundId, at: e.at,
        });
      }
      if (event.type === 'payment.reversed') {
        const total = reversals.get(currency) ?? { count: 0, amount: 0 };
        total.count++;
        total.amount += event.entries.reduce((sum, e) => sum + (e.type === 'void' || e.type === 'refund' ? e.amount : 0), 0);
        reversals.set(currency, total);
      }
    }
    seq = records.at(-1)!.seq + 1;
  }
  return {
    merchant, period, status: found.closedAt === null ? 'open' : 'closed', openedAt: found.openedAt, closedAt: found.closedAt,
    firstSeq: found.firstSeq, lastSeq, closingHash: found.closingHash, currencies: totals(entries, reversals), entries,
  };
}

/** The per-currency totals of `entries`: computed from the list alone, so they reconcile with it. */
function totals(entries: readonly SettlementEntry[], reversals: ReadonlyMap<string, Total>): CurrencyTotals[] {
  const zero = (): Total => ({ count: 0, amount: 0 });
  const by = new Map<string, CurrencyTotals>();
  const of = (currency: string) => {
    let t = by.get(currency);
    if (!t) {
      t = {
        currency, authorizations: zero(), captures: zero(), releases: zero(), voids: zero(), expiries: zero(), refunds: zero(),
        reversals: reversals.get(currency) ?? zero(), net: 0,
      };
      by.set(currency, t);
    }
    return t;
  };
  for (const e of entries) {
    const total = of(e.currency)[TOTAL_OF[e.type]];
    total.count++;
    total.amount += e.amount;
  }
  for (const currency of reversals.keys()) of(currency);
  for (const t of by.values()) t.net = t.captures.amount - t.refunds.amount;
  return [...by.values()].sort((a, b) => (a.currency < b.currency ? -1 : 1));
}

const CSV_COLUMNS = ['journal_seq', 'event', 'event_type', 'payment', 'entry_seq', 'type', 'amount', 'currency', 'refund', 'created_at'] as const;

/**
 * The report as CSV (RFC 4180, CRLF): one row per entry, then a blank line and one totals row per currency and
 * kind. Every value is an id, a number, a currency code or a fixed word: nothing needs quoting, and no cell starts
 * with a formula character.
 */
export function settlementCsv(report: SettlementReport): string {
  const rows: (string | number)[][] = [[...CSV_COLUMNS]];
  for (const e of report.entries) rows.push([e.journalSeq, e.eventId, e.eventType, e.paymentId, e.entrySeq, e.type, e.amount, e.currency, e.refundId ?? '', e.at]);
  rows.push([], ['currency', 'kind', 'count', 'amount']);
  for (const t of report.currencies) {
    for (const kind of ['authorizations', 'captures', 'releases', 'voids', 'expiries', 'refunds', 'reversals'] as const) rows.push([t.currency, kind, t[kind].count, t[kind].amount]);
    rows.push([t.currency, 'net', '', t.net]);
  }
  return rows.map((r) => r.join(',')).join('\r\n') + '\r\n';
}
