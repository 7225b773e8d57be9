/**
 * How the store calls its scripts (issuer/store/redis-scripts.ts withStoreScripts): EVALSHA, and the script's text
 * with EVAL only when the server answers NOSCRIPT (a restart, a failover, SCRIPT FLUSH), which then loads it for
 * every connection. On a private redis-server (its own process, stopped by PID): SCRIPT FLUSH is not for the
 * shared one.
 */
import { Redis } from 'ioredis';
import { afterAll, expect, it } from 'vitest';
import { STORE_SCRIPTS, withStoreScripts } from '../../issuer/store/redis-scripts.ts';
import { describeNeeding, onPath, startServer, testKeyPrefix } from '../support/redis.ts';

const binary = onPath('redis-server');
const server = binary ? await startServer(binary) : null;
afterAll(async () => {
  await server?.stop();
});

/** Calls of each command the server has counted (INFO commandstats), failed ones included. */
async function calls(admin: Redis): Promise<{ evalsha: number; eval: number }> {
  const info = await admin.info('commandstats');
  const count = (name: string) => Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(info)?.[1] ?? 0);
  return { evalsha: count('evalsha'), eval: count('eval') };
}

describeNeeding(server, 'the store\'s scripts on a connection (private redis-server)', 'no redis-server on PATH (SCRIPT FLUSH needs a server of its own)', (server) => {
  it('run by EVALSHA, with one EVAL after a NOSCRIPT, on a plain and an auto-pipelined connection alike', async () => {
    const admin = new Redis(server.url);
    const plain = withStoreScripts(new Redis(server.url));
    const batched = withStoreScripts(new Redis(server.url, { enableAutoPipelining: true }));
    const rate = `${testKeyPrefix()}rate`;
    try {
      await admin.script('FLUSH');
      await admin.config('RESETSTAT');
      // the server has never run it: NOSCRIPT, then EVAL runs it once
      expect(await plain.scanpayTakeRate(rate, 60_000, 10)).toBe(1);
      expect(await calls(admin)).toEqual({ evalsha: 1, eval: 1 });
      // loaded for every connection: 20 more at once over the other one go by EVALSHA alone, in pipelines
      const taken = await Promise.all(Array.from({ length: 20 }, () => batched.scanpayTakeRate(rate, 60_000, 10)));
      expect(taken.filter((t) => t === 1)).toHaveLength(9); // a burst of 10: one taken before, 9 of these 20
      expect(await calls(admin)).toEqual({ evalsha: 21, eval: 1 });
      // a flushed cache again (what a failover to a replica looks like): one NOSCRIPT and one EVAL, nothing lost
      await admin.script('FLUSH');
      await admin.del(rate);
      expect(await batched.scanpayTakeRate(rate, 60_000, 10)).toBe(1);
      expect(await calls(admin)).toEqual({ evalsha: 22, eval: 2 });
      expect(await admin.script('EXISTS', STORE_SCRIPTS.scanpayTakeRate.sha)).toEqual([1]);
    } finally {
      await admin.del(rate);
      for (const client of [admin, plain, batched]) client.disconnect();
    }
  });

  it('a script\'s own errors reach the caller as they are, and are not retried as text', async () => {
    const admin = new Redis(server.url);
    const redis = withStoreScripts(new Redis(server.url));
    const rate = `${testKeyPrefix()}rate`;
    try {
      await redis.scanpayTakeRate(rate, 60_000, 10); // loaded
      await admin.config('RESETSTAT');
      await redis.hset(`${rate}:h`, 'f', 'v'); // a hash where the script SETs a string: its error, WRONGTYPE
      await expect(redis.scanpayTakeRate(`${rate}:h`, 60_000, 10)).rejects.toThrow(/WRONGTYPE/);
      expect(await calls(admin)).toEqual({ evalsha: 1, eval: 0 });
    } finally {
      await admin.del(rate, `${rate}:h`);
      admin.disconnect();
      redis.disconnect();
    }
  });
});

it('pipelines the client opens carry none of the scripts (what made each auto-pipelined batch dear)', () => {
  const redis = withStoreScripts(new Redis({ lazyConnect: true }));
  try {
    expect(typeof redis.scanpayTakeRate).toBe('function');
    expect(Object.keys(redis.scriptsSet)).toEqual([]);
    expect('scanpayTakeRate' in redis.pipeline()).toBe(false);
  } finally {
    redis.disconnect();
  }
});
