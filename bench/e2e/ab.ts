/**
 * A paired comparison of two checkouts' pool gateways: the gateway main thread's CPU per payment, and payments/s,
 * under the same closed-loop load, rounds alternating (A B, then B A, …) so that a machine whose speed drifts
 * (shared vCPUs) weighs on both alike. One private redis-server; each run on a key prefix and 2,000 cards of its
 * own, so no run inherits another's journal backlog or sealer lease. Each checkout runs its own gateway and load
 * generator (bench/e2e/spawn-gateway.ts, load.ts); this one issues the cards. Before the rounds, one short run of
 * each, not counted: the first run of a checkout pays for what the others find warm (tsx's compile cache, the page
 * cache).
 *
 *   npx tsx bench/e2e/ab.ts --against ../other-checkout [--rounds 4] [--seconds 8] [--connections 32]
 *
 * e.g. `git worktree add ../before <commit> && (cd ../before && npm ci && npm run build:wasm)`, then
 * `npx tsx bench/e2e/ab.ts --against ../before`. The other checkout must have its node_modules and WASM built.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCore } from '../../core/index.ts';
import { Issuer } from '../../issuer/issuer.ts';
import { IssuerKeyRing } from '../../issuer/key-ring.ts';
import { openStore } from '../../issuer/store/index.ts';
import { issueBenchCards } from '../serve/cards.ts';
import { readThreads, splitCpu, type ProcessTimes } from './cpu.ts';
import { benchRedis } from './redis.ts';

const option = (name: string, fallback?: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  const value = i > 0 ? process.argv[i + 1] : fallback;
  if (value === undefined) throw new Error(`--${name} is required: npx tsx bench/e2e/ab.ts --against ../other-checkout`);
  return value;
};
const HERE = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const checkouts = [HERE, resolve(option('against'))];
const rounds = Number(option('rounds', '4'));
const seconds = Number(option('seconds', '8'));
const connections = Number(option('connections', '32'));
const CARDS = 2_000;
const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

/** A module of a checkout, by its path in the repository. */
const from = (checkout: string, path: string) => import(join(checkout, path));

interface Row { paymentsPerS: number; mainUs: number; processUs: number }

const redis = await benchRedis();
const dir = await mkdtemp(join(tmpdir(), 'scanpay-ab-'));
try {
  const keyRing = IssuerKeyRing.generate();
  const fleetKey = randomBytes(32);
  let run = 0;
  const freshCards = async () => {
    const prefix = `${redis.prefix}ab${++run}:`;
    const store = await openStore({ redisUrl: redis.url, prefix });
    const cards = await issueBenchCards(new Issuer({ core: await loadCore(), store, keyRing }), CARDS);
    await store.close();
    const cardsFile = join(dir, `cards-${run}.json`);
    await writeFile(cardsFile, JSON.stringify(cards));
    return { prefix, cardsFile };
  };

  console.log(`A = ${checkouts[0]}\nB = ${checkouts[1]}\n${rounds} rounds of ${seconds} s, ${connections} connections, closed loop; load average ${loadavg()}`);
  const rows: Row[][] = [[], []];
  for (let round = 0; round <= rounds; round++) { // round 0: the warm-up, not counted
    const order = round % 2 === 1 ? [0, 1] : [1, 0];
    for (const which of order) {
      const checkout = checkouts[which]!;
      const { spawnGateway } = await from(checkout, 'bench/e2e/spawn-gateway.ts');
      const { spawnChild } = await from(checkout, 'test/support/child-process.ts');
      const { prefix, cardsFile } = await freshCards();
      const gateway = spawnGateway('gateway', 'pool', { keyRing, fleetKey, store: { REDIS_URL: redis.url, SCANPAY_REDIS_PREFIX: prefix } });
      try {
        const { pid, port } = await gateway.waitFor('ready', 60_000) as { pid: number; port: number };
        const load = spawnChild('load', join(checkout, 'bench/e2e/load.ts'), {
          env: {
            BENCH_LOAD: JSON.stringify({
              mode: 'payments', url: `ws://127.0.0.1:${port}/scanner`, fleetKeyHex: fleetKey.toString('hex'), cardsFile, connections,
              devicePrefix: `ab${round}-${which}-`, rampS: round === 0 ? 1 : 4, durationS: round === 0 ? 3 : seconds, maxPayments: 10_000_000, requestTimeoutMs: 10_000, openConcurrency: 32,
            }),
          },
        });
        const start = load.waitFor('window-start', 120_000).then(() => readThreads(pid));
        const end = load.waitFor('window-end', 120_000).then(() => readThreads(pid));
        const result = await load.waitFor('result', 180_000) as { paymentsPerS: number; payments: { approvedInWindow: number } };
        await load.stop();
        const split = splitCpu((await start) as ProcessTimes, (await end) as ProcessTimes, []);
        const n = result.payments.approvedInWindow;
        const main = split.sched ? split.sched.mainMs : split.mainMs; // schedstat (ns) where the kernel has it, else ticks
        const row = { paymentsPerS: result.paymentsPerS, mainUs: (main * 1000) / n, processUs: (split.totalMs * 1000) / n };
        if (round === 0) continue;
        rows[which]!.push(row);
        console.log(`round ${round} ${which === 0 ? 'A' : 'B'}: ${row.paymentsPerS.toFixed(0)} payments/s, main thread ${row.mainUs.toFixed(0)} µs/payment, process ${row.processUs.toFixed(0)} µs/payment; load average ${loadavg()}`);
      } finally {
        await gateway.stop();
      }
    }
  }
  const mean = (list: Row[], key: keyof Row) => list.reduce((sum, row) => sum + row[key], 0) / list.length;
  const [a, b] = rows as [Row[], Row[]];
  console.log(`\nmeans: A ${mean(a, 'paymentsPerS').toFixed(0)} payments/s, main ${mean(a, 'mainUs').toFixed(0)} µs; B ${mean(b, 'paymentsPerS').toFixed(0)} payments/s, main ${mean(b, 'mainUs').toFixed(0)} µs`);
  console.log(`A ÷ B main-thread µs per payment, round by round: ${a.map((row, i) => (row.mainUs / b[i]!.mainUs).toFixed(2)).join(', ')}`);
} finally {
  await redis.stop();
  await rm(dir, { recursive: true, force: true });
}
