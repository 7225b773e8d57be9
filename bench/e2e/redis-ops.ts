/**
 * Redis commands per payment, seen by the server (MONITOR): one gateway on a private redis-server, one
 * scanner connection paying N payments back to back (scan → PIN → result), so the per-connection cost
 * (device token) and the per-payment cost are told apart. Two counts: the commands the gateway sends
 * (its round trips, scripts counted once) and the commands the server runs (inside scripts too).
 * docs/deploy.md sizes Redis from it.
 * @example
 *   npx tsx bench/e2e/redis-ops.ts            # 200 payments
 */
import { Redis } from 'ioredis';
import { RedisStore } from '../../issuer/store/redis-store.ts';
import { PIN, startGatewayFixture } from '../../test/support/gateway-fixture.ts';
import { redisForTests, testKeyPrefix } from '../../test/support/redis.ts';

const PAYMENTS = Number(process.argv[2] ?? 200);

type Counts = { sent: Map<string, number>; inScripts: Map<string, number> };
const fresh = (): Counts => ({ sent: new Map(), inScripts: new Map() });
const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);

const server = await redisForTests();
if (!server || server.shared) throw new Error('needs redis-server on PATH (a private one: the counts are server-wide)');
const store = await RedisStore.connect(server.url, { prefix: testKeyPrefix() });
const gw = await startGatewayFixture({ store, threads: 1, gateway: { pinPaceMs: 0, framesPerSecond: 100_000, burst: 100_000 } });
const admin = new Redis(server.url);
try {
  const card = await gw.issue({ balance: 100_000_000, limit: 100_000_000 });
  let counts = fresh();
  const monitor = await admin.monitor();
  monitor.on('monitor', (_time: string, args: string[], source: string) => bump(source === 'lua' ? counts.inScripts : counts.sent, args[0].toLowerCase()));
  await new Promise((resolve) => setTimeout(resolve, 200));
  const scanner = await gw.scanner();
  await new Promise((resolve) => setTimeout(resolve, 200)); // MONITOR lines arrive after the replies
  const connection = counts;
  counts = fresh();
  for (let i = 0; i < PAYMENTS; i++) {
    const auth = await scanner.open(card.payloadText, 100);
    const result = await scanner.pin(auth.session, PIN);
    if (result.type !== 'payment-result' || result.outcome !== 'approved') throw new Error(`payment ${i}: ${JSON.stringify(result)}`);
  }
  await new Promise((resolve) => setTimeout(resolve, 200));
  monitor.disconnect();
  const show = (m: Map<string, number>, per = 1) => [...m].sort().map(([k, v]) => `${k} ${(v / per).toFixed(2)}`).join(', ');
  const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
  console.log(`per connection (upgrade with a device token): sent ${total(connection.sent)} — ${show(connection.sent)}; run inside scripts ${total(connection.inScripts)}`);
  console.log(`per payment (2 frames: scan, pin; mean of ${PAYMENTS}): sent ${(total(counts.sent) / PAYMENTS).toFixed(2)} — ${show(counts.sent, PAYMENTS)}; `
    + `run inside scripts ${(total(counts.inScripts) / PAYMENTS).toFixed(2)} — ${show(counts.inScripts, PAYMENTS)}`);
  await scanner.close();
} finally {
  admin.disconnect();
  await gw.close();
  await store.close();
  await server.stop();
}
