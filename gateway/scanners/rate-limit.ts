/**
 * Per-scanner frame limits, held in the store (GCRA; Redis: one script on the server's clock), so a limit
 * holds across reconnects and across every gateway sharing the store. Each frame and each connection
 * takes one unit: a reconnect flood spends the same budget as a frame flood.
 */
import type { RateLimit, Store } from '../../issuer/store/types.ts';

export class DeviceRateLimiter {
  readonly #limit: RateLimit;

  constructor(private readonly store: Store, framesPerSecond: number, burst: number) {
    this.#limit = { perSecond: framesPerSecond, burst };
  }

  /** Takes one unit for the device; false when its budget is spent. */
  take(deviceId: string): Promise<boolean> {
    return this.store.takeRate(`device:${deviceId}`, this.#limit);
  }
}
