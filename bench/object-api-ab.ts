/**
 * A paired comparison of two checkouts' core object API (core.dvd1Batch, dvd1OpenBatch or dvd1CodeBatch) at batch
 * 256, in one process: both checkouts' cores are loaded side by side, and every round times 16 calls of each task
 * (object API and packed path, this checkout's and the other's) in a new shuffled order, so a machine whose speed
 * drifts (shared vCPUs) weighs on all of them alike. Process CPU time per record; printed: each task's median, and
 * the medians of the per-round ratios (this ÷ other for the object API and for the packed path, object ÷ packed).
 * The batches come from a pool of --pool records cycled batch by batch: 4,096 (bench/core.bench.ts's pool: a
 * batch's small arrays are out of cache when it comes round again) or 256 (the same batch every call: in cache).
 * Both cores must agree on a batch with corrupted records first.
 *
 *   npx tsx bench/object-api-ab.ts --against ../other-checkout [--rounds 60] [--pool 4096] [--kind pin|open|code]
 *
 * The other checkout needs its node_modules and WASM built (npm ci && npm run build:wasm).
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DVD1_RECORD_SIZE, encodeDvd1CodeRecord, encodeDvd1Record, loadCore, type WasmCryptoCore } from '../core/index.ts';
import { makeCodeCases } from './dvd1/code-records.ts';
import { makeDvd1Records } from './dvd1/records.ts';
import { median } from './lib/stats.ts';

const option = (name: string, fallback?: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  const value = i > 0 ? process.argv[i + 1] : fallback;
  if (value === undefined) throw new Error(`--${name} is required: npx tsx bench/object-api-ab.ts --against ../other-checkout`);
  return value;
};
const rounds = Number(option('rounds', '60'));
const poolSize = Number(option('pool', '4096'));
const kind = option('kind', 'pin');
if (!['pin', 'open', 'code'].includes(kind)) throw new Error(`--kind is pin, open or code, not ${kind}`);
const BATCH = 256;
const CALLS = 16; // per task per round
if (!Number.isInteger(poolSize) || poolSize < BATCH || poolSize % BATCH !== 0) throw new Error(`--pool must be a multiple of ${BATCH}`);

const other = resolve(option('against'));
const otherCore: WasmCryptoCore = await (await import(pathToFileURL(resolve(other, 'core/index.ts')).href)).loadCore();
const cores = { this: await loadCore(), other: otherCore };

const inBatches = <T>(items: readonly T[]): T[][] => Array.from({ length: items.length / BATCH }, (_, b) => items.slice(b * BATCH, (b + 1) * BATCH));
const records = inBatches(makeDvd1Records(poolSize, { seed: 1 }));
const codes = kind === 'code' ? inBatches(makeCodeCases(poolSize, { seed: 1, withPin: true }).map((c) => c.record)) : [];
const packed = records.map((batch) => {
  const p = new Uint8Array(BATCH * DVD1_RECORD_SIZE);
  batch.forEach((r, i) => encodeDvd1Record(r, p, i * DVD1_RECORD_SIZE));
  return p;
});
const packedCodes = codes.map((batch) => {
  const p = new Uint8Array(BATCH * DVD1_RECORD_SIZE);
  batch.forEach((r, i) => encodeDvd1CodeRecord(r, p, i * DVD1_RECORD_SIZE));
  return p;
});

/** One batch through the object API of the kind asked for, and the same batch packed beforehand through the packed path. */
const objectApi = (core: WasmCryptoCore, b: number): unknown =>
  kind === 'open' ? core.dvd1OpenBatch(records[b]!) : kind === 'code' ? core.dvd1CodeBatch(codes[b]!) : core.dvd1Batch(records[b]!);
const packedPath = (core: WasmCryptoCore, b: number): unknown =>
  kind === 'open' ? core.dvd1OpenBatchPacked(packed[b]!, BATCH) : kind === 'code' ? core.dvd1CodeBatchPacked(packedCodes[b]!, BATCH) : core.dvd1BatchPacked(packed[b]!, BATCH);

const check = makeDvd1Records(BATCH, { seed: 2, badEvery: 5 });
const outcome = (core: WasmCryptoCore) => JSON.stringify(core.dvd1Batch(check).map((r) => [r.status, Buffer.from(r.cryptogram).toString('hex')]));
if (outcome(cores.this) !== outcome(cores.other)) throw new Error('the two cores disagree on the check batch');

const tasks: Record<string, (b: number) => unknown> = {
  'this object': (b) => objectApi(cores.this, b),
  'other object': (b) => objectApi(cores.other, b),
  'this packed': (b) => packedPath(cores.this, b),
  'other packed': (b) => packedPath(cores.other, b),
};
const cpuPerRecord = (task: (b: number) => unknown): number => {
  const start = process.cpuUsage();
  for (let c = 0; c < CALLS; c++) task(c % records.length);
  const used = process.cpuUsage(start);
  return (used.user + used.system) / (CALLS * BATCH);
};
for (const task of Object.values(tasks)) for (let w = 0; w < 4; w++) cpuPerRecord(task);
const us: Record<string, number[]> = Object.fromEntries(Object.keys(tasks).map((k) => [k, []]));
for (let r = 0; r < rounds; r++) {
  for (const k of Object.keys(tasks).sort(() => Math.random() - 0.5)) us[k]!.push(cpuPerRecord(tasks[k]!));
}
const ratio = (a: string, b: string): string => median(us[a]!.map((x, i) => x / us[b]![i]!)).toFixed(3);
console.log(`${kind} records, pool of ${poolSize}, batch ${BATCH}, ${rounds} rounds of ${CALLS} calls per task; this = ${resolve('.')}, other = ${other}`);
for (const k of Object.keys(tasks)) console.log(`  ${k.padEnd(12)} ${median(us[k]!).toFixed(3)} µs/record (CPU, median)`);
console.log(`  this ÷ other: object ${ratio('this object', 'other object')}, packed ${ratio('this packed', 'other packed')}`);
console.log(`  object ÷ packed: this ${ratio('this object', 'this packed')}, other ${ratio('other object', 'other packed')}`);
