/**
 * What one receipt's signature costs a crypto worker: CPU time per receipt of signing a chain segment exactly as
 * the workers do (issuer/receipt-signing.ts signReceiptChain: the body encoded and checked, node:crypto's Ed25519
 * signature, its SHA-256, the text form). A payment captured at once, as the bench's are, makes one receipt
 * (docs/receipts.md), so this is work such a payment carries on top of the architecture floor's, whatever the
 * gateway around it.
 * @example
 *   const us = receiptSigningUs(IssuerKeyRing.generate()); // the least of 5 rounds of 1,000 receipts
 * The least round, not the median: the figure is a lower bound on a payment's cost (bench/e2e/targets.ts).
 */
import type { IssuerKeyRing } from '../../issuer/key-ring.ts';
import { RECEIPT_ZERO_HASH } from '../../core/receipt.ts';
import { signReceiptChain, type UnsignedReceipt } from '../../issuer/receipt-signing.ts';

export function receiptSigningUs(ring: IssuerKeyRing, opts: { receipts?: number; rounds?: number } = {}): number {
  const count = opts.receipts ?? 1_000;
  const receipts: UnsignedReceipt[] = Array.from({ length: count }, (_, i) => ({
    kind: 'payment', seq: i + 1, at: 1_765_000_000_000 + i, amount: 1_250 + i, currency: 'EUR',
    paymentId: i.toString(16).padStart(32, '0'), eventN: 1, last4: '4242', merchant: 'bench-merchant',
  }));
  const perRound: number[] = [];
  signReceiptChain(ring, { prevHash: RECEIPT_ZERO_HASH, receipts: receipts.slice(0, 200) }); // warm
  for (let round = 0; round < (opts.rounds ?? 5); round++) {
    const before = process.cpuUsage();
    signReceiptChain(ring, { prevHash: RECEIPT_ZERO_HASH, receipts });
    const used = process.cpuUsage(before);
    perRound.push((used.user + used.system) / count);
  }
  return Math.min(...perRound);
}
