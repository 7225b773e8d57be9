/**
 * Per-scanner frame limits, held in the store (GCRA; Redis: on the server's clock), so a limit holds across
 * reconnects and across every gateway sharing the store. Each frame and each connection takes one unit: a
 * reconnect flood spends the same budget as a frame flood. A scan or PIN frame's unit is taken inside its
 * store step (openSession, beginPinAttempt: one round trip, not two); every other frame's on its own, first.
 */
import type { RateLimit, RateTake, Store } from '../../issuer/store/index.ts';
import type { FrameRateUnit } from '../flow/deps.ts';

export class DeviceRateLimiter {
  readonly #limit: RateLimit;

  constructor(private readonly store: Store, framesPerSecond: number, burst: number) {
    this.#limit = { perSecond: framesPerSecond, burst };
  }

  /** Takes one unit for the device now (an upgrade); false when its budget is spent. */
  take(deviceId: string): Promise<boolean> {
    return this.store.takeRate(`device:${deviceId}`, this.#limit);
  }

  /** The unit of one frame of the device, not yet taken. */
  unit(deviceId: string): FrameUnit {
    return new FrameUnit(this.store, { key: `device:${deviceId}`, limit: this.#limit });
  }
}

export class FrameUnit implements FrameRateUnit {
  /** undefined: not taken; 'step': handed to a store step; else the answer of taking it alone. */
  #taken: 'step' | Promise<boolean> | undefined;
  /** True once the unit was refused, alone or in the step it went to: the frame was answered RATE_LIMITED for it. */
  refused = false;

  constructor(private readonly store: Store, private readonly rate: RateTake) {}

  forStep(): RateTake[] {
    if (this.#taken !== undefined) return [];
    this.#taken = 'step';
    return [this.rate];
  }

  alone(): Promise<boolean> {
    this.#taken ??= this.store.takeRate(this.rate.key, this.rate.limit).then((taken) => ((this.refused = !taken), taken));
    if (this.#taken === 'step') throw new Error('this frame\'s rate unit went to a store step');
    return this.#taken;
  }

  refusedInStep(): void {
    this.refused = true;
  }
}
