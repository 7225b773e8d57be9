/**
 * Merchant API keys (docs/merchant-api.md §Authentication). A key is
 *   "spk_" ‖ keyId (16 hex, public: names the key's record) ‖ "_" ‖ secret (43 base64url: 32 bytes from the CSPRNG)
 * and the store keeps only its keyed hash
 *   hash = HMAC-SHA256(HMAC-SHA256(fleetKey, "scanpay/v1/merchant-api-key"), key)
 * so a copy of the store is not a set of keys, and nor is it one a dictionary run against a stolen hash could
 * test without the fleet key. A key is shown once, when it is made; verification reads the record by the key's
 * id and compares hashes in constant time, so a wrong secret costs what a right one does.
 * @example
 *   const made = newApiKey(hashKey, 'acme', Date.now());   // made.key to the merchant, made.record to the store
 *   const id = apiKeyId(presented);                        // null: not a key's shape (401 without a store read)
 *   verifyApiKey(hashKey, presented, await store.merchants.getApiKey(id), Date.now()); // the merchant, or null
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ApiKeyRecord } from './store/merchant-types.ts';

const KEY = /^spk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;
const HASH_KEY_LABEL = 'scanpay/v1/merchant-api-key';

/** The key API key hashes are made with, from the fleet key (32 bytes). Wipe it when done. */
export function apiKeyHashKey(fleetKey: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac('sha256', fleetKey).update(HASH_KEY_LABEL).digest());
}

function hashOf(hashKey: Uint8Array, key: string): Buffer {
  return createHmac('sha256', hashKey).update(key).digest();
}

/** A new key for `merchant`: the key (give it to the merchant, once) and the record to store. */
export function newApiKey(hashKey: Uint8Array, merchant: string, now: number): { key: string; record: ApiKeyRecord } {
  const keyId = randomBytes(8).toString('hex');
  const key = `spk_${keyId}_${randomBytes(32).toString('base64url')}`;
  return { key, record: { keyId, merchant, hash: hashOf(hashKey, key).toString('hex'), createdAt: now, expiresAt: null } };
}

/** The id of a presented key, or null when it is not a key's shape (answer 401 without reading the store). */
export function apiKeyId(presented: string): string | null {
  return KEY.exec(presented)?.[1] ?? null;
}

/** The merchant a presented key authenticates at `now`, or null (no such key, wrong secret, or past its end). */
export function verifyApiKey(hashKey: Uint8Array, presented: string, record: ApiKeyRecord | null, now: number): string | null {
  const keyId = apiKeyId(presented);
  const expected = record ? Buffer.from(record.hash, 'hex') : Buffer.alloc(32);
  const matches = timingSafeEqual(hashOf(hashKey, presented), expected); // computed for every shape-valid key, known or not
  if (keyId === null || !record || record.keyId !== keyId || !matches) return null;
  return record.expiresAt !== null && record.expiresAt <= now ? null : record.merchant;
}
