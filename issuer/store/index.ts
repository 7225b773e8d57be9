/**
 * The store's entry point: Redis when a URL is given (REDIS_URL), a Redis Cluster when seed nodes are
 * (REDIS_CLUSTER_NODES), else the embedded in-process store.
 * @example
 *   const store = await openStore({ redisUrl: process.env.REDIS_URL });
 *   console.log(`store: ${store.description}`);
 */
import { MemoryStore } from './memory-store.ts';
import { RedisStore, type RedisClientHandle, type RedisStoreOptions } from './redis-store.ts';
import { redisTarget } from './redis-target.ts';
import type { Store } from './types.ts';

export interface OpenStoreOptions extends Omit<RedisStoreOptions, 'prefix'> {
  redisUrl?: string; // absent or empty (and no clusterNodes): the embedded store
  clusterNodes?: string; // "host:port,host:port": a Redis Cluster; not together with redisUrl
  prefix?: string; // Redis key prefix, default "scanpay:"
}

export async function openStore(opts: OpenStoreOptions = {}): Promise<Store> {
  const { redisUrl, clusterNodes, ...redisOptions } = opts;
  const target = redisTarget({ redisUrl, clusterNodes });
  if (!target) return new MemoryStore();
  return 'url' in target ? RedisStore.connect(target.url, redisOptions) : RedisStore.connectCluster(target.cluster, redisOptions);
}

export { MemoryStore } from './memory-store.ts';
export {
  DEFAULT_COMMAND_TIMEOUT_MS, DEFAULT_PREFIX, DEFAULT_WAIT_TIMEOUT_MS, PREFIX_PATTERN, RedisStore, type RedisClientHandle, type RedisStoreOptions,
} from './redis-store.ts';
export { parseClusterNodes, redisTarget, type ClusterNode, type RedisTarget } from './redis-target.ts';
export { EXPIRED_SESSION_RETENTION_MS, USED_SESSION_RETENTION_MS } from './retention.ts';
export { MAX_HOLD_WINDOW_MS } from './validate.ts';
export { DEFAULT_PIN_BUDGET, DEFAULT_TAKEOVER_MS } from './types.ts';
export { newSessionId, shardOf } from '../session-id.ts';
export { keyLayout, type KeyLayout } from './keys.ts';
export type { DeclineReason } from '../payment.ts';
export type * from './types.ts';
export type * from './payment-types.ts';
export type * from './merchant-types.ts';
export type * from './event-types.ts';
export type * from './webhook-types.ts';
export { WEBHOOK_ENDPOINT_ID_PATTERN } from './webhook-types.ts';
export { EVENT_TYPES } from './event-types.ts';
export type * from './receipt-types.ts';
