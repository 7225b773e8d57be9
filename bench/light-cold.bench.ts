/**
 * The same main-thread work with and without pauses: is a payment dearer after the thread idles (cold caches,
 * branch predictors, a timer's wake-up), as the light-load phase of bench/e2e/run.ts suggests? One process, no
 * gateway, no workers: each "payment" is the embedded store's three steps of one (openSession, beginPinAttempt,
 * authorizePayment: test/support/store-fixtures.ts authorizedPayment) plus a scan frame and a result frame
 * parsed and written as JSON. After a warm-up, phases alternate: pairs back to back, and pairs with PAUSE_MS
 * between them (a timer each, as at light load); the CPU of this thread per payment (schedstat, ns) in each.
 *
 *   npx tsx bench/light-cold.bench.ts [--rounds 3] [--pairs 100] [--pause 250]
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { MemoryStore } from '../issuer/store/index.ts';
import { authorizedPayment, makeCard } from '../test/support/store-fixtures.ts';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const ROUNDS = arg('rounds', 3);
const PAIRS = arg('pairs', 100);
const PAUSE_MS = arg('pause', 250);

/**
 * This thread's time on a CPU so far, ns (the main thread: tid = pid), read after a short sleep: the kernel brings
 * a thread's schedstat up to date when it leaves the CPU, not while it runs.
 */
async function threadNs(): Promise<number> {
  await sleep(5);
  return Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]);
}

const store = new MemoryStore();
const card = makeCard({ balance: 1e12, limit: 1e12 });
await store.insertCard(card);
const scanFrame = JSON.stringify({ v: 1, type: 'scan', id: 'x', payload: 'A'.repeat(180), amount: 1234, currency: 'EUR', merchant: 'bench-shop' });

async function payment(n: number): Promise<void> {
  const frame = JSON.parse(scanFrame) as { amount: number; merchant: string };
  const id = await authorizedPayment(store, card, frame.amount + (n % 100), { merchant: frame.merchant });
  JSON.stringify({ v: 1, type: 'payment-result', id: String(n), session: id, outcome: 'approved', reason: null, replayed: false });
}

let n = 0;
/** µs of this thread per payment over `pairs` pairs, `pauseMs` between pairs (0: back to back). */
async function phase(pairs: number, pauseMs: number): Promise<number> {
  const t0 = await threadNs();
  for (let i = 0; i < pairs; i++) {
    await Promise.all([payment(n++), payment(n++)]);
    if (pauseMs > 0) await sleep(pauseMs);
  }
  return ((await threadNs()) - t0) / 1000 / (pairs * 2);
}

await phase(1_000, 0); // warm-up: the code optimized, as after the e2e run's closed-loop warm-up
for (let round = 1; round <= ROUNDS; round++) {
  const hot = await phase(PAIRS, 0);
  const paused = await phase(PAIRS, PAUSE_MS);
  console.log(`round ${round}: back to back ${hot.toFixed(1)} µs/payment, ${PAUSE_MS} ms pauses ${paused.toFixed(1)} µs/payment (× ${(paused / hot).toFixed(2)})`);
}
await store.close();
