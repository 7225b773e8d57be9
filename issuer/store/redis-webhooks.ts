/**
 * Webhook endpoints and deliveries on Redis (webhook-types.ts WebhookStore), each step one script on the
 * merchant's slot (redis-webhook-scripts.ts); the set of merchants with endpoints is on a slot of its own, written
 * after the endpoint (a lost write there is mended by the next endpoint the merchant adds, and the endpoint's
 * deliveries wait for it: nothing is lost).
 */
import { decoded } from './redis-codec.ts';
import type { RedisContext } from './redis-context.ts';
import { checkedEndpointId, checkedEventId, checkedMerchantId, checkedOwner, checkedWebhookEndpoint } from './validate.ts';
import { CLAIM_SCAN_FACTOR, type DeliveryClaim, type DeliveryCounts, type WebhookEndpoint, type WebhookStore } from './webhook-types.ts';

const endpointFromText = (text: string) => decoded('webhook endpoint', () => checkedWebhookEndpoint(JSON.parse(text)));
const endpointText = (e: WebhookEndpoint) => JSON.stringify({ id: e.id, merchant: e.merchant, url: e.url, createdAt: e.createdAt, secrets: e.secrets });

export class RedisWebhooks implements WebhookStore {
  constructor(private readonly ctx: RedisContext) {}

  async addEndpoint(endpoint: WebhookEndpoint, maxPerMerchant: number): Promise<boolean> {
    const e = checkedWebhookEndpoint(endpoint);
    const { keys } = this.ctx;
    const added = await this.ctx.run((redis) => redis.scanpayAddEndpoint(
      keys.webhooks(e.merchant), keys.webhookCursors(e.merchant), keys.journal(e.merchant), e.id, endpointText(e), maxPerMerchant,
    ));
    if (added !== 1) return false;
    await this.ctx.run((redis) => redis.sadd(keys.webhookMerchants, e.merchant));
    return true;
  }

  async listEndpoints(merchant: string): Promise<WebhookEndpoint[]> {
    const texts = await this.ctx.run((redis) => redis.hvals(this.ctx.keys.webhooks(checkedMerchantId(merchant))));
    return texts.map(endpointFromText).sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
  }

  async getEndpoint(merchant: string, id: string): Promise<WebhookEndpoint | null> {
    const text = await this.ctx.run((redis) => redis.hget(this.ctx.keys.webhooks(checkedMerchantId(merchant)), checkedEndpointId(id)));
    return text === null ? null : endpointFromText(text);
  }

  async deleteEndpoint(merchant: string, id: string): Promise<boolean> {
    const m = checkedMerchantId(merchant);
    const endpointId = checkedEndpointId(id);
    const [[, removed]] = (await this.ctx.run((redis) => redis.multi()
      .hdel(this.ctx.keys.webhooks(m), endpointId).hdel(this.ctx.keys.webhookCursors(m), endpointId).exec()))! as [[unknown, number]];
    return removed === 1;
  }

  async rotateSecret(merchant: string, id: string, sealed: string, previousExpiresAt: number): Promise<WebhookEndpoint | null> {
    const m = checkedMerchantId(merchant);
    const endpointId = checkedEndpointId(id);
    for (;;) { // compare-and-set: a concurrent rotation or deletion makes this one read again
      const text = await this.ctx.run((redis) => redis.hget(this.ctx.keys.webhooks(m), endpointId));
      if (text === null) return null;
      const endpoint = endpointFromText(text);
      const next = checkedWebhookEndpoint({ ...endpoint, secrets: [{ sealed, expiresAt: null }, { sealed: endpoint.secrets[0]!.sealed, expiresAt: previousExpiresAt }] });
      if ((await this.ctx.run((redis) => redis.scanpayReplaceEndpoint(this.ctx.keys.webhooks(m), endpointId, text, endpointText(next)))) === 1) return next;
    }
  }

  webhookMerchants(): Promise<string[]> {
    return this.ctx.run((redis) => redis.smembers(this.ctx.keys.webhookMerchants)).then((ids) => ids.sort());
  }

  fanOut(merchant: string, now: number, max: number): Promise<number> {
    const m = checkedMerchantId(merchant);
    const { keys } = this.ctx;
    return this.ctx.run((redis) => redis.scanpayFanOut(keys.webhookCursors(m), keys.webhookDue(m), keys.journal(m), now, max));
  }

  async claimDeliveries(merchant: string, owner: string, now: number, leaseMs: number, max: number): Promise<DeliveryClaim[]> {
    const m = checkedMerchantId(merchant);
    const { keys } = this.ctx;
    const flat = await this.ctx.run((redis) => redis.scanpayClaimDeliveries(
      keys.webhooks(m), keys.webhookDue(m), keys.webhookClaims(m), checkedOwner(owner), now, leaseMs, max, max * CLAIM_SCAN_FACTOR,
    ));
    const claims: DeliveryClaim[] = [];
    for (let i = 0; i < flat.length; i += 4) {
      claims.push({ endpoint: endpointFromText(flat[i]!), eventId: checkedEventId(flat[i + 1]), attempt: Number(flat[i + 2]), token: flat[i + 3]! });
    }
    return claims;
  }

  #end(merchant: string, claim: DeliveryClaim, now: number, retryAt: number, outcome: 'delivered' | 'failed'): Promise<boolean> {
    const m = checkedMerchantId(merchant);
    const member = `${checkedEndpointId(claim.endpoint.id)}|${checkedEventId(claim.eventId)}`;
    const { keys } = this.ctx;
    return this.ctx.run((redis) => redis.scanpayEndDelivery(keys.webhookDue(m), keys.webhookClaims(m), keys.webhookCounts(m), member, claim.token, now, retryAt, outcome))
      .then((held) => held === 1);
  }

  completeDelivery(merchant: string, claim: DeliveryClaim, now: number): Promise<boolean> {
    return this.#end(merchant, claim, now, -1, 'delivered');
  }

  failDelivery(merchant: string, claim: DeliveryClaim, retryAt: number | null, now: number): Promise<boolean> {
    return this.#end(merchant, claim, now, retryAt ?? -1, 'failed');
  }

  redeliver(merchant: string, eventId: string, now: number): Promise<number> {
    const m = checkedMerchantId(merchant);
    const { keys } = this.ctx;
    return this.ctx.run((redis) => redis.scanpayRedeliver(keys.webhooks(m), keys.webhookDue(m), keys.webhookClaims(m), checkedEventId(eventId), now));
  }

  async counts(merchant: string): Promise<DeliveryCounts> {
    const m = checkedMerchantId(merchant);
    const [pending, [delivered, failed]] = await this.ctx.run((redis) => Promise.all([
      redis.zcard(this.ctx.keys.webhookDue(m)), redis.hmget(this.ctx.keys.webhookCounts(m), 'delivered', 'failed'),
    ]));
    return { pending, delivered: Number(delivered ?? 0), failed: Number(failed ?? 0) };
  }
}
