/**
 * DVD-1 benchmark: the WASM core's dvd1Batch against three idiomatic anchors (node:crypto,
 * libsodium-wrappers-sumo, noble), in µs per record at batch sizes 1, 16, 256 and 4096.
 *
 * First cross-checks all four on 256 records (every fifth corrupted) and aborts if any result
 * differs; then times them on 4096 valid records, and ours once more on the same records pre-packed
 * (dvd1BatchPacked, batch 256: the object API minus packing), all tasks interleaved in shuffled rounds
 * (bench/dvd1/measure.ts); prints the tables and writes
 * bench/results/core.json and the core section of bench/RESULTS.md (smoke runs write core.smoke.json
 * and leave RESULTS.md alone, so CI never overwrites real numbers).
 *
 *   npx tsx bench/core.bench.ts            full run (about 1 s per task)
 *   npx tsx bench/core.bench.ts --smoke    CI run (about 50 ms per task); or BENCH_SMOKE=1
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { DVD1_RECORD_SIZE, encodeDvd1Record, loadCore } from '../core/index.ts';
import { crossCheck } from './dvd1/cross-check.ts';
import * as libsodium from './dvd1/libsodium.ts';
import { type Budget, type Dvd1Implementation, type ExtraTask, measure } from './dvd1/measure.ts';
import * as nodeCrypto from './dvd1/node-crypto.ts';
import * as noble from './dvd1/noble.ts';
import { makeDvd1Records } from './dvd1/records.ts';
import { headline, printReport, ratios, type Report, resultsSection } from './dvd1/report.ts';
import { isSmoke } from './lib/mode.ts';
import { machine } from './lib/provenance.ts';
import { writeResultsSection } from './results-sections.ts';

const MODE: Report['mode'] = isSmoke() ? 'smoke' : 'full';
const BUDGETS: Record<Report['mode'], Budget> = {
  full: { timeMs: 1000, rounds: 5, iterations: 2, warmup: true, warmupTimeMs: 200, warmupIterations: 2 },
  smoke: { timeMs: 50, rounds: 1, iterations: 1, warmup: false, warmupTimeMs: 0, warmupIterations: 0 },
};
const BATCH_SIZES = [1, 16, 256, 4096];
const HEADLINE_BATCH = 256;
const POOL = { records: 4096, seed: 1 };
const CROSS_CHECK = { records: 256, seed: 2, badEvery: 5 };
const OURS = 'scanpay core';
const OURS_PACKED = 'scanpay core, pre-packed';
const OUTPUT = new URL(`./results/${MODE === 'full' ? 'core' : 'core.smoke'}.json`, import.meta.url);

const loadAtStart = loadavg();
await libsodium.init();
const core = await loadCore();
const ours: Dvd1Implementation = { name: OURS, run: (records) => core.dvd1Batch(records) };
const anchors: Dvd1Implementation[] = [
  { name: 'node:crypto', run: nodeCrypto.run },
  { name: 'libsodium', run: libsodium.run },
  { name: 'noble', run: noble.run },
];

const [reference, ...otherAnchors] = anchors as [Dvd1Implementation, ...Dvd1Implementation[]];
crossCheck(reference, [...otherAnchors, ours], makeDvd1Records(CROSS_CHECK.records, CROSS_CHECK));
console.log(`cross-check: ${OURS} and ${anchors.length} anchors agree on ${CROSS_CHECK.records} records`);

const pool = makeDvd1Records(POOL.records, POOL);
// ours once more on the same records already packed (dvd1BatchPacked): the object API minus packing
const packedBatches = Array.from({ length: pool.length / HEADLINE_BATCH }, (_, b) => {
  const packed = new Uint8Array(HEADLINE_BATCH * DVD1_RECORD_SIZE);
  for (let i = 0; i < HEADLINE_BATCH; i++) encodeDvd1Record(pool[b * HEADLINE_BATCH + i]!, packed, i * DVD1_RECORD_SIZE);
  return packed;
});
const prePacked: ExtraTask<Uint8Array> = {
  implementation: OURS_PACKED, batch: HEADLINE_BATCH, inputs: packedBatches, call: (p) => core.dvd1BatchPacked(p, HEADLINE_BATCH),
};
const measured = await measure([ours, ...anchors], BATCH_SIZES, pool, BUDGETS[MODE], [prePacked]);
const results = measured.filter((m) => m.implementation !== OURS_PACKED);
const { batch, usPerRecord, p50UsPerRecord } = measured.find((m) => m.implementation === OURS_PACKED)!;
const packed = { batch, usPerRecord, p50UsPerRecord };
const report: Report = {
  benchmark: 'dvd1',
  mode: MODE,
  date: new Date().toISOString(),
  machine: machine(),
  setup: { batchSizes: BATCH_SIZES, pool: { ...POOL, corrupted: 0 }, crossCheck: CROSS_CHECK, budget: BUDGETS[MODE] },
  results,
  ratios: ratios(results, OURS),
  headlineBatch: HEADLINE_BATCH,
  headline: headline(results, OURS, HEADLINE_BATCH),
  packed,
  loadAverage: { start: loadAtStart, end: loadavg() },
};
printReport(report, OURS);

mkdirSync(new URL('.', OUTPUT), { recursive: true });
writeFileSync(OUTPUT, `${JSON.stringify(report, null, 2)}\n`);
console.log(`wrote ${fileURLToPath(OUTPUT)}`);
if (MODE === 'full') {
  writeResultsSection('core', 'bench/core.bench.ts', resultsSection(report, OURS));
  console.log('wrote the core section of bench/RESULTS.md');
}
