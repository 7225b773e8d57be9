/**
 * `scanpay payment …` and `scanpay refund`: an operator's view of the payments after S25 and the money moves on
 * them (docs/merchant-api.md has the merchant's): `show` (the payment, its ledger entries and refunds), `list` (a
 * merchant's, newest first), `capture`, `void`, `reverse`, and `refund <payment> --amount N`. Each move is the
 * store's own atomic, idempotent step, run as the merchant API runs it (gateway/merchant-api/operations.ts): with
 * `--idempotency-key` a repeat answers the first outcome again and changes nothing (the key is the merchant's, as on
 * the API); without one each run is a new operation. A refusal is its typed code (PAYMENT_NOT_CAPTURABLE,
 * AMOUNT_TOO_LARGE, …), exit 1, nothing changed. A card shows as its masked PAN only.
 */
import type { Command } from 'commander';
import { ScanpayError } from '../core/errors.ts';
import { maskPan } from '../issuer/pan.ts';
import type { LedgerEntry, OperationOutcome, Payment, Refund, Store } from '../issuer/store/index.ts';
import { entryObject, paymentObject, refundObject } from '../gateway/merchant-api/answers.ts';
import { performOperation, type OperationCall } from '../gateway/merchant-api/operations.ts';
import { IDEMPOTENCY_KEY_PATTERN, MAX_LIST_LIMIT, MAX_REFUND_REASON, DEFAULT_LIST_LIMIT } from '../protocol/merchant-api.ts';
import { MAX_MINOR_UNITS, MIN_AMOUNT, isSessionId } from '../protocol/values.ts';
import { withStore, type GlobalOptions } from './context.ts';
import { usageError } from './errors.ts';
import { checkedMerchantArg } from './merchant.ts';
import { parseInteger, withJson, type Output } from './output.ts';

const NEEDS_STORE = 'needs --redis, REDIS_URL or REDIS_CLUSTER_NODES';
const IDEMPOTENCY_KEY = new RegExp(IDEMPOTENCY_KEY_PATTERN);

function checkedPaymentArg(id: string): string {
  if (!isSessionId(id)) throw usageError('a payment id is the session id a scanner saw: 32 lowercase hex digits');
  return id;
}

function checkedKey(key: string | undefined): string | null {
  if (key === undefined) return null;
  if (!IDEMPOTENCY_KEY.test(key)) throw usageError('--idempotency-key must be 1 to 255 printable ASCII characters, no space at either end');
  return key;
}

function checkedReason(reason: string | undefined): string | null {
  if (reason === undefined || reason === '') return null;
  if (reason.length > MAX_REFUND_REASON || /[\u0000-\u001f\u007f]/.test(reason)) throw usageError(`--reason must be at most ${MAX_REFUND_REASON} characters, without control characters`);
  return reason;
}

const iso = (at: number) => new Date(at).toISOString();

/** The payment, if it is `merchant`'s (when one is named): another merchant's is as unknown, as on the API. */
async function paymentOf(store: Store, id: string, merchant: string | undefined): Promise<Payment> {
  const payment = await store.payments.getPayment(id);
  if (!payment || (merchant !== undefined && payment.merchant !== merchant)) {
    throw new ScanpayError('PAYMENT_NOT_FOUND', `${id}${merchant === undefined ? '' : ` of merchant ${merchant}`}`);
  }
  return payment;
}

function paymentLine(p: Payment): string {
  return `${p.id}  ${p.status.padEnd(18)}  ${String(p.amount).padStart(9)} ${p.currency}  merchant ${p.merchant}  card ${maskPan(p.last4)}  ${iso(p.createdAt)}`;
}

function printPayment(out: Output, p: Payment, entries: LedgerEntry[], refunds: Refund[]): void {
  out.line(`payment ${p.id}: ${p.status}${p.declineReason ? ` (${p.declineReason})` : ''}`);
  out.line(`  ${p.amount} ${p.currency} authorized, ${p.capturedAmount} captured, ${p.refundedAmount} refunded; merchant ${p.merchant}; card ${maskPan(p.last4)}`);
  const hold = p.status === 'authorized' && p.holdExpiresAt !== null ? `; hold released at ${iso(p.holdExpiresAt)} unless captured` : '';
  out.line(`  capture ${p.captureMethod}${hold}${p.reversal ? `; reversed (${p.reversal})` : ''}; created ${iso(p.createdAt)}, updated ${iso(p.updatedAt)}`);
  out.line('  ledger entries:');
  for (const e of entries) {
    const change = e.balanceChange > 0 ? `+${e.balanceChange}` : String(e.balanceChange);
    out.line(`    ${String(e.seq).padStart(3)}  ${e.type.padEnd(13)}  ${String(e.amount).padStart(9)}  card balance ${change.padStart(10)}  ${iso(e.at)}${e.refundId ? `  ${e.refundId}` : ''}`);
  }
  if (refunds.length > 0) out.line('  refunds:');
  for (const r of refunds) out.line(`    ${r.id}  ${r.amount} ${r.currency}  ${iso(r.createdAt)}${r.reason ? `  ${JSON.stringify(r.reason)}` : ''}`);
}

/** What a done operation says, in one line. */
function doneLine(kind: OperationCall['kind'], outcome: Extract<OperationOutcome, { ok: true }>): string {
  const p = outcome.payment;
  const replayed = outcome.replayed ? ' (a repeat of this --idempotency-key: nothing changed now)' : '';
  switch (kind) {
    case 'capture': return `captured ${p.capturedAmount} ${p.currency} of payment ${p.id}: now ${p.status}${replayed}`;
    case 'void': return `voided payment ${p.id}: its hold of ${p.amount} ${p.currency} is released${replayed}`;
    case 'reverse': return `reversed payment ${p.id}: ${outcome.action === 'none' ? 'nothing was held, nothing changed' : outcome.action}; now ${p.status}${replayed}`;
    case 'refund': {
      const r = outcome.refund!;
      return `refunded ${r.amount} ${r.currency} of payment ${p.id}: refund ${r.id}; ${p.refundedAmount} of ${p.capturedAmount} refunded, now ${p.status}${replayed}`;
    }
  }
}

interface MoveOptions {
  merchant?: string;
  idempotencyKey?: string;
  json?: boolean;
}

export function paymentCommand(program: Command, out: Output): void {
  const payment = program.command('payment').description(`payments after S25: read them, capture, void, reverse (${NEEDS_STORE})`);
  const globals = () => program.opts<GlobalOptions>();

  /** Runs one money move on the store and prints what it did; a refusal is its code, exit 1. */
  async function move(kind: OperationCall['kind'], paymentArg: string, opts: MoveOptions, fields: { path: (id: string) => string; params: (id: string) => object; amount?: number; reason?: string | null }): Promise<void> {
    const id = checkedPaymentArg(paymentArg);
    const named = opts.merchant === undefined ? undefined : checkedMerchantArg(opts.merchant);
    const key = checkedKey(opts.idempotencyKey);
    const outcome = await withStore(globals(), 'payments', async (store) => {
      const merchant = named ?? (await paymentOf(store, id, undefined)).merchant;
      return performOperation(store.payments, { kind, merchant, paymentId: id, path: fields.path(id), params: fields.params(id), key, amount: fields.amount, reason: fields.reason });
    });
    if (!outcome.ok) throw new ScanpayError(outcome.refusal, `payment ${id}${outcome.replayed ? ' (the first answer to this --idempotency-key)' : ''}`);
    if (opts.json) {
      const body = kind === 'refund' ? { refund: refundObject(outcome.refund!) } : kind === 'reverse' ? { reversal: outcome.action } : {};
      return out.json({ action: kind, replayed: outcome.replayed, ...body, payment: paymentObject(outcome.payment) });
    }
    out.line(doneLine(kind, outcome));
  }

  const merchantOption = '--merchant <merchantId>';
  const merchantHelp = 'the payment must be this merchant\'s (default: whoever\'s it is)';
  const keyHelp = "the merchant's Idempotency-Key for this operation: a repeat answers the first outcome and changes nothing (as on the merchant API)";

  withJson(payment.command('show <paymentId>')
    .description(`a payment (the session id a scanner saw), its immutable ledger entries and its refunds; the card as its masked PAN (${NEEDS_STORE})`)
    .option(merchantOption, merchantHelp))
    .action(async (idArg: string, opts: { merchant?: string; json?: boolean }) => {
      const id = checkedPaymentArg(idArg);
      const named = opts.merchant === undefined ? undefined : checkedMerchantArg(opts.merchant);
      const { p, entries, refunds } = await withStore(globals(), 'payments', async (store) => {
        const p = await paymentOf(store, id, named);
        const [entries, refunds] = await Promise.all([store.payments.entries(id), store.payments.listRefunds(p.merchant, { limit: MAX_LIST_LIMIT, paymentId: id })]);
        return { p, entries, refunds: refunds.data };
      });
      if (opts.json) return out.json({ payment: { ...paymentObject(p), merchant: p.merchant }, entries: entries.map(entryObject), refunds: refunds.map(refundObject) });
      printPayment(out, p, entries, refunds);
    });

  withJson(payment.command('list')
    .description(`a merchant's payments, newest first (${NEEDS_STORE})`)
    .requiredOption(merchantOption, 'whose payments')
    .option('--limit <n>', `how many, 1 to ${MAX_LIST_LIMIT}`, String(DEFAULT_LIST_LIMIT))
    .option('--starting-after <paymentId>', 'the next page: the last id of the one before'))
    .action(async (opts: { merchant: string; limit: string; startingAfter?: string; json?: boolean }) => {
      const merchant = checkedMerchantArg(opts.merchant);
      const limit = parseInteger(opts.limit, '--limit', 1, MAX_LIST_LIMIT);
      const startingAfter = opts.startingAfter === undefined ? undefined : checkedPaymentArg(opts.startingAfter);
      const page = await withStore(globals(), 'payments', (store) => store.payments.listPayments(merchant, { limit, ...(startingAfter ? { startingAfter } : {}) }));
      if (opts.json) return out.json({ merchant, payments: page.data.map(paymentObject), hasMore: page.hasMore });
      if (page.data.length === 0) out.line(`no payments of merchant ${merchant}${startingAfter ? ' after that one' : ''}`);
      for (const p of page.data) out.line(paymentLine(p));
      if (page.hasMore) out.line(`more: --starting-after ${page.data.at(-1)!.id}`);
    });

  withJson(payment.command('capture <paymentId>')
    .description(`capture an authorized payment (manual capture): all of it, or --amount of it with the rest released (${NEEDS_STORE})`)
    .option('--amount <minor>', 'capture this much (at most what was authorized), in minor units')
    .option(merchantOption, merchantHelp)
    .option('--idempotency-key <key>', keyHelp))
    .action(async (idArg: string, opts: MoveOptions & { amount?: string }) => {
      const amount = opts.amount === undefined ? undefined : parseInteger(opts.amount, '--amount', MIN_AMOUNT, MAX_MINOR_UNITS);
      const params = amount === undefined ? {} : { amount };
      await move('capture', idArg, opts, { path: (id) => `/v1/payments/${id}/capture`, params: () => params, amount });
    });

  withJson(payment.command('void <paymentId>')
    .description(`release an authorized, uncaptured payment's hold (${NEEDS_STORE})`)
    .option(merchantOption, merchantHelp)
    .option('--idempotency-key <key>', keyHelp))
    .action(async (idArg: string, opts: MoveOptions) => {
      await move('void', idArg, opts, { path: (id) => `/v1/payments/${id}/void`, params: () => ({}) });
    });

  withJson(payment.command('reverse <paymentId>')
    .description(`reverse a payment whose answer was lost: voided if held, refunded if captured, else nothing; a second reversal changes nothing (${NEEDS_STORE})`)
    .option(merchantOption, merchantHelp)
    .option('--idempotency-key <key>', keyHelp))
    .action(async (idArg: string, opts: MoveOptions) => {
      await move('reverse', idArg, opts, { path: (id) => `/v1/payments/${id}/reverse`, params: () => ({}) });
    });

  withJson(program.command('refund <paymentId>')
    .description(`refund part or all of what a payment captured (never more than is left), back to the card (${NEEDS_STORE})`)
    .requiredOption('--amount <minor>', 'how much, in minor units')
    .option('--reason <text>', `why, kept with the refund (at most ${MAX_REFUND_REASON} characters)`)
    .option(merchantOption, merchantHelp)
    .option('--idempotency-key <key>', keyHelp))
    .action(async (idArg: string, opts: MoveOptions & { amount: string; reason?: string }) => {
      const amount = parseInteger(opts.amount, '--amount', MIN_AMOUNT, MAX_MINOR_UNITS);
      const reason = checkedReason(opts.reason);
      // the parameters a POST /v1/refunds with the same meaning carries, for the key's fingerprint
      const params = (id: string) => ({ payment: id, amount, ...(reason === null ? {} : { reason }) });
      await move('refund', idArg, opts, { path: () => '/v1/refunds', params, amount, reason });
    });
}
