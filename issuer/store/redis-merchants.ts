/**
 * Merchants on Redis (merchant-types.ts MerchantStore). A merchant's record and its key ids share its `{m:id}`
 * hash tag; each key is found by its public id on its own key. Creating a merchant claims its record first
 * (HSETNX), so two creations of one id cannot both win; its first key and the merchant index follow, each a
 * step of its own (their keys are on other slots of a cluster): an interrupted creation leaves a merchant
 * without a key, which `scanpay merchant rotate-key` mends.
 */
import type { ApiKeyRecord, MerchantRecord, MerchantStore } from './merchant-types.ts';
import { EXPIRED_KEY_RETENTION_MS } from './retention.ts';
import { decimal, decoded } from './redis-codec.ts';
import type { RedisContext } from './redis-context.ts';
import { checkedApiKeyId, checkedApiKeyRecord, checkedMerchantId, checkedMerchantRecord } from './validate.ts';

function merchantFromHash(id: string, hash: Record<string, string>): MerchantRecord | null {
  if (hash.createdAt === undefined) return null;
  return decoded('merchant', () => checkedMerchantRecord({
    id, name: hash.name, captureMethod: hash.captureMethod, holdWindowMs: decimal(hash.holdWindowMs), createdAt: decimal(hash.createdAt),
    ...(hash.pinEntry === undefined ? {} : { pinEntry: hash.pinEntry }), // absent: the gateway's default
  }));
}

function keyFromHash(keyId: string, hash: Record<string, string>): ApiKeyRecord | null {
  if (hash.merchant === undefined) return null;
  return decoded('API key', () => checkedApiKeyRecord({
    keyId, merchant: hash.merchant, hash: hash.hash, createdAt: decimal(hash.createdAt), expiresAt: hash.expiresAt ? decimal(hash.expiresAt) : null,
  }));
}

export class RedisMerchants implements MerchantStore {
  constructor(private readonly ctx: RedisContext) {}

  async createMerchant(merchant: MerchantRecord, key: ApiKeyRecord): Promise<boolean> {
    const m = checkedMerchantRecord(merchant);
    const k = checkedApiKeyRecord(key, m.id);
    const { keys } = this.ctx;
    const claimed = await this.ctx.run((redis) => redis.hsetnx(keys.merchant(m.id), 'createdAt', String(m.createdAt)));
    if (claimed !== 1) return false;
    const pinEntry = m.pinEntry === undefined ? [] : ['pinEntry', m.pinEntry];
    await this.ctx.run((redis) => redis.hset(keys.merchant(m.id), 'name', m.name, 'captureMethod', m.captureMethod, 'holdWindowMs', String(m.holdWindowMs), ...pinEntry));
    await this.#addKey(k);
    await this.ctx.run((redis) => redis.sadd(keys.merchantIndex, m.id));
    return true;
  }

  async getMerchant(id: string): Promise<MerchantRecord | null> {
    const m = checkedMerchantId(id);
    return merchantFromHash(m, await this.ctx.run((redis) => redis.hgetall(this.ctx.keys.merchant(m))));
  }

  async listMerchants(): Promise<MerchantRecord[]> {
    const ids = (await this.ctx.run((redis) => redis.smembers(this.ctx.keys.merchantIndex))).sort();
    return (await Promise.all(ids.map((id) => this.getMerchant(id)))).filter((m): m is MerchantRecord => m !== null);
  }

  async rotateApiKey(key: ApiKeyRecord, othersExpireAt: number): Promise<boolean> {
    const k = checkedApiKeyRecord(key);
    if (!(await this.getMerchant(k.merchant))) return false;
    // the new key first: while the old ones get their end, the merchant always has a valid key
    await this.#addKey(k);
    for (const other of await this.apiKeys(k.merchant)) {
      if (other.keyId === k.keyId || (other.expiresAt !== null && other.expiresAt <= othersExpireAt)) continue;
      await this.ctx.run((redis) => redis.multi().hset(this.ctx.keys.apiKey(other.keyId), 'expiresAt', String(othersExpireAt))
        .pexpireat(this.ctx.keys.apiKey(other.keyId), othersExpireAt + EXPIRED_KEY_RETENTION_MS).exec());
    }
    return true;
  }

  async getApiKey(keyId: string): Promise<ApiKeyRecord | null> {
    const id = checkedApiKeyId(keyId);
    return keyFromHash(id, await this.ctx.run((redis) => redis.hgetall(this.ctx.keys.apiKey(id))));
  }

  async apiKeys(merchant: string): Promise<ApiKeyRecord[]> {
    const m = checkedMerchantId(merchant);
    const ids = await this.ctx.run((redis) => redis.smembers(this.ctx.keys.merchantKeys(m)));
    const found = (await Promise.all(ids.map((id) => this.getApiKey(id)))).filter((k): k is ApiKeyRecord => k !== null);
    return found.sort((a, b) => a.createdAt - b.createdAt);
  }

  async #addKey(k: ApiKeyRecord): Promise<void> {
    const { keys } = this.ctx;
    await this.ctx.run((redis) => redis.hset(keys.apiKey(k.keyId), 'merchant', k.merchant, 'hash', k.hash, 'createdAt', String(k.createdAt), 'expiresAt', k.expiresAt === null ? '' : String(k.expiresAt)));
    await this.ctx.run((redis) => redis.sadd(keys.merchantKeys(k.merchant), k.keyId));
  }
}
