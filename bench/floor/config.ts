/**
 * The floor server's configuration (bench/floor/server.ts), from the gateway's own variables where the floor
 * has a use for them: HOST, PORT, OPS_HOST, OPS_PORT, REDIS_URL (required: the floor's three round trips go to
 * Redis), SCANPAY_REDIS_PREFIX, SCANPAY_THREADS, SCANPAY_BATCH_MAX, SCANPAY_BATCH_WINDOW_MS, with the gateway's
 * defaults (gateway/defaults.ts). The key ring and fleet key variables are not read: the floor opens no card
 * and checks no scanner token. Every bad value is reported at once (ConfigError), as `npm start` does.
 * @example
 *   const config = readFloorConfig(process.env); // { host, port, opsHost, opsPort, redisUrl, prefix, threads, batch }
 */
import { availableParallelism } from 'node:os';
import { ConfigError } from '../../gateway/config.ts';
import { GATEWAY_DEFAULTS } from '../../gateway/defaults.ts';
import { PREFIX_PATTERN } from '../../issuer/store/index.ts';

export interface FloorConfig {
  host: string;
  port: number;
  opsHost: string;
  opsPort: number;
  redisUrl: string;
  prefix: string; // every key the floor writes starts with it
  threads: number; // piscina workers
  batch: { maxItems: number; windowMs: number };
}

/** The floor's keys go under this when SCANPAY_REDIS_PREFIX is unset. */
export const FLOOR_DEFAULT_PREFIX = 'scanpay-floor:';

export function readFloorConfig(env: NodeJS.ProcessEnv): FloorConfig {
  const d = GATEWAY_DEFAULTS;
  const problems: string[] = [];
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    if (!/^[0-9]+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      problems.push(`${name} must be a whole number from ${min} to ${max} (got "${raw.slice(0, 20)}")`);
      return fallback;
    }
    return Number(raw);
  };
  const redisUrl = env.REDIS_URL ?? '';
  if (!/^rediss?:\/\//.test(redisUrl)) problems.push('the floor makes its three round trips per payment to Redis: set REDIS_URL (redis://host:port)');
  const prefix = env.SCANPAY_REDIS_PREFIX || FLOOR_DEFAULT_PREFIX;
  if (!PREFIX_PATTERN.test(prefix)) problems.push('SCANPAY_REDIS_PREFIX must be 1 to 128 letters, digits or : . _ -');
  const config: FloorConfig = {
    host: env.HOST || d.host,
    port: int('PORT', d.port, 0, 65_535),
    opsHost: env.OPS_HOST || d.opsHost,
    opsPort: int('OPS_PORT', d.startOpsPort, 0, 65_535),
    redisUrl,
    prefix,
    threads: int('SCANPAY_THREADS', availableParallelism(), 1, 256),
    batch: { maxItems: int('SCANPAY_BATCH_MAX', d.batch.maxItems, 1, 4096), windowMs: int('SCANPAY_BATCH_WINDOW_MS', d.batch.windowMs, 0, 1000) },
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
