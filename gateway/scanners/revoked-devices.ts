/**
 * The devices revoked in the store, as this gateway knows them: an in-memory set, so every upgrade, frame,
 * scan and PIN can be checked without a store round trip. Loaded at start; kept current by the store's
 * revocation feed (Store.watchRevocations: a revocation made anywhere, the CLI included, arrives within about a
 * second); read again every refreshMs and whenever the feed resumes after a cut, so a missed push costs at most
 * refreshMs. Revocation is permanent, so the set only grows. Each device newly learnt of goes to onRevoked (the
 * gateway closes its sockets there).
 * @example
 *   const revoked = await RevokedDevices.watch(store, { refreshMs: 30_000, onRevoked: closeSockets, onError: log });
 *   if (revoked.has(deviceId)) refuse();
 */
import type { RevocationFeed, Store } from '../../issuer/store/index.ts';


export interface RevokedDevicesOptions {
  refreshMs: number;
  /** A device this gateway just learnt is revoked (once per device). Must not throw. */
  onRevoked(deviceId: string): void;
  /** A refresh that could not read the store: the set stays as it is, and the next refresh tries again. */
  onError(e: Error): void;
}

export class RevokedDevices {
  readonly #ids = new Set<string>();
  #feed: RevocationFeed | null = null;
  #timer: NodeJS.Timeout | undefined;

  private constructor(private readonly store: Store, private readonly opts: RevokedDevicesOptions) {}

  /** Listens to the feed, then reads the list (in that order: a revocation between the two is heard, not missed). */
  static async watch(store: Store, opts: RevokedDevicesOptions): Promise<RevokedDevices> {
    if (!Number.isSafeInteger(opts.refreshMs) || opts.refreshMs < 1) throw new RangeError('refreshMs must be a whole number of ms ≥ 1');
    const revoked = new RevokedDevices(store, opts);
    revoked.#feed = await store.watchRevocations({ revoked: (id) => revoked.#add(id), resumed: () => void revoked.refresh() });
    try {
      await revoked.#read();
    } catch (e) {
      await revoked.close();
      throw e;
    }
    revoked.#timer = setInterval(() => void revoked.refresh(), opts.refreshMs);
    revoked.#timer.unref();
    return revoked;
  }

  has(deviceId: string): boolean {
    return this.#ids.has(deviceId);
  }

  get size(): number {
    return this.#ids.size;
  }

  /** Reads the store's list again; a failure goes to onError. */
  refresh(): Promise<void> {
    return this.#read().catch((e: Error) => this.opts.onError(e));
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.#feed?.close();
  }

  async #read(): Promise<void> {
    for (const id of await this.store.revokedDevices()) this.#add(id);
  }

  #add(deviceId: string): void {
    if (this.#ids.has(deviceId)) return;
    this.#ids.add(deviceId);
    this.opts.onRevoked(deviceId);
  }
}
