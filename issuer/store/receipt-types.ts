/**
 * The store contract for merchants' signed receipts (docs/receipts.md §The chain): each merchant's receipts are
 * one chain, on the merchant's slot beside its journal. A receipt signer (issuer/receipt-chain.ts) reads the
 * merchant's journal from where the chain's cursor stands, signs the receipts its records call for, and appends
 * them only if the chain has not moved since it read it (compare-and-append on the chain's length and cursor),
 * holding the merchant's signer lease: so several gateway processes make one chain, gap-free and unforked.
 */
import type { ReceiptKind } from '../../core/receipt.ts';

export interface StoredReceipt {
  seq: number; // 1, 2, … per merchant: the receipt's own sequence number
  paymentId: string;
  /** The event it was made from (ev_<payment id>_<n>). */
  eventId: string;
  kind: ReceiptKind;
  /** The receipt's text form (`spr1.…`). */
  text: string;
  /** SHA-256 (hex) of the receipt's bytes. */
  hash: string;
}

export interface ReceiptHead {
  seq: number; // 0 when there is none
  hash: string; // the last receipt's hash (64 zeros when none)
  /** The last journal record the chain has read (0: none): receipts for later records are still to be made. */
  journalSeq: number;
}

export interface ReceiptStore {
  receiptHead(merchant: string): Promise<ReceiptHead>;
  /**
   * Appends receipts (seq head.seq + 1, …) and moves the cursor to `journalSeq`, if the chain is still at
   * `head.seq` and its cursor at `head.journalSeq`: true; false with nothing written when another signer moved it.
   */
  appendReceipts(merchant: string, head: ReceiptHead, receipts: StoredReceipt[], journalSeq: number): Promise<boolean>;
  /** Receipts from `fromSeq` on, at most `limit`, in order. */
  receipts(merchant: string, fromSeq: number, limit: number): Promise<StoredReceipt[]>;
  /** A payment's receipts, in order (none for another merchant's payment). */
  paymentReceipts(merchant: string, paymentId: string): Promise<StoredReceipt[]>;
  /** The signer's lease on a merchant's chain, for `ttlMs`: true when `owner` holds it now (taken or renewed). */
  leaseSigner(merchant: string, owner: string, ttlMs: number): Promise<boolean>;
  releaseSigner(merchant: string, owner: string): Promise<void>;
}
