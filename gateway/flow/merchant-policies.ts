/**
 * Each merchant's payment policy as the flow needs it at a scan (whether the store knows the merchant, how its
 * payments are captured, how long a manual hold lasts), read from the store's merchants and kept for a few
 * seconds per merchant, so a scan costs no extra store round trip on the way a payment goes. A merchant the store
 * does not know (a free-text name an unbound scanner gives) takes the defaults.
 */
import { DEFAULT_HOLD_WINDOW_MS } from '../../issuer/payment.ts';
import type { CaptureMethod, MerchantStore } from '../../issuer/store/index.ts';

export interface MerchantPolicy {
  /** The store has the merchant (`scanpay merchant create`): only a scanner bound to it may take its payments. */
  registered: boolean;
  captureMethod: CaptureMethod;
  holdWindowMs: number;
}

export const DEFAULT_MERCHANT_POLICY: MerchantPolicy = { registered: false, captureMethod: 'automatic', holdWindowMs: DEFAULT_HOLD_WINDOW_MS };

/** How long a merchant's policy is kept before it is read again (a change reaches every gateway within it). */
const KEEP_MS = 10_000;
/** Merchants kept at once; past it the oldest go (a scan naming random merchants cannot grow it without bound). */
const MAX_KEPT = 10_000;

export class MerchantPolicies {
  readonly #kept = new Map<string, { policy: Promise<MerchantPolicy>; until: number }>();

  constructor(private readonly merchants: MerchantStore, private readonly now: () => number = Date.now) {}

  policy(merchant: string): Promise<MerchantPolicy> {
    const now = this.now();
    const kept = this.#kept.get(merchant);
    if (kept && kept.until > now) return kept.policy;
    const policy = this.merchants.getMerchant(merchant).then(
      (record) => (record ? { registered: true, captureMethod: record.captureMethod, holdWindowMs: record.holdWindowMs } : DEFAULT_MERCHANT_POLICY),
      (e: unknown) => {
        this.#kept.delete(merchant); // a store failure is not kept
        throw e;
      },
    );
    this.#kept.delete(merchant);
    this.#kept.set(merchant, { policy, until: now + KEEP_MS });
    if (this.#kept.size > MAX_KEPT) this.#kept.delete(this.#kept.keys().next().value!);
    return policy;
  }
}
