/**
 * One-time codes (issue 26, payload v2) against a v1 scan, in one run: what a code costs the wallet to make and the
 * gateway to verify, as ratios to what a printed card's scan costs the gateway to open.
 *  - generation: oneTimeCode (core/one-time-code.ts: the browser wallet's function, here in Node), per code;
 *  - verification: a crypto worker's code batch (CardCrypto.checkCodeBatch: unwrap the basic key and the PAN, the
 *    DVD-1 code record), per record at batch 1 and 64;
 *  - the v1 scan: a crypto worker's open batch (CardCrypto.openBatch: the payload opened under its issuer key, the
 *    card token and basic-key check), per record at batch 1 and 64.
 * Also the core alone (dvd1CodeBatchPacked against dvd1OpenBatchPacked), without the worker's unwraps and hashes.
 * Every task runs on this thread; tasks in ROUNDS rounds, each in a new shuffled order; a figure is the median
 * over the rounds of the task's median call latency ÷ its batch. Cross-checked first: every code passes, every v1
 * payload opens. Writes bench/results/codes.json and, on a full run, the codes section of bench/RESULTS.md.
 *
 *   npx tsx bench/codes.bench.ts [--smoke]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';
import { DVD1_RECORD_SIZE, encodeDvd1CodeRecord, encodeDvd1OpenInput, loadCore, oneTimeCode } from '../core/index.ts';
import { CODE_ANSWER_SIZE, CODE_REQUEST_SIZE, CODE_SIDE_SIZE, OPEN_ANSWER_SIZE, OPEN_REQUEST_SIZE, encodeCodeRequest, encodeOpenRequest, packSidedBatch } from '../issuer/card-batch.ts';
import { CardCrypto } from '../issuer/card-crypto.ts';
import { codeChecks, makeEnrolmentChecks } from './dvd1/code-checks.ts';
import { makeCodeCases } from './dvd1/code-records.ts';
import { makeDvd1Records } from './dvd1/records.ts';
import { isSmoke } from './lib/mode.ts';
import { machine } from './lib/provenance.ts';
import { median } from './lib/stats.ts';
import { writeResultsSection } from './results-sections.ts';

const SMOKE = isSmoke();
const BATCHES = [1, 64];
const ROUNDS = SMOKE ? 1 : 5;
const BUDGET = SMOKE ? { time: 30, iterations: 1, warmup: false } : { time: 500, iterations: 20, warmup: true };
const OUTPUT = new URL(`./results/${SMOKE ? 'codes.smoke' : 'codes'}.json`, import.meta.url);
const LOAD_AT_START = loadavg()[0]!;

const core = await loadCore();
const fixture = makeEnrolmentChecks(core, 64);
const crypto = new CardCrypto(core, fixture.keyRing);
const enrolled = crypto.checkEnrolments(fixture.enrolments);
const codes = codeChecks(core, fixture, enrolled);

// cross-check: every code passes, every printed card's payload opens
if (!crypto.checkCodes(codes).every((a) => a.ok)) throw new Error('cross-check failed: a code did not verify');
if (!crypto.openCards(fixture.pins.map((p) => p.payload)).every((o) => o.status === 0)) throw new Error('cross-check failed: a v1 payload did not open');

/** A worker batch of the first n requests: its template, a work buffer the task refills each call, and the answers. */
function workerBatch(requests: Uint8Array[], n: number, sideSize: number | null, answerSize: number) {
  const template = sideSize === null ? Buffer.concat(requests.slice(0, n)) : packSidedBatch(requests.slice(0, n), sideSize);
  return { template: new Uint8Array(template), work: new Uint8Array(template.length), answers: new Uint8Array(n * answerSize) };
}
const codeRequests = codes.map((c) => {
  const r = new Uint8Array(CODE_REQUEST_SIZE);
  encodeCodeRequest(c, r);
  return r;
});
const openRequests = fixture.pins.map((p) => {
  const r = new Uint8Array(OPEN_REQUEST_SIZE);
  encodeOpenRequest(p.payload, r);
  return r;
});

// the core alone: packed code records and v1 open records (issuer keys filled in as a worker would)
const codeRecords = makeCodeCases(64, { seed: 7 });
const packedCodes = new Uint8Array(64 * DVD1_RECORD_SIZE);
codeRecords.forEach((c, i) => encodeDvd1CodeRecord(c.record, packedCodes, i * DVD1_RECORD_SIZE));
const packedOpens = new Uint8Array(64 * DVD1_RECORD_SIZE);
makeDvd1Records(64, { seed: 7 }).forEach((r, i) => encodeDvd1OpenInput(r, packedOpens, i * DVD1_RECORD_SIZE));

interface Task { name: string; kind: 'generate' | 'verify' | 'open'; level: 'wallet' | 'worker' | 'core'; batch: number; run: () => void }
const tasks: Task[] = [];
const walletKey = enrolled[0]!.walletKey!;
const enrolmentId = new Uint8Array(Buffer.from(fixture.enrolments[0]!.enrolmentId, 'hex'));
let counter = 1;
tasks.push({ name: 'code generation (oneTimeCode)', kind: 'generate', level: 'wallet', batch: 1, run: () => void oneTimeCode(core, walletKey, { enrolmentId, step: 59885040, counter: counter++ }) });
for (const n of BATCHES) {
  const c = workerBatch(codeRequests, n, CODE_SIDE_SIZE, CODE_ANSWER_SIZE);
  tasks.push({ name: `code verification, worker ×${n}`, kind: 'verify', level: 'worker', batch: n, run: () => { c.work.set(c.template); crypto.checkCodeBatch(c.work, n, c.answers); } });
  const o = workerBatch(openRequests, n, null, OPEN_ANSWER_SIZE);
  tasks.push({ name: `v1 scan open, worker ×${n}`, kind: 'open', level: 'worker', batch: n, run: () => { o.work.set(o.template); crypto.openBatch(o.work, n, o.answers); } });
  const pc = packedCodes.subarray(0, n * DVD1_RECORD_SIZE);
  tasks.push({ name: `code record, core ×${n}`, kind: 'verify', level: 'core', batch: n, run: () => void core.dvd1CodeBatchPacked(pc, n) });
  const po = packedOpens.subarray(0, n * DVD1_RECORD_SIZE);
  tasks.push({ name: `v1 open record, core ×${n}`, kind: 'open', level: 'core', batch: n, run: () => void core.dvd1OpenBatchPacked(po, n) });
}

const shuffled = <T>(xs: T[]): T[] => xs.map((x) => [Math.random(), x] as const).sort((a, b) => a[0] - b[0]).map(([, x]) => x);
const perRound = new Map<string, number[]>(tasks.map((t) => [t.name, []]));
for (let round = 0; round < ROUNDS; round++) {
  const bench = new Bench({ ...BUDGET, throws: true });
  for (const t of shuffled(tasks)) bench.add(t.name, t.run);
  await bench.run();
  for (const t of bench.tasks) {
    if (t.result.state !== 'completed') throw new Error(`${t.name}: tinybench state ${t.result.state}`);
    const task = tasks.find((x) => x.name === t.name)!;
    perRound.get(t.name)!.push((t.result.latency.p50! * 1000) / task.batch); // µs per record (or per code)
  }
}
const us = (name: string) => median(perRound.get(name)!);
const rows = tasks.map((t) => ({ ...t, run: undefined, usPerRecord: us(t.name), rounds: perRound.get(t.name)! }));
const ratio = (a: string, b: string) => us(a) / us(b);
const ratios = {
  generationToScanOpenWorker1: ratio('code generation (oneTimeCode)', 'v1 scan open, worker ×1'),
  verificationToScanOpenWorker1: ratio('code verification, worker ×1', 'v1 scan open, worker ×1'),
  verificationToScanOpenWorker64: ratio('code verification, worker ×64', 'v1 scan open, worker ×64'),
  recordToOpenRecordCore1: ratio('code record, core ×1', 'v1 open record, core ×1'),
  recordToOpenRecordCore64: ratio('code record, core ×64', 'v1 open record, core ×64'),
};

console.log(`\nOne-time codes against a v1 scan (${SMOKE ? 'smoke: numbers not meaningful' : `median of ${ROUNDS} rounds`}), µs per record`);
for (const r of rows) console.log(`${r.name.padEnd(34)} ${r.usPerRecord.toFixed(2).padStart(8)}`);
console.log(Object.entries(ratios).map(([k, v]) => `${k} ${v.toFixed(2)}`).join('\n'));

const report = {
  benchmark: 'codes', mode: SMOKE ? 'smoke' : 'full', date: new Date().toISOString(), machine: machine(),
  setup: { batches: BATCHES, rounds: ROUNDS, budget: BUDGET }, loadAverageAtStart: LOAD_AT_START,
  rows: rows.map(({ name, kind, level, batch, usPerRecord, rounds }) => ({ name, kind, level, batch, usPerRecord, rounds })), ratios,
};
mkdirSync(new URL('.', OUTPUT), { recursive: true });
writeFileSync(OUTPUT, `${JSON.stringify(report, null, 2)}\n`);
console.log(`wrote ${fileURLToPath(OUTPUT)}`);

if (!SMOKE) {
  const f = (n: number) => n.toFixed(2);
  writeResultsSection('codes', 'bench/codes.bench.ts', [
    `## One-time codes against a v1 scan — ${report.date.slice(0, 10)}`, '',
    `\`npx tsx bench/codes.bench.ts\` (part of \`npm run bench\`), one run, one thread, ${ROUNDS} shuffled rounds, median of the rounds' median call latency ÷ batch.`
      + ` Load average at the start: ${LOAD_AT_START.toFixed(2)}.`
      + ` Generating a code (\`oneTimeCode\`, the wallet's function, in Node) ${f(us('code generation (oneTimeCode)'))} µs;`
      + ` verifying one in a crypto worker (\`CardCrypto.checkCodeBatch\`: two unwraps and the DVD-1 code record)`
      + ` ${f(us('code verification, worker ×1'))} µs/record at batch 1 and ${f(us('code verification, worker ×64'))} at batch 64,`
      + ` against a v1 scan's open (\`CardCrypto.openBatch\`) ${f(us('v1 scan open, worker ×1'))} and ${f(us('v1 scan open, worker ×64'))}:`
      + ` generation ÷ scan open ${f(ratios.generationToScanOpenWorker1)}, verification ÷ scan open ${f(ratios.verificationToScanOpenWorker1)} (batch 1),`
      + ` ${f(ratios.verificationToScanOpenWorker64)} (batch 64). The core alone: code record ÷ v1 open record`
      + ` ${f(ratios.recordToOpenRecordCore1)} (batch 1), ${f(ratios.recordToOpenRecordCore64)} (batch 64).`,
  ].join('\n'));
  console.log('wrote the codes section of bench/RESULTS.md');
}
