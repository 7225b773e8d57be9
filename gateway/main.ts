/**
 * `npm start`: one gateway process. Configured from the environment (README §Configuration); with
 * nothing configured it runs a self-contained demo: embedded store, issuer and fleet keys generated in
 * memory, a demo scanner and demo cards written to ./demo-cards, and the command that pays with one.
 * What it says to a person (where it listens, the demo cards and their PINs) goes to stderr; the log to stdout.
 */
import { randomBytes } from 'node:crypto';
import { relative, resolve } from 'node:path';
import { loadCore } from '../core/index.ts';
import { Issuer } from '../issuer/issuer.ts';
import { IssuerKeyRing } from '../issuer/key-ring.ts';
import { openStore, redisTarget } from '../issuer/store/index.ts';
import { loadFleetKey } from '../protocol/fleet-key.ts';
import { DEMO_MERCHANT, DEMO_SCANNER, claimDemoFolder, writeDemo, writeDemoMerchant } from './demo.ts';
import { RedisPushBus } from './push/push-bus.ts';
import { createLogger } from './log.ts';
import { ConfigError, readStartConfig, type StartConfig } from './config.ts';
import { runProcessGroup } from './processes.ts';
import { startGateway } from './server.ts';
import { startOptions } from './start-options.ts';

const env = process.env;
/**
 * The banner is for the person who started the gateway: on stderr, so stdout carries only the log (JSON
 * lines a collector reads, or pino-pretty on a terminal) and the demo cards' PINs never enter it.
 */
const say = (line = '') => process.stderr.write(`${line}\n`);

let config: StartConfig;
try {
  config = readStartConfig(env, process.argv);
} catch (e) {
  if (!(e instanceof ConfigError)) throw e;
  for (const problem of e.problems) process.stderr.write(`scanpay: ${problem} [CONFIG]\n`);
  process.exit(2);
}
if (config.processes > 1) {
  // --processes N: this process only supervises N gateways sharing the port (gateway/processes.ts)
  process.exit(await runProcessGroup(config, (line) => process.stderr.write(`${line}\n`)).catch((e: Error) => {
    process.stderr.write(`scanpay: ${e.message} [LISTEN]\n`);
    return 2;
  }));
}
// in a group, a process whose supervisor is gone stops by itself (the SIGTERM handler below drains it)
if (config.group) process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
const log = createLogger({ level: config.logLevel });
// A promise nobody awaited that failed: logged and counted (scanpay_unhandled_rejections_total), never a crash.
let countUnhandled: (() => void) | undefined;
let unhandledBeforeStart = 0;
process.on('unhandledRejection', (reason) => {
  if (countUnhandled) countUnhandled();
  else unhandledBeforeStart++;
  log.error({ event: 'process.unhandled-rejection', error: reason instanceof Error ? reason.message : String(reason) }, 'unhandled rejection');
});
const keysConfigured = config.keyRingConfigured;
const fleetConfigured = config.fleetKeyConfigured;
// from a file, only the crypto workers hold the ring (and a rotation reaches them without a restart); this
// thread reads it only to write the demo cards
const keyRingFile = env.SCANPAY_KEYRING_FILE || undefined;
const keyRing = keyRingFile && !config.demo ? null : keysConfigured ? await IssuerKeyRing.load() : IssuerKeyRing.generate();
const fleetKey = fleetConfigured ? loadFleetKey() : randomBytes(32);
const redis = redisTarget({ redisUrl: config.redisUrl, clusterNodes: config.clusterNodes }); // null: the embedded store
const store = await openStore({
  redisUrl: config.redisUrl, clusterNodes: config.clusterNodes, prefix: config.redisPrefix,
  waitReplicas: config.waitReplicas, waitTimeoutMs: config.waitTimeoutMs,
}).catch((e: Error) => { // e.g. Redis unreachable: the reason (never the URL's password), not a stack
  process.stderr.write(`scanpay: the gateway did not start: ${e.message} [START]\n`);
  process.exit(2);
});
const { demo } = config;

const gateway = await startGateway({
  store, ...(keyRingFile ? { keyRingFile } : { keyRing: keyRing! }), fleetKey, logger: log,
  ...startOptions(config),
  sharedPort: config.group !== null, // else exclusive: a second start on a port in use fails here, before any demo file is written
  // over Redis, pushes reach scanners connected to any gateway sharing it (sharded pub/sub on a cluster)
  pushBus: redis
    ? (deliver) => RedisPushBus.connect(redis, config.redisPrefix, deliver, (e) => log.warn({ error: e.message }, 'push bus'))
    : undefined,
}).catch(async (e: Error) => {
  process.stderr.write(`scanpay: the gateway did not start: ${e.message} [START]\n`);
  await store.close();
  process.exit(2);
});

/** A path as the banner shows it: relative to the folder the gateway was started in, when it is under it. */
const shownPath = (path: string) => (relative(process.cwd(), path).startsWith('..') ? path : relative(process.cwd(), path) || '.');

// one process writes the demo material (in a group, the first), into a folder no other running demo holds
const demoDir = demo && (config.group?.index ?? 0) === 0 ? resolve(config.demoDir) : null;
if (demoDir) {
  const claim = await claimDemoFolder(demoDir, gateway.scannerUrl).catch((e: Error) => ({ claimed: false as const, error: e.message }));
  if (!claim.claimed) {
    const why = 'heldBy' in claim
      ? `${shownPath(demoDir)}/ holds the demo material of the gateway still running as pid ${claim.heldBy.pid}`
        + ` (scanners: ${claim.heldBy.scannerUrl}): stop that one, or give this one its own folder, e.g. SCANPAY_DEMO_DIR=${shownPath(demoDir)}-${new URL(gateway.url).port}`
      : claim.error;
    process.stderr.write(`scanpay: the gateway did not start: ${why} [START]\n`);
    await gateway.close();
    await store.close();
    process.exit(2);
  }
}

// Signals are handled from here on, before the banner says "Ctrl-C stops": a SIGTERM sent on reading it drains
// the gateway instead of killing the process (and leaving the demo folder claimed).
// SIGHUP: read the key ring file again now (it is also polled for changes)
process.on('SIGHUP', () => {
  gateway.reloadKeys().then(
    () => say('SIGHUP: issuer key ring reloaded'),
    (e: Error) => say(`SIGHUP: key ring not reloaded, the running ring stays: ${e.message}`),
  );
});

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    say(`\n${signal}: finishing in-flight payments…`);
    const exit = (code: number) => log.flush(() => process.exit(code)); // the log is asynchronous: write what is buffered first
    gateway.close()
      .then(() => store.close())
      .then(() => exit(0), (e) => {
        log.error({ error: (e as Error).message }, 'shutdown failed');
        exit(1);
      });
  });
}

countUnhandled = () => gateway.metrics.unhandledRejection();
gateway.metrics.unhandledRejection(unhandledBeforeStart);

say();
say(`scanpay gateway listening on ${gateway.url}  (scanners: ${gateway.scannerUrl})`);
say(`store: ${store.description}`);
say('crypto: WASM core in a piscina worker pool');
if (!store.persistent) say('  ! the embedded store is not persistent: cards, sessions and the ledger vanish when this process exits (set REDIS_URL to keep them)');
if (!keysConfigured) say('  ! demo issuer keys, generated in memory (set SCANPAY_KEYRING_FILE to use a key ring from `scanpay keys generate`)');
if (!fleetConfigured) say('  ! demo fleet key, generated in memory (set SCANPAY_FLEET_KEY_FILE for real scanners)');

if (demoDir) {
  const issuer = new Issuer({ core: await loadCore(), store, keyRing: keyRing! });
  // the folder was checked at start and claimed; a failure now (the disk filled, say) still ends cleanly
  const written = await Promise.all([writeDemo(issuer, fleetKey, demoDir), writeDemoMerchant(store, fleetKey, demoDir)]).catch(async (e: Error) => {
    process.stderr.write(`scanpay: the gateway did not start: the demo cards were not written to ${shownPath(demoDir)}: ${e.message} [START]\n`);
    await gateway.close();
    await store.close();
    process.exit(2);
  });
  const [material, merchant] = written;
  say();
  if (merchant.apiKey) {
    // shown once, like the PINs below: on this banner (stderr) and in its 0600 file, never in the log
    say(`demo merchant "${DEMO_MERCHANT}", its merchant API key (also in ${merchant.keyFile}):`);
    say(`  ${merchant.apiKey}`);
  } else {
    say(`demo merchant "${DEMO_MERCHANT}": the store had it already; its API key was given when it was made (\`npx scanpay merchant rotate-key ${DEMO_MERCHANT}\` gives a new one)`);
  }
  if (merchant.scanner === 'bound-elsewhere') say(`  ! the store binds "${DEMO_SCANNER}" to another merchant: its scans for ${DEMO_MERCHANT} are refused (MERCHANT_MISMATCH)`);
  say(`demo scanner "${DEMO_SCANNER}" (takes ${DEMO_MERCHANT}'s payments), secret in ${material.secretFile}; demo cards:`);
  for (const card of material.cards) say(`  ${card.file}  ${card.maskedPan}  PIN ${card.pin}  ${card.currency}`);
  const first = material.cards[0];
  say();
  say('make a payment (in another terminal, from this folder):');
  say(`  npx scanpay scan ${first.file} --gateway ${gateway.scannerUrl} --device ${DEMO_SCANNER} --secret-file ${material.secretFile} --amount 1250 --currency ${first.currency} --merchant ${DEMO_MERCHANT} --pin ${first.pin}`);
  say('or leave out --pin and add --page to get the authentication page URL and enter the PIN there.');
  if (merchant.keyFile) {
    say('then read it back as the merchant (docs/merchant-api.md):');
    say(`  curl -s ${gateway.merchantUrl}/v1/payments -H "Authorization: Bearer $(cat ${merchant.keyFile})"`);
  }
}
say();
say(`merchant API: ${gateway.merchantUrl}/v1/payments (Authorization: Bearer <a merchant's API key>; docs/merchant-api.md)`);
say(`ops (loopback): ${gateway.opsUrl}/metrics · ${gateway.opsUrl}/readyz · ${gateway.opsUrl}/healthz · Ctrl-C stops (in-flight payments finish first)`);

