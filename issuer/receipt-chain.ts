/**
 * Merchants' receipt chains (docs/receipts.md §The chain): the signer that turns a merchant's journal records
 * into signed receipts, each chained to the one before it, and the check of a stored chain.
 *
 * The receipts follow the journal, which is already one ordered, unforked chain per merchant (issuer/journal.ts):
 * the chain keeps a cursor (the last journal record it has read) and a signer reads the records after it, makes
 * a receipt for each that moved money to or from the holder (an approval captured at once, a capture, a refund),
 * has them signed in one call where the receipt keys are (the crypto workers), and appends them only if neither
 * the chain nor its cursor moved since it read them (the store's compare-and-append). One signer at a time per
 * merchant holds a lease; a signer whose lease lapsed mid-way can only fail its append. So the chain has no gap
 * (every record is read once, in order) and no fork (one append wins per head), whatever the number of gateways.
 * @example
 *   const made = await signMerchantReceipts({ events: store.events, receipts: store.receipts, sign: (r) => engine.signReceipts(r) }, 'acme', { owner: gatewayId });
 */
import { verifyReceiptChain, type ReceiptKeys, type ReceiptKind } from '../core/receipt.ts';
import type { CryptoCore } from '../core/types.ts';
import { ScanpayError } from '../core/errors.ts';
import { eventHash } from './journal.ts';
import type { ReceiptChainRequest, SignedReceipt, UnsignedReceipt } from './receipt-signing.ts';
import type { EventStore, EventType, PaymentEvent } from './store/event-types.ts';
import type { ReceiptStore, StoredReceipt } from './store/receipt-types.ts';

/** How long a signer's lease lasts unless renewed: past it another gateway may sign the merchant's receipts. */
export const SIGNER_LEASE_MS = 15_000;
/** Journal records one signing round reads. */
const ROUND = 200;

/** The events that can make a receipt (receiptOf says which of them do). */
export const RECEIPT_EVENT_TYPES: readonly EventType[] = ['payment.approved', 'payment.captured', 'refund.created', 'payment.reversed'];

/**
 * The receipt an event calls for, without its sequence number, or null: an approval captured at once (a
 * payment), a manual capture (a capture, of what it captured), a refund, or a reversal that refunded (a refund).
 * An approval that only holds, a decline, a void, an expiry and a reversal that released a hold move no money: no receipt.
 */
export function receiptOf(event: PaymentEvent): Omit<UnsignedReceipt, 'seq'> | null {
  let kind: ReceiptKind;
  let amount: number;
  const capture = event.entries.find((e) => e.type === 'capture');
  if (event.type === 'payment.approved' && capture) [kind, amount] = ['payment', capture.amount];
  else if (event.type === 'payment.captured' && capture) [kind, amount] = ['capture', capture.amount];
  else if ((event.type === 'refund.created' || event.type === 'payment.reversed') && event.refund) [kind, amount] = ['refund', event.refund.amount];
  else return null;
  const p = event.payment;
  return { kind, at: event.createdAt, amount, currency: p.currency, paymentId: p.id, eventN: event.n, last4: p.last4, merchant: p.merchant };
}

export interface ReceiptSignerDeps {
  events: Pick<EventStore, 'journal' | 'getEvents'>;
  receipts: ReceiptStore;
  /** Signs a chain segment where the receipt keys are (CardEngine.signReceipts). */
  sign(request: ReceiptChainRequest): Promise<SignedReceipt[]>;
}

/**
 * One signing round for a merchant: if `owner` holds (or takes) the signer lease, makes the receipts of up to
 * ROUND journal records after the chain's cursor and appends them. Resolves to the receipts appended (none when
 * another signer holds the lease, nothing was new, or the chain moved under it three times). A journal record
 * whose event no longer hashes as sealed is refused (STORE_CORRUPT): a receipt is never signed for an edited event.
 */
export async function signMerchantReceipts(deps: ReceiptSignerDeps, merchant: string, opts: { owner: string }): Promise<StoredReceipt[]> {
  return (await signingRound(deps, merchant, opts)).receipts;
}

/**
 * signMerchantReceipts, and whether the round read the journal to its end (`settled`): false when another signer
 * holds the lease, the round read `segments` whole ROUNDs (more may follow) or the chain kept moving, so a caller
 * that visits only merchants with new records (the receipt loop) knows to come back. `segments` (default 1): how
 * many ROUNDs of records one call may go through, the lease renewed before each, so a caller that runs once a
 * second still keeps up with a merchant making more than ROUND receipt-worthy records a second. `stop`, asked before
 * each segment after the first: true ends the call there (a closing loop does not wait through them all).
 */
export async function signingRound(
  deps: ReceiptSignerDeps, merchant: string, opts: { owner: string; segments?: number; stop?: () => boolean },
): Promise<{ receipts: StoredReceipt[]; settled: boolean }> {
  const receipts: StoredReceipt[] = [];
  for (let segment = 0; segment < (opts.segments ?? 1); segment++) {
    if (segment > 0 && opts.stop?.()) break;
    if (!(await deps.receipts.leaseSigner(merchant, opts.owner, SIGNER_LEASE_MS))) return { receipts, settled: false };
    const signed = await signSegment(deps, merchant);
    if (!signed) return { receipts, settled: false };
    receipts.push(...signed.receipts);
    if (signed.readToEnd) return { receipts, settled: true };
  }
  return { receipts, settled: false };
}

/**
 * Up to ROUND journal records after the chain's cursor made into receipts and appended: those appended and whether
 * the journal was read to its end, or null if the chain moved under it three times.
 */
async function signSegment(deps: ReceiptSignerDeps, merchant: string): Promise<{ receipts: StoredReceipt[]; readToEnd: boolean } | null> {
  for (let tries = 0; tries < 3; tries++) {
    const head = await deps.receipts.receiptHead(merchant);
    const records = await deps.events.journal(merchant, head.journalSeq + 1, ROUND);
    if (records.length === 0) return { receipts: [], readToEnd: true };
    const unsigned: (UnsignedReceipt & { eventId: string })[] = [];
    const receiptRecords = records.filter((record) => RECEIPT_EVENT_TYPES.includes(record.type));
    const events = await deps.events.getEvents(receiptRecords.map((record) => record.eventId));
    for (const [i, record] of receiptRecords.entries()) {
      const event = events[i];
      if (!event || eventHash(event) !== record.eventHash) throw new ScanpayError('STORE_CORRUPT', `journal record ${record.seq} of ${merchant}: its event is gone or changed; no receipt signed`);
      const fields = receiptOf(event);
      if (fields) unsigned.push({ ...fields, seq: head.seq + unsigned.length + 1, eventId: event.id });
    }
    const signed = unsigned.length === 0 ? [] : await deps.sign({ prevHash: head.hash, receipts: unsigned.map(({ eventId: _, ...r }) => r) });
    const stored = unsigned.map((r, i): StoredReceipt => ({ seq: r.seq, paymentId: r.paymentId, eventId: r.eventId, kind: r.kind, text: signed[i]!.text, hash: signed[i]!.hash }));
    if (await deps.receipts.appendReceipts(merchant, head, stored, records.at(-1)!.seq)) return { receipts: stored, readToEnd: records.length < ROUND };
    // the chain moved (a signer whose lease had lapsed appended): read it again
  }
  return null;
}

export interface ReceiptChainReport {
  merchant: string;
  receipts: number;
  problems: string[];
  ok: boolean;
}

/**
 * Checks a merchant's stored chain with the core's verification: every receipt signed by a published key, each
 * linked to the one before it from the first, its seq where the store keeps it, and its stored hash its own.
 */
export async function verifyStoredReceipts(core: CryptoCore, receipts: Pick<ReceiptStore, 'receipts'>, merchant: string, keys: ReceiptKeys): Promise<ReceiptChainReport> {
  const problems: string[] = [];
  let head: string | undefined;
  let count = 0;
  for (;;) {
    const batch = await receipts.receipts(merchant, count + 1, 500);
    if (batch.length === 0) break;
    const verdict = verifyReceiptChain(core, batch.map((r) => r.text), keys, { prevHash: head ?? '0'.repeat(64) });
    for (const [i, v] of verdict.verdicts.entries()) {
      const stored = batch[i]!;
      if (!v.ok) problems.push(`receipt ${stored.seq}: ${v.code}: ${v.detail}`);
      else if (v.receipt.seq !== stored.seq || v.hash !== stored.hash || v.receipt.paymentId !== stored.paymentId) problems.push(`receipt ${stored.seq}: the store's record of it differs from the receipt`);
    }
    if (!verdict.ok) break;
    head = verdict.head ?? head;
    count += batch.length;
  }
  return { merchant, receipts: count, problems, ok: problems.length === 0 };
}
