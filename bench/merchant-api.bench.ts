/**
 * The merchant API at light load: one client sending requests one after another (each waits for the answer
 * before the next) to a real gateway's merchant listener, over one keep-alive connection: a refund
 * (`POST /v1/refunds` with an Idempotency-Key, as the SDK sends it, each on its own captured payment) and a read
 * (`GET /v1/payments/{id}`). Latency is from the request's start to the whole answer read, in this process.
 * On the embedded store, and on Redis (its own key prefix, deleted after) with `--redis URL` or REDIS_URL.
 *   npx tsx bench/merchant-api.bench.ts [--smoke] [--redis redis://…] [--requests N]   → bench/results/merchant-api.json
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { createLogger } from '../gateway/log.ts';
import { startGateway } from '../gateway/server.ts';
import { IssuerKeyRing } from '../issuer/key-ring.ts';
import { MemoryStore, RedisStore, type Store } from '../issuer/store/index.ts';
import { createMerchant, paidPayment, storedCard } from '../test/support/merchant-api.ts';
import { deleteKeys, testKeyPrefix } from '../test/support/redis-server.ts';
import { latencyHistogram, recordMs, summarize, type LatencySummary } from './lib/latency.ts';
import { isSmoke } from './lib/mode.ts';
import { codeProvenance, machine } from './lib/provenance.ts';
import { writeResultsSection } from './results-sections.ts';

const smoke = isSmoke();
const arg = (name: string) => {
  const at = process.argv.indexOf(name);
  return at < 0 ? undefined : process.argv[at + 1];
};
const REQUESTS = Number(arg('--requests') ?? (smoke ? 40 : 2_000));
const WARMUP = smoke ? 10 : 200;
const redisUrl = arg('--redis') ?? process.env.REDIS_URL;
/** The machine's 1-minute load average when the run began: other work on it shows in the tail latencies. */
const loadAtStart = loadavg()[0]!;

interface Row {
  store: string;
  requests: number;
  refund: LatencySummary;
  read: LatencySummary;
}

async function measure(where: string, store: Store): Promise<Row> {
  const fleetKey = new Uint8Array(randomBytes(32));
  const gateway = await startGateway({ store, keyRing: IssuerKeyRing.generate(), fleetKey, port: 0, threads: 1, logger: createLogger({ level: 'silent' }) });
  try {
    const key = await createMerchant(store, fleetKey, 'bench-shop');
    const card = await storedCard(store, { balance: 1e12, limit: 1e12 });
    const ids: string[] = [];
    for (let i = 0; i < WARMUP + REQUESTS; i++) ids.push((await paidPayment(store, 'bench-shop', 1_000, card)).id);
    const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
    const refund = latencyHistogram();
    const read = latencyHistogram();
    for (const [i, id] of ids.entries()) {
      const started = performance.now();
      const res = await fetch(`${gateway.merchantUrl}/v1/refunds`, {
        method: 'POST', headers: { ...headers, 'idempotency-key': `bench-${i}` }, body: JSON.stringify({ payment: id, amount: 500 }),
      });
      await res.text();
      const refunded = performance.now();
      if (res.status !== 200) throw new Error(`refund answered ${res.status}`);
      const got = await fetch(`${gateway.merchantUrl}/v1/payments/${id}`, { headers });
      await got.text();
      if (got.status !== 200) throw new Error(`read answered ${got.status}`);
      if (i < WARMUP) continue;
      recordMs(refund, refunded - started);
      recordMs(read, performance.now() - refunded);
    }
    return { store: where, requests: REQUESTS, refund: summarize(refund), read: summarize(read) };
  } finally {
    await gateway.close();
  }
}

const rows: Row[] = [];
const memory = new MemoryStore();
rows.push(await measure('embedded', memory));
await memory.close();
if (redisUrl) {
  const prefix = testKeyPrefix('scanpay-bench:');
  const redis = await RedisStore.connect(redisUrl, { prefix });
  try {
    rows.push(await measure('redis', redis));
  } finally {
    await redis.close();
    await deleteKeys(redisUrl, prefix);
  }
} else {
  console.log('merchant-api: no --redis URL and no REDIS_URL: the embedded store only');
}

const f = (ms: number) => ms.toFixed(3);
console.log(`merchant API at light load: ${REQUESTS} sequential requests of each kind after ${WARMUP} unrecorded, one keep-alive connection (load average ${loadAtStart.toFixed(1)} at start)`);
for (const r of rows) {
  console.log(`  ${r.store.padEnd(9)} refund p50 ${f(r.refund.p50Ms)} ms  p99 ${f(r.refund.p99Ms)} ms  (max ${f(r.refund.maxMs)})   read p50 ${f(r.read.p50Ms)} ms  p99 ${f(r.read.p99Ms)} ms`);
}
const file = `./results/merchant-api${smoke ? '.smoke' : ''}.json`;
writeFileSync(fileURLToPath(new URL(file, import.meta.url)), `${JSON.stringify({ at: new Date().toISOString(), machine: machine(), ...codeProvenance(), loadAtStart, smoke, warmup: WARMUP, rows }, null, 2)}\n`);
if (!smoke) {
  writeResultsSection('merchant-api', 'bench/merchant-api.bench.ts', [
    `## Merchant API at light load — ${new Date().toISOString().slice(0, 10)}`,
    '',
    `\`npx tsx bench/merchant-api.bench.ts${redisUrl ? ' --redis URL' : ''}\`: one gateway, one client sending ${REQUESTS} refunds (each on its own`,
    'captured payment, with an Idempotency-Key) and reads one after another over one keep-alive connection, after',
    `${WARMUP} unrecorded; client-side latency, the client and the gateway on the same machine (1-minute load average`,
    `${loadAtStart.toFixed(1)} when it began, on ${machine().cores} cores: other work on the machine shows in the p99).`,
    '',
    '| store | refund p50 ms | refund p99 ms | read p50 ms | read p99 ms |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...rows.map((r) => `| ${r.store} | ${f(r.refund.p50Ms)} | ${f(r.refund.p99Ms)} | ${f(r.read.p50Ms)} | ${f(r.read.p99Ms)} |`),
  ].join('\n'));
}
process.exit(0);
