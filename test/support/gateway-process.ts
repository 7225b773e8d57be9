/**
 * Spawns test/support/gateway-child.ts: a real second gateway process over the same Redis, with the same
 * key ring and fleet key as the test's in-process gateway (a child-process.ts child, as the benchmarks' are).
 * stop() closes its stdin and waits for the exit (SIGTERM, then SIGKILL, if it lingers past 10 s), so no
 * process outlives the test.
 * @example
 *   const b = await spawnGatewayChild({ redisUrl, prefix, keyRing, fleetKey, options: { pinPaceMs: 0 } });
 *   const c = await spawnGatewayChild({ clusterNodes: cluster.nodes, prefix, keyRing, fleetKey, env: { SCANPAY_REDIS_WAIT_REPLICAS: '1' } });
 *   await b.stop();
 */
import { fileURLToPath } from 'node:url';
import type { IssuerKeyRing } from '../../issuer/key-ring.ts';
import { spawnChild, type Message } from './child-process.ts';

export interface GatewayProcess {
  url: string;
  scannerUrl: string;
  opsUrl: string;
  merchantUrl: string;
  pid: number;
  /** What the process has written to stderr so far. */
  stderr(): string;
  stop(): Promise<void>;
  /** SIGKILL, as a crash would end it (no drain, no close), and waits for the exit. */
  kill(): Promise<void>;
}

const CHILD = fileURLToPath(new URL('./gateway-child.ts', import.meta.url));

export async function spawnGatewayChild(opts: {
  /** One Redis, or a cluster's nodes (host:port). */
  redisUrl?: string; clusterNodes?: string[];
  prefix: string; keyRing: IssuerKeyRing; fleetKey: Uint8Array; options?: Record<string, unknown>;
  /** More environment for the child, e.g. SCANPAY_REDIS_WAIT_REPLICAS. */
  env?: Record<string, string>;
}): Promise<GatewayProcess> {
  const child = spawnChild('gateway child', CHILD, {
    env: {
      REDIS_URL: opts.redisUrl ?? '', REDIS_CLUSTER_NODES: opts.clusterNodes?.join(',') ?? '',
      ...opts.env, SCANPAY_REDIS_PREFIX: opts.prefix, SCANPAY_KEYRING: opts.keyRing.serialize(),
      SCANPAY_FLEET_KEY: Buffer.from(opts.fleetKey).toString('hex'), CHILD_OPTIONS: JSON.stringify(opts.options ?? {}),
      SCANPAY_KEYRING_FILE: '', SCANPAY_FLEET_KEY_FILE: '',
    },
    stderrChars: Infinity, // tests read all of it (e.g. that uWS printed no warning)
  });
  const stop = () => child.stop(10_000);
  try {
    const ready = await child.waitFor<Message & { url: string; scannerUrl: string; opsUrl: string; merchantUrl: string }>('ready', 20_000);
    return { url: ready.url, scannerUrl: ready.scannerUrl, opsUrl: ready.opsUrl, merchantUrl: ready.merchantUrl, pid: child.pid!, stderr: () => child.stderr, stop, kill: () => child.kill() };
  } catch (e) {
    await stop();
    throw e;
  }
}
