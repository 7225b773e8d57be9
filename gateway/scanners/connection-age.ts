/**
 * The maximum age of scanner connections: each gets a deadline between 90 % and 95 % of the age when it
 * opens (jitter, so a fleet that connected at once does not reconnect at once), and one sweep, at most every
 * 5 % of the age, ends those past it: so none lives longer than the age, unless it has requests outstanding,
 * which get up to GRACE_MS more to be answered (a scanner cannot keep a connection past its age by keeping it
 * busy). One timer for all connections, not one each: a deadline costs a Map entry per idle connection.
 * @example
 *   const ages = new ConnectionAges(3_600_000, (conn) => conn.close(4001, '…'), (conn) => outstanding(conn) > 0);
 *   ages.add(conn); … ages.remove(conn); … ages.stop();
 */

/** How long past its deadline a connection with requests outstanding may stay to answer them. */
export const GRACE_MS = 10_000;
/** The longest pause between two sweeps, whatever the age. */
const MAX_SWEEP_MS = 10_000;

export class ConnectionAges<C> {
  readonly #deadlines = new Map<C, number>();
  readonly #sweep: NodeJS.Timeout;

  constructor(private readonly maxAgeMs: number, private readonly onAged: (conn: C) => void, private readonly busy: (conn: C) => boolean) {
    this.#sweep = setInterval(() => this.#end(Date.now()), Math.min(MAX_SWEEP_MS, maxAgeMs / 20));
    this.#sweep.unref();
  }

  add(conn: C): void {
    this.#deadlines.set(conn, Date.now() + this.maxAgeMs * (0.9 + Math.random() / 20));
  }

  remove(conn: C): void {
    this.#deadlines.delete(conn);
  }

  stop(): void {
    clearInterval(this.#sweep);
  }

  #end(now: number): void {
    for (const [conn, deadline] of this.#deadlines) {
      if (now < deadline || (this.busy(conn) && now < deadline + GRACE_MS)) continue;
      this.#deadlines.delete(conn);
      this.onAged(conn);
    }
  }
}
