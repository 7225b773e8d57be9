/**
 * Hold expiry in the gateway (docs/operations.md §Hold expiry): every `intervalMs` the sweeper asks the store to
 * release the manual-capture holds whose window has passed (store.payments.expireHolds), a batch at a time until
 * a batch releases none (at most MAX_BATCHES_PER_SWEEP batches: the rest wait for the next sweep). Each release is one atomic store step that takes only a hold still held, so any
 * number of gateways sweeping one store release each hold exactly once; they only share the work. A sweep that
 * fails (the store unreachable) is reported and the next one tries again; sweeps never overlap (the next is
 * scheduled when one ends), and stop() waits for the one running.
 * @example
 *   const sweeper = new HoldSweeper(store.payments, { intervalMs: 60_000, onSweep: (r) => metrics.holdSweep(r) });
 *   sweeper.start(); …; await sweeper.stop();
 */
import type { PaymentStore } from '../issuer/store/index.ts';

/** Holds released per store call, and calls per sweep at most (the rest wait for the next sweep). */
export const SWEEP_BATCH = 100;
const MAX_BATCHES_PER_SWEEP = 100;

export interface HoldSweeperOptions {
  intervalMs: number;
  /** After each sweep: how many holds it released, or 'failed' (with `onError` first). */
  onSweep?: (result: { released: number } | 'failed') => void;
  onError?: (e: Error) => void;
  now?: () => number;
}

export class HoldSweeper {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> | null = null;
  #stopped = false;

  constructor(private readonly payments: Pick<PaymentStore, 'expireHolds'>, private readonly opts: HoldSweeperOptions) {}

  /** Sweeps every intervalMs from now on (the first one intervalMs from now), until stop(). */
  start(): void {
    if (this.#stopped || this.#timer) return;
    this.#schedule();
  }

  /** One sweep now: resolves to how many holds it released (rejects as the store does). */
  async sweep(): Promise<number> {
    const now = (this.opts.now ?? Date.now)();
    let released = 0;
    for (let i = 0; i < MAX_BATCHES_PER_SWEEP; i++) {
      const n = await this.payments.expireHolds(now, SWEEP_BATCH);
      released += n;
      // not `n < SWEEP_BATCH`: another gateway sweeping the same due holds releases some of this batch, so a
      // batch short of full says nothing of the next; none released says this one found none left to release
      if (n === 0) break;
    }
    return released;
  }

  /** No more sweeps; resolves once the one running (if any) has ended. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  #schedule(): void {
    this.#timer = setTimeout(() => {
      this.#running = this.sweep().then(
        (released) => this.opts.onSweep?.({ released }),
        (e: unknown) => {
          this.opts.onError?.(e as Error);
          this.opts.onSweep?.('failed');
        },
      ).finally(() => {
        this.#running = null;
        if (!this.#stopped) this.#schedule();
      });
    }, this.opts.intervalMs);
    this.#timer.unref(); // the sweeper keeps no process alive
  }
}
