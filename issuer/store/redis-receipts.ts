/**
 * Merchants' receipt chains on Redis (receipt-types.ts ReceiptStore), on the merchant's slot
 * (redis-receipt-scripts.ts).
 */
import { RECEIPT_ZERO_HASH } from '../../core/receipt.ts';
import { parseMerchant } from '../../protocol/values.ts';
import type { RedisContext } from './redis-context.ts';
import { decoded } from './redis-codec.ts';
import type { ReceiptHead, ReceiptStore, StoredReceipt } from './receipt-types.ts';
import { checkedPaymentId, checkedStoredReceipt } from './validate.ts';

function receiptFromText(text: string): StoredReceipt {
  return decoded('receipt', () => checkedStoredReceipt(JSON.parse(text)));
}

export class RedisReceipts implements ReceiptStore {
  constructor(private readonly ctx: RedisContext) {}

  async receiptHead(merchant: string): Promise<ReceiptHead> {
    const { keys } = this.ctx;
    const m = parseMerchant(merchant);
    // the cursor and the length in one round trip (a MULTI on the merchant's slot), then the receipt at that place
    const [seq, cursor] = await this.ctx.run(async (redis) => {
      const answers = await redis.multi().llen(keys.receipts(m)).hget(keys.receiptHead(m), 'journalSeq').exec();
      return [Number(answers![0]![1]), answers![1]![1] === null ? 0 : Number(answers![1]![1])] as const;
    });
    const last = seq === 0 ? null : await this.ctx.run((redis) => redis.lindex(keys.receipts(m), seq - 1));
    return { seq, hash: last === null ? RECEIPT_ZERO_HASH : receiptFromText(last).hash, journalSeq: cursor };
  }

  async appendReceipts(merchant: string, head: ReceiptHead, receipts: StoredReceipt[], journalSeq: number): Promise<boolean> {
    const { keys } = this.ctx;
    const m = parseMerchant(merchant);
    const args: (string | number)[] = [head.seq, head.journalSeq, journalSeq];
    for (const receipt of receipts.map(checkedStoredReceipt)) args.push(receipt.paymentId, JSON.stringify(receipt));
    return (await this.ctx.durable('scanpayAppendReceipts', keys.receipts(m), keys.receiptsByPayment(m), keys.receiptHead(m), ...args)) === 1;
  }

  async receipts(merchant: string, fromSeq: number, limit: number): Promise<StoredReceipt[]> {
    const texts = await this.ctx.run((redis) => redis.lrange(this.ctx.keys.receipts(parseMerchant(merchant)), fromSeq - 1, fromSeq - 2 + limit));
    return texts.map(receiptFromText);
  }

  async paymentReceipts(merchant: string, paymentId: string): Promise<StoredReceipt[]> {
    const { keys } = this.ctx;
    const m = parseMerchant(merchant);
    const seqs = await this.ctx.run((redis) => redis.hget(keys.receiptsByPayment(m), checkedPaymentId(paymentId)));
    if (seqs === null) return [];
    const texts = await this.ctx.run((redis) => Promise.all(seqs.split(',').map((seq) => redis.lindex(keys.receipts(m), Number(seq) - 1))));
    return texts.filter((t) => t !== null).map(receiptFromText);
  }

  async leaseSigner(merchant: string, owner: string, ttlMs: number): Promise<boolean> {
    return (await this.ctx.run((redis) => redis.scanpayLease(this.ctx.keys.receiptSigner(parseMerchant(merchant)), owner, ttlMs))) === 1;
  }

  async releaseSigner(merchant: string, owner: string): Promise<void> {
    await this.ctx.run((redis) => redis.scanpayRelease(this.ctx.keys.receiptSigner(parseMerchant(merchant)), owner));
  }
}
