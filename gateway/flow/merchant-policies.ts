/**
 * Each merchant's payment policy as the flow needs it at a scan (whether the store knows the merchant, how its
 * payments are captured, how long a manual hold lasts), read from the store's merchants and kept for a few
 * seconds per merchant, so a scan costs no extra store round trip on the way a payment goes. A merchant the store
 * does not know (a free-text name an unbound scanner gives) takes the gateway's default policy: automatic capture,
 * and the gateway's hold window (GatewayOptions.holdWindowMs, SCANPAY_HOLD_WINDOW_S; default 7 days) for a scan that
 * asks for a manual capture. Where holders enter the PIN is the merchant's own setting when its record has one, else
 * the gateway's (GatewayOptions.pinEntry, SCANPAY_PIN_ENTRY; default `scanner`), for registered merchants and others.
 */
import { DEFAULT_HOLD_WINDOW_MS } from '../../issuer/payment.ts';
import type { CaptureMethod, MerchantStore } from '../../issuer/store/index.ts';
import type { PinEntry } from '../../protocol/values.ts';

export interface MerchantPolicy {
  /** The store has the merchant (`scanpay merchant create`): only a scanner bound to it may take its payments. */
  registered: boolean;
  captureMethod: CaptureMethod;
  holdWindowMs: number;
  /** `holder-device`: its sessions take the PIN on the holder's phone only (the auth page), never from the scanner. */
  pinEntry: PinEntry;
}

export const DEFAULT_MERCHANT_POLICY: MerchantPolicy = { registered: false, captureMethod: 'automatic', holdWindowMs: DEFAULT_HOLD_WINDOW_MS, pinEntry: 'scanner' };

/** How long a merchant's policy is kept before it is read again (a change reaches every gateway within it). */
const KEEP_MS = 10_000;
/** Merchants kept at once; past it the oldest go (a scan naming random merchants cannot grow it without bound). */
const MAX_KEPT = 10_000;

export class MerchantPolicies {
  readonly #kept = new Map<string, { policy: Promise<MerchantPolicy>; until: number }>();

  constructor(
    private readonly merchants: MerchantStore,
    private readonly now: () => number = Date.now,
    private readonly defaults: MerchantPolicy = DEFAULT_MERCHANT_POLICY,
  ) {}

  policy(merchant: string): Promise<MerchantPolicy> {
    const now = this.now();
    const kept = this.#kept.get(merchant);
    if (kept && kept.until > now) return kept.policy;
    const policy = this.merchants.getMerchant(merchant).then(
      (record) => (record
        ? { registered: true, captureMethod: record.captureMethod, holdWindowMs: record.holdWindowMs, pinEntry: record.pinEntry ?? this.defaults.pinEntry }
        : this.defaults),
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
