/**
 * `npm start`: one gateway process. Configured from the environment (README §Configuration); with
 * nothing configured it runs a self-contained demo: embedded store, issuer and fleet keys generated in
 * memory, a demo scanner and demo cards written to ./demo-cards, and the command that pays with one.
 */
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { loadCore } from '../core/index.ts';
import { Issuer } from '../issuer/issuer.ts';
import { IssuerKeyRing } from '../issuer/key-ring.ts';
import { DEFAULT_WAIT_TIMEOUT_MS, openStore, redisTarget } from '../issuer/store/index.ts';
import { loadFleetKey } from '../protocol/fleet-key.ts';
import { NodeCryptoEngine } from './baseline/node-crypto-engine.ts';
import { DEMO_SCANNER, writeDemo } from './demo.ts';
import { RedisPushBus } from './push/push-bus.ts';
import { createLogger } from './log.ts';
import { DEFAULT_BATCH, startGateway } from './server.ts';

const env = process.env;
const log = createLogger();
const say = (line = '') => process.stdout.write(`${line}\n`);
const int = (name: string, fallback: number) => (env[name] === undefined ? fallback : Number.parseInt(env[name]!, 10));

const keysConfigured = Boolean(env.SCANPAY_KEYRING_FILE || env.SCANPAY_KEYRING);
const fleetConfigured = Boolean(env.SCANPAY_FLEET_KEY_FILE || env.SCANPAY_FLEET_KEY);
const keyRing = keysConfigured ? await IssuerKeyRing.load() : IssuerKeyRing.generate();
const fleetKey = fleetConfigured ? loadFleetKey() : randomBytes(32);
const redis = redisTarget({ redisUrl: env.REDIS_URL, clusterNodes: env.REDIS_CLUSTER_NODES }); // null: the embedded store
const store = await openStore({
  redisUrl: env.REDIS_URL, clusterNodes: env.REDIS_CLUSTER_NODES, prefix: env.SCANPAY_REDIS_PREFIX,
  waitReplicas: int('SCANPAY_REDIS_WAIT_REPLICAS', 0), waitTimeoutMs: int('SCANPAY_REDIS_WAIT_MS', DEFAULT_WAIT_TIMEOUT_MS),
});
const demo = env.SCANPAY_DEMO === '1' || !keysConfigured;
// --baseline: the same gateway with node:crypto inline on the main thread and no pool (for bench:e2e)
const baseline = process.argv.includes('--baseline') || env.SCANPAY_ENGINE === 'baseline';

const tls = env.TLS_CERT_FILE || env.TLS_KEY_FILE ? { certFile: env.TLS_CERT_FILE ?? '', keyFile: env.TLS_KEY_FILE ?? '' } : undefined;
if (tls && (!tls.certFile || !tls.keyFile)) {
  process.stderr.write('scanpay: TLS needs both TLS_CERT_FILE and TLS_KEY_FILE\n');
  process.exit(2);
}

const gateway = await startGateway({
  store, keyRing, fleetKey, logger: log, tls,
  host: env.HOST ?? '127.0.0.1',
  port: int('PORT', 8080),
  opsHost: env.OPS_HOST ?? '127.0.0.1',
  opsPort: int('OPS_PORT', 9090),
  publicUrl: env.PUBLIC_URL,
  pinPaceMs: env.SCANPAY_PIN_PACE_MS ? int('SCANPAY_PIN_PACE_MS', 250) : undefined,
  threads: env.SCANPAY_THREADS ? int('SCANPAY_THREADS', 0) : undefined,
  batch: { maxItems: int('SCANPAY_BATCH_MAX', DEFAULT_BATCH.maxItems), windowMs: int('SCANPAY_BATCH_WINDOW_MS', DEFAULT_BATCH.windowMs) },
  engine: baseline ? () => new NodeCryptoEngine() : undefined,
  // over Redis, pushes reach scanners connected to any gateway sharing it (sharded pub/sub on a cluster)
  pushBus: redis
    ? (deliver) => RedisPushBus.connect(redis, env.SCANPAY_REDIS_PREFIX ?? 'scanpay:', deliver, (e) => log.warn({ error: e.message }, 'push bus'))
    : undefined,
  framesPerSecond: int('SCANPAY_RATE_PER_SEC', 20),
  burst: int('SCANPAY_RATE_BURST', 40),
});

say();
say(`scanpay gateway listening on ${gateway.url}  (scanners: ${gateway.scannerUrl})`);
say(`store: ${store.description}`);
say(`crypto: ${baseline ? 'baseline — node:crypto inline on the main thread, no pool' : 'WASM core in a piscina worker pool'}`);
if (!store.persistent) say('  ! the embedded store is not persistent: cards, sessions and the ledger vanish when this process exits (set REDIS_URL to keep them)');
if (!keysConfigured) say('  ! demo issuer keys, generated in memory (set SCANPAY_KEYRING_FILE to use a key ring from `scanpay keys generate`)');
if (!fleetConfigured) say('  ! demo fleet key, generated in memory (set SCANPAY_FLEET_KEY_FILE for real scanners)');

if (demo) {
  const issuer = new Issuer({ core: await loadCore(), store, keyRing });
  const material = await writeDemo(issuer, fleetKey, resolve(env.SCANPAY_DEMO_DIR ?? 'demo-cards'));
  say();
  say(`demo scanner "${DEMO_SCANNER}", secret in ${material.secretFile}; demo cards:`);
  for (const card of material.cards) say(`  ${card.file}  ${card.maskedPan}  PIN ${card.pin}  ${card.currency}`);
  const first = material.cards[0];
  say();
  say('make a payment (in another terminal, from this folder):');
  say(`  npx scanpay scan ${first.file} --gateway ${gateway.scannerUrl} --device ${DEMO_SCANNER} --secret-file ${material.secretFile} --amount 1250 --currency ${first.currency} --merchant demo-shop --pin ${first.pin}`);
  say('or leave out --pin and add --page to get the authentication page URL and enter the PIN there.');
}
say();
say(`ops (loopback): ${gateway.opsUrl}/metrics · ${gateway.opsUrl}/readyz · ${gateway.opsUrl}/healthz · Ctrl-C stops (in-flight payments finish first)`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    say(`\n${signal}: finishing in-flight payments…`);
    gateway.close()
      .then(() => store.close())
      .then(() => process.exit(0), (e) => {
        log.error({ error: (e as Error).message }, 'shutdown failed');
        process.exit(1);
      });
  });
}
