/**
 * A Map whose entries are forgotten at their deadline (`keepUntil`, wall-clock ms), as Redis forgets a key at
 * its PEXPIREAT: an expired entry is never returned, and every read first forgets the entries whose deadline
 * has passed. Those are found through a min-heap of deadlines, so forgetting costs O(log n) per entry forgotten
 * and nothing per entry kept: a map holding a day's used sessions is never walked whole.
 *
 * Invariant: every key in the map has a heap pair whose deadline is at or before its entry's `keepUntil`.
 * A set that keeps or extends a deadline adds no pair; an entry whose `keepUntil` was moved later in place (a
 * session being used) is pushed again when its old pair comes up. A deadline moved earlier in place is still
 * honoured on read; the entry is only dropped from memory at its older pair.
 * @example
 *   const nonces = new ExpiringMap<{ keepUntil: number }>();
 *   nonces.set(key, { keepUntil: Date.now() + ttlMs });
 *   nonces.get(key); // undefined from keepUntil on
 */
export class ExpiringMap<V extends { keepUntil: number }> {
  readonly #entries = new Map<string, V>();
  // a binary min-heap of (deadline, key) pairs, in two parallel arrays
  readonly #deadlines: number[] = [];
  readonly #keys: string[] = [];

  /** The live entry under `key`, or undefined (none, or its deadline has passed). */
  get(key: string, now = Date.now()): V | undefined {
    this.#forgetExpired(now);
    const entry = this.#entries.get(key);
    if (entry && entry.keepUntil <= now) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  set(key: string, value: V): void {
    const previous = this.#entries.get(key);
    this.#entries.set(key, value);
    if (!previous || value.keepUntil < previous.keepUntil) this.#push(value.keepUntil, key);
  }

  delete(key: string): void {
    this.#entries.delete(key); // its pair is dropped when it comes up
  }

  /** Entries held, expired ones not yet forgotten included (diagnostics and tests). */
  get size(): number {
    return this.#entries.size;
  }

  /** Deadline pairs waiting in the heap (diagnostics and tests: stays within a small multiple of size). */
  get pendingDeadlines(): number {
    return this.#deadlines.length;
  }

  #forgetExpired(now: number): void {
    while (this.#deadlines.length > 0 && this.#deadlines[0]! <= now) {
      const key = this.#pop();
      const entry = this.#entries.get(key);
      if (!entry) continue; // deleted, or forgotten through an earlier pair
      if (entry.keepUntil <= now) this.#entries.delete(key);
      else this.#push(entry.keepUntil, key); // its deadline moved later in place
    }
  }

  #push(deadline: number, key: string): void {
    const d = this.#deadlines;
    const k = this.#keys;
    let i = d.length;
    d.push(deadline);
    k.push(key);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (d[parent]! <= deadline) break;
      d[i] = d[parent]!;
      k[i] = k[parent]!;
      i = parent;
    }
    d[i] = deadline;
    k[i] = key;
  }

  /** Removes and returns the key of the earliest pair (the heap is not empty). */
  #pop(): string {
    const d = this.#deadlines;
    const k = this.#keys;
    const top = k[0]!;
    const lastDeadline = d.pop()!;
    const lastKey = k.pop()!;
    const n = d.length;
    if (n === 0) return top;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && d[child + 1]! < d[child]!) child++;
      if (d[child]! >= lastDeadline) break;
      d[i] = d[child]!;
      k[i] = k[child]!;
      i = child;
    }
    d[i] = lastDeadline;
    k[i] = lastKey;
    return top;
  }
}
