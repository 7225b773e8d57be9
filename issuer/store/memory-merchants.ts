/**
 * The embedded store's merchants (merchant-types.ts MerchantStore), in plain Maps, with the checks and answers of
 * RedisMerchants. Nothing awaits between a read and its write, so each method is atomic.
 */
import { EXPIRED_KEY_RETENTION_MS } from './retention.ts';
import type { ApiKeyRecord, MerchantRecord, MerchantStore } from './merchant-types.ts';
import { checkedApiKeyId, checkedApiKeyRecord, checkedMerchantRecord, checkedMerchantId } from './validate.ts';


export class MemoryMerchants implements MerchantStore {
  readonly #merchants = new Map<string, MerchantRecord>();
  readonly #keys = new Map<string, ApiKeyRecord>();

  async createMerchant(merchant: MerchantRecord, key: ApiKeyRecord): Promise<boolean> {
    const m = checkedMerchantRecord(merchant);
    const k = checkedApiKeyRecord(key, m.id);
    if (this.#merchants.has(m.id)) return false;
    this.#merchants.set(m.id, m);
    this.#keys.set(k.keyId, k);
    return true;
  }

  async getMerchant(id: string): Promise<MerchantRecord | null> {
    const m = this.#merchants.get(checkedMerchantId(id));
    return m ? { ...m } : null;
  }

  async listMerchants(): Promise<MerchantRecord[]> {
    return [...this.#merchants.values()].map((m) => ({ ...m })).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  async rotateApiKey(key: ApiKeyRecord, othersExpireAt: number): Promise<boolean> {
    const k = checkedApiKeyRecord(key);
    if (!this.#merchants.has(k.merchant)) return false;
    for (const other of this.#keys.values()) {
      if (other.merchant === k.merchant && (other.expiresAt === null || other.expiresAt > othersExpireAt)) other.expiresAt = othersExpireAt;
    }
    this.#keys.set(k.keyId, k);
    return true;
  }

  async getApiKey(keyId: string): Promise<ApiKeyRecord | null> {
    const k = this.#keys.get(checkedApiKeyId(keyId));
    if (!k || (k.expiresAt !== null && k.expiresAt + EXPIRED_KEY_RETENTION_MS <= Date.now())) return null;
    return { ...k };
  }

  async apiKeys(merchant: string): Promise<ApiKeyRecord[]> {
    const m = checkedMerchantId(merchant);
    const now = Date.now();
    return [...this.#keys.values()]
      .filter((k) => k.merchant === m && (k.expiresAt === null || k.expiresAt + EXPIRED_KEY_RETENTION_MS > now))
      .map((k) => ({ ...k })).sort((a, b) => a.createdAt - b.createdAt);
  }
}
