/**
 * `npm run bench:engines [-- --smoke]`: DVD-1 µs per record at batch 256 in every engine of
 * test/engines/engines.ts (Node, Deno, Bun, Chromium, Firefox, native C), SIMD and scalar builds, with
 * the libsodium.js DVD-1 anchor in the same JS engine. Each engine runs in its own process (or page).
 * Writes bench/results/engines.json (engines.smoke.json with --smoke) and, on a full run, the table in
 * bench/RESULTS.md between the engines markers. An engine that is missing is reported, and under
 * CI=true fails the run.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { DVD1_FIELDS, DVD1_RECORD_SIZE, encodeDvd1Record } from '../../core/index.ts';
import { makeDvd1Records } from '../dvd1/records.ts';
import { isSmoke } from '../lib/mode.ts';
import { machine } from '../lib/provenance.ts';
import { ENGINES, type EngineBench, type EngineName } from '../../test/engines/engines.ts';

const SMOKE = isSmoke();
const BATCH = 256;
const MIN_MS = SMOKE ? 20 : 1500;
const RESULTS = new URL(`../results/engines${SMOKE ? '.smoke' : ''}.json`, import.meta.url);
const MARKDOWN = new URL('../RESULTS.md', import.meta.url);
const BEGIN = '<!-- engines:begin (bench/engines/run.ts writes this section) -->';
const END = '<!-- engines:end -->';

const records = makeDvd1Records(BATCH, { seed: 9, badEvery: 8 });
const packed = new Uint8Array(BATCH * DVD1_RECORD_SIZE);
records.forEach((r, i) => encodeDvd1Record(r, packed, i * DVD1_RECORD_SIZE));
const base = { records: Buffer.from(packed).toString('hex'), batch: BATCH, minMs: MIN_MS, fields: DVD1_FIELDS, amountOffset: 244 };

interface Row { engine: EngineName; vm: string; version: string; result: EngineBench }
const rows: Row[] = [];
const missing: { engine: EngineName; why: string }[] = [];

for (const engine of ENGINES) {
  const why = engine.missing();
  if (why) {
    console.warn(`!! ${engine.name}: not run — ${why}`);
    missing.push({ engine: engine.name, why });
    continue;
  }
  try {
    // the anchor is imported by the workload, relative to bench/engines/workload.js; native C has none
    const config = { ...base, builds: engine.builds, anchor: engine.name === 'native' ? '' : '../dvd1/libsodium.ts' };
    const result = await engine.bench(config);
    const version = await engine.version();
    rows.push({ engine: engine.name, vm: engine.vm, version, result });
    const f = (n?: number) => (n === undefined ? '—' : n.toFixed(2));
    console.log(`${engine.name.padEnd(9)} simd ${f(result.core.simd).padStart(6)}  scalar ${f(result.core.scalar).padStart(6)}  libsodium ${f(result.libsodium).padStart(6)} µs/record  (${version})`);
  } finally {
    await engine.close();
  }
}

const report = {
  date: new Date().toISOString(), mode: SMOKE ? 'smoke' : 'full', batch: BATCH, minMsPerMeasurement: MIN_MS,
  records: { count: BATCH, seed: 9, badEvery: 8, passed: rows[0]?.result.passed },
  cpu: machine().cpu, command: `npm run bench:engines${SMOKE ? ' -- --smoke' : ''}`, rows, missing,
};
writeFileSync(RESULTS, `${JSON.stringify(report, null, 2)}\n`);
console.log(`wrote ${RESULTS.pathname}`);

if (!SMOKE) {
  const f = (n?: number) => (n === undefined ? '—' : n.toFixed(2));
  const ratio = (a?: number, b?: number) => (a === undefined || b === undefined ? '—' : `${(b / a).toFixed(1)}×`);
  const table = [
    `## Core per engine (DVD-1, batch ${BATCH}) — ${report.date.slice(0, 10)}`, '',
    `\`npm run bench:engines\`: µs per record, whole batches of ${BATCH} records (every 8th bad) through the \`scanpay/core\` wrapper`
      + ' (copy in, one WASM call, copy out); native C calls the wasm2c-translated scalar build directly. libsodium.js runs the same'
      + ` DVD-1 in the same engine (bench/dvd1/libsodium.ts). Each figure is one run of ≥ ${MIN_MS} ms after a warm-up. CPU: ${report.cpu}.`, '',
    '| engine | VM | SIMD | scalar | libsodium.js | SIMD vs libsodium | version |',
    '| --- | --- | ---: | ---: | ---: | ---: | --- |',
    ...rows.map((r) => `| ${r.engine} | ${r.vm} | ${f(r.result.core.simd)} | ${f(r.result.core.scalar)} | ${f(r.result.libsodium)} | ${ratio(r.result.core.simd, r.result.libsodium)} | ${r.version} |`),
    ...missing.map((m) => `| ${m.engine} | — | not run | | | | ${m.why} |`),
    '',
  ].join('\n');
  const md = readFileSync(MARKDOWN, 'utf8');
  const section = `${BEGIN}\n${table}${END}`;
  const at = md.indexOf(BEGIN);
  writeFileSync(MARKDOWN, at >= 0 ? md.slice(0, at) + section + md.slice(md.indexOf(END) + END.length) : `${md.trimEnd()}\n\n${section}\n`);
  console.log(`updated ${MARKDOWN.pathname}`);
}
if (missing.length > 0 && process.env.CI === 'true') {
  console.error(`bench:engines: ${missing.map((m) => m.engine).join(', ')} could not run, and CI requires every engine`);
  process.exit(1);
}
