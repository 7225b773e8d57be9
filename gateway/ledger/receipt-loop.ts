/**
 * The gateway's receipt loop: every `intervalMs`, for each merchant whose journal has grown (the store's
 * receiptsDue: appending to a journal marks its merchant), sign the receipts the new records of its journal call
 * for (issuer/receipt-chain.ts signingRound, up to SEGMENTS_PER_VISIT segments of the journal a visit), the signing itself in the crypto workers. A merchant with nothing
 * new costs a round nothing; every SWEEP_EVERY rounds (and the first) the round visits every merchant that has had
 * events instead, for journals grown before their mark could be written (an older version, a process that died
 * between its append and its mark on a cluster). The journal is filled by the sealer loop (sealer-loop.ts): receipts follow what it sealed. One round at a time; a round's failure is
 * logged and the next round tries again; it never touches a payment's own path, so a slow store or signer
 * delays receipts, never payments. close() waits for the round in progress.
 * @example
 *   const loop = startReceiptLoop({ store, sign: (r) => engine.signReceipts(r), owner: gatewayId, intervalMs: 1000, onError });
 *   await loop.close();
 */
import { signingRound } from '../../issuer/receipt-chain.ts';
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

/** Rounds between two that visit every merchant that has had events (the first round is one). */
export const SWEEP_EVERY = 60;
/**
 * Journal segments (issuer/receipt-chain.ts ROUND records each) one visit to a merchant may sign: a merchant behind
 * by more than a segment (a burst of payments) is caught up within a round or a few, not a segment a second, as
 * the sealer seals up to its own bound a round.
 */
export const SEGMENTS_PER_VISIT = 50;

export function startReceiptLoop(opts: ReceiptLoopOptions): ReceiptLoop {
  let closed = false;
  let round: Promise<void> | null = null;
  let rounds = 0;
  const { events } = opts.store;
  const deps = { events, receipts: opts.store.receipts, sign: opts.sign };

  async function roundOnce(): Promise<void> {
    let merchants: string[];
    try {
      merchants = rounds++ % SWEEP_EVERY === 0 ? await events.eventMerchants() : await events.receiptsDue();
    } catch (e) {
      opts.onError(null, e as Error);
      return;
    }
    for (const merchant of merchants) {
      if (closed) return;
      let settled = false;
      let failed = false;
      try {
        await events.takeReceiptsDue(merchant); // before the journal is read: a record appended after marks it again
        const made = await signingRound(deps, merchant, { owner: opts.owner, segments: SEGMENTS_PER_VISIT, stop: () => closed });
        settled = made.settled;
        if (made.receipts.length > 0) opts.onSigned?.(merchant, made.receipts.length);
      } catch (e) {
        failed = true;
        opts.onError(merchant, e as Error);
      }
      // records left unread (another signer's lease, a full round, a failure): this merchant comes back next round
      // (a failure to mark is reported unless the round's own failure was: the sweep takes the merchant up anyway)
      if (!settled) await events.markReceiptsDue(merchant).catch((e: unknown) => failed || opts.onError(merchant, e as Error));
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
