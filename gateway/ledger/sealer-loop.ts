/**
 * The gateway's sealer (docs/ledger.md §The journal): every `intervalMs`, for each merchant with events, one
 * sealing round (issuer/journal.ts sealMerchant) under this process's owner id, so merchants' journals follow
 * their payments within about an interval (what GET /v1/events lists and webhooks deliver). The seal lease is let
 * go after each merchant, as the receipt loop does (gateway/ledger/receipt-loop.ts, which seals too: the lease
 * and the compare-and-append make the two share the work), so a period close waiting for it never waits long.
 *
 * Never in a payment's way: it runs on its own timer, one round at a time (a slow store makes rounds later, not
 * more), reads the store as any caller does, and a failure is logged and retried next round. Bounded: one round
 * visits at most `maxMerchants` merchants (the list is walked on from where the last round stopped; one with an
 * empty outbox costs one read) and seals each at most sealMerchant's batch. close() stops the timer and waits for
 * the round in progress.
 * @example
 *   const sealer = SealerLoop.start({ events: store.events, owner: 'gw:3f9c…', intervalMs: 1_000, onError });
 *   await sealer.close();
 */
import { sealMerchant } from '../../issuer/journal.ts';
import type { EventStore } from '../../issuer/store/index.ts';

export interface SealerLoopOptions {
  events: EventStore;
  /** This process's id: the seal leases' holder. */
  owner: string;
  intervalMs: number;
  /** Merchants sealed per round at most (default 100). */
  maxMerchants?: number;
  onError: (e: Error) => void;
  /** Records appended in a round (metrics, tests). */
  onSealed?: (merchant: string, records: number) => void;
}

export class SealerLoop {
  readonly #opts: SealerLoopOptions;
  #timer: NodeJS.Timeout | null = null;
  #round: Promise<void> | null = null;
  #next = 0;
  #closed = false;

  private constructor(opts: SealerLoopOptions) {
    this.#opts = opts;
  }

  static start(opts: SealerLoopOptions): SealerLoop {
    const loop = new SealerLoop(opts);
    loop.#schedule();
    return loop;
  }

  #schedule(): void {
    if (this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#round = this.runRound().catch((e: unknown) => this.#opts.onError(e as Error)).finally(() => {
        this.#round = null;
        this.#schedule();
      });
    }, this.#opts.intervalMs);
    this.#timer.unref();
  }

  /** One round now (the timer runs them; tests may too). */
  async runRound(): Promise<void> {
    const merchants = (await this.#opts.events.eventMerchants()).sort();
    const max = Math.min(this.#opts.maxMerchants ?? 100, merchants.length);
    for (let i = 0; i < max && !this.#closed; i++) {
      const merchant = merchants[(this.#next + i) % merchants.length]!;
      try {
        // a merchant with nothing marked costs one read, not a lease write
        if ((await this.#opts.events.outbox(merchant, 1)).length === 0) continue;
        let records;
        try {
          records = await sealMerchant(this.#opts.events, merchant, { owner: this.#opts.owner, now: Date.now() });
        } finally {
          await this.#opts.events.releaseSealer(merchant, this.#opts.owner);
        }
        if (records.length > 0) this.#opts.onSealed?.(merchant, records.length);
      } catch (e) {
        this.#opts.onError(e as Error); // one merchant's failure does not stop the others
      }
    }
    this.#next = merchants.length === 0 ? 0 : (this.#next + max) % merchants.length;
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#round;
  }
}
