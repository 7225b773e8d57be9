/**
 * Reconciles what the scanners were told (the fleet's journal) with what the store kept (every payment's ledger record,
 * read by SCAN under the run's prefix, and every card's balance):
 *  - every approval a scanner received is one approved ledger record (the ledger is keyed by session id, so
 *    "once" means: no acknowledged approval missing, no session acknowledged with two different receipts);
 *  - no ledger approval for a session whose scanner was told it failed (declined or a definitive error);
 *  - sessions whose scanner gave up on retryable errors may be approved: counted as "unknown to the
 *    scanner, in the ledger", never a second payment (their cards' balances include them exactly once);
 *  - every approved ledger record's payment starts with its authorization entry, holding the record's amount;
 *  - every card's balance = initial + the balance changes of every entry of its payments (the authorization's
 *    hold, and whatever the money operator's captures, voids and refunds did after it: money.ts);
 *  - every receipt received verifies (HMAC-SHA256 keyed by the ledger record's cryptogram).
 */
import { Cluster, type Redis } from 'ioredis';
import type { LedgerRecord, Store } from '../../issuer/store/types.ts';
import { expectedReceiptMac } from '../support/gateway-fixture.ts';
import { keysUnder } from '../support/redis.ts';
import type { ChaosCard, ScannerFleet } from './scanners.ts';

export interface Reconciliation {
  sessions: number; // sessions the scanners opened
  acknowledged: number; // approvals the scanners received (one per session)
  ledgerApprovals: number;
  ledgerDeclines: number;
  missing: number; // acknowledged, not approved in the ledger (a lost payment)
  conflictingReceipts: number; // one session acknowledged with two different receipts
  toldFailedButApproved: number; // declined or refused to the scanner, approved in the ledger
  unknownInLedger: number; // the scanner gave up; the ledger has the approval
  unknownNotInLedger: number; // the scanner gave up; no payment
  orphans: number; // ledger approvals for sessions no scanner opened
  falseReplays: number; // the first PIN answer of a session said replayed: true
  balancesChecked: number;
  balanceMismatches: number;
  receiptsChecked: number;
  receiptsBad: number;
  /** The approved payments' ids (what the money reconciliation reads: money.ts). */
  approvedIds: string[];
  ok: boolean;
}

/** Every ledger record under the store's prefix (on a cluster: SCAN on every master). */
async function wholeLedger(redis: Redis | Cluster, prefix: string, store: Store): Promise<Map<string, LedgerRecord>> {
  const ledger = new Map<string, LedgerRecord>();
  const servers = redis instanceof Cluster ? redis.nodes('master') : [redis];
  const keys = (await Promise.all(servers.map((server) => keysUnder(server, prefix)))).flat().filter((k) => k.includes('}:payment:'));
  for (const key of keys) {
    const id = key.slice(key.lastIndexOf(':') + 1);
    const record = await store.getLedgerRecord(id);
    if (record) ledger.set(id, record);
  }
  return ledger;
}

export async function reconcile(opts: {
  fleet: ScannerFleet; store: Store; redis: Redis | Cluster; prefix: string; cards: ChaosCard[]; initialBalance: number;
}): Promise<Reconciliation> {
  const { fleet, store } = opts;
  const ledger = await wholeLedger(opts.redis, opts.prefix, store);
  const r: Reconciliation = {
    sessions: fleet.sessions.size, acknowledged: 0, ledgerApprovals: 0, ledgerDeclines: 0, missing: 0, conflictingReceipts: 0,
    toldFailedButApproved: 0, unknownInLedger: 0, unknownNotInLedger: 0, orphans: 0, falseReplays: 0,
    balancesChecked: 0, balanceMismatches: 0, receiptsChecked: 0, receiptsBad: 0, approvedIds: [], ok: false,
  };
  const changes = new Map<string, number>();
  for (const record of ledger.values()) {
    if (record.outcome !== 'approved') {
      r.ledgerDeclines++;
      continue;
    }
    r.ledgerApprovals++;
    r.approvedIds.push(record.sessionId);
    const entries = await store.payments.entries(record.sessionId);
    const first = entries[0];
    if (!first || first.type !== 'authorization' || first.balanceChange !== -record.amount) r.balanceMismatches++;
    changes.set(record.cardToken, (changes.get(record.cardToken) ?? 0) + entries.reduce((n, e) => n + e.balanceChange, 0));
    if (!fleet.sessions.has(record.sessionId)) r.orphans++;
  }
  for (const entry of fleet.sessions.values()) {
    const record = ledger.get(entry.session);
    const approved = record?.outcome === 'approved';
    if (entry.firstAnswerReplayed) r.falseReplays++;
    if (entry.fate === 'approved') {
      r.acknowledged++;
      if (!approved || record.cardToken !== entry.card || record.amount !== entry.amount) r.missing++;
    } else if (entry.fate === 'unknown') {
      if (approved) r.unknownInLedger++;
      else r.unknownNotInLedger++;
    } else if (approved) {
      r.toldFailedButApproved++;
    }
    if (new Set(entry.receipts.map((x) => x.mac)).size > 1) r.conflictingReceipts++;
    for (const receipt of entry.receipts) {
      r.receiptsChecked++;
      if (!record || expectedReceiptMac(receipt, record) !== receipt.mac || receipt.amount !== record.amount) r.receiptsBad++;
    }
  }
  for (const card of opts.cards) {
    const row = await store.getCard(card.token);
    r.balancesChecked++;
    if (!row || row.balance !== opts.initialBalance + (changes.get(card.token) ?? 0)) r.balanceMismatches++;
  }
  r.ok = r.missing === 0 && r.conflictingReceipts === 0 && r.toldFailedButApproved === 0 && r.orphans === 0
    && r.falseReplays === 0 && r.balanceMismatches === 0 && r.receiptsBad === 0
    && r.ledgerApprovals === r.acknowledged + r.unknownInLedger;
  return r;
}
