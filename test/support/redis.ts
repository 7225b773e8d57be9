/**
 * Redis for tests: the server in REDIS_URL when it answers, else a private `redis-server` started on a free
 * port (redis-server.ts: 127.0.0.1 only, no persistence, in a temp dir), else none — and then Redis suites are
 * skipped with a loud banner, or fail under CI=true, where a missing Redis must not pass unnoticed.
 * A shared server is only ever touched under a per-run key prefix (testKeyPrefix), deleted afterwards with
 * deleteKeys: never FLUSHDB/FLUSHALL, never CONFIG SET.
 * @example
 *   const redis = await redisForTests();            // top-level await: decided before tests are collected
 *   afterAll(() => redis?.stop());
 *   describeRedis(redis, 'RedisStore', (r) => { ... r.url ... });
 */
import { beforeAll, describe, it } from 'vitest';
import { answers, onPath, startServer, type TestRedis } from './redis-server.ts';

export { answers, deleteKeys, freePort, keysUnder, onPath, startServer, testKeyPrefix, type TestRedis } from './redis-server.ts';

/** REDIS_URL if it answers, else a private redis-server from PATH, else null. */
export async function redisForTests(): Promise<TestRedis | null> {
  const url = process.env.REDIS_URL;
  if (url) {
    if (await answers(url)) return { url, shared: true, stop: async () => {} };
    console.warn(`REDIS_URL=${url.replace(/\/\/[^@/]*@/, '//***@')} does not answer; trying a private redis-server`);
  }
  const binary = onPath('redis-server');
  return binary ? startServer(binary) : null;
}

/**
 * describe() for suites that need Redis. Without one: under CI=true the suite fails (beforeAll throws);
 * elsewhere it is skipped, with a banner on stderr so a green run cannot hide that Redis went untested.
 */
export function describeRedis(redis: TestRedis | null, name: string, body: (redis: TestRedis) => void): void {
  describeNeeding(redis, name, 'no Redis: REDIS_URL is unset or does not answer, and there is no redis-server on PATH', body);
}

/** describeRedis for any resource (e.g. a test cluster): the body runs with it, else the suite skips loudly or fails under CI. */
export function describeNeeding<T>(resource: T | null, name: string, why: string, body: (resource: T) => void): void {
  if (resource) {
    describe(name, () => body(resource));
    return;
  }
  if (process.env.CI === 'true') {
    describe(name, () => {
      beforeAll(() => {
        throw new Error(`${name}: ${why}. CI requires Redis (set REDIS_URL or install redis-server).`);
      });
      it('runs against Redis', () => {});
    });
    return;
  }
  const rule = '!'.repeat(78);
  console.warn(`\n${rule}\n!! SKIPPED: ${name}\n!! ${why}.\n!! Install redis-server (and redis-cli) or set REDIS_URL=redis://host:port to run it.\n${rule}\n`);
  describe.skip(name, () => {
    it('runs against Redis', () => {});
  });
}
