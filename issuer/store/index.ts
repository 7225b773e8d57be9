/**
 * The store's entry point: Redis when a URL is given (REDIS_URL), else the embedded in-process store.
 * @example
 *   const store = await openStore({ redisUrl: process.env.REDIS_URL });
 *   console.log(`store: ${store.description}`);
 */
import { MemoryStore } from './memory-store.ts';
import { RedisStore } from './redis-store.ts';
import type { Store } from './types.ts';

export interface OpenStoreOptions {
  redisUrl?: string; // absent or empty: the embedded store
  prefix?: string; // Redis key prefix, default "scanpay:"
}

export async function openStore(opts: OpenStoreOptions = {}): Promise<Store> {
  return opts.redisUrl ? RedisStore.connect(opts.redisUrl, { prefix: opts.prefix }) : new MemoryStore();
}

export { MemoryStore } from './memory-store.ts';
export { DEFAULT_PREFIX, RedisStore, type RedisStoreOptions } from './redis-store.ts';
export { EXPIRED_SESSION_RETENTION_MS, USED_SESSION_RETENTION_MS } from './session-retention.ts';
export { newSessionId, shardOf } from './keys.ts';
export type { DeclineReason } from './records.ts';
export type * from './types.ts';
