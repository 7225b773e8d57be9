/**
 * `npm run bench:e2e -- --cluster [--smoke]` (issue 11, item 7): the end-to-end load (load.ts, closed loop)
 * against one pool gateway over one private redis-server, then against two pool gateways over a private
 * 3-master, 3-replica Redis Cluster (test/support/redis-cluster.ts), without WAIT and with WAIT 1, in the
 * same run. Each gateway is its own process (gateway-process.ts) with its own load generator process, so
 * two gateways get two generators of half the connections each; their payments/s are summed.
 * Writes bench/results/e2e-cluster.json (smoke: e2e-cluster.smoke.json). Every child is stopped on exit.
 * On this 2-vCPU machine every gateway, generator and Redis node shares the same 2 vCPUs: the cluster rows
 * measure the cost of the extra hops and processes here, not the scaling of more machines.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCore } from '../../core/index.ts';
import { Issuer } from '../../issuer/issuer.ts';
import { IssuerKeyRing } from '../../issuer/key-ring.ts';
import { openStore, type OpenStoreOptions } from '../../issuer/store/index.ts';
import { clusterForTests, type TestCluster } from '../../test/support/redis-cluster.ts';
import { spawnChild, type Child, type Message } from '../../test/support/child-process.ts';
import { deadline, installCleanup, removeOnExit } from './children.ts';
import { cpuMsOf } from './cpu.ts';
import type { LoadConfig, LoadResult } from './load.ts';
import { benchRedis, type BenchRedis } from './redis.ts';
import { spawnGateway, type StoreEnv } from './spawn-gateway.ts';
import { issueBenchCards } from '../serve/cards.ts';
import { isSmoke } from '../lib/mode.ts';

const SMOKE = isSmoke();
const PLAN = SMOKE
  ? { cards: 256, connections: 16, warmupS: 0.5, rampS: 0.3, durationS: 2, deadlineMin: 4 }
  : { cards: 2_000, connections: 64, warmupS: 3, rampS: 2, durationS: 15, deadlineMin: 15 };
const HERE = (file: string) => fileURLToPath(new URL(`./${file}`, import.meta.url));
const say = (line = '') => process.stdout.write(`${line}\n`);
const fmt = (x: number | null | undefined, d = 0) => (x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(d));

let redis: BenchRedis | undefined;
let cluster: TestCluster | null = null;
let workDir: string | undefined;
installCleanup(async () => {
  await redis?.stop();
  await cluster?.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});
deadline(PLAN.deadlineMin * 60_000);

say(`scanpay e2e benchmark, one Redis against a Redis Cluster (${SMOKE ? 'smoke' : 'full'}): ${PLAN.connections} connections, closed loop, ${PLAN.durationS} s`);
redis = await benchRedis();
cluster = await clusterForTests();
if (!cluster) throw new Error('--cluster needs redis-server and redis-cli on PATH');
say(`redis: ${redis.shared ? 'REDIS_URL' : 'private redis-server'} ${redis.url}; cluster: ${cluster.nodes.join(',')}`);
workDir = await mkdtemp(join(tmpdir(), 'scanpay-bench-cluster-'));
removeOnExit(workDir);
const keyRing = IssuerKeyRing.generate();
const fleetKey = randomBytes(32);
const clusterPrefix = 'scanpay-bench:cluster:';

/**
 * Issues the cards and writes them in `parts` files, one per load generator: a generator takes its cards in
 * sequence, so two generators on one file would send the same card's PIN at the same moment (PIN_PACED).
 */
async function issueCards(where: OpenStoreOptions & { prefix: string }, file: string, parts: number): Promise<string[]> {
  const store = await openStore(where);
  try {
    const cards = await issueBenchCards(new Issuer({ core: await loadCore(), store, keyRing }), PLAN.cards);
    return await Promise.all(Array.from({ length: parts }, async (_, part) => {
      const path = join(workDir!, `${file}-${part}.json`);
      await writeFile(path, JSON.stringify(cards.filter((_, i) => i % parts === part)), { mode: 0o600 });
      return path;
    }));
  } finally {
    await store.close();
  }
}
const singleCards = await issueCards({ redisUrl: redis.url, prefix: redis.prefix }, 'single', 1);
const clusterCards = await issueCards({ clusterNodes: cluster.nodes.join(','), prefix: clusterPrefix }, 'cluster', 2);

async function startGateway(name: string, store: StoreEnv): Promise<{ child: Child; url: string }> {
  const child = spawnGateway(name, 'pool', { keyRing, fleetKey, store, env: { BENCH_MAX_LIFETIME_S: String(PLAN.deadlineMin * 60) } });
  const ready = await child.waitFor<Message & { port: number }>('ready', 60_000);
  return { child, url: `ws://127.0.0.1:${ready.port}/scanner` };
}

let runNo = 0;
/** One closed-loop load child per gateway, all at once; CPU of the gateways over the whole run. */
async function load(urls: string[], cardsFiles: string[], connections: number, durationS: number): Promise<LoadResult[]> {
  const children = urls.map((url, i) => {
    const cardsFile = cardsFiles[i];
    runNo++;
    const config: LoadConfig = {
      mode: 'payments', url, fleetKeyHex: fleetKey.toString('hex'), cardsFile, connections: Math.round(connections / urls.length),
      devicePrefix: `cl${runNo}-`, rampS: PLAN.rampS, durationS, maxPayments: 3_000_000, requestTimeoutMs: 10_000, openConcurrency: 32,
    };
    return spawnChild(`load-${runNo}`, HERE('load.ts'), { env: { BENCH_LOAD: JSON.stringify(config) } });
  });
  const results = await Promise.all(children.map((c) => c.waitFor('result', (PLAN.rampS + durationS) * 1000 + 100_000) as unknown as Promise<LoadResult>));
  await Promise.all(children.map((c) => c.stop(10_000)));
  return results;
}

interface Row {
  name: string;
  gateways: number;
  redis: string;
  paymentsPerS: number;
  perGateway: number[];
  p50Ms: number; // of the first generator
  p99Ms: number; // the worst generator's
  gatewayCpuPercent: number[];
  errors: Record<string, number>;
}
const rows: Row[] = [];

async function measure(name: string, redisLabel: string, stores: StoreEnv[], cardsFile: string[]): Promise<void> {
  const gateways = [];
  try {
    for (const [i, store] of stores.entries()) gateways.push(await startGateway(`${name}-${i}`, store));
    const urls = gateways.map((g) => g.url);
    if (PLAN.warmupS > 0) await load(urls, cardsFile, 16, PLAN.warmupS);
    const cpu0 = gateways.map((g) => cpuMsOf(g.child.pid));
    const started = performance.now();
    const results = await load(urls, cardsFile, PLAN.connections, PLAN.durationS);
    const elapsed = performance.now() - started;
    const cpu = gateways.map((g, i) => ((cpuMsOf(g.child.pid) ?? 0) - (cpu0[i] ?? 0)) / elapsed * 100);
    const errors: Record<string, number> = {};
    for (const r of results) for (const [k, v] of Object.entries(r.errors)) errors[k] = (errors[k] ?? 0) + v;
    const row: Row = {
      name, gateways: gateways.length, redis: redisLabel,
      paymentsPerS: results.reduce((a, r) => a + r.paymentsPerS, 0), perGateway: results.map((r) => r.paymentsPerS),
      p50Ms: results[0].latency.payment.p50Ms, p99Ms: Math.max(...results.map((r) => r.latency.payment.p99Ms)),
      gatewayCpuPercent: cpu, errors,
    };
    rows.push(row);
    const errs = Object.entries(errors).map(([k, v]) => `${k}×${v}`).join(' ');
    say(`  ${name.padEnd(28)} ${fmt(row.paymentsPerS)} payments/s (${row.perGateway.map((x) => fmt(x)).join(' + ')}), payment p50 ${fmt(row.p50Ms, 2)} p99 ${fmt(row.p99Ms, 2)} ms`
      + ` | gateway cpu ${cpu.map((x) => `${fmt(x)}%`).join(' + ')} (incl. ramp)${errs ? ` | errors ${errs}` : ''}`);
  } finally {
    await Promise.all(gateways.map((g) => g.child.stop()));
  }
}

const single = { REDIS_URL: redis.url, SCANPAY_REDIS_PREFIX: redis.prefix };
const onCluster = (wait: number) => ({ REDIS_CLUSTER_NODES: cluster!.nodes.join(','), SCANPAY_REDIS_PREFIX: clusterPrefix, SCANPAY_REDIS_WAIT_REPLICAS: String(wait) });
await measure('1 gateway, 1 Redis', 'one redis-server', [single], singleCards);
await measure('2 gateways, cluster', '3+3 cluster, no WAIT', [onCluster(0), onCluster(0)], clusterCards);
await measure('2 gateways, cluster, WAIT 1', '3+3 cluster, WAIT 1', [onCluster(1), onCluster(1)], clusterCards);

const results = new URL('../results/', import.meta.url);
mkdirSync(results, { recursive: true });
const file = new URL(`e2e-cluster${SMOKE ? '.smoke' : ''}.json`, results);
writeFileSync(file, `${JSON.stringify({ date: new Date().toISOString(), mode: SMOKE ? 'smoke' : 'full', plan: PLAN, rows, note: 'every gateway, generator and Redis node on the same 2 vCPUs' }, null, 2)}\n`);
say(`\nwrote ${fileURLToPath(file)}`);
const failed = rows.filter((r) => r.paymentsPerS <= 0);
if (failed.length) throw new Error(`no payments: ${failed.map((r) => r.name).join(', ')}`);
await redis.stop();
await cluster.stop();
process.exit(0);
