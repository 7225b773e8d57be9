/**
 * Redis for the end-to-end benchmark: the server in REDIS_URL if it is set (then only keys under a
 * per-run prefix are written, and deleted afterwards: test/support/redis-server.ts deleteKeys), else a private
 * `redis-server` (the tests' startServer: a free 127.0.0.1 port, no persistence, a temp dir), stopped afterwards.
 * @example
 *   const redis = await benchRedis();
 *   try { ... redis.url, redis.prefix ... } finally { await redis.stop(); }
 */
import { answers, deleteKeys, onPath, startServer, testKeyPrefix } from '../../test/support/redis-server.ts';

export interface BenchRedis {
  url: string;
  prefix: string; // every key this run writes starts with it
  shared: boolean; // REDIS_URL: someone else's server
  pid: number | undefined; // the private server's pid (CPU accounting), undefined when shared
  /** Deletes this run's keys (shared server) or stops the private server. Idempotent. */
  stop(): Promise<void>;
}

export async function benchRedis(): Promise<BenchRedis> {
  const prefix = testKeyPrefix('scanpay-bench:');
  const once = (stop: () => Promise<unknown>) => {
    let stopping: Promise<void> | undefined;
    return () => (stopping ??= stop().then(() => {}));
  };
  const shared = process.env.REDIS_URL;
  if (shared) {
    if (!(await answers(shared))) throw new Error('REDIS_URL is set but does not answer');
    return { url: shared, prefix, shared: true, pid: undefined, stop: once(() => deleteKeys(shared, prefix)) };
  }
  const binary = onPath('redis-server');
  if (!binary) throw new Error('no redis-server on PATH (install it, or set REDIS_URL)');
  const server = await startServer(binary, ['--loglevel', 'warning']);
  return { url: server.url, prefix, shared: false, pid: server.pid, stop: once(() => server.stop()) };
}
