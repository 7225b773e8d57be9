/**
 * A paired comparison of two checkouts' pool gateways: the gateway main thread's and whole process's CPU per
 * payment, the Redis server's, and payments/s, under the same load (closed loop; or open loop at --rate, with p50
 * and p99 of a whole payment), rounds alternating (A B, then B A, …) so that a machine whose speed drifts
 * (shared vCPUs) weighs on both alike. One private redis-server; each run on a key prefix and 2,000 cards of its
 * own, so no run inherits another's journal backlog or sealer lease. Each checkout runs its own gateway and load
 * generator (bench/e2e/spawn-gateway.ts, load.ts); this one issues the cards. Before the rounds, one short run of
 * each, not counted: the first run of a checkout pays for what the others find warm (tsx's compile cache, the page
 * cache).
 *
 *   npx tsx bench/e2e/ab.ts --against ../other-checkout [--rounds 4] [--seconds 8] [--connections 32] [--rate 1400]
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
import { cpuMsOf, readThreads, splitCpu, type ProcessTimes } from './cpu.ts';
import type { LatencySummary } from '../lib/latency.ts';
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
/** Open loop at this many payments/s (what bench:e2e's 70 % row does); absent: closed loop. */
const rate = process.argv.includes('--rate') ? Number(option('rate')) : undefined;
if (rate !== undefined && !(rate > 0)) throw new Error('--rate: payments per second, above 0');
const CARDS = 2_000;
const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

/** A module of a checkout, by its path in the repository. */
const from = (checkout: string, path: string) => import(join(checkout, path));

interface Row { paymentsPerS: number; mainUs: number; processUs: number; redisUs: number | null; p50Ms: number; p99Ms: number; errors: number }

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

  const loop = rate === undefined ? 'closed loop' : `open loop at ${rate} payments/s`;
  console.log(`A = ${checkouts[0]}\nB = ${checkouts[1]}\n${rounds} rounds of ${seconds} s, ${connections} connections, ${loop}; load average ${loadavg()}`);
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
              ...(rate === undefined ? {} : { ratePerS: rate }),
            }),
          },
        });
        const start = load.waitFor('window-start', 120_000).then(() => ({ gateway: readThreads(pid), redisMs: cpuMsOf(redis.pid) }));
        const end = load.waitFor('window-end', 120_000).then(() => ({ gateway: readThreads(pid), redisMs: cpuMsOf(redis.pid) }));
        const result = await load.waitFor('result', 180_000) as {
          paymentsPerS: number; payments: { approvedInWindow: number }; latency: { payment: LatencySummary }; errors: Record<string, number>;
        };
        await load.stop();
        const [before, after] = [await start, await end];
        const split = splitCpu(before.gateway as ProcessTimes, after.gateway as ProcessTimes, []);
        const n = result.payments.approvedInWindow;
        const main = split.sched ? split.sched.mainMs : split.mainMs; // schedstat (ns) where the kernel has it, else ticks
        const redisMs = before.redisMs === null || after.redisMs === null ? null : after.redisMs - before.redisMs;
        const row: Row = {
          paymentsPerS: result.paymentsPerS, mainUs: (main * 1000) / n, processUs: (split.totalMs * 1000) / n, redisUs: redisMs === null ? null : (redisMs * 1000) / n,
          p50Ms: result.latency.payment.p50Ms, p99Ms: result.latency.payment.p99Ms, errors: Object.values(result.errors ?? {}).reduce((sum, count) => sum + count, 0),
        };
        if (round === 0) continue;
        rows[which]!.push(row);
        console.log(`round ${round} ${which === 0 ? 'A' : 'B'}: ${row.paymentsPerS.toFixed(0)} payments/s, main thread ${row.mainUs.toFixed(0)} µs/payment, process ${row.processUs.toFixed(0)} µs/payment, `
          + `Redis ${row.redisUs === null ? '–' : row.redisUs.toFixed(0)} µs/payment, p50 ${row.p50Ms.toFixed(1)} / p99 ${row.p99Ms.toFixed(1)} ms, ${row.errors} errors; load average ${loadavg()}`);
      } finally {
        await gateway.stop();
      }
    }
  }
  const mean = (list: Row[], key: Exclude<keyof Row, 'redisUs'>) => list.reduce((sum, row) => sum + row[key], 0) / list.length;
  const [a, b] = rows as [Row[], Row[]];
  const means = (list: Row[]) => `${mean(list, 'paymentsPerS').toFixed(0)} payments/s, main ${mean(list, 'mainUs').toFixed(0)} µs, process ${mean(list, 'processUs').toFixed(0)} µs, p99 ${mean(list, 'p99Ms').toFixed(1)} ms`;
  const ratios = (key: 'mainUs' | 'processUs' | 'redisUs') => a.map((row, i) => (row[key] === null ? '–' : (row[key]! / b[i]![key]!).toFixed(2))).join(', ');
  console.log(`\nmeans: A ${means(a)}; B ${means(b)}`);
  console.log(`A ÷ B main-thread µs per payment, round by round: ${ratios('mainUs')}`);
  console.log(`A ÷ B process µs per payment, round by round: ${ratios('processUs')}`);
  console.log(`A ÷ B Redis server µs per payment, round by round: ${ratios('redisUs')}`);
} finally {
  await redis.stop();
  await rm(dir, { recursive: true, force: true });
}
