/**
 * `npm start`'s configuration: every environment variable of the README's table, read and checked once,
 * before anything starts. A bad value is one clear line naming the variable (never a secret's value), and
 * all of them are reported together. Combinations that would silently do the wrong thing are refused:
 * a Redis store with throw-away demo keys (orphan cards would pile up in Redis), a Redis store with an
 * in-memory fleet key (no scanner could connect), a public bind address without PUBLIC_URL (pushed page
 * URLs would read http://0.0.0.0:…).
 */
import { ScanpayBaseError } from '../core/errors.ts';
import { DEFAULT_COMMAND_TIMEOUT_MS, DEFAULT_WAIT_TIMEOUT_MS } from '../issuer/store/redis-store.ts';

/** A scanner connection's default maximum age (s): closed with 4001 and re-authenticated after at most this long. */
export const DEFAULT_MAX_CONNECTION_AGE_S = 3_600;

export interface StartConfig {
  host: string;
  port: number;
  opsHost: string;
  opsPort: number;
  publicUrl?: string;
  tls?: { certFile: string; keyFile: string };
  redisUrl?: string;
  clusterNodes?: string; // REDIS_CLUSTER_NODES: host:port,… of a Redis Cluster (instead of REDIS_URL)
  redisPrefix?: string;
  waitReplicas: number; // money-moving writes wait for this many replicas (0: off)
  waitTimeoutMs: number;
  keyRingConfigured: boolean;
  fleetKeyConfigured: boolean;
  demo: boolean;
  demoDir: string;
  baseline: boolean;
  threads?: number;
  batch: { maxItems: number; windowMs: number };
  rate: { perSecond: number; burst: number };
  pinPaceMs?: number;
  pageRate: { perSecond: number; burst: number };
  /** SCANPAY_MAX_CONNECTION_AGE_S: a scanner connection is closed (4001) and re-authenticated after at most this long. */
  maxConnectionAgeS: number;
  /** `--processes N` / SCANPAY_PROCESSES: gateway processes sharing one port (gateway/processes.ts); 1: this one. */
  processes: number;
  /** Set in a process the group started (SCANPAY_PROCESS_GROUP=i/N): it may share its port with the group. */
  group: { index: number; size: number } | null;
}

/** Every bad value at once, one line each (`npm start` prints each as `scanpay: <problem> [CONFIG]`). */
export class ConfigError extends ScanpayBaseError<'CONFIG'> {
  readonly problems: string[];
  constructor(problems: string[]) {
    super('gateway', 'CONFIG', `bad configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

const PUBLIC_BINDS = new Set(['0.0.0.0', '::', '[::]']);

export function readStartConfig(env: NodeJS.ProcessEnv, argv: readonly string[], defaults: { batch: { maxItems: number; windowMs: number }; pageRate: { perSecond: number; burst: number } }): StartConfig {
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
  const set = (name: string) => Boolean(env[name]);

  const host = env.HOST || '127.0.0.1';
  const port = int('PORT', 8080, 0, 65_535);
  const opsHost = env.OPS_HOST || '127.0.0.1';
  const opsPort = int('OPS_PORT', 9090, 0, 65_535);
  const publicUrl = env.PUBLIC_URL || undefined;
  if (publicUrl) {
    try {
      const url = new URL(publicUrl);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') problems.push('PUBLIC_URL must be an http:// or https:// URL');
    } catch {
      problems.push('PUBLIC_URL must be a URL such as https://pay.example.com');
    }
  } else if (PUBLIC_BINDS.has(host)) {
    problems.push(`HOST=${host} listens on every interface: set PUBLIC_URL to the address scanners and holders reach (page URLs would read http://${host}:${port}/…)`);
  }
  let tls: StartConfig['tls'];
  if (set('TLS_CERT_FILE') || set('TLS_KEY_FILE')) {
    if (!set('TLS_CERT_FILE') || !set('TLS_KEY_FILE')) problems.push('TLS needs both TLS_CERT_FILE and TLS_KEY_FILE');
    else tls = { certFile: env.TLS_CERT_FILE!, keyFile: env.TLS_KEY_FILE! };
  }
  const redisUrl = env.REDIS_URL || undefined;
  const clusterNodes = env.REDIS_CLUSTER_NODES || undefined;
  if (redisUrl && clusterNodes) problems.push('set REDIS_URL (one Redis) or REDIS_CLUSTER_NODES (a cluster), not both');
  const persistent = Boolean(redisUrl || clusterNodes);
  const waitReplicas = int('SCANPAY_REDIS_WAIT_REPLICAS', 0, 0, 16);
  const waitTimeoutMs = int('SCANPAY_REDIS_WAIT_MS', DEFAULT_WAIT_TIMEOUT_MS, 1, DEFAULT_COMMAND_TIMEOUT_MS - 1);
  const keyRingConfigured = set('SCANPAY_KEYRING_FILE') || set('SCANPAY_KEYRING');
  const fleetKeyConfigured = set('SCANPAY_FLEET_KEY_FILE') || set('SCANPAY_FLEET_KEY');
  if (persistent && !keyRingConfigured) {
    problems.push('a Redis store (REDIS_URL or REDIS_CLUSTER_NODES) but no key ring: run `npx scanpay keys generate` and set SCANPAY_KEYRING_FILE=scanpay-keyring.json (cards issued under throw-away demo keys would pile up in Redis)');
  }
  if (persistent && !fleetKeyConfigured) {
    problems.push('a Redis store (REDIS_URL or REDIS_CLUSTER_NODES) but no fleet key: run `npx scanpay fleet-key generate` and set SCANPAY_FLEET_KEY_FILE=scanpay-fleet.key (scanners need secrets from a key that outlives this process)');
  }
  const threads = env.SCANPAY_THREADS ? int('SCANPAY_THREADS', 1, 1, 256) : undefined;
  const batch = { maxItems: int('SCANPAY_BATCH_MAX', defaults.batch.maxItems, 1, 4096), windowMs: int('SCANPAY_BATCH_WINDOW_MS', defaults.batch.windowMs, 0, 1000) };
  const rate = { perSecond: int('SCANPAY_RATE_PER_SEC', 20, 1, 1_000_000), burst: int('SCANPAY_RATE_BURST', 40, 1, 1_000_000) };
  const pinPaceMs = env.SCANPAY_PIN_PACE_MS ? int('SCANPAY_PIN_PACE_MS', 250, 0, 86_400_000) : undefined;
  const pageRate = {
    perSecond: int('SCANPAY_PAGE_RATE_PER_SEC', defaults.pageRate.perSecond, 1, 1_000_000),
    burst: int('SCANPAY_PAGE_RATE_BURST', defaults.pageRate.burst, 1, 1_000_000),
  };
  const maxConnectionAgeS = int('SCANPAY_MAX_CONNECTION_AGE_S', DEFAULT_MAX_CONNECTION_AGE_S, 10, 604_800);
  const group = processGroup(env.SCANPAY_PROCESS_GROUP, problems);
  const processes = group ? 1 : processCount(env, argv, problems);
  if (processes > 1 && !persistent) {
    problems.push(`--processes ${processes} needs REDIS_URL or REDIS_CLUSTER_NODES: each process has its own crypto pool, and with the embedded store each would have its own cards and sessions`);
  }
  if (env.SCANPAY_ENGINE && env.SCANPAY_ENGINE !== 'baseline' && env.SCANPAY_ENGINE !== 'pool') problems.push('SCANPAY_ENGINE must be pool or baseline');
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    host, port, opsHost, opsPort, publicUrl, tls, redisUrl, clusterNodes, redisPrefix: env.SCANPAY_REDIS_PREFIX || undefined, waitReplicas, waitTimeoutMs,
    keyRingConfigured, fleetKeyConfigured,
    demo: env.SCANPAY_DEMO === '1' || !keyRingConfigured,
    demoDir: env.SCANPAY_DEMO_DIR || 'demo-cards',
    baseline: argv.includes('--baseline') || env.SCANPAY_ENGINE === 'baseline',
    threads, batch, rate, pinPaceMs, pageRate, maxConnectionAgeS, processes, group,
  };
}

const MAX_PROCESSES = 256;

/** `--processes N` (or `--processes=N`) wins over SCANPAY_PROCESSES; default 1. */
function processCount(env: NodeJS.ProcessEnv, argv: readonly string[], problems: string[]): number {
  const at = argv.findIndex((a) => a === '--processes' || a.startsWith('--processes='));
  const raw = at < 0 ? env.SCANPAY_PROCESSES : argv[at].includes('=') ? argv[at].slice('--processes='.length) : argv[at + 1];
  if (raw === undefined || raw === '') return 1;
  if (!/^[0-9]+$/.test(raw) || Number(raw) < 1 || Number(raw) > MAX_PROCESSES) {
    problems.push(`--processes (or SCANPAY_PROCESSES) must be a whole number from 1 to ${MAX_PROCESSES} (got "${raw.slice(0, 20)}")`);
    return 1;
  }
  return Number(raw);
}

function processGroup(raw: string | undefined, problems: string[]): StartConfig['group'] {
  if (!raw) return null;
  const m = /^(\d{1,3})\/(\d{1,3})$/.exec(raw);
  if (!m || Number(m[1]) >= Number(m[2])) {
    problems.push('SCANPAY_PROCESS_GROUP is set by `--processes N` for the processes it starts (index/size); do not set it by hand');
    return null;
  }
  return { index: Number(m[1]), size: Number(m[2]) };
}
