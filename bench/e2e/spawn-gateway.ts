/**
 * Starts a gateway under test (gateway-process.ts, served as `npm run bench:serve` serves: bench/serve/start.ts),
 * or the architecture's floor (`floor`: bench/floor, from the same variables), as a child process, configured
 * the way an operator configures `npm start`, through its environment. Every variable readStartConfig reads is set here, so the parent's own environment (a PORT, a SCANPAY_THREADS of
 * the shell the bench runs in) never reaches the gateway: it listens on 127.0.0.1, a free port, its ops
 * listener on another, and its per-scanner rate limit and wrong-PIN budgets are raised out of the load generator's way.
 * @example
 *   const gw = spawnGateway('gateway-baseline', 'baseline', { keyRing, fleetKey, store: { REDIS_URL: url, SCANPAY_REDIS_PREFIX: prefix } });
 *   const { port } = await gw.waitFor<Message & { port: number }>('ready', 60_000);
 */
import { fileURLToPath } from 'node:url';
import type { IssuerKeyRing } from '../../issuer/key-ring.ts';
import type { ServerName } from '../serve/start.ts';
import { spawnChild, type Child, type SpawnOptions } from '../../test/support/child-process.ts';

const GATEWAY_PROCESS = fileURLToPath(new URL('./gateway-process.ts', import.meta.url));

/** Every variable of README §Configuration, unset ('' reads as unset), but for the ones a bench gateway fixes. */
const CONFIGURATION: Record<string, string> = Object.fromEntries([
  'HOST', 'PORT', 'PUBLIC_URL', 'TLS_CERT_FILE', 'TLS_KEY_FILE', 'OPS_HOST', 'OPS_PORT', 'MERCHANT_HOST', 'MERCHANT_PORT', 'REDIS_URL', 'REDIS_CLUSTER_NODES',
  'SCANPAY_REDIS_WAIT_REPLICAS', 'SCANPAY_REDIS_WAIT_MS', 'SCANPAY_REDIS_PREFIX', 'SCANPAY_KEYRING_FILE', 'SCANPAY_KEYRING',
  'SCANPAY_FLEET_KEY_FILE', 'SCANPAY_FLEET_KEY', 'SCANPAY_DEMO', 'SCANPAY_DEMO_DIR', 'SCANPAY_THREADS', 'SCANPAY_PROCESSES',
  'SCANPAY_PROCESS_GROUP', 'SCANPAY_BATCH_MAX', 'SCANPAY_BATCH_WINDOW_MS', 'SCANPAY_RATE_PER_SEC', 'SCANPAY_RATE_BURST',
  'SCANPAY_PIN_PACE_MS', 'SCANPAY_DEVICE_WRONG_PINS', 'SCANPAY_MERCHANT_WRONG_PINS', 'SCANPAY_WRONG_PIN_WINDOW_S',
  'SCANPAY_MAX_CONNECTION_AGE_S', 'SCANPAY_PAGE_RATE_PER_SEC', 'SCANPAY_PAGE_RATE_BURST', 'LOG_LEVEL',
].map((name) => [name, '']));

/** The store a gateway uses: REDIS_URL or REDIS_CLUSTER_NODES with SCANPAY_REDIS_PREFIX (and WAIT), or none (embedded). */
export type StoreEnv = Partial<Record<'REDIS_URL' | 'REDIS_CLUSTER_NODES' | 'SCANPAY_REDIS_PREFIX' | 'SCANPAY_REDIS_WAIT_REPLICAS', string>>;

export interface GatewaySpawn extends Pick<SpawnOptions, 'nodeFlags' | 'nofile'> {
  keyRing: IssuerKeyRing;
  fleetKey: Uint8Array;
  store: StoreEnv;
  /** More environment: SCANPAY_THREADS or the batch variables (pool settings), NODE_OPTIONS, gateway-process.ts's BENCH_* ones. */
  env?: Record<string, string>;
}

/**
 * The wrong-PIN budgets out of the load's way, as the rate limit is: every bench payment is one merchant's, and a
 * budget's units are held while a PIN is evaluated (docs/security.md), so the default merchant budget of 100 would
 * cap the load's PINs in evaluation at once at 100 and refuse the rest with PIN_LIMIT.
 */
export const BENCH_PIN_BUDGETS = { SCANPAY_DEVICE_WRONG_PINS: '1000000', SCANPAY_MERCHANT_WRONG_PINS: '1000000' };

export function spawnGateway(name: string, engine: ServerName, opts: GatewaySpawn): Child {
  return spawnChild(name, GATEWAY_PROCESS, {
    args: [engine],
    nodeFlags: opts.nodeFlags,
    nofile: opts.nofile,
    env: {
      ...CONFIGURATION,
      HOST: '127.0.0.1', PORT: '0', OPS_PORT: '0', MERCHANT_PORT: '0', SCANPAY_RATE_PER_SEC: '1000000', SCANPAY_RATE_BURST: '1000000',
      ...BENCH_PIN_BUDGETS,
      SCANPAY_KEYRING: opts.keyRing.serialize(), SCANPAY_FLEET_KEY: Buffer.from(opts.fleetKey).toString('hex'),
      ...opts.store,
      ...opts.env,
    },
  });
}
