/**
 * Client-side CPU of one payment's three store steps on Redis (openSession with its rate unit, beginPinAttempt
 * with its rate unit, authorizePayment): the share of the gateway's main thread that is the store and ioredis.
 * 64 payments in flight, a warm-up, then rounds of 4,000; process CPU (user + system) ÷ payments. Uses the
 * Redis at REDIS_URL (default 127.0.0.1:6379) under its own prefix, and deletes its keys afterwards.
 * `--tree DIR` runs another checkout's store code (e.g. a `git worktree` of an earlier commit), so two
 * versions can be compared in alternating runs on this shared, noisy machine.
 *
 *   npx tsx bench/store-steps.ts [--tree /tmp/before]
 */
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';

const at = process.argv.indexOf('--tree');
const tree = at > 0 && process.argv[at + 1] ? pathToFileURL(process.argv[at + 1]!).href : new URL('..', import.meta.url).href.replace(/\/$/, '');
const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const { RedisStore } = await import(`${tree}/issuer/store/redis-store.ts`);
const { newSessionId } = await import(`${tree}/issuer/store/keys.ts`);
const fixtures = await import(`${tree}/test/support/store-fixtures.ts`);
const { newAttempt } = fixtures;
const ROUNDS = 3;
const PAYMENTS = 4_000;
const IN_FLIGHT = 64;

const prefix = `scanpay-bench:steps${process.pid}:`;
const store = await RedisStore.connect(url, { prefix });
try {
  const cards = Array.from({ length: 256 }, () => fixtures.makeCard({ balance: 1e12, limit: 1e12 }));
  for (const card of cards) await store.insertCard(card);
  const policy = { lockAt: 3, paceMs: 0 };
  const rate = (i: number) => ({ key: `device:d${i % IN_FLIGHT}`, limit: { perSecond: 1e6, burst: 1e6 } });
  const payment = async (i: number): Promise<void> => {
    const card = cards[i % cards.length];
    const session = { ...fixtures.makeSession(card), id: newSessionId(card.token) };
    const opened = await store.openSession(session, rate(i));
    if (!opened.ok) throw new Error(`openSession: ${opened.reason}`);
    const attempt = newAttempt();
    const begun = await store.beginPinAttempt(session.id, session.scannerId, attempt, Date.now(), policy, rate(i));
    if (begun.kind !== 'evaluate') throw new Error(`beginPinAttempt: ${begun.kind}`);
    const { result } = await store.authorizePayment({
      sessionId: session.id, card: card.token, last4: card.last4, merchant: session.merchant, amount: session.amount,
      currency: session.currency, cryptogram: 'ab'.repeat(32), at: Date.now(), attempt,
    });
    if (result.outcome !== 'approved') throw new Error(`authorizePayment: ${result.reason}`);
  };
  const run = async (n: number): Promise<void> => {
    let next = 0;
    await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
      while (next < n) await payment(next++);
    }));
  };
  await run(2_000);
  const perPayment: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const before = process.cpuUsage();
    await run(PAYMENTS);
    const used = process.cpuUsage(before);
    perPayment.push((used.user + used.system) / PAYMENTS);
  }
  console.log(`${tree}: µs of CPU per payment (3 store steps), ${ROUNDS} rounds of ${PAYMENTS}: ${perPayment.map((x) => x.toFixed(1)).join(' ')}`);
} finally {
  await store.close();
  const raw = new Redis(url);
  let cursor = '0';
  do {
    const [next, keys] = await raw.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await raw.unlink(...keys);
  } while (cursor !== '0');
  await raw.quit();
}
