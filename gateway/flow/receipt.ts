/**
 * The receipt a scanner keeps: the payment's public facts and a MAC over them keyed by the transaction
 * cryptogram (itself HMAC(kTxn, sid ‖ merchant ‖ amount ‖ PAN), DVD-1 step 5). The cryptogram never
 * leaves the issuer's ledger, so only the issuer can recompute and check the MAC. Only a payment whose
 * PIN was verified on an active card has a ledger record, so only such a payment has a receipt.
 */
import type { CryptoCore } from '../../core/types.ts';
import { maskPan } from '../../issuer/pan.ts';
import type { LedgerRecord } from '../../issuer/store/index.ts';
import type { Receipt } from '../../protocol/messages.ts';

export function receiptFor(core: CryptoCore, record: LedgerRecord): Receipt {
  const facts = {
    session: record.sessionId, merchant: record.merchant, amount: record.amount, currency: record.currency,
    maskedPan: maskPan(record.last4), outcome: record.outcome, reason: record.reason, at: record.at,
  };
  const text = ['scanpay-receipt-v1', facts.session, facts.merchant, facts.amount, facts.currency, facts.maskedPan, facts.outcome, facts.reason ?? '', facts.at].join('\n');
  const mac = core.hmacSha256(Buffer.from(record.cryptogram, 'hex'), new TextEncoder().encode(text));
  return { ...facts, mac: Buffer.from(mac).toString('hex') };
}
