/**
 * Gathers single requests that arrive close together into one batch, bounded by count and by a short
 * time window, so the JS↔worker↔WASM crossing is paid once per batch. Results return to each caller.
 * @example
 *   const opens = new Batcher((inputs) => pool.runOpen(inputs), { maxItems: 64, windowMs: 1 });
 *   const opened = await opens.submit(input);
 */
export interface BatcherOptions {
  maxItems: number; // flush as soon as this many wait
  windowMs: number; // or this long after the first one arrived (0: at the end of the current I/O turn)
  onFlush?: (size: number) => void;
}

interface Waiting<I, O> {
  item: I;
  resolve(value: O): void;
  reject(reason: unknown): void;
}

export class Batcher<I, O> {
  #waiting: Waiting<I, O>[] = [];
  #timer: NodeJS.Timeout | NodeJS.Immediate | null = null;
  #inFlight = 0;

  constructor(
    private readonly run: (items: I[]) => Promise<O[]>,
    private readonly opts: BatcherOptions,
  ) {
    if (!(opts.maxItems >= 1) || !(opts.windowMs >= 0)) throw new RangeError('maxItems ≥ 1 and windowMs ≥ 0');
  }

  /** Requests waiting for a batch plus requests in batches still running. */
  get depth(): number {
    return this.#waiting.length + this.#inFlight;
  }

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.#waiting.push({ item, resolve, reject });
      if (this.#waiting.length >= this.opts.maxItems) this.#flush();
      else if (!this.#timer) {
        this.#timer = this.opts.windowMs === 0 ? setImmediate(() => this.#flush()) : setTimeout(() => this.#flush(), this.opts.windowMs);
      }
    });
  }

  #flush(): void {
    if (this.#timer) {
      clearTimeout(this.#timer as NodeJS.Timeout);
      clearImmediate(this.#timer as NodeJS.Immediate);
      this.#timer = null;
    }
    const batch = this.#waiting.splice(0, this.opts.maxItems);
    if (this.#waiting.length > 0) this.#timer = setImmediate(() => this.#flush());
    if (batch.length === 0) return;
    this.opts.onFlush?.(batch.length);
    this.#inFlight += batch.length;
    this.run(batch.map((w) => w.item)).then(
      (results) => {
        if (results.length !== batch.length) throw new Error(`batch returned ${results.length} results for ${batch.length} items`);
        batch.forEach((w, i) => w.resolve(results[i]));
      },
    ).catch((e: unknown) => batch.forEach((w) => w.reject(e)))
      .finally(() => {
        this.#inFlight -= batch.length;
      });
  }
}
