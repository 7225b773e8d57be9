/**
 * The store contract for webhooks (docs/webhooks.md): a merchant's endpoints, and the deliveries of its journal's
 * events to each of them. Everything here is on the merchant's slot (`{m:<id>}` in Redis), so each step is one
 * atomic script.
 *
 * An endpoint's signing secrets are kept *sealed* (AEAD under a key only the gateways and the operator's CLI
 * derive from the fleet key: gateway/webhooks/secrets.ts): the store never holds one in clear.
 *
 * Deliveries follow the journal (event-types.ts): `fanOut` turns the records an endpoint has not seen yet into
 * due deliveries (one per endpoint and event, from the endpoint's creation on); `claimDeliveries` hands the due
 * ones to one gateway under a lease (a gateway that dies leaves its claims to expire, and another takes them),
 * only a payment's next event for that endpoint (event n waits until n − 1 was delivered or given up); a claim
 * ends in `completeDelivery` or `failDelivery` (retried at the time the caller's schedule gives, or given up).
 * At least once: a delivery whose answer was lost, or whose lease lapsed mid-request, is sent again, with the
 * same event id.
 */

import { WEBHOOK_ENDPOINT_ID_PATTERN } from '../../protocol/merchant-api.ts';

export { WEBHOOK_ENDPOINT_ID_PATTERN };

/** One signing secret, sealed; `expiresAt` null while it is the current one, else the end of its rotation grace. */
export interface SealedSecret {
  sealed: string;
  expiresAt: number | null;
}

export interface WebhookEndpoint {
  id: string; // we_ + 32 lowercase hex
  merchant: string;
  url: string;
  createdAt: number;
  /** The current secret first; then, during a rotation's grace, the one before it. */
  secrets: SealedSecret[];
}

/** A delivery a gateway claimed: send the event to the endpoint, then complete or fail it. */
export interface DeliveryClaim {
  endpoint: WebhookEndpoint;
  eventId: string;
  /** 1 for the first try; each claim counts one (a lapsed lease too). */
  attempt: number;
  /** This claim's token: only its holder completes or fails it. */
  token: string;
}

export interface DeliveryCounts {
  /** Waiting for their time, or claimed and in flight. */
  pending: number;
  delivered: number;
  /** Given up after the last retry. */
  failed: number;
}

export interface WebhookStore {
  /** A new endpoint, receiving the events sealed from now on; false (nothing written) past `maxPerMerchant`. */
  addEndpoint(endpoint: WebhookEndpoint, maxPerMerchant: number): Promise<boolean>;
  listEndpoints(merchant: string): Promise<WebhookEndpoint[]>;
  getEndpoint(merchant: string, id: string): Promise<WebhookEndpoint | null>;
  /** True when it was there. Its pending deliveries are dropped when next claimed. */
  deleteEndpoint(merchant: string, id: string): Promise<boolean>;
  /**
   * A new current secret; the previous current one stays valid until `previousExpiresAt` (older ones are
   * dropped). The endpoint as it is now, or null for an unknown one.
   */
  rotateSecret(merchant: string, id: string, sealed: string, previousExpiresAt: number): Promise<WebhookEndpoint | null>;
  /** Merchants that have (had) an endpoint: the delivery loops' work list. */
  webhookMerchants(): Promise<string[]>;

  /** Queues, due at `now`, the journal records past each endpoint's cursor (at most `max` per endpoint): how many. */
  fanOut(merchant: string, now: number, max: number): Promise<number>;
  /** Up to `max` due deliveries, each leased to `owner` until `now + leaseMs`. */
  claimDeliveries(merchant: string, owner: string, now: number, leaseMs: number, max: number): Promise<DeliveryClaim[]>;
  /** Delivered: the payment's next event for this endpoint becomes due at `now`. False when the claim was no longer held (it counts anyway). */
  completeDelivery(merchant: string, claim: DeliveryClaim, now: number): Promise<boolean>;
  /**
   * Failed: due again at `retryAt`, or given up (null: the payment's next event becomes due at `now`). False
   * (nothing changed) when the claim was no longer held.
   */
  failDelivery(merchant: string, claim: DeliveryClaim, retryAt: number | null, now: number): Promise<boolean>;
  /** Queues the event again for every endpoint of its merchant, due at `now`, with a fresh schedule: how many. */
  redeliver(merchant: string, eventId: string, now: number): Promise<number>;
  counts(merchant: string): Promise<DeliveryCounts>;
}

/** How many due deliveries one claim looks at, for each one wanted (some wait behind their payment's event before). */
export const CLAIM_SCAN_FACTOR = 4;

