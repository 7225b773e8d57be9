/**
 * Scan timing per case (the timing oracles of the security issues): median and p90 time of a `scan` frame's
 * answer, from a real gateway (embedded store, or Redis with --redis URL), for forgeries (a known key id with a
 * bad tag, an unknown key id, a retired key id), authentic but illegal payloads (a re-issued card's old
 * generation, a blocked card) and, for scale, a legal card. Every illegal case should read the same: one AEAD
 * open and one store step that writes nothing. Rounds interleave the cases, in a random order each, so machine
 * noise falls on all of them alike; the AUC of stale against forged (Mann-Whitney: 0.5 is indistinguishable,
 * 1.0 always slower) says how well one answer time tells them apart.
 *   npx tsx bench/scan-timing.bench.ts [--smoke] [--redis redis://…] [--rounds N]   → bench/results/scan-timing.json
 */
import { writeFileSync } from 'node:fs';
import { writeResultsSection } from './results-sections.ts';
import { isSmoke } from './lib/mode.ts';
import { quantile } from './lib/stats.ts';
import { deleteKeys, testKeyPrefix } from '../test/support/redis-server.ts';
import { fileURLToPath } from 'node:url';
import { loadCore } from '../core/index.ts';
import { createLogger } from '../gateway/log.ts';
import { startGateway } from '../gateway/server.ts';
import { Issuer } from '../issuer/issuer.ts';
import { IssuerKeyRing } from '../issuer/key-ring.ts';
import { payloadFromText, payloadToText } from '../issuer/payload.ts';
import { MemoryStore, RedisStore } from '../issuer/store/index.ts';
import { randomBytes } from 'node:crypto';
import { RawScanner } from '../test/support/gateway-fixture.ts';
import { deviceSecret, signScannerToken } from '../protocol/scanner-token.ts';

const smoke = isSmoke();
const arg = (name: string) => {
  const at = process.argv.indexOf(name);
  return at < 0 ? undefined : process.argv[at + 1];
};
const ROUNDS = Number(arg('--rounds') ?? (smoke ? 30 : 2_200));
const redisUrl = arg('--redis');
const prefix = testKeyPrefix('scanpay-bench:');

const store = redisUrl ? await RedisStore.connect(redisUrl, { prefix }) : new MemoryStore();
const keyRing = IssuerKeyRing.generate();
const fleetKey = new Uint8Array(randomBytes(32));
const gateway = await startGateway({
  store, keyRing, fleetKey, port: 0, threads: 1, framesPerSecond: 1e6, burst: 1e6, logger: createLogger({ level: 'silent' }),
});
const issuer = new Issuer({ core: await loadCore(), store, keyRing });
const good = await issuer.issueCard({ pin: '1234', limit: 1e9, balance: 1e9, currency: 'EUR' });
const stale = await issuer.issueCard({ pin: '1234', limit: 1e9, currency: 'EUR' });
await issuer.reissueCard(stale.pan);
const blocked = await issuer.issueCard({ pin: '1234', limit: 1e9, currency: 'EUR' });
await issuer.blockCard(blocked.pan);
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
  'stale generation (authentic)': stale.payloadText,
  'blocked card (authentic)': blocked.payloadText,
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
if (redisUrl) await deleteKeys(redisUrl, prefix);
await store.close();

/** P(a random sample of `a` > one of `b`), ties half: the AUC of telling a from b by one answer time. */
function auc(a: number[], b: number[]): number {
  const sorted = [...a.map((x) => [x, 0] as const), ...b.map((x) => [x, 1] as const)].sort((x, y) => x[0] - y[0]);
  let rankSumA = 0;
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j < sorted.length && sorted[j][0] === sorted[i][0]) j++;
    const rank = (i + j + 1) / 2; // average rank of the tie group, 1-based
    for (let k = i; k < j; k++) if (sorted[k][1] === 0) rankSumA += rank;
    i = j;
  }
  return (rankSumA - (a.length * (a.length + 1)) / 2) / (a.length * b.length);
}
const staleVsForged = auc(times['stale generation (authentic)'], times['known key id, bad tag']);

const rows = Object.entries(times).map(([name, xs]) => ({ case: name, n: xs.length, medianMs: quantile(xs, 0.5), p90Ms: quantile(xs, 0.9) }));
const reference = rows[0].medianMs;
const where = redisUrl ? 'Redis' : 'the embedded store';
console.log(`scan answer time per case on ${where} (${ROUNDS} rounds, interleaved):`);
for (const r of rows) console.log(`  ${r.case.padEnd(30)} median ${r.medianMs.toFixed(3)} ms  p90 ${r.p90Ms.toFixed(3)} ms  (${(r.medianMs / reference).toFixed(2)}× the first)`);
const staleMinusForged = (quantile(times['stale generation (authentic)'], 0.5) - quantile(times['known key id, bad tag'], 0.5)) * 1000;
console.log(`  stale vs forged: median difference ${staleMinusForged.toFixed(0)} µs, AUC ${staleVsForged.toFixed(3)} (0.5: indistinguishable)`);
const file = `./results/scan-timing${redisUrl ? '.redis' : ''}${smoke ? '.smoke' : ''}.json`;
writeFileSync(fileURLToPath(new URL(file, import.meta.url)), `${JSON.stringify({ at: new Date().toISOString(), store: where, rounds: ROUNDS, rows, staleMinusForgedMedianUs: staleMinusForged, staleVsForgedAuc: staleVsForged }, null, 2)}\n`);
if (!smoke) {
  writeResultsSection(`scan-timing${redisUrl ? '-redis' : ''}`, 'bench/scan-timing.bench.ts', [
    `## Scan answer time per case on ${where} — ${new Date().toISOString().slice(0, 10)}`,
    '',
    `\`npx tsx bench/scan-timing.bench.ts${redisUrl ? ' --redis URL' : ''}\`: one gateway on ${where}, one scanner, ${ROUNDS} rounds (cases interleaved, shuffled per round).`,
    'Every illegal case does the same work (one AEAD open, a dummy key for unknown and retired ids; one store step that',
    'writes nothing), so a scanner cannot tell a known key id from an unknown one, nor a stale or blocked card from a',
    `forgery, by timing (docs/security.md §3). Stale vs forged: median difference ${staleMinusForged.toFixed(0)} µs, AUC ${staleVsForged.toFixed(3)}.`,
    '',
    '| case | median ms | p90 ms | median ÷ first |',
    '| --- | ---: | ---: | ---: |',
    ...rows.map((r) => `| ${r.case} | ${r.medianMs.toFixed(3)} | ${r.p90Ms.toFixed(3)} | ${(r.medianMs / reference).toFixed(2)} |`),
  ].join('\n'));
}
process.exit(0);
