/**
 * RedisStore's two connections (issuer/store/redis-store.ts #run): a command sent while no other is waiting
 * for its reply goes out at once on the direct connection (no auto-pipelining); commands sent while others wait
 * go on the auto-pipelined one, which writes those of one event-loop turn together. Counted on the clients
 * themselves (commands and socket writes), on a private key prefix.
 */
import { Redis } from 'ioredis';
import { afterAll, expect, it } from 'vitest';
import { RedisStore } from '../../issuer/store/redis-store.ts';
import { makeCard } from '../support/store-fixtures.ts';
import { deleteKeys, describeRedis, redisForTests, testKeyPrefix } from '../support/redis.ts';

const redis = await redisForTests();
afterAll(async () => {
  await redis?.stop();
});

/** A client that counts the commands it sends and its socket writes. */
function countingClient(url: string, enableAutoPipelining: boolean): { client: Redis; commands(): number; writes(): number } {
  const client = new Redis(url, { enableAutoPipelining });
  let commands = 0;
  let writes = 0;
  const send = client.sendCommand.bind(client);
  client.sendCommand = ((...args: Parameters<Redis['sendCommand']>) => {
    commands++;
    return send(...args);
  }) as Redis['sendCommand'];
  client.once('connect', () => {
    const stream = (client as unknown as { stream: { write: (...a: unknown[]) => boolean } }).stream;
    const write = stream.write.bind(stream);
    stream.write = (...a: unknown[]) => {
      writes++;
      return write(...a);
    };
  });
  return { client, commands: () => commands, writes: () => writes };
}

describeRedis(redis, 'RedisStore: a direct and an auto-pipelined connection', (server) => {
  it('a lone command goes direct; commands sent while others wait share the auto-pipelined connection\'s writes', async () => {
    const prefix = testKeyPrefix();
    const direct = countingClient(server.url, false);
    const batched = countingClient(server.url, true);
    const store = new RedisStore({ direct: direct.client, batched: batched.client }, { prefix });
    try {
      await store.ping(); // both connected (ping asks both)
      const card = makeCard();
      expect(await store.insertCard(card)).toBe(true);
      const [d0, b0] = [direct.commands(), batched.commands()];
      // one after another: each alone, each direct
      for (let i = 0; i < 5; i++) expect((await store.getCard(card.token))?.token).toBe(card.token);
      expect(direct.commands() - d0).toBe(5);
      expect(batched.commands() - b0).toBe(0);
      // 50 at once: the first goes direct, the other 49 find it waiting and go auto-pipelined, in fewer writes
      const [d1, b1, w1] = [direct.commands(), batched.commands(), batched.writes()];
      const rows = await Promise.all(Array.from({ length: 50 }, () => store.getCard(card.token)));
      expect(rows.every((r) => r?.token === card.token)).toBe(true);
      expect(direct.commands() - d1).toBe(1);
      expect(batched.commands() - b1).toBe(49);
      expect(batched.writes() - w1).toBeLessThan(49 / 4);
    } finally {
      await store.close();
      await deleteKeys(server.url, prefix);
    }
    expect(direct.client.status).toBe('end');
    expect(batched.client.status).toBe('end');
  });
});
