/**
 * Spawns test/support/gateway-child.ts: a real second gateway process over the same Redis, with the same
 * key ring and fleet key as the test's in-process gateway. stop() closes its stdin and waits for the exit
 * (SIGKILL after 10 s), so no process outlives the test.
 * @example
 *   const b = await spawnGatewayChild({ redisUrl, prefix, keyRing, fleetKey, options: { pinPaceMs: 0 } });
 *   const c = await spawnGatewayChild({ clusterNodes: cluster.nodes, prefix, keyRing, fleetKey, env: { SCANPAY_REDIS_WAIT_REPLICAS: '1' } });
 *   await b.stop();
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { IssuerKeyRing } from '../../issuer/key-ring.ts';

export interface GatewayProcess {
  url: string;
  scannerUrl: string;
  opsUrl: string;
  pid: number;
  /** What the process has written to stderr so far. */
  stderr(): string;
  stop(): Promise<void>;
  /** SIGKILL, as a crash would end it (no drain, no close), and waits for the exit. */
  kill(): Promise<void>;
}

const CHILD = fileURLToPath(new URL('./gateway-child.ts', import.meta.url));

export function spawnGatewayChild(opts: {
  /** One Redis, or a cluster's nodes (host:port). */
  redisUrl?: string; clusterNodes?: string[];
  prefix: string; keyRing: IssuerKeyRing; fleetKey: Uint8Array; options?: Record<string, unknown>;
  /** More environment for the child, e.g. SCANPAY_REDIS_WAIT_REPLICAS. */
  env?: Record<string, string>;
}): Promise<GatewayProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    env: {
      ...process.env, REDIS_URL: opts.redisUrl ?? '', REDIS_CLUSTER_NODES: opts.clusterNodes?.join(',') ?? '',
      ...opts.env, SCANPAY_REDIS_PREFIX: opts.prefix, SCANPAY_KEYRING: opts.keyRing.serialize(),
      SCANPAY_FLEET_KEY: Buffer.from(opts.fleetKey).toString('hex'), CHILD_OPTIONS: JSON.stringify(opts.options ?? {}),
      SCANPAY_KEYRING_FILE: '', SCANPAY_FLEET_KEY_FILE: '',
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.stdin.end();
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`gateway child did not start in 20 s:\n${output}`));
    }, 20_000);
    let line = '';
    child.stdout.on('data', (d: Buffer) => {
      line += d.toString();
      const end = line.indexOf('\n');
      if (end < 0) return;
      clearTimeout(timer);
      const ready = JSON.parse(line.slice(0, end)) as { url: string; scannerUrl: string; opsUrl: string };
      const kill = async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGKILL');
        await exited;
      };
      resolve({ ...ready, pid: child.pid!, stderr: () => output, stop, kill });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`gateway child exited (${code}) before it was ready:\n${output}`));
    });
  });
}
