/**
 * `npm start`'s configuration: every environment variable of the README's table, read and checked once,
 * before anything starts. A bad value is one clear line naming the variable (never a secret's value, never a
 * Redis URL, which may hold a password), and all of them are reported together. Files named by a variable
 * (key ring, fleet key, TLS certificate and key) are read and checked here too, and the demo folder must be
 * writable. Combinations that would silently do the wrong thing are refused: a Redis store with throw-away
 * demo keys (orphan cards would pile up in Redis), a Redis store with an in-memory fleet key (no scanner could
 * connect), a public bind address without PUBLIC_URL (pushed page URLs would read http://0.0.0.0:…), a key
 * given both as a file and inline.
 * Not checked here: Node's own variables (NODE_OPTIONS, NODE_EXTRA_CA_CERTS, TZ…) and those the libraries
 * read themselves (PISCINA_*, UWS_*): they are theirs, passed through as they are.
 */
import { ScanpayBaseError, isScanpayError } from '../core/errors.ts';
import { readKeyRing } from '../issuer/key-ring-source.ts';
import { DEFAULT_COMMAND_TIMEOUT_MS, DEFAULT_WAIT_TIMEOUT_MS, MAX_HOLD_WINDOW_MS, type PinBudget, PREFIX_PATTERN, redisTarget } from '../issuer/store/index.ts';
import { GATEWAY_DEFAULTS } from './defaults.ts';
import { loadFleetKey } from '../protocol/fleet-key.ts';
import { PIN_ENTRIES, isPinEntry, type PinEntry } from '../protocol/values.ts';
import { demoDirProblem } from './demo.ts';
import { hostProblem, publicOrigin, tlsProblems } from './listen-checks.ts';
import { LOG_LEVELS, isLogLevel, type LogLevel } from './log.ts';


export interface StartConfig {
  host: string;
  port: number;
  opsHost: string;
  opsPort: number;
  merchantHost: string;
  merchantPort: number;
  publicUrl?: string; // an origin: scheme, host and port only
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
  threads?: number;
  batch: { maxItems: number; windowMs: number };
  rate: { perSecond: number; burst: number };
  pinPaceMs?: number;
  /** SCANPAY_DEVICE_WRONG_PINS, SCANPAY_MERCHANT_WRONG_PINS within SCANPAY_WRONG_PIN_WINDOW_S (GatewayOptions.pinBudget). */
  pinBudget: PinBudget;
  pageRate: { perSecond: number; burst: number };
  /** SCANPAY_MAX_CONNECTION_AGE_S: a scanner connection is closed (4001) and re-authenticated after at most this long. */
  maxConnectionAgeS: number;
  /** SCANPAY_HOLD_WINDOW_S: a manual-capture hold's window for a merchant without its own (GatewayOptions.holdWindowMs). */
  holdWindowS: number;
  /** SCANPAY_PIN_ENTRY: where holders enter the PIN for a merchant whose record sets none (GatewayOptions.pinEntry). */
  pinEntry: PinEntry;
  /** SCANPAY_HOLD_SWEEP_S: how often this process releases holds past their window; 0: never (GatewayOptions.holdSweepMs). */
  holdSweepS: number;
  /** `--processes N` / SCANPAY_PROCESSES: gateway processes sharing one port (gateway/processes.ts); 1: this one. */
  processes: number;
  /** Set in a process the group started (SCANPAY_PROCESS_GROUP=i/N): it may share its port with the group. */
  group: { index: number; size: number } | null;
  logLevel: LogLevel;
  /** SCANPAY_SEALER_INTERVAL_MS: how often this gateway seals merchants' new events into their journals. */
  sealerIntervalMs: number;
  /** SCANPAY_WEBHOOK_*: delivery round interval, retry delays, request deadline, concurrency, private receivers. */
  webhooks: { intervalMs: number; retryScheduleMs: number[]; timeoutMs: number; maxConcurrent: number; allowPrivate: boolean };
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

const PUBLIC_BINDS = new Set(['0.0.0.0', '::']);

export function readStartConfig(env: NodeJS.ProcessEnv, argv: readonly string[]): StartConfig {
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
  const set = (name: string) => Boolean(env[name]);
  /** Runs a check that throws a typed error (a key loader, the Redis target) and keeps its message as a problem. */
  const check = (what: string, run: () => unknown) => {
    try {
      run();
    } catch (e) {
      if (!isScanpayError(e)) throw e;
      problems.push(what ? `${what}: ${e.message}` : e.detail ?? e.message);
    }
  };

  const host = env.HOST || d.host;
  const port = int('PORT', d.port, 0, 65_535);
  const opsHost = env.OPS_HOST || d.opsHost;
  const opsPort = int('OPS_PORT', d.startOpsPort, 0, 65_535);
  const merchantHost = env.MERCHANT_HOST || d.merchantHost;
  const merchantPort = int('MERCHANT_PORT', d.startMerchantPort, 0, 65_535);
  for (const [name, value] of [['HOST', host], ['OPS_HOST', opsHost], ['MERCHANT_HOST', merchantHost]]) {
    const problem = hostProblem(name, value);
    if (problem) problems.push(problem);
  }
  let publicUrl: string | undefined;
  if (env.PUBLIC_URL) {
    const checked = publicOrigin('PUBLIC_URL', env.PUBLIC_URL);
    if ('problem' in checked) problems.push(checked.problem);
    else publicUrl = checked.origin;
  } else if (PUBLIC_BINDS.has(host)) {
    problems.push(`HOST=${host} listens on every interface: set PUBLIC_URL to the address scanners and holders reach (page URLs would read http://${host}:${port}/…)`);
  }
  let tls: StartConfig['tls'];
  if (set('TLS_CERT_FILE') || set('TLS_KEY_FILE')) {
    if (!set('TLS_CERT_FILE') || !set('TLS_KEY_FILE')) problems.push('TLS needs both TLS_CERT_FILE and TLS_KEY_FILE');
    else {
      tls = { certFile: env.TLS_CERT_FILE!, keyFile: env.TLS_KEY_FILE! };
      problems.push(...tlsProblems({ cert: 'TLS_CERT_FILE', key: 'TLS_KEY_FILE' }, tls));
    }
  }
  const redisUrl = env.REDIS_URL || undefined;
  const clusterNodes = env.REDIS_CLUSTER_NODES || undefined;
  check('', () => redisTarget({ redisUrl, clusterNodes })); // the URL's shape, the node list's, not both
  const persistent = Boolean(redisUrl || clusterNodes);
  const redisPrefix = env.SCANPAY_REDIS_PREFIX || undefined;
  if (redisPrefix !== undefined && !PREFIX_PATTERN.test(redisPrefix)) {
    problems.push(`SCANPAY_REDIS_PREFIX must be 1 to 128 letters, digits or : . _ - (no spaces, braces or glob characters; got "${redisPrefix.slice(0, 20)}")`);
  }
  const waitReplicas = int('SCANPAY_REDIS_WAIT_REPLICAS', 0, 0, 16);
  const waitTimeoutMs = int('SCANPAY_REDIS_WAIT_MS', DEFAULT_WAIT_TIMEOUT_MS, 1, DEFAULT_COMMAND_TIMEOUT_MS - 1);
  const keyRingConfigured = set('SCANPAY_KEYRING_FILE') || set('SCANPAY_KEYRING');
  const fleetKeyConfigured = set('SCANPAY_FLEET_KEY_FILE') || set('SCANPAY_FLEET_KEY');
  // each read and parsed here (and dropped), so a missing file or a malformed key is a line, not a stack
  if (set('SCANPAY_KEYRING_FILE') && set('SCANPAY_KEYRING')) problems.push('set SCANPAY_KEYRING_FILE (a key ring file) or SCANPAY_KEYRING (its JSON), not both');
  else if (set('SCANPAY_KEYRING_FILE')) check('SCANPAY_KEYRING_FILE', () => readKeyRing({ file: env.SCANPAY_KEYRING_FILE! }));
  else if (set('SCANPAY_KEYRING')) check('SCANPAY_KEYRING', () => readKeyRing({ json: env.SCANPAY_KEYRING! }));
  if (set('SCANPAY_FLEET_KEY_FILE') && set('SCANPAY_FLEET_KEY')) problems.push('set SCANPAY_FLEET_KEY_FILE (a file) or SCANPAY_FLEET_KEY (64 hex digits), not both');
  else if (set('SCANPAY_FLEET_KEY_FILE')) check('SCANPAY_FLEET_KEY_FILE', () => loadFleetKey({ file: env.SCANPAY_FLEET_KEY_FILE! }));
  else if (set('SCANPAY_FLEET_KEY')) check('', () => loadFleetKey({ env: { SCANPAY_FLEET_KEY: env.SCANPAY_FLEET_KEY } })); // its message names it
  if (persistent && !keyRingConfigured) {
    problems.push('a Redis store (REDIS_URL or REDIS_CLUSTER_NODES) but no key ring: run `npx scanpay keys generate` and set SCANPAY_KEYRING_FILE=scanpay-keyring.json (cards issued under throw-away demo keys would pile up in Redis)');
  }
  if (persistent && !fleetKeyConfigured) {
    problems.push('a Redis store (REDIS_URL or REDIS_CLUSTER_NODES) but no fleet key: run `npx scanpay fleet-key generate` and set SCANPAY_FLEET_KEY_FILE=scanpay-fleet.key (scanners need secrets from a key that outlives this process)');
  }
  if (env.SCANPAY_DEMO && env.SCANPAY_DEMO !== '1') {
    problems.push(`SCANPAY_DEMO must be 1, or unset (demo cards are written whenever no key ring is set; got "${env.SCANPAY_DEMO.slice(0, 20)}")`);
  }
  const demo = env.SCANPAY_DEMO === '1' || !keyRingConfigured;
  const demoDir = env.SCANPAY_DEMO_DIR || 'demo-cards';
  const demoDirUnusable = demo ? demoDirProblem(demoDir) : null;
  if (demoDirUnusable) problems.push(`the demo cards' folder (SCANPAY_DEMO_DIR, default ./demo-cards): ${demoDirUnusable}`);
  const threads = env.SCANPAY_THREADS ? int('SCANPAY_THREADS', 1, 1, 256) : undefined;
  const batch = { maxItems: int('SCANPAY_BATCH_MAX', d.batch.maxItems, 1, 4096), windowMs: int('SCANPAY_BATCH_WINDOW_MS', d.batch.windowMs, 0, 1000) };
  const rate = { perSecond: int('SCANPAY_RATE_PER_SEC', d.framesPerSecond, 1, 1_000_000), burst: int('SCANPAY_RATE_BURST', d.burst, 1, 1_000_000) };
  const pinPaceMs = env.SCANPAY_PIN_PACE_MS ? int('SCANPAY_PIN_PACE_MS', d.pinPaceMs, 0, 86_400_000) : undefined;
  const wrongPinWindowMs = int('SCANPAY_WRONG_PIN_WINDOW_S', d.pinBudget.device.windowMs / 1000, 1, 30 * 86_400) * 1000;
  const pinBudget: PinBudget = {
    device: { max: int('SCANPAY_DEVICE_WRONG_PINS', d.pinBudget.device.max, 1, 1_000_000), windowMs: wrongPinWindowMs },
    merchant: { max: int('SCANPAY_MERCHANT_WRONG_PINS', d.pinBudget.merchant.max, 1, 1_000_000), windowMs: wrongPinWindowMs },
  };
  const pageRate = {
    perSecond: int('SCANPAY_PAGE_RATE_PER_SEC', d.pageLimits.perAddress.perSecond, 1, 1_000_000),
    burst: int('SCANPAY_PAGE_RATE_BURST', d.pageLimits.perAddress.burst, 1, 1_000_000),
  };
  const maxConnectionAgeS = int('SCANPAY_MAX_CONNECTION_AGE_S', d.maxConnectionAgeS, 10, 604_800);
  const holdWindowS = int('SCANPAY_HOLD_WINDOW_S', d.holdWindowMs / 1000, 1, MAX_HOLD_WINDOW_MS / 1000);
  const holdSweepS = int('SCANPAY_HOLD_SWEEP_S', d.holdSweepMs / 1000, 0, 86_400);
  const group = processGroup(env.SCANPAY_PROCESS_GROUP, problems);
  const processes = group ? 1 : processCount(env, argv, problems);
  if (processes > 1 && !persistent) {
    problems.push(`--processes ${processes} needs REDIS_URL or REDIS_CLUSTER_NODES: each process has its own crypto pool, and with the embedded store each would have its own cards and sessions`);
  }
  const sealerIntervalMs = int('SCANPAY_SEALER_INTERVAL_MS', d.sealerIntervalMs, 50, 60_000);
  const webhooks = {
    intervalMs: int('SCANPAY_WEBHOOK_INTERVAL_MS', d.webhooks.intervalMs, 50, 60_000),
    retryScheduleMs: retrySchedule(env.SCANPAY_WEBHOOK_RETRY_MS, problems),
    timeoutMs: int('SCANPAY_WEBHOOK_TIMEOUT_MS', d.webhooks.timeoutMs, 100, 60_000),
    maxConcurrent: int('SCANPAY_WEBHOOK_CONCURRENCY', d.webhooks.maxConcurrent, 1, 1024),
    allowPrivate: env.SCANPAY_WEBHOOK_ALLOW_PRIVATE === '1',
  };
  if (env.SCANPAY_WEBHOOK_ALLOW_PRIVATE && env.SCANPAY_WEBHOOK_ALLOW_PRIVATE !== '1') {
    problems.push(`SCANPAY_WEBHOOK_ALLOW_PRIVATE must be 1, or unset (got "${env.SCANPAY_WEBHOOK_ALLOW_PRIVATE.slice(0, 20)}")`);
  }
  const pinEntry = env.SCANPAY_PIN_ENTRY || d.pinEntry;
  if (!isPinEntry(pinEntry)) problems.push(`SCANPAY_PIN_ENTRY must be ${PIN_ENTRIES.join(' or ')} (got "${pinEntry.slice(0, 20)}")`);
  const logLevel = env.LOG_LEVEL || 'info';
  if (!isLogLevel(logLevel)) problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')} (got "${logLevel.slice(0, 20)}")`);
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    host, port, opsHost, opsPort, merchantHost, merchantPort, publicUrl, tls, redisUrl, clusterNodes, redisPrefix, waitReplicas, waitTimeoutMs,
    keyRingConfigured, fleetKeyConfigured, demo, demoDir,
    threads, batch, rate, pinPaceMs, pinBudget, pageRate, maxConnectionAgeS, holdWindowS, pinEntry: pinEntry as PinEntry, holdSweepS, processes, group, logLevel: logLevel as LogLevel,
    sealerIntervalMs, webhooks,
  };
}

const MAX_RETRIES = 32;
const MAX_RETRY_DELAY_MS = 7 * 86_400_000;

/** SCANPAY_WEBHOOK_RETRY_MS: the delays before each retry, comma-separated ms (default: 1 min … 10 h, 27 h in all). */
function retrySchedule(raw: string | undefined, problems: string[]): number[] {
  if (raw === undefined || raw === '') return [...GATEWAY_DEFAULTS.webhooks.retryScheduleMs];
  const parts = raw.split(',');
  if (parts.length > MAX_RETRIES || !parts.every((p) => /^[0-9]{1,10}$/.test(p) && Number(p) >= 1 && Number(p) <= MAX_RETRY_DELAY_MS)) {
    problems.push(`SCANPAY_WEBHOOK_RETRY_MS must be 1 to ${MAX_RETRIES} comma-separated delays in ms, each from 1 to ${MAX_RETRY_DELAY_MS} (got "${raw.slice(0, 40)}")`);
    return [...GATEWAY_DEFAULTS.webhooks.retryScheduleMs];
  }
  return parts.map(Number);
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
