/**
 * Gathers single requests that arrive close together into one batch, so the JS↔worker↔WASM crossing
 * is paid once per batch. A batch closes when it holds `maxItems`, or `windowMs` after its first item
 * (0: at the end of the current I/O turn) — but only while fewer than `maxConcurrent` batches run:
 * when every worker is busy, requests keep gathering until one is free. Light load thus goes out at
 * once in small batches; heavy load fills them.
 * @example
 *   // as CryptoPool does (crypto-pool.ts): one piscina task per batch, one answer per request, in order
 *   const opens = new Batcher((requests) => this.#run('open', requests, decodeOpenAnswer), { maxItems: 64, windowMs: 0, maxConcurrent: 2 });
 *   const opened = await opens.submit(request);
 * With `maxWaiting`, a request that finds that many already waiting is refused at once (PoolBusyError).
 */
import { ScanpayBaseError } from '../../core/errors.ts';

export interface BatcherOptions {
  maxItems: number;
  windowMs: number;
  maxConcurrent?: number; // batches running at once (default: unbounded)
  maxWaiting?: number; // requests that may wait for a batch; past it submit() rejects with PoolBusyError (default: unbounded)
  onFlush?: (size: number) => void;
}

/** The queue is full: the caller should answer BUSY (retryable) instead of letting the queue grow. */
export class PoolBusyError extends ScanpayBaseError<'BUSY'> {
  override readonly name = 'PoolBusyError';
  constructor(waiting: number) {
    super('gateway', 'BUSY', `the crypto queue is full (${waiting} requests waiting)`);
  }
}

interface Waiting<I, O> {
  item: I;
  resolve(value: O): void;
  reject(reason: unknown): void;
}

export class Batcher<I, O> {
  #waiting: Waiting<I, O>[] = [];
  #timer: NodeJS.Timeout | NodeJS.Immediate | null = null;
  #running = 0; // batches
  #inFlight = 0; // items in running batches
  readonly #maxConcurrent: number;
  readonly #maxWaiting: number;

  constructor(
    private readonly run: (items: I[]) => Promise<O[]>,
    private readonly opts: BatcherOptions,
  ) {
    if (!(opts.maxItems >= 1) || !(opts.windowMs >= 0) || !((opts.maxConcurrent ?? 1) >= 1)) throw new RangeError('maxItems ≥ 1, windowMs ≥ 0 and maxConcurrent ≥ 1');
    this.#maxConcurrent = opts.maxConcurrent ?? Infinity;
    this.#maxWaiting = opts.maxWaiting ?? Infinity;
  }

  /** Requests waiting for a batch plus requests in batches still running. */
  get depth(): number {
    return this.#waiting.length + this.#inFlight;
  }

  submit(item: I): Promise<O> {
    if (this.#waiting.length >= this.#maxWaiting) return Promise.reject(new PoolBusyError(this.#waiting.length));
    return new Promise<O>((resolve, reject) => {
      this.#waiting.push({ item, resolve, reject });
      if (this.#waiting.length >= this.opts.maxItems) this.#flush();
      else this.#arm();
    });
  }

  #arm(): void {
    if (this.#timer || this.#waiting.length === 0 || this.#running >= this.#maxConcurrent) return;
    this.#timer = this.opts.windowMs === 0 ? setImmediate(() => this.#flush()) : setTimeout(() => this.#flush(), this.opts.windowMs);
  }

  #flush(): void {
    if (this.#timer) {
      clearTimeout(this.#timer as NodeJS.Timeout);
      clearImmediate(this.#timer as NodeJS.Immediate);
      this.#timer = null;
    }
    while (this.#waiting.length > 0 && this.#running < this.#maxConcurrent) {
      const batch = this.#waiting.splice(0, this.opts.maxItems);
      this.opts.onFlush?.(batch.length);
      this.#running++;
      this.#inFlight += batch.length;
      let running: Promise<O[]>;
      try {
        running = this.run(batch.map((w) => w.item));
      } catch (e) {
        running = Promise.reject(e); // a run that throws instead of rejecting must still free its slot
      }
      running
        .then((results) => {
          if (results.length !== batch.length) throw new Error(`batch returned ${results.length} results for ${batch.length} items`);
          batch.forEach((w, i) => w.resolve(results[i]));
        })
        .catch((e: unknown) => batch.forEach((w) => w.reject(e)))
        .finally(() => {
          this.#running--;
          this.#inFlight -= batch.length;
          // a worker is free: what gathered meanwhile goes now if it fills a batch, else after the window
          if (this.#waiting.length >= this.opts.maxItems) this.#flush();
          else this.#arm();
        });
    }
  }
}
