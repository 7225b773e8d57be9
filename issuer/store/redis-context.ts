/**
 * What the store's parts on Redis (payments, merchants) share with RedisStore: its connections, key layout and
 * deadlines, so each part runs its commands the way the store runs its own.
 */
import type { KeyLayout } from './keys.ts';
import type { AllScripts, ScriptedRedis } from './redis-scripts.ts';

export interface RedisContext {
  readonly keys: KeyLayout;
  /** On a Redis Cluster: keys of other slots are written in steps of their own. */
  readonly cluster: boolean;
  run<T>(command: (redis: ScriptedRedis) => Promise<T>): Promise<T>;
  durable<K extends keyof AllScripts>(name: K, ...args: Parameters<AllScripts[K]>): Promise<Awaited<ReturnType<AllScripts[K]>>>;
}
