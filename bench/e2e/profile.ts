/**
 * Where the gateway's main thread spends its time under load: starts Redis, issues cards, starts one gateway
 * (pool or baseline) and a load generator (closed loop; with --rate R, open loop at R payments/s), takes a V8 CPU profile of the gateway's main thread
 * for the middle of the run, and prints the top five costs (self time by function and by file or package, as
 * shares of the thread's busy time; profile-summary.ts), then the longer lists. With --heap, a sampling heap
 * profile of the same window instead (garbage included): the bytes the main thread allocates per payment, by
 * function and by file or package, what its garbage collector then has to clear.
 * `npm run bench:e2e` takes the same profile (its "profile" part) and records the top five in e2e.json.
 *
 *   npx tsx bench/e2e/profile.ts [pool|baseline] [--connections 32] [--seconds 10] [--rate R] [--out FILE.cpuprofile] [--autopipeline] [--heap]
 * (--autopipeline: the experiment of gateway-process.ts's BENCH_REDIS_AUTOPIPELINE=1)
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { loadCore } from '../../core/index.ts';
import { Issuer } from '../../issuer/issuer.ts';
import { IssuerKeyRing } from '../../issuer/key-ring.ts';
import { openStore } from '../../issuer/store/index.ts';
import { spawnChild, type Message } from '../../test/support/child-process.ts';
import { deadline, installCleanup, removeOnExit } from './children.ts';
import type { LoadConfig, LoadResult } from './load.ts';
import { formatTop, summarizeAllocations, summarizeProfile, type CpuProfile, type SamplingHeapProfile } from './profile-summary.ts';
import { benchRedis, type BenchRedis } from './redis.ts';
import { spawnGateway } from './spawn-gateway.ts';
import { issueBenchCards } from '../serve/cards.ts';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
};
const engine = process.argv[2] === 'baseline' ? 'baseline' : 'pool';
const connections = Number(arg('connections', '32'));
const seconds = Number(arg('seconds', '10'));
const heap = process.argv.includes('--heap');
const rate = process.argv.includes('--rate') ? Number(arg('rate', '')) : undefined;
if (rate !== undefined && !(rate > 0)) throw new Error('--rate: payments per second, above 0');
const CARDS = 2_000;
const HERE = (file: string) => fileURLToPath(new URL(`./${file}`, import.meta.url));

let redis: BenchRedis | undefined;
let dir: string | undefined;
installCleanup(async () => {
  await redis?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});
deadline((seconds * 2 + 120) * 1000);

redis = await benchRedis();
dir = await mkdtemp(join(tmpdir(), 'scanpay-profile-'));
removeOnExit(dir);
const out = arg('out', join(dir, heap ? `${engine}.heapprofile` : `${engine}.cpuprofile`));
const keyRing = IssuerKeyRing.generate();
const fleetKey = randomBytes(32);
const store = await openStore({ redisUrl: redis.url, prefix: redis.prefix });
// enough cards that none comes round again within the gateway's PIN pace (250 ms per card) at a few thousand payments/s
const cards = await issueBenchCards(new Issuer({ core: await loadCore(), store, keyRing }), CARDS);
await store.close();
const cardsFile = join(dir, 'cards.json');
await writeFile(cardsFile, JSON.stringify(cards));

const gateway = spawnGateway('gateway', engine, {
  keyRing, fleetKey, store: { REDIS_URL: redis.url, SCANPAY_REDIS_PREFIX: redis.prefix },
  env: { BENCH_REDIS_AUTOPIPELINE: process.argv.includes('--autopipeline') ? '1' : '' },
});
const { port } = await gateway.waitFor<Message & { port: number }>('ready', 60_000);
const config: LoadConfig = {
  mode: 'payments', url: `ws://127.0.0.1:${port}/scanner`, fleetKeyHex: fleetKey.toString('hex'), cardsFile, connections,
  devicePrefix: 'prof-', rampS: 2, durationS: seconds + 4, maxPayments: 10_000_000, requestTimeoutMs: 10_000, openConcurrency: 32,
  ...(rate === undefined ? {} : { ratePerS: rate }),
};
const load = spawnChild('load', HERE('load.ts'), { env: { BENCH_LOAD: JSON.stringify(config) } });
await sleep(4_000); // ramp + JIT warm-up
const what = heap ? 'heap' : 'profile';
await gateway.command(`${what}-start`, `${what}-started`);
const started = performance.now();
await sleep(seconds * 1000);
await gateway.command(`${what}-stop ${out}`, `${what}-stopped`);
const profiledS = (performance.now() - started) / 1000;
const result = (await load.waitFor('result', 120_000)) as unknown as LoadResult;
const errors = Object.entries(result.errors).map(([k, v]) => `${k}×${v}`).join(' ');
console.log(`${engine}: ${result.paymentsPerS.toFixed(0)} payments/s with ${connections} connections, ${rate === undefined ? 'closed loop' : `open loop at ${rate}/s`}${errors ? ` (errors ${errors})` : ''}; ${what} ${out}`);
await load.stop();
await gateway.stop();

if (heap) {
  // the payments of the profiled window, from the generator's rate over its own (longer) window: an estimate
  const payments = result.paymentsPerS * profiledS;
  const allocations = summarizeAllocations(JSON.parse(readFileSync(out, 'utf8')) as SamplingHeapProfile);
  const perPayment = (bytes: number) => `${(bytes / payments).toFixed(0).padStart(7)} B`;
  console.log(`\nmain thread allocated ≈ ${(allocations.bytes / payments / 1024).toFixed(1)} KiB per payment (${profiledS.toFixed(1)} s sampled, ≈ ${payments.toFixed(0)} payments)`);
  console.log('\nallocated per payment by file / package:');
  for (const c of allocations.byFile.slice(0, 20)) console.log(`${perPayment(c.bytes)}  ${c.name}`);
  console.log('\nallocated per payment by function (the allocating frame):');
  for (const c of allocations.byFunction) console.log(`${perPayment(c.bytes)}  ${c.name}`);
} else {
  const summary = summarizeProfile(JSON.parse(readFileSync(out, 'utf8')) as CpuProfile, 40);
  console.log();
  for (const line of formatTop(summary, 5)) console.log(line);
  const pct = (x: number) => `${(x * 100).toFixed(1).padStart(5)}%`;
  console.log('\nself time by file / package (of busy time):');
  for (const c of summary.byFile.slice(0, 25)) console.log(`${pct(c.share)}  ${c.name}`);
  console.log('\nself time by function (of busy time):');
  for (const c of summary.byFunction) console.log(`${pct(c.share)}  ${c.name}`);
}
await redis.stop();
await rm(dir, { recursive: true, force: true });
process.exit(0);
