/** Counts requests in progress (a scanner frame from the moment it is read, a page PIN) so a graceful shutdown can wait for their answers. */
export class InFlight {
  #count = 0;
  #idle: (() => void)[] = [];

  get count(): number {
    return this.#count;
  }

  track<T>(work: Promise<T>): Promise<T> {
    this.#count++;
    return work.finally(() => {
      if (--this.#count === 0) for (const wake of this.#idle.splice(0)) wake();
    });
  }

  /** Resolves true once nothing is in flight, or false after timeoutMs. */
  drain(timeoutMs: number): Promise<boolean> {
    if (this.#count === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.#idle.splice(this.#idle.indexOf(wake), 1); // a drain that timed out leaves nothing behind
        resolve(false);
      }, timeoutMs);
      this.#idle.push(wake);
    });
  }
}
