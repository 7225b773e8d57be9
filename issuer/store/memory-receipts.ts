/**
 * The embedded store's receipt chains (receipt-types.ts ReceiptStore): the same contract as Redis
 * (redis-receipts.ts) in plain Maps; each method reads and writes without awaiting in between, so it is atomic
 * as a script is.
 */
import { RECEIPT_ZERO_HASH } from '../../core/receipt.ts';
import { parseMerchant } from '../../protocol/values.ts';
import type { ReceiptHead, ReceiptStore, StoredReceipt } from './receipt-types.ts';
import { checkedPaymentId, checkedStoredReceipt } from './validate.ts';

interface Chain {
  receipts: StoredReceipt[];
  byPayment: Map<string, number[]>; // payment id → seqs
  journalSeq: number;
  lease: { owner: string; until: number } | null;
}

export class MemoryReceipts implements ReceiptStore {
  readonly #chains = new Map<string, Chain>();

  constructor(private readonly now: () => number = Date.now) {}

  #chain(merchant: string): Chain {
    const m = parseMerchant(merchant);
    let chain = this.#chains.get(m);
    if (!chain) {
      chain = { receipts: [], byPayment: new Map(), journalSeq: 0, lease: null };
      this.#chains.set(m, chain);
    }
    return chain;
  }

  async receiptHead(merchant: string): Promise<ReceiptHead> {
    const chain = this.#chain(merchant);
    return { seq: chain.receipts.length, hash: chain.receipts.at(-1)?.hash ?? RECEIPT_ZERO_HASH, journalSeq: chain.journalSeq };
  }

  async appendReceipts(merchant: string, head: ReceiptHead, receipts: StoredReceipt[], journalSeq: number): Promise<boolean> {
    const checked = receipts.map(checkedStoredReceipt);
    const chain = this.#chain(merchant);
    if (chain.receipts.length !== head.seq || chain.journalSeq !== head.journalSeq) return false;
    for (const receipt of checked) {
      chain.receipts.push(receipt);
      chain.byPayment.set(receipt.paymentId, [...chain.byPayment.get(receipt.paymentId) ?? [], receipt.seq]);
    }
    chain.journalSeq = journalSeq;
    return true;
  }

  async receipts(merchant: string, fromSeq: number, limit: number): Promise<StoredReceipt[]> {
    return this.#chain(merchant).receipts.slice(fromSeq - 1, fromSeq - 1 + limit).map((r) => ({ ...r }));
  }

  async paymentReceipts(merchant: string, paymentId: string): Promise<StoredReceipt[]> {
    const chain = this.#chain(merchant);
    return (chain.byPayment.get(checkedPaymentId(paymentId)) ?? []).map((seq) => ({ ...chain.receipts[seq - 1]! }));
  }

  async leaseSigner(merchant: string, owner: string, ttlMs: number): Promise<boolean> {
    const chain = this.#chain(merchant);
    const now = this.now();
    if (chain.lease && chain.lease.owner !== owner && chain.lease.until > now) return false;
    chain.lease = { owner, until: now + ttlMs };
    return true;
  }

  async releaseSigner(merchant: string, owner: string): Promise<void> {
    const chain = this.#chain(merchant);
    if (chain.lease?.owner === owner) chain.lease = null;
  }
}
