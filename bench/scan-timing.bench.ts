/**
 * Scan timing per key-id case (the security issue's timing oracle): median and p90 time of a `scan` frame's
 * answer, from a real gateway on the embedded store, for payloads under a known key id with a bad tag, an
 * unknown key id, a retired key id, and (for scale) a legal card. The three illegal cases should read the
 * same: each is one AEAD open (a dummy key for unknown and retired ids) and no store access. Rounds
 * interleave the cases, in a random order each, so machine noise falls on all of them alike.
 *   npx tsx bench/scan-timing.bench.ts [--smoke]      → bench/results/scan-timing.json
 */
import { writeFileSync } from 'node:fs';
import { writeResultsSection } from './results-sections.ts';
import { fileURLToPath } from 'node:url';
import { loadCore } from '../core/index.ts';
import { createLogger } from '../gateway/log.ts';
import { startGateway } from '../gateway/server.ts';
import { Issuer } from '../issuer/issuer.ts';
import { IssuerKeyRing } from '../issuer/key-ring.ts';
import { payloadFromText, payloadToText } from '../issuer/payload.ts';
import { MemoryStore } from '../issuer/store/index.ts';
import { randomBytes } from 'node:crypto';
import { RawScanner } from '../test/support/gateway-fixture.ts';
import { deviceSecret, signScannerToken } from '../protocol/scanner-token.ts';

const smoke = process.argv.includes('--smoke');
const ROUNDS = smoke ? 30 : 2_000;

const store = new MemoryStore();
const keyRing = IssuerKeyRing.generate();
const fleetKey = new Uint8Array(randomBytes(32));
const gateway = await startGateway({
  store, keyRing, fleetKey, port: 0, threads: 1, framesPerSecond: 1e6, burst: 1e6, logger: createLogger({ level: 'silent' }),
});
const issuer = new Issuer({ core: await loadCore(), store, keyRing });
const good = await issuer.issueCard({ pin: '1234', limit: 1e9, balance: 1e9, currency: 'EUR' });
keyRing.rotate();
const retiredCard = await issuer.issueCard({ pin: '1234', limit: 1e9, currency: 'EUR' });
const retiredId = keyRing.active().id;
keyRing.rotate();
keyRing.retire(retiredId);

const bytes = payloadFromText(good.payloadText);
const badTag = bytes.slice();
badTag[40] ^= 1;
const unknownId = bytes.slice();
unknownId[1] = 0x7f;
const cases: Record<string, string> = {
  'known key id, bad tag': payloadToText(badTag),
  'unknown key id': payloadToText(unknownId),
  'retired key id': retiredCard.payloadText,
  'legal card (opens a session)': good.payloadText,
};

const device = 'timing-probe';
const scanner = await RawScanner.connect(gateway.scannerUrl, device, signScannerToken(device, deviceSecret(fleetKey, device)));
const times: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
for (let round = -20; round < ROUNDS; round++) { // 20 warm-up rounds, not recorded
  // a fresh order every round, so no case always follows the same one (position effects fall on all alike)
  for (const [name, payload] of Object.entries(cases).sort(() => Math.random() - 0.5)) {
    const started = performance.now();
    await scanner.scan(payload, 100);
    if (round >= 0) times[name].push(performance.now() - started);
  }
}
await scanner.close();
await gateway.close();

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];
const rows = Object.entries(times).map(([name, xs]) => ({ case: name, n: xs.length, medianMs: quantile(xs, 0.5), p90Ms: quantile(xs, 0.9) }));
const reference = rows[0].medianMs;
console.log(`scan answer time per key-id case (${ROUNDS} rounds, interleaved):`);
for (const r of rows) console.log(`  ${r.case.padEnd(30)} median ${r.medianMs.toFixed(3)} ms  p90 ${r.p90Ms.toFixed(3)} ms  (${(r.medianMs / reference).toFixed(2)}× the first)`);
writeFileSync(fileURLToPath(new URL(`./results/scan-timing${smoke ? '.smoke' : ''}.json`, import.meta.url)), `${JSON.stringify({ at: new Date().toISOString(), rounds: ROUNDS, rows }, null, 2)}\n`);
if (!smoke) {
  writeResultsSection('scan-timing', 'bench/scan-timing.bench.ts', [
    `## Scan answer time per key-id case — ${new Date().toISOString().slice(0, 10)}`,
    '',
    `\`npx tsx bench/scan-timing.bench.ts\`: one gateway on the embedded store, one scanner, ${ROUNDS} rounds (cases interleaved, shuffled per round). The three`,
    'illegal cases do the same work (one AEAD open, a dummy key for unknown and retired ids, no store access), so a',
    'scanner cannot tell a known key id from an unknown one by timing (docs/security.md §3).',
    '',
    '| case | median ms | p90 ms | median ÷ first |',
    '| --- | ---: | ---: | ---: |',
    ...rows.map((r) => `| ${r.case} | ${r.medianMs.toFixed(3)} | ${r.p90Ms.toFixed(3)} | ${(r.medianMs / reference).toFixed(2)} |`),
  ].join('\n'));
}
process.exit(0);
