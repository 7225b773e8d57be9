/**
 * Signing receipts (docs/receipts.md) where the receipt keys are: a crypto worker (gateway/pool/worker.ts) or
 * the baseline engine, with node:crypto's Ed25519 (RFC 8032). A chain segment is signed in one call: each
 * receipt names the hash of the one before it, so the worker fills the key id and the previous hashes as it
 * goes, from the head it was given, and hands back the text forms and their hashes.
 * @example
 *   const [signed] = signReceiptChain(ring, { prevHash: RECEIPT_ZERO_HASH, receipts: [{ kind: 'payment', seq: 1, … }] });
 *   signed.text   // 'spr1.…'
 */
import { createHash, sign } from 'node:crypto';
import { encodeReceiptBody, receiptText, type ReceiptFields } from '../core/receipt.ts';
import type { IssuerKeyRing } from './key-ring.ts';

/** A receipt before signing: everything but the key id and the previous hash, which signing fills. */
export type UnsignedReceipt = Omit<ReceiptFields, 'keyId' | 'prevHash'>;

export interface ReceiptChainRequest {
  /** The hash (hex) of the receipt before the first one: the chain's head as the signer read it. */
  prevHash: string;
  receipts: UnsignedReceipt[];
}

export interface SignedReceipt {
  text: string;
  /** SHA-256 (hex) of the receipt's bytes: the next receipt's previous hash. */
  hash: string;
}

export function signReceiptChain(ring: IssuerKeyRing, request: ReceiptChainRequest): SignedReceipt[] {
  const { id, privateKey } = ring.receiptSigningKey();
  const signed: SignedReceipt[] = [];
  let prevHash = request.prevHash;
  for (const unsigned of request.receipts) {
    const body = encodeReceiptBody({ ...unsigned, keyId: id, prevHash }); // checks every field
    const bytes = Buffer.concat([body, sign(null, body, privateKey)]);
    const hash = createHash('sha256').update(bytes).digest('hex');
    signed.push({ text: receiptText(bytes), hash });
    prevHash = hash;
  }
  return signed;
}
