/**
 * SHA-256 of batches of 64-byte messages (the Merkle-tree workload): our 4-lane SIMD sha256Batch64
 * against @chainsafe/as-sha256 (AssemblyScript, 4-way SIMD) — its hashInto and batchHash4UintArray64s —
 * and node:crypto, in ns per message, same messages, one run. Cross-checked first.
 *
 *   npx tsx bench/sha256-batch.bench.ts [--smoke]      → bench/results/sha256-batch.json
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';
import * as chainsafe from '@chainsafe/as-sha256';
import { loadCore } from '../core/index.ts';
import { isSmoke } from './lib/mode.ts';
import { machine } from './lib/provenance.ts';

const SMOKE = isSmoke();
const COUNT = 1024; // messages per call
const OUTPUT = new URL(`./results/${SMOKE ? 'sha256-batch.smoke' : 'sha256-batch'}.json`, import.meta.url);

const core = await loadCore();
const msgs = randomBytes(COUNT * 64);
const views = Array.from({ length: COUNT }, (_, i) => msgs.subarray(i * 64, i * 64 + 64));
const chainsafeOut = new Uint8Array(COUNT * 32);

const implementations: Record<string, () => Uint8Array> = {
  'scanpay sha256Batch64': () => core.sha256Batch64(msgs),
  '@chainsafe/as-sha256 hashInto': () => {
    chainsafe.hashInto(msgs, chainsafeOut);
    return chainsafeOut;
  },
  '@chainsafe/as-sha256 batchHash4UintArray64s': () => {
    const out = new Uint8Array(COUNT * 32);
    for (let i = 0; i < COUNT; i += 4) {
      chainsafe.batchHash4UintArray64s(views.slice(i, i + 4)).forEach((d, j) => out.set(d, (i + j) * 32));
    }
    return out;
  },
  'node:crypto': () => Buffer.concat(views.map((m) => createHash('sha256').update(m).digest())),
};

const expected = Buffer.from(implementations['node:crypto']());
for (const [name, run] of Object.entries(implementations)) {
  if (!expected.equals(Buffer.from(run()))) throw new Error(`cross-check failed: ${name} disagrees with node:crypto`);
}
console.log(`cross-check: ${Object.keys(implementations).length} implementations agree on ${COUNT} messages (chainsafe SIMD: ${chainsafe.simdEnabled})`);

const bench = new Bench({ time: SMOKE ? 50 : 1500, iterations: SMOKE ? 1 : 10, warmup: !SMOKE, throws: true });
for (const [name, run] of Object.entries(implementations)) bench.add(name, () => void run());
await bench.run();

const rows = bench.tasks.map((t) => {
  const result = t.result;
  if (result.state !== 'completed') throw new Error(`${t.name}: tinybench state ${result.state}`);
  return { implementation: t.name, nsPerMessage: (result.latency.mean * 1e6) / COUNT, rmePercent: result.latency.rme };
});
const ours = rows.find((r) => r.implementation.startsWith('scanpay'))!;
console.log(`\nSHA-256 of ${COUNT} × 64-byte messages per call (${SMOKE ? 'smoke: numbers not meaningful' : 'full'})`);
for (const r of rows) {
  console.log(`${r.implementation.padEnd(46)} ${r.nsPerMessage.toFixed(1).padStart(8)} ns/msg  ±${r.rmePercent.toFixed(1)}%  ratio to ours ${(r.nsPerMessage / ours.nsPerMessage).toFixed(2)}x`);
}
mkdirSync(new URL('.', OUTPUT), { recursive: true });
writeFileSync(OUTPUT, `${JSON.stringify({ benchmark: 'sha256-batch64', mode: SMOKE ? 'smoke' : 'full', date: new Date().toISOString(), machine: machine(), messagesPerCall: COUNT, chainsafeSimd: chainsafe.simdEnabled, rows }, null, 2)}\n`);
console.log(`wrote ${fileURLToPath(OUTPUT)}`);
