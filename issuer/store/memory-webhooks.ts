/**
 * The embedded store's webhook endpoints and deliveries (webhook-types.ts WebhookStore): the same contract and
 * answers as Redis (redis-webhooks.ts, whose scripts this follows step by step) in plain Maps. Each method reads
 * and writes without awaiting in between (the journal is read first), so it is atomic as a script is.
 */
import { eventIdParts, type EventStore } from './event-types.ts';
import { checkedEndpointId, checkedEventId, checkedMerchantId, checkedOwner, checkedWebhookEndpoint } from './validate.ts';
import { CLAIM_SCAN_FACTOR, type DeliveryClaim, type DeliveryCounts, type WebhookEndpoint, type WebhookStore } from './webhook-types.ts';

interface Hooks {
  endpoints: Map<string, WebhookEndpoint>;
  cursors: Map<string, number>;
  /** `endpoint|event` → due at (or leased until). */
  due: Map<string, number>;
  claims: Map<string, { attempts: number; token: string }>;
  delivered: number;
  failed: number;
}

const copy = <T>(value: T): T => structuredClone(value);
const memberOf = (endpointId: string, eventId: string) => `${endpointId}|${eventId}`;

/** The delivery of the same endpoint for the event before (n − 1) or after (n + 1) of the same payment. */
function neighbour(member: string, step: -1 | 1): string | null {
  const [endpointId, eventId] = member.split('|') as [string, string];
  const { paymentId, n } = eventIdParts(eventId)!;
  return n + step < 1 ? null : memberOf(endpointId, `ev_${paymentId}_${n + step}`);
}

export class MemoryWebhooks implements WebhookStore {
  readonly #merchants = new Map<string, Hooks>();
  /** Merchants that have had an endpoint (as Redis's set: never shrinks). */
  readonly #ever = new Set<string>();

  constructor(private readonly events: EventStore) {}

  #hooks(merchant: string): Hooks {
    const m = checkedMerchantId(merchant);
    let hooks = this.#merchants.get(m);
    if (!hooks) this.#merchants.set(m, (hooks = { endpoints: new Map(), cursors: new Map(), due: new Map(), claims: new Map(), delivered: 0, failed: 0 }));
    return hooks;
  }

  async addEndpoint(endpoint: WebhookEndpoint, maxPerMerchant: number): Promise<boolean> {
    const e = checkedWebhookEndpoint(endpoint);
    const { seq } = await this.events.journalHead(e.merchant);
    const hooks = this.#hooks(e.merchant);
    if (hooks.endpoints.size >= maxPerMerchant || hooks.endpoints.has(e.id)) return false;
    hooks.endpoints.set(e.id, e);
    hooks.cursors.set(e.id, seq); // from the events sealed after its creation on
    this.#ever.add(e.merchant);
    return true;
  }

  async listEndpoints(merchant: string): Promise<WebhookEndpoint[]> {
    return [...this.#hooks(merchant).endpoints.values()].map(copy).sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
  }

  async getEndpoint(merchant: string, id: string): Promise<WebhookEndpoint | null> {
    const endpoint = this.#hooks(merchant).endpoints.get(checkedEndpointId(id));
    return endpoint ? copy(endpoint) : null;
  }

  async deleteEndpoint(merchant: string, id: string): Promise<boolean> {
    const hooks = this.#hooks(merchant);
    const endpointId = checkedEndpointId(id);
    hooks.cursors.delete(endpointId);
    return hooks.endpoints.delete(endpointId);
  }

  async rotateSecret(merchant: string, id: string, sealed: string, previousExpiresAt: number): Promise<WebhookEndpoint | null> {
    const hooks = this.#hooks(merchant);
    const endpoint = hooks.endpoints.get(checkedEndpointId(id));
    if (!endpoint) return null;
    const next = checkedWebhookEndpoint({ ...endpoint, secrets: [{ sealed, expiresAt: null }, { sealed: endpoint.secrets[0]!.sealed, expiresAt: previousExpiresAt }] });
    hooks.endpoints.set(next.id, next);
    return copy(next);
  }

  async webhookMerchants(): Promise<string[]> {
    return [...this.#ever].sort();
  }

  async fanOut(merchant: string, now: number, max: number): Promise<number> {
    const hooks = this.#hooks(merchant);
    const reads = await Promise.all([...hooks.cursors].map(async ([endpointId, cursor]) => ({
      endpointId, cursor, records: await this.events.journal(merchant, cursor + 1, max),
    })));
    let queued = 0;
    for (const { endpointId, cursor, records } of reads) {
      const current = hooks.cursors.get(endpointId);
      if (current === undefined) continue; // deleted meanwhile
      for (const record of records) {
        const member = memberOf(endpointId, record.eventId);
        if (!hooks.due.has(member)) hooks.due.set(member, now);
        queued++;
      }
      hooks.cursors.set(endpointId, Math.max(current, cursor + records.length)); // never back: another fan-out may have read further
    }
    return queued;
  }

  async claimDeliveries(merchant: string, owner: string, now: number, leaseMs: number, max: number): Promise<DeliveryClaim[]> {
    const who = checkedOwner(owner);
    const hooks = this.#hooks(merchant);
    const due = [...hooks.due].filter(([, at]) => at <= now).sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1)).slice(0, max * CLAIM_SCAN_FACTOR);
    const claims: DeliveryClaim[] = [];
    for (const [member] of due) {
      if (claims.length >= max) break;
      const [endpointId, eventId] = member.split('|') as [string, string];
      const endpoint = hooks.endpoints.get(endpointId);
      if (!endpoint) { // deleted: its deliveries go with it
        hooks.due.delete(member);
        hooks.claims.delete(member);
        continue;
      }
      const before = neighbour(member, -1);
      const waitFor = before === null ? undefined : hooks.due.get(before);
      if (waitFor !== undefined) { // the payment's event before is pending for this endpoint: this one goes after it
        hooks.due.set(member, Math.max(waitFor + 1, now + 1));
        continue;
      }
      const attempts = (hooks.claims.get(member)?.attempts ?? 0) + 1;
      const token = `${who}:${now}:${attempts}`;
      hooks.claims.set(member, { attempts, token });
      hooks.due.set(member, now + leaseMs);
      claims.push({ endpoint: copy(endpoint), eventId, attempt: attempts, token });
    }
    return claims;
  }

  #held(hooks: Hooks, claim: DeliveryClaim): string | null {
    const member = memberOf(checkedEndpointId(claim.endpoint.id), checkedEventId(claim.eventId));
    return hooks.claims.get(member)?.token === claim.token ? member : null;
  }

  /** The delivery is over (delivered or given up): the payment's next event for the endpoint is due now. */
  #finish(hooks: Hooks, member: string, now: number): void {
    hooks.due.delete(member);
    hooks.claims.delete(member);
    const after = neighbour(member, 1)!;
    if (hooks.due.has(after)) hooks.due.set(after, now);
  }

  async completeDelivery(merchant: string, claim: DeliveryClaim, now: number): Promise<boolean> {
    const hooks = this.#hooks(merchant);
    const member = this.#held(hooks, claim);
    if (member === null) return false;
    this.#finish(hooks, member, now);
    hooks.delivered++;
    return true;
  }

  async failDelivery(merchant: string, claim: DeliveryClaim, retryAt: number | null, now: number): Promise<boolean> {
    const hooks = this.#hooks(merchant);
    const member = this.#held(hooks, claim);
    if (member === null) return false;
    if (retryAt === null) {
      this.#finish(hooks, member, now);
      hooks.failed++;
    } else hooks.due.set(member, retryAt);
    return true;
  }

  async redeliver(merchant: string, eventId: string, now: number): Promise<number> {
    const hooks = this.#hooks(merchant);
    const id = checkedEventId(eventId);
    for (const endpointId of hooks.endpoints.keys()) {
      const member = memberOf(endpointId, id);
      hooks.due.set(member, now);
      hooks.claims.set(member, { attempts: 0, token: '' }); // a fresh schedule; a claim in flight no longer holds it
    }
    return hooks.endpoints.size;
  }

  async counts(merchant: string): Promise<DeliveryCounts> {
    const hooks = this.#hooks(merchant);
    return { pending: hooks.due.size, delivered: hooks.delivered, failed: hooks.failed };
  }
}
