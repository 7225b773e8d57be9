/**
 * Webhook delivery in one gateway process (docs/webhooks.md): every `intervalMs`, for each merchant with
 * endpoints, the journal records new to each endpoint are queued (store.webhooks.fanOut), and as many due
 * deliveries as this process has free slots are claimed under a lease and sent (http-delivery.ts), each signed
 * with the endpoint's secrets (two during a rotation). A 2xx completes it; anything else is retried at the
 * schedule's next delay, then given up after the last. A process that dies mid-delivery leaves its claims to
 * lapse (`leaseMs`, longer than a request may last), and another process sends them again: at least once.
 *
 * Never in a payment's way: its own timer, one round at a time, at most `maxConcurrent` requests in flight per
 * process (each with its own deadline and answer budget), and nothing a receiver does reaches the payment path.
 * Fair between merchants: one merchant's deliveries take at most a quarter of the slots (a merchant whose
 * receiver hangs holds those, not every other merchant's).
 * close() stops claiming and waits (bounded by the request deadline) for the requests in flight.
 * @example
 *   const delivery = WebhookDelivery.start({ store, box, owner, ...DEFAULT_WEBHOOK_SETTINGS, allowPrivate: false, log });
 *   await delivery.close();
 */
import type { Store } from '../../issuer/store/index.ts';
import { EVENT_ID_HEADER, SIGNATURE_HEADER, signatureHeader } from '../../protocol/webhook-signature.ts';
import { eventObject } from '../merchant-api/answers.ts';
import { signingSecrets } from './endpoints.ts';
import { postWebhook, type DeliveryLimits, type DeliveryResult } from './http-delivery.ts';
import type { WebhookSecretBox } from './secrets.ts';
import type { DeliveryClaim } from '../../issuer/store/index.ts';

/**
 * The delays (ms) before each retry: 1 min, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h — 8 tries over 27 h 36 min,
 * so a receiver down for a day still gets every event.
 */
export const DEFAULT_RETRY_SCHEDULE_MS: readonly number[] = [60_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000];

export interface WebhookSettings {
  /** How often a round runs (ms). */
  intervalMs: number;
  retryScheduleMs: readonly number[];
  /** One request's deadline: connect, TLS, send, answer (ms). */
  timeoutMs: number;
  /** Requests in flight in this process at most. */
  maxConcurrent: number;
  /** Bytes of an answer read at most. */
  maxResponseBytes: number;
  /** SCANPAY_WEBHOOK_ALLOW_PRIVATE: loopback and private receivers (and http) allowed. */
  allowPrivate: boolean;
}

export const DEFAULT_WEBHOOK_SETTINGS: WebhookSettings = {
  intervalMs: 1_000, retryScheduleMs: DEFAULT_RETRY_SCHEDULE_MS, timeoutMs: 10_000, maxConcurrent: 32, maxResponseBytes: 64 * 1024, allowPrivate: false,
};

/** What is wrong with the settings (startGateway's boundary check), or null. */
export function webhookSettingsProblem(s: WebhookSettings): string | null {
  const whole = (v: unknown, min: number) => Number.isSafeInteger(v) && (v as number) >= min;
  if (!whole(s.intervalMs, 0)) return 'webhooks.intervalMs must be a whole number of ms, 0 (no delivery) or more';
  if (!Array.isArray(s.retryScheduleMs) || s.retryScheduleMs.length > 64 || !s.retryScheduleMs.every((d) => whole(d, 1))) {
    return 'webhooks.retryScheduleMs must be at most 64 delays, each a whole number of ms from 1';
  }
  if (!whole(s.timeoutMs, 1) || !whole(s.maxConcurrent, 1) || !whole(s.maxResponseBytes, 1)) {
    return 'webhooks.timeoutMs, maxConcurrent and maxResponseBytes must be whole numbers from 1';
  }
  return typeof s.allowPrivate === 'boolean' ? null : 'webhooks.allowPrivate must be true or false';
}

export interface WebhookDeliveryOptions extends WebhookSettings {
  store: Store;
  box: WebhookSecretBox;
  owner: string;
  onError: (e: Error) => void;
  /** Every delivery's outcome (metrics, logs, tests): never the body or a secret. */
  onAttempt?: (attempt: { merchant: string; endpoint: string; event: string; attempt: number; result: DeliveryResult; gaveUp: boolean }) => void;
}

export class WebhookDelivery {
  readonly #opts: WebhookDeliveryOptions;
  readonly #limits: DeliveryLimits;
  readonly #leaseMs: number;
  #timer: NodeJS.Timeout | null = null;
  #round: Promise<void> | null = null;
  readonly #inFlight = new Set<Promise<void>>();
  /** Requests in flight per merchant. */
  readonly #perMerchant = new Map<string, number>();
  #closed = false;

  private constructor(opts: WebhookDeliveryOptions) {
    this.#opts = opts;
    this.#limits = { timeoutMs: opts.timeoutMs, maxResponseBytes: opts.maxResponseBytes, allowPrivate: opts.allowPrivate };
    // a live process finishes (or times out) a request well within its lease: only a dead one's claims lapse
    this.#leaseMs = opts.timeoutMs * 2 + 5_000;
  }

  static start(opts: WebhookDeliveryOptions): WebhookDelivery {
    const delivery = new WebhookDelivery(opts);
    delivery.#schedule();
    return delivery;
  }

  /** Requests in flight now. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  #schedule(): void {
    if (this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#round = this.runRound().catch((e: unknown) => this.#opts.onError(e as Error)).finally(() => {
        this.#round = null;
        this.#schedule();
      });
    }, this.#opts.intervalMs);
    this.#timer.unref();
  }

  /** One round now: queue what is new, claim what is due (up to the free slots), start sending it. */
  async runRound(): Promise<void> {
    const { store, owner } = this.#opts;
    for (const merchant of await store.webhooks.webhookMerchants()) {
      if (this.#closed) return;
      try {
        const now = Date.now();
        await store.webhooks.fanOut(merchant, now, 500);
        const share = Math.max(1, Math.floor(this.#opts.maxConcurrent / 4));
        const free = Math.min(this.#opts.maxConcurrent - this.#inFlight.size, share - (this.#perMerchant.get(merchant) ?? 0));
        if (free <= 0) continue; // the next round fans out and claims again
        for (const claim of await store.webhooks.claimDeliveries(merchant, owner, now, this.#leaseMs, free)) {
          this.#perMerchant.set(merchant, (this.#perMerchant.get(merchant) ?? 0) + 1);
          const sending: Promise<void> = this.#deliver(merchant, claim)
            .catch((e: unknown) => this.#opts.onError(e as Error)) // the claim lapses and is retried
            .finally(() => {
              this.#inFlight.delete(sending);
              const left = this.#perMerchant.get(merchant)! - 1;
              if (left === 0) this.#perMerchant.delete(merchant);
              else this.#perMerchant.set(merchant, left);
            });
          this.#inFlight.add(sending);
        }
      } catch (e) {
        this.#opts.onError(e as Error); // one merchant's failure does not stop the others
      }
    }
  }

  async #deliver(merchant: string, claim: DeliveryClaim): Promise<void> {
    const { store, box } = this.#opts;
    const event = await store.events.getEvent(claim.eventId);
    if (!event) { // cannot be (events are never removed): give up rather than retry forever
      await store.webhooks.failDelivery(merchant, claim, null, Date.now());
      return;
    }
    const body = JSON.stringify(eventObject(event));
    const now = Date.now();
    const t = Math.floor(now / 1000);
    const headers = {
      [SIGNATURE_HEADER]: signatureHeader(signingSecrets(box, claim.endpoint, now), t, body),
      [EVENT_ID_HEADER]: event.id,
    };
    const result = await postWebhook(claim.endpoint.url, body, headers, this.#limits);
    const done = Date.now();
    let gaveUp = false;
    if (result.delivered) await store.webhooks.completeDelivery(merchant, claim, done);
    else {
      const delay = this.#opts.retryScheduleMs[claim.attempt - 1];
      gaveUp = delay === undefined;
      await store.webhooks.failDelivery(merchant, claim, gaveUp ? null : done + delay!, done);
    }
    this.#opts.onAttempt?.({ merchant, endpoint: claim.endpoint.id, event: event.id, attempt: claim.attempt, result, gaveUp });
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#round;
    await Promise.all(this.#inFlight); // each bounded by the request deadline
  }
}
