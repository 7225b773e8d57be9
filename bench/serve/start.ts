/**
 * The gateway a benchmark drives, alone in its process, from `npm start`'s configuration (gateway/config.ts
 * readStartConfig: every variable read and checked the same way) with the crypto engine chosen by name:
 *   pool       the WASM core in the piscina worker pool, as `npm start` runs it
 *   baseline   node:crypto inline on the main thread, no pool (bench/baseline)
 * It serves under a key ring and a fleet key the caller holds (its load generator needs cards and scanner
 * secrets from them), never demo keys; pushes stay in the process (one gateway: no Redis pub/sub).
 * `npm run bench:serve` (main.ts) runs it for any load generator; bench/e2e/gateway-process.ts for ours.
 * @example
 *   const config = readStartConfig(process.env, process.argv);
 *   const store = await openServedStore(config);
 *   const gateway = await startServedGateway('baseline', config, { store });
 */
import { writeFileSync } from 'node:fs';
import { loadCore } from '../../core/index.ts';
import { ConfigError, type StartConfig } from '../../gateway/config.ts';
import type { GatewayLogger } from '../../gateway/log.ts';
import { startGateway, type Gateway, type GatewayOptions } from '../../gateway/server.ts';
import { startOptions } from '../../gateway/start-options.ts';
import { Issuer } from '../../issuer/issuer.ts';
import { IssuerKeyRing } from '../../issuer/key-ring.ts';
import { openStore } from '../../issuer/store/index.ts';
import type { Store } from '../../issuer/store/types.ts';
import { loadFleetKey } from '../../protocol/fleet-key.ts';
import { NodeCryptoEngine } from '../baseline/node-crypto-engine.ts';
import { issueBenchCards } from './cards.ts';

export const ENGINES = ['pool', 'baseline'] as const;
export type EngineName = (typeof ENGINES)[number];
/** What `npm run bench:serve` and the bench's gateway processes serve: a gateway with either engine, or the architecture's floor (bench/floor). */
export const SERVERS = [...ENGINES, 'floor'] as const;
export type ServerName = (typeof SERVERS)[number];

/** `pool`, `baseline` or `floor`, else a ConfigError naming them. */
export function serverNamed(name: string | undefined): ServerName {
  if (!SERVERS.includes(name as ServerName)) throw new ConfigError([`name the server to start: ${SERVERS.join(', ')} (got ${name === undefined ? 'nothing' : `"${name.slice(0, 20)}"`})`]);
  return name as ServerName;
}

/** `pool` or `baseline`, else a ConfigError naming both. */
export function engineNamed(name: string | undefined): EngineName {
  if (!ENGINES.includes(name as EngineName)) throw new ConfigError([`name the engine to serve: ${ENGINES.join(' or ')} (got ${name === undefined ? 'nothing' : `"${name.slice(0, 20)}"`})`]);
  return name as EngineName;
}

/** The configured store (REDIS_URL, REDIS_CLUSTER_NODES, else the embedded one), opened as gateway/main.ts opens it. */
export function openServedStore(config: StartConfig): Promise<Store> {
  return openStore({
    redisUrl: config.redisUrl, clusterNodes: config.clusterNodes, prefix: config.redisPrefix,
    waitReplicas: config.waitReplicas, waitTimeoutMs: config.waitTimeoutMs,
  });
}

export interface ServeOptions {
  store: Store;
  logger?: GatewayLogger;
  /** Issue this many cards into the store before serving and write them to `file` as [{ payload, pin }] (mode 0600). */
  cards?: { count: number; file: string };
}

/** Starts the gateway; a ConfigError for a configuration without a key ring or a fleet key, or with --processes. */
export async function startServedGateway(engine: EngineName, config: StartConfig, opts: ServeOptions): Promise<Gateway> {
  const problems: string[] = [];
  if (!config.keyRingConfigured || !config.fleetKeyConfigured) {
    problems.push('a benchmark serves cards under keys its load generator knows: set SCANPAY_KEYRING_FILE (npx scanpay keys generate) and SCANPAY_FLEET_KEY_FILE (npx scanpay fleet-key generate), or SCANPAY_KEYRING and SCANPAY_FLEET_KEY');
  }
  if (config.processes > 1) problems.push('a benchmark serves one gateway process: leave out --processes (and SCANPAY_PROCESSES)');
  if (problems.length > 0) throw new ConfigError(problems);
  // from a file, only the engine's threads hold the ring (and reload it when the file changes), as with npm start
  const keyRingFile = process.env.SCANPAY_KEYRING_FILE || undefined;
  const keyRing = keyRingFile && !opts.cards ? null : await IssuerKeyRing.load();
  if (opts.cards) {
    const issuer = new Issuer({ core: await loadCore(), store: opts.store, keyRing: keyRing! });
    writeFileSync(opts.cards.file, JSON.stringify(await issueBenchCards(issuer, opts.cards.count)), { mode: 0o600 });
  }
  return startGateway({
    store: opts.store, ...(keyRingFile ? { keyRingFile } : { keyRing: keyRing! }), fleetKey: loadFleetKey(), logger: opts.logger,
    ...startOptions(config),
    engine: ENGINE_FACTORIES[engine],
  });
}

const ENGINE_FACTORIES: Record<EngineName, GatewayOptions['engine']> = {
  pool: undefined, // startGateway's own CryptoPool
  baseline: ({ core, keys }) => new NodeCryptoEngine(core, keys),
};
