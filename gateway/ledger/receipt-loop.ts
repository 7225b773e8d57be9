/**
 * The gateway's receipt loop: every `intervalMs`, for each merchant that has had events, sign the receipts the
 * new records of its journal call for (issuer/receipt-chain.ts signMerchantReceipts), the signing itself in the
 * crypto workers. The journal is filled by the sealer loop (sealer-loop.ts): receipts follow what it sealed. One round at a time; a round's failure is
 * logged and the next round tries again; it never touches a payment's own path, so a slow store or signer
 * delays receipts, never payments. close() waits for the round in progress.
 * @example
 *   const loop = startReceiptLoop({ store, sign: (r) => engine.signReceipts(r), owner: gatewayId, intervalMs: 1000, onError });
 *   await loop.close();
 */
import { signMerchantReceipts } from '../../issuer/receipt-chain.ts';
import type { ReceiptChainRequest, SignedReceipt } from '../../issuer/receipt-signing.ts';
import type { Store } from '../../issuer/store/index.ts';

export interface ReceiptLoopOptions {
  store: Pick<Store, 'events' | 'receipts'>;
  sign(request: ReceiptChainRequest): Promise<SignedReceipt[]>;
  /** This process: the signer's lease holder. */
  owner: string;
  intervalMs: number;
  /** A round's failure for a merchant (store down, a corrupt record): logged by the caller, retried next round. */
  onError(merchant: string | null, e: Error): void;
  /** Receipts appended in a round (for the metric). */
  onSigned?(merchant: string, count: number): void;
}

export interface ReceiptLoop {
  /** One round now (tests; the timer runs rounds too): resolves when it is done. */
  runOnce(): Promise<void>;
  close(): Promise<void>;
}

export function startReceiptLoop(opts: ReceiptLoopOptions): ReceiptLoop {
  let closed = false;
  let round: Promise<void> | null = null;
  const deps = { events: opts.store.events, receipts: opts.store.receipts, sign: opts.sign };

  async function roundOnce(): Promise<void> {
    let merchants: string[];
    try {
      merchants = await opts.store.events.eventMerchants();
    } catch (e) {
      opts.onError(null, e as Error);
      return;
    }
    for (const merchant of merchants) {
      if (closed) return;
      try {
        const made = await signMerchantReceipts(deps, merchant, { owner: opts.owner });
        if (made.length > 0) opts.onSigned?.(merchant, made.length);
      } catch (e) {
        opts.onError(merchant, e as Error);
      }
    }
  }

  const runOnce = (): Promise<void> => {
    round ??= roundOnce().finally(() => {
      round = null;
    });
    return round;
  };
  const timer = setInterval(() => {
    if (!round && !closed) void runOnce();
  }, opts.intervalMs);
  timer.unref();
  return {
    runOnce,
    async close() {
      closed = true;
      clearInterval(timer);
      await round;
    },
  };
}
