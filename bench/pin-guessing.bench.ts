/**
 * What scanners holding photos of cards get by guessing PINs (docs/security.md, "A photographed card"): for
 * `--seconds` (default 10), `--devices` scanners of one merchant (default 1; the issue's probe used 16), each with
 * `--concurrency` workers (default 8), take cards from a pile of photographed ones (`--cards`, default 40): a worker
 * sends wrong PINs for its card, rescanning for a new session after each, until the card is locked or a refusal
 * says stop, then takes the next card. Each scanner paces its frames to its documented rate (20/s). A real gateway with its default limits, on the embedded
 * store (or Redis with --redis URL). Prints PINs evaluated per second, cards locked, and what else was told.
 *   npx tsx bench/pin-guessing.bench.ts [--devices 16] [--seconds 10] [--cards 40] [--redis redis://…]
 */
import { randomBytes } from 'node:crypto';
import { loadCore } from '../core/index.ts';
import { createLogger } from '../gateway/log.ts';
import { startGateway } from '../gateway/server.ts';
import { Issuer } from '../issuer/issuer.ts';
import { IssuerKeyRing } from '../issuer/key-ring.ts';
import { MemoryStore, RedisStore } from '../issuer/store/index.ts';
import { deviceSecret, signScannerToken } from '../protocol/scanner-token.ts';
import { RawScanner } from '../test/support/gateway-fixture.ts';
import { deleteKeys, testKeyPrefix } from '../test/support/redis-server.ts';

const arg = (name: string, fallback: string) => {
  const at = process.argv.indexOf(name);
  return at < 0 ? fallback : process.argv[at + 1]!;
};
const devices = Number(arg('--devices', '1'));
const seconds = Number(arg('--seconds', '10'));
const cardCount = Number(arg('--cards', '40'));
const concurrency = Number(arg('--concurrency', '8'));
const redisUrl = process.argv.includes('--redis') ? arg('--redis', '') : undefined;
const prefix = testKeyPrefix('scanpay-bench:');

const store = redisUrl ? await RedisStore.connect(redisUrl, { prefix }) : new MemoryStore();
const keyRing = IssuerKeyRing.generate();
const fleetKey = new Uint8Array(randomBytes(32));
// the gateway's defaults: device rate 20/s burst 40, PIN pace 250 ms, and whatever per-scanner limits it has
const gateway = await startGateway({ store, keyRing, fleetKey, port: 0, logger: createLogger({ level: 'silent' }) });
const issuer = new Issuer({ core: await loadCore(), store, keyRing });
const cards = await Promise.all(Array.from({ length: cardCount }, () => issuer.issueCard({ pin: '1234', limit: 1e6, currency: 'EUR' })));

const told = new Map<string, number>();
const tell = (what: string) => told.set(what, (told.get(what) ?? 0) + 1);
let next = 0;
const started = performance.now();
const deadline = started + seconds * 1000;
await Promise.all(Array.from({ length: devices }, async (_, d) => {
  const id = `guesser-${d}`;
  const scanner = await RawScanner.connect(gateway.scannerUrl, id, signScannerToken(id, deviceSecret(fleetKey, id)));
  const pause = () => new Promise((resolve) => setTimeout(resolve, 50));
  // frames paced to the device's documented rate (20/s, welcome.limits), so no unit is wasted on a refusal
  let nextFrameAt = performance.now();
  const frame = async () => {
    const at = Math.max(nextFrameAt, performance.now());
    nextFrameAt = at + 1000 / 20;
    if (at > performance.now()) await new Promise((resolve) => setTimeout(resolve, at - performance.now()));
  };
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < deadline && next < cards.length) {
      const card = cards[next++]!;
      for (let done = false; !done && performance.now() < deadline;) {
        await frame();
        const auth = await scanner.scan(card.payloadText, 100, { merchant: 'photo-shop' });
        if (auth.type !== 'auth-required') {
          tell(`scan ${auth.code}`);
          if (auth.code === 'RATE_LIMITED') await pause();
          else done = true; // locked (or otherwise unusable): the next card
          continue;
        }
        await frame();
        const answer = await scanner.pin(auth.session, '9999');
        const what = answer.type === 'payment-result' ? answer.reason ?? answer.outcome : answer.code;
        tell(`pin ${what}`);
        if (what === 'CARD_LOCKED') done = true;
        else if (answer.type === 'error') await pause();
      }
    }
  }));
  await scanner.close();
}));
const elapsed = (performance.now() - started) / 1000;
const metrics = await (await fetch(`${gateway.opsUrl}/metrics`)).text();
const evaluated = ['correct', 'wrong', 'invalid'].reduce((n, result) => n + Number(new RegExp(`scanpay_pin_attempts_total\\{result="${result}"\\} (\\d+)`).exec(metrics)?.[1] ?? 0), 0);
const locked = (await Promise.all(cards.map((c) => issuer.viewCard(c.pan)))).filter((v) => v.status === 'locked').length;
await gateway.close();
if (redisUrl) await deleteKeys(redisUrl, prefix);
await store.close();
console.log(`${devices} scanner(s) of one merchant, ${cardCount} photographed cards, ${elapsed.toFixed(1)} s on ${redisUrl ? 'Redis' : 'the embedded store'}:`);
console.log(`  PINs evaluated: ${evaluated} (${(evaluated / elapsed).toFixed(1)}/s); cards locked: ${locked} (${(locked / elapsed).toFixed(2)}/s)`);
console.log(`  answers: ${[...told].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ')}`);
process.exit(0);
