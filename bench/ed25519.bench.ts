/**
 * Ed25519 verifications per second: the WASM core (scanpay/core's ed25519Verify, SIMD and scalar
 * builds) against @noble/curves (zip215: false, the same rules as ours: canonical encodings, S < L,
 * small-order keys refused, cofactored) and node:crypto (OpenSSL, a KeyObject made once per key, as a
 * verifier holding the gateway's key would). Same 64 keys and 256-byte messages for all, one run.
 *
 * Cross-checked first: all three accept every signature of the pool and reject each with one bit flipped.
 * Timing: every call verifies the whole pool; the tasks run in ROUNDS rounds, each in a new shuffled order,
 * and each implementation's figure is the median over the rounds of its median call latency (a neighbour's
 * pause on this shared machine pulls a mean, rarely a median). Writes bench/results/ed25519.json and, on a
 * full run, the ed25519 section of bench/RESULTS.md (smoke runs write ed25519.smoke.json only).
 *
 *   npx tsx bench/ed25519.bench.ts [--smoke]
 */
import { createPublicKey, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { ed25519 } from '@noble/curves/ed25519.js';
import { Bench } from 'tinybench';
import { loadCore } from '../core/index.ts';
import { isSmoke } from './lib/mode.ts';
import { machine } from './lib/provenance.ts';
import { median } from './lib/stats.ts';
import { writeResultsSection } from './results-sections.ts';
import { ed25519PrivateKey, ed25519RawPublicKey } from '../test/support/ed25519-keys.ts';

const SMOKE = isSmoke();
const POOL = 64; // signatures per call
const MESSAGE_LENGTH = 256;
const ROUNDS = SMOKE ? 1 : 5;
const BUDGET = SMOKE ? { time: 30, iterations: 1, warmup: false } : { time: 1000, iterations: 5, warmup: true };
const OUTPUT = new URL(`./results/${SMOKE ? 'ed25519.smoke' : 'ed25519'}.json`, import.meta.url);
const OURS = 'scanpay core (SIMD build)';
const LOAD_AT_START = loadavg()[0]!; // this machine is shared: the figures depend on it

interface Signed { pub: Uint8Array; key: KeyObject; msg: Uint8Array; sig: Uint8Array }
const pool: Signed[] = Array.from({ length: POOL }, () => {
  const privateKey = ed25519PrivateKey();
  const publicKey = createPublicKey(privateKey);
  const msg = new Uint8Array(randomBytes(MESSAGE_LENGTH));
  return { pub: ed25519RawPublicKey(publicKey), key: publicKey, msg, sig: new Uint8Array(sign(null, msg, privateKey)) };
});
const simd = await loadCore(undefined, { build: 'simd' });
const scalar = await loadCore(undefined, { build: 'scalar' });

type Verify = (s: Signed) => boolean;
const implementations: Record<string, Verify> = {
  [OURS]: (s) => simd.ed25519Verify(s.pub, s.sig, s.msg),
  'scanpay core (scalar build)': (s) => scalar.ed25519Verify(s.pub, s.sig, s.msg),
  '@noble/curves (zip215: false)': (s) => ed25519.verify(s.sig, s.msg, s.pub, { zip215: false }),
  'node:crypto': (s) => verify(null, s.msg, s.key, s.sig),
};

const tampered = pool.map((s, i) => {
  const sig = s.sig.slice();
  sig[i % 64]! ^= 1 << (i % 8);
  return { ...s, sig };
});
for (const [name, run] of Object.entries(implementations)) {
  if (!pool.every(run)) throw new Error(`cross-check failed: ${name} rejects a valid signature`);
  if (tampered.some(run)) throw new Error(`cross-check failed: ${name} accepts a tampered signature`);
}
console.log(`cross-check: ${Object.keys(implementations).length} implementations accept ${POOL} signatures and reject them with a bit flipped`);

const shuffled = <T>(xs: T[]): T[] => xs.map((x) => [Math.random(), x] as const).sort((a, b) => a[0] - b[0]).map(([, x]) => x);

const perRound = new Map<string, number[]>(Object.keys(implementations).map((n) => [n, []]));
for (let round = 0; round < ROUNDS; round++) {
  const bench = new Bench({ ...BUDGET, throws: true });
  for (const [name, run] of shuffled(Object.entries(implementations))) bench.add(name, () => void pool.forEach(run));
  await bench.run();
  for (const t of bench.tasks) {
    if (t.result.state !== 'completed') throw new Error(`${t.name}: tinybench state ${t.result.state}`);
    perRound.get(t.name)!.push((t.result.latency.p50! * 1000) / POOL); // µs per verification
  }
}

const rows = [...perRound].map(([implementation, rounds]) => {
  const usPerVerify = median(rounds);
  return { implementation, usPerVerify, verifiesPerSecond: 1e6 / usPerVerify, rounds };
});
const ours = rows.find((r) => r.implementation === OURS)!;
const withRatios = rows.map((r) => ({ ...r, oursSpeedup: r.usPerVerify / ours.usPerVerify })); // > 1: ours is faster
console.log(`\nEd25519 verification, ${MESSAGE_LENGTH}-byte messages (${SMOKE ? 'smoke: numbers not meaningful' : `median of ${ROUNDS} rounds`})`);
for (const r of withRatios) {
  console.log(`${r.implementation.padEnd(32)} ${r.usPerVerify.toFixed(1).padStart(8)} µs  ${Math.round(r.verifiesPerSecond).toLocaleString('en-US').padStart(8)}/s  its time ÷ ours ${r.oursSpeedup.toFixed(2)}`);
}

const report = {
  benchmark: 'ed25519-verify', mode: SMOKE ? 'smoke' : 'full', date: new Date().toISOString(), machine: machine(),
  setup: { pool: POOL, messageLength: MESSAGE_LENGTH, rounds: ROUNDS, budget: BUDGET }, loadAverageAtStart: LOAD_AT_START, rows: withRatios,
};
mkdirSync(new URL('.', OUTPUT), { recursive: true });
writeFileSync(OUTPUT, `${JSON.stringify(report, null, 2)}\n`);
console.log(`wrote ${fileURLToPath(OUTPUT)}`);

if (!SMOKE) {
  const f = (n: number, d = 1) => n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
  writeResultsSection('ed25519', 'bench/ed25519.bench.ts', [
    `## Ed25519 verification — ${report.date.slice(0, 10)}`, '',
    `\`npx tsx bench/ed25519.bench.ts\` (part of \`npm run bench\`), one run: ${POOL} node:crypto signatures over ${MESSAGE_LENGTH}-byte messages under ${POOL} keys,`
      + ` every call verifying all of them; ${ROUNDS} rounds in shuffled order, median of the rounds' median call latency.`
      + ' Ours through the `scanpay/core` wrapper (copy in, one WASM call); @noble/curves with `zip215: false` (our rules);'
      + ` node:crypto with a KeyObject made once per key. Load average at the start: ${LOAD_AT_START.toFixed(2)}.`, '',
    '| implementation | µs per verification | verifications/s | its time ÷ ours (SIMD build) |',
    '| --- | ---: | ---: | ---: |',
    ...withRatios.map((r) => `| ${r.implementation} | ${f(r.usPerVerify)} | ${f(r.verifiesPerSecond, 0)} | ${f(r.oursSpeedup, 2)} |`),
  ].join('\n'));
  console.log('wrote the ed25519 section of bench/RESULTS.md');
}
