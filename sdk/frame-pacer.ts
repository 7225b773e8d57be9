/**
 * Client-side pacing to the gateway's per-scanner frame limit (welcome.limits, docs/protocol.md §Limits):
 * a token bucket at the advertised rate with half the gateway's burst, so frames bunched up by the
 * network still fit the gateway's bucket and a scanner never provokes RATE_LIMITED on its own.
 * @example
 *   const pacer = FramePacer.forLimits(welcome.limits);
 *   const waitMs = pacer.take(); // 0: send now; else try again in waitMs
 */
export class FramePacer {
  #tokens: number;
  #at: number;

  constructor(readonly perSecond: number, readonly burst: number, now = performance.now()) {
    this.#tokens = burst;
    this.#at = now;
  }

  /** From the welcome frame's limits (`burst` when the gateway sends one, else one second's worth). */
  static forLimits(limits: { framesPerSecond: number; burst?: unknown }): FramePacer | null {
    const perSecond = limits.framesPerSecond;
    if (!(perSecond > 0) || !Number.isFinite(perSecond)) return null;
    const gatewayBurst = typeof limits.burst === 'number' && limits.burst >= 1 ? limits.burst : perSecond;
    return new FramePacer(perSecond, Math.max(1, Math.floor(gatewayBurst / 2)));
  }

  /** Takes a token and returns 0, or returns how many ms until one is available (taking nothing). */
  take(now = performance.now()): number {
    this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#at) / 1000) * this.perSecond);
    this.#at = now;
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil(((1 - this.#tokens) / this.perSecond) * 1000));
  }
}
