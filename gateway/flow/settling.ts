/**
 * Settling an evaluated attempt, or authorizing a verified payment, is idempotent (same session and attempt id), so
 * a store blip is retried a few times before giving up: an attempt left pending, or a verified code left unpaid,
 * helps nobody.
 */
import { isScanpayError } from '../../core/errors.ts';

const SETTLE_RETRIES_MS = [100, 300, 1_000];

/** Runs an idempotent store step, retrying STORE_UNAVAILABLE a few times. */
export async function settling<T>(step: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await step();
    } catch (e) {
      if (i >= SETTLE_RETRIES_MS.length || !isScanpayError(e, 'STORE_UNAVAILABLE')) throw e;
      await new Promise((resolve) => setTimeout(resolve, SETTLE_RETRIES_MS[i]));
    }
  }
}
