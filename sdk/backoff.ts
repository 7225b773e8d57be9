/**
 * Reconnect delays: exponential backoff with jitter ("equal jitter": half the capped exponential delay,
 * plus a random share of the other half), so a fleet that lost its gateway at the same moment does not
 * come back in lockstep, and no attempt follows the previous one at once.
 * @example
 *   const backoff = new Backoff({ initialDelayMs: 250, maxDelayMs: 10_000 });
 *   const waitMs = backoff.next(); // null once maxAttempts is spent
 */
export interface ReconnectOptions {
  /** Delay cap of the first attempt (ms); doubles per failed attempt. Default 250. */
  initialDelayMs?: number;
  /** Largest delay between attempts (ms). Default 10 s. */
  maxDelayMs?: number;
  /** Attempts per outage before the client gives up and closes (CLOSED). Default: no limit. */
  maxAttempts?: number;
}

export class Backoff {
  readonly #initial: number;
  readonly #max: number;
  readonly #maxAttempts: number;
  #attempt = 0;

  constructor(opts: ReconnectOptions = {}, readonly random: () => number = Math.random) {
    this.#initial = positive(opts.initialDelayMs ?? 250, 'initialDelayMs');
    this.#max = Math.max(this.#initial, positive(opts.maxDelayMs ?? 10_000, 'maxDelayMs'));
    this.#maxAttempts = opts.maxAttempts ?? Infinity;
    if (!(this.#maxAttempts >= 1)) throw new RangeError('maxAttempts must be at least 1');
  }

  /** Attempts made in this outage. */
  get attempts(): number {
    return this.#attempt;
  }

  /** The delay before the next attempt, or null when the attempts are spent. */
  next(): number | null {
    if (this.#attempt >= this.#maxAttempts) return null;
    const cap = Math.min(this.#max, this.#initial * 2 ** Math.min(this.#attempt, 30));
    this.#attempt++;
    return Math.round(cap / 2 + this.random() * (cap / 2));
  }

  /** After a successful connection: the next outage starts from the first delay again. */
  reset(): void {
    this.#attempt = 0;
  }
}

function positive(value: number, name: string): number {
  if (!(value > 0) || !Number.isFinite(value)) throw new RangeError(`${name} must be a positive number of ms`);
  return value;
}
