/**
 * What `npm start`'s configuration (config.ts) asks of startGateway, apart from what each starter brings itself
 * (store, key ring, fleet key, logger, crypto engine, push bus, port sharing): one mapping, so gateway/main.ts and
 * the benchmarks' served gateway (`npm run bench:serve`) start the same gateway from the same variables.
 * @example
 *   await startGateway({ store, keyRing, fleetKey, ...startOptions(readStartConfig(process.env, process.argv)) });
 */
import type { StartConfig } from './config.ts';
import { GATEWAY_DEFAULTS } from './defaults.ts';
import type { GatewayOptions } from './server.ts';

export type StartOptions = Pick<GatewayOptions, 'tls' | 'host' | 'port' | 'opsHost' | 'opsPort' | 'merchantHost' | 'merchantPort' | 'publicUrl' | 'pinPaceMs' | 'pinBudget'
  | 'pageLimits' | 'threads' | 'batch' | 'framesPerSecond' | 'burst' | 'maxConnectionAgeS' | 'holdWindowMs' | 'pinEntry' | 'holdSweepMs' | 'sealerIntervalMs' | 'webhooks'>;

export function startOptions(config: StartConfig): StartOptions {
  return {
    tls: config.tls,
    host: config.host,
    port: config.port,
    opsHost: config.opsHost,
    opsPort: config.opsPort,
    merchantHost: config.merchantHost,
    merchantPort: config.merchantPort,
    publicUrl: config.publicUrl,
    pinPaceMs: config.pinPaceMs,
    pinBudget: config.pinBudget,
    pageLimits: { ...GATEWAY_DEFAULTS.pageLimits, perAddress: config.pageRate },
    threads: config.threads,
    batch: config.batch,
    framesPerSecond: config.rate.perSecond,
    burst: config.rate.burst,
    maxConnectionAgeS: config.maxConnectionAgeS,
    holdWindowMs: config.holdWindowS * 1000,
    pinEntry: config.pinEntry,
    holdSweepMs: config.holdSweepS * 1000,
    sealerIntervalMs: config.sealerIntervalMs,
    webhooks: config.webhooks,
  };
}
