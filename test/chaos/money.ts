/**
 * Money after the payment under chaos: a merchant's back office (MoneyOperator) that, while the scanners pay
 * and the fault is injected, captures, voids and refunds the payments the scanners were told were approved,
 * over the merchant API with an Idempotency-Key per operation, retrying a failure (a dropped connection, a
 * timeout, a 5xx) under the same key until it gets an answer or gives up; and the reconciliation of what it
 * was told with the ledger (reconcileMoney). An operation's opId is a function of its key (payment.ts
 * operationId), so each operation's entries can be found in the ledger by their `cause`:
 *  - every acknowledged operation (2xx) is in the ledger exactly once: its capture, void or refund entry, of
 *    the amount it asked (a refund's entry carries the refund id the answer gave);
 *  - an operation refused (4xx) left no entry; one given up on left at most one;
 *  - no entry was made by anything but an authorization (its session id) or an operation the operator sent;
 *  - each payment's captured and refunded totals are its entries' (refunded ≤ captured), and
 *  - every card's balance is its opening balance plus the changes of every entry on it (reconcile.ts).
 * @example
 *   const money = new MoneyOperator({ merchantUrl: () => gw.merchantUrl, apiKey, merchant: 'chaos-shop', fleet });
 *   money.start(); …; await money.stop(); const m = await reconcileMoney(money, store);
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { operationId, refundIdOf } from '../../issuer/payment.ts';
import type { LedgerEntry, Store } from '../../issuer/store/index.ts';
import type { ScannerFleet, SessionEntry } from './scanners.ts';

export type MoneyKind = 'capture' | 'void' | 'refund';

/** What one operation asked and what its merchant was finally told. */
export interface MoneyOperation {
  kind: MoneyKind;
  paymentId: string;
  key: string; // its Idempotency-Key
  amount: number | null; // capture: how much (null: all); refund: how much; void: null
  /** acknowledged: a 2xx; refused: a 4xx (its code); unknown: only failures until the operator gave up. */
  fate: 'acknowledged' | 'refused' | 'unknown';
  code: string | null;
  refundId: string | null; // a refund's id, from its answer
  tries: number;
  answeredAt: number | null; // when its final answer came (ms since epoch)
}

export interface MoneyOptions {
  /** Where each request goes (called per request: a test may spread them over gateways). */
  merchantUrl: () => string;
  apiKey: string;
  merchant: string;
  fleet: ScannerFleet;
  /** Operations running at once. Default 3. */
  workers?: number;
  /** How long an operation is retried under its key before it is given up as unknown. Default 8 s. */
  patienceMs?: number;
  /**
   * How long after its approval a payment is taken (default 1 s): the back office works behind the tills, so
   * what was paid just before a fault is captured, voided and refunded during it.
   */
  lagMs?: number;
}

const REQUEST_TIMEOUT_MS = 3_000;

/**
 * Each approved payment's chain of operations, decided by its place (so the mix is fixed): a held payment
 * (manual capture) is voided, captured whole then half refunded, or captured in part; a captured one is
 * refunded in two halves, or refunded 1 and then asked past what is left (refused: AMOUNT_TOO_LARGE).
 */
function plan(entry: SessionEntry, n: number): Omit<MoneyOperation, 'paymentId' | 'key' | 'fate' | 'code' | 'refundId' | 'tries' | 'answeredAt'>[] {
  const half = Math.max(1, Math.floor(entry.amount / 2));
  if (entry.capture === 'manual') {
    if (n % 3 === 0) return [{ kind: 'void', amount: null }];
    if (n % 3 === 1) return [{ kind: 'capture', amount: null }, { kind: 'refund', amount: half }];
    return [{ kind: 'capture', amount: half }];
  }
  if (n % 2 === 0) return entry.amount > 1 ? [{ kind: 'refund', amount: half }, { kind: 'refund', amount: entry.amount - half }] : [{ kind: 'refund', amount: 1 }];
  return [{ kind: 'refund', amount: 1 }, { kind: 'refund', amount: entry.amount }];
}

export class MoneyOperator {
  readonly operations: MoneyOperation[] = [];
  /** Failures retried, by kind ('timeout', 'network', or the 5xx code). */
  readonly failures = new Map<string, number>();
  #taken = new Set<string>();
  #planned = 0;
  #stopping = false;
  #loops: Promise<void>[] = [];

  constructor(private readonly opts: MoneyOptions) {}

  start(): void {
    for (let i = 0; i < (this.opts.workers ?? 3); i++) this.#loops.push(this.#loop());
  }

  /** Takes no new payment; the chains under way finish (or give up) first. */
  async stop(): Promise<void> {
    this.#stopping = true;
    await Promise.all(this.#loops);
  }

  /** The next approved payment, at least lagMs old, no worker has taken yet. */
  #next(): SessionEntry | null {
    const due = Date.now() - (this.opts.lagMs ?? 1_000);
    for (const entry of this.opts.fleet.sessions.values()) {
      if (entry.fate === 'approved' && entry.settledAt! <= due && !this.#taken.has(entry.session)) {
        this.#taken.add(entry.session);
        return entry;
      }
    }
    return null;
  }

  async #loop(): Promise<void> {
    while (!this.#stopping) {
      const entry = this.#next();
      if (!entry) {
        await sleep(50);
        continue;
      }
      const n = this.#planned++;
      for (const [i, step] of plan(entry, n).entries()) {
        const op: MoneyOperation = { ...step, paymentId: entry.session, key: `chaos-${entry.session}-${i}`, fate: 'unknown', code: null, refundId: null, tries: 0, answeredAt: null };
        this.operations.push(op);
        await this.#run(op);
        if (op.fate !== 'acknowledged') break; // a chain goes on only from a known state
      }
    }
  }

  #fail(kind: string): void {
    this.failures.set(kind, (this.failures.get(kind) ?? 0) + 1);
  }

  /** Sends the operation under its key until an answer (2xx or 4xx) comes or patience runs out. */
  async #run(op: MoneyOperation): Promise<void> {
    const { path, body } = op.kind === 'refund'
      ? { path: '/v1/refunds', body: { payment: op.paymentId, amount: op.amount } }
      : { path: `/v1/payments/${op.paymentId}/${op.kind}`, body: op.amount === null ? undefined : { amount: op.amount } };
    const deadline = Date.now() + (this.opts.patienceMs ?? 8_000);
    for (let attempt = 0; Date.now() < deadline; attempt++) {
      op.tries++;
      try {
        const res = await fetch(`${this.opts.merchantUrl()}${path}`, {
          method: 'POST', signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
          headers: { authorization: `Bearer ${this.opts.apiKey}`, 'idempotency-key': op.key, ...(body ? { 'content-type': 'application/json' } : {}) },
          body: body ? JSON.stringify(body) : undefined,
        });
        const json = await res.json() as { id?: string; error?: { code: string } };
        if (res.status < 500) op.answeredAt = Date.now();
        if (res.status < 300) {
          op.fate = 'acknowledged';
          if (op.kind === 'refund') op.refundId = json.id ?? null;
          return;
        }
        if (res.status < 500) {
          op.fate = 'refused';
          op.code = json.error?.code ?? String(res.status);
          return;
        }
        this.#fail(json.error?.code ?? String(res.status));
      } catch (e) {
        this.#fail((e as Error).name === 'TimeoutError' ? 'timeout' : 'network');
      }
      await sleep(Math.min(50 * 2 ** attempt, 1_000) * (0.5 + Math.random()));
    }
    op.fate = 'unknown';
  }
}

export interface MoneyReconciliation {
  operations: Record<MoneyKind, { acknowledged: number; refused: number; unknown: number }>;
  /** Acknowledged operations not in the ledger exactly once, or not as they asked. */
  missing: number;
  /** Operations that left entries although refused, or more than one entry set. */
  duplicated: number;
  refusedButInLedger: number;
  /** Entries made by no authorization and no operation the operator sent. */
  orphanEntries: number;
  /** Payments whose captured or refunded totals are not their entries', or that refunded more than captured. */
  inconsistentPayments: number;
  paymentsChecked: number;
  entriesChecked: number;
  retriedFailures: Record<string, number>;
  ok: boolean;
}

/** The main entry of each operation kind (a partial capture also makes a release, under the same cause). */
const MAIN_ENTRY: Record<MoneyKind, LedgerEntry['type']> = { capture: 'capture', void: 'void', refund: 'refund' };

export async function reconcileMoney(money: MoneyOperator, store: Store, merchant: string, paymentIds: string[]): Promise<MoneyReconciliation> {
  const r: MoneyReconciliation = {
    operations: { capture: { acknowledged: 0, refused: 0, unknown: 0 }, void: { acknowledged: 0, refused: 0, unknown: 0 }, refund: { acknowledged: 0, refused: 0, unknown: 0 } },
    missing: 0, duplicated: 0, refusedButInLedger: 0, orphanEntries: 0, inconsistentPayments: 0, paymentsChecked: 0, entriesChecked: 0,
    retriedFailures: Object.fromEntries([...money.failures].sort()), ok: false,
  };
  const entriesOf = new Map<string, LedgerEntry[]>();
  for (const id of paymentIds) entriesOf.set(id, await store.payments.entries(id));
  const causes = new Set<string>();
  for (const op of money.operations) {
    r.operations[op.kind][op.fate]++;
    const opId = operationId(op.paymentId, merchant, op.key);
    causes.add(opId);
    const mine = (entriesOf.get(op.paymentId) ?? []).filter((e) => e.cause === opId && e.type === MAIN_ENTRY[op.kind]);
    if (op.fate === 'acknowledged') {
      const e = mine[0];
      const asked = op.kind === 'refund' ? e?.amount === op.amount && e.refundId === refundIdOf(opId) && op.refundId === e.refundId
        : op.kind === 'capture' ? op.amount === null || e?.amount === op.amount : true;
      if (mine.length !== 1 || !asked) r.missing++;
    } else if (op.fate === 'refused') {
      if (mine.length > 0) r.refusedButInLedger++;
    } else if (mine.length > 1) {
      r.duplicated++;
    }
    if (op.fate === 'acknowledged' && mine.length > 1) r.duplicated++;
  }
  for (const [id, entries] of entriesOf) {
    r.paymentsChecked++;
    r.entriesChecked += entries.length;
    for (const e of entries) if (!(e.type === 'authorization' && e.cause === id) && !(e.type === 'capture' && e.cause === id) && !causes.has(e.cause)) r.orphanEntries++;
    const payment = await store.payments.getPayment(id);
    if (!payment) continue;
    const captured = entries.filter((e) => e.type === 'capture').reduce((n, e) => n + e.amount, 0);
    const refunded = entries.filter((e) => e.type === 'refund').reduce((n, e) => n + e.amount, 0);
    if (payment.capturedAmount !== captured || payment.refundedAmount !== refunded || refunded > captured) r.inconsistentPayments++;
  }
  r.ok = r.missing === 0 && r.duplicated === 0 && r.refusedButInLedger === 0 && r.orphanEntries === 0 && r.inconsistentPayments === 0;
  return r;
}
