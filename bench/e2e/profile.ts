/**
 * Where the gateway's main thread spends its time under load: starts Redis, issues cards, starts one gateway
 * (pool or baseline) and a closed-loop load generator, takes a V8 CPU profile of the gateway's main thread
 * for the middle of the run, and prints the functions with the most self time, grouped by file.
 *
 *   npx tsx bench/e2e/profile.ts [pool|baseline] [--connections 32] [--seconds 10] [--out FILE.cpuprofile] [--autopipeline]
 * (--autopipeline: the experiment of gateway-process.ts's BENCH_REDIS_AUTOPIPELINE=1)
 */
import { randomBytes, randomInt } from 'node:crypto';
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
import { deadline, installCleanup, removeOnExit, spawnChild, type Message } from './children.ts';
import type { LoadConfig, LoadResult } from './load.ts';
import { benchRedis, type BenchRedis } from './redis.ts';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
};
const engine = process.argv[2] === 'baseline' ? 'baseline' : 'pool';
const connections = Number(arg('connections', '32'));
const seconds = Number(arg('seconds', '10'));
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
const out = arg('out', join(dir, `${engine}.cpuprofile`));
const keyRing = IssuerKeyRing.generate();
const fleetKey = randomBytes(32);
const store = await openStore({ redisUrl: redis.url, prefix: redis.prefix });
const issuer = new Issuer({ core: await loadCore(), store, keyRing });
const cards: { payload: string; pin: string }[] = [];
for (let i = 0; i < 500; i++) {
  const pin = String(randomInt(0, 10_000)).padStart(4, '0');
  cards.push({ payload: (await issuer.issueCard({ pin, limit: 1_000_000, balance: 1e12, currency: 'EUR' })).payloadText, pin });
}
await store.close();
const cardsFile = join(dir, 'cards.json');
await writeFile(cardsFile, JSON.stringify(cards));

const gateway = spawnChild('gateway', HERE('gateway-process.ts'), {
  env: { SCANPAY_KEYRING: keyRing.serialize(), SCANPAY_FLEET_KEY: fleetKey.toString('hex'), REDIS_URL: redis.url, SCANPAY_REDIS_PREFIX: redis.prefix, BENCH_ENGINE: engine, BENCH_REDIS_AUTOPIPELINE: process.argv.includes('--autopipeline') ? '1' : '' },
});
const { port } = await gateway.waitFor<Message & { port: number }>('ready', 60_000);
const config: LoadConfig = {
  mode: 'payments', url: `ws://127.0.0.1:${port}/scanner`, fleetKeyHex: fleetKey.toString('hex'), cardsFile, connections,
  devicePrefix: 'prof-', rampS: 2, durationS: seconds + 4, maxPayments: 10_000_000, requestTimeoutMs: 10_000, openConcurrency: 32,
};
const load = spawnChild('load', HERE('load.ts'), { env: { BENCH_LOAD: JSON.stringify(config) } });
await sleep(4_000); // ramp + JIT warm-up
await gateway.command('profile-start', 'profile-started');
await sleep(seconds * 1000);
await gateway.command(`profile-stop ${out}`, 'profile-stopped');
const result = (await load.waitFor('result', 120_000)) as unknown as LoadResult;
console.log(`${engine}: ${result.paymentsPerS.toFixed(0)} payments/s with ${connections} connections; profile ${out}`);
await load.stop();
await gateway.stop();

interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
const profile = JSON.parse(readFileSync(out, 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[] };
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map<string, number>();
const byFile = new Map<string, number>();
let total = 0;
profile.samples.forEach((id, i) => {
  const node = byId.get(id)!;
  const dt = profile.timeDeltas[i] ?? 0;
  total += dt;
  const file = node.callFrame.url.replace(/^file:\/\/.*?\/(node_modules\/|work\/main\/)?/, '') || `(${node.callFrame.functionName || 'native'})`;
  const key = `${node.callFrame.functionName || '(anonymous)'}  ${file}:${node.callFrame.lineNumber + 1}`;
  self.set(key, (self.get(key) ?? 0) + dt);
  const group = file.startsWith('(') ? file : file.split('/').slice(0, file.startsWith('node:') ? 1 : 2).join('/');
  byFile.set(group, (byFile.get(group) ?? 0) + dt);
});
const pct = (x: number) => `${((x / total) * 100).toFixed(1).padStart(5)}%`;
console.log('\nself time by file / package:');
for (const [k, v] of [...byFile].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`${pct(v)}  ${k}`);
console.log('\nself time by function:');
for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 40)) console.log(`${pct(v)}  ${k}`);
await redis.stop();
await rm(dir, { recursive: true, force: true });
process.exit(0);
