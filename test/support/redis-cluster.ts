/**
 * A private Redis Cluster for tests: 6 `redis-server --cluster-enabled yes` on free loopback ports (each in
 * its own temp dir, under the same leash as startServer, so none outlives the run), joined by
 * `redis-cli --cluster create … --cluster-replicas 1` into 3 masters with one replica each. Never the shared
 * Redis at 6379. Without redis-server or redis-cli it returns null, and describeCluster skips loudly (fails under CI=true).
 * @example
 *   const cluster = await clusterForTests();
 *   afterAll(() => cluster?.stop());
 *   describeCluster(cluster, 'on a cluster', (c) => { ... c.nodes ... });
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { describeNeeding, freePort, onPath, startServer } from './redis.ts';

const run = promisify(execFile);
const NODES = 6;
const READY_TIMEOUT_MS = 20_000;

export interface TestClusterNode {
  address: string; // host:port
  /** The running server's pid (a new one after restart()). */
  pid: number;
  stop(): Promise<void>;
  /** SIGKILL, as a crash ends it; the node's directory (nodes.conf) stays for restart(). */
  kill(): Promise<void>;
  /** A new redis-server on the same port and directory: it rejoins with its nodes.conf (as a replica if it was failed over). */
  restart(): Promise<void>;
}

export interface ClusterTestOptions {
  /** cluster-node-timeout (ms): how long a master may be unreachable before its replica is promoted; default 2000. */
  nodeTimeoutMs?: number;
}

export interface TestCluster {
  /** host:port of every node, as REDIS_CLUSTER_NODES takes them. */
  nodes: string[];
  members: TestClusterNode[];
  /** Stops every node and removes their directories. */
  stop(): Promise<void>;
}

async function startNode(binary: string, nodeTimeoutMs: number): Promise<TestClusterNode> {
  for (let attempt = 1; ; attempt++) {
    // the bus port is chosen too: the default (port + 10000) may be past 65535 for a high ephemeral port
    const at = { port: await freePort(), dir: await mkdtemp(join(tmpdir(), 'scanpay-cluster-')) };
    const args = [
      '--cluster-enabled', 'yes', '--cluster-port', String(await freePort()), '--cluster-config-file', 'nodes.conf',
      '--cluster-node-timeout', String(nodeTimeoutMs),
    ];
    try {
      let server = await startServer(binary, args, at);
      const node: TestClusterNode = {
        address: `127.0.0.1:${at.port}`, pid: server.pid,
        async stop() {
          await server.stop();
          await rm(at.dir, { recursive: true, force: true });
        },
        async kill() {
          process.kill(node.pid, 'SIGKILL');
          await server.stop(); // the leash's sh has exited with the server: this only releases its pipe
        },
        async restart() {
          server = await startServer(binary, args, at);
          node.pid = server.pid;
        },
      };
      return node;
    } catch (e) {
      await rm(at.dir, { recursive: true, force: true });
      if (attempt === 3) throw e; // else another process took a free port before redis-server bound it
    }
  }
}

/** Every node agrees the cluster is ok, sees all 6, and every master has a replica in sync. */
async function clusterReady(nodes: string[]): Promise<boolean> {
  for (const address of nodes) {
    const [host, port] = address.split(':');
    const redis = new Redis({ host, port: Number(port), lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    redis.on('error', () => {});
    try {
      await redis.connect();
      const info = (await redis.cluster('INFO')) as string;
      if (!info.includes('cluster_state:ok') || !info.includes(`cluster_known_nodes:${NODES}`)) return false;
      const replication = await redis.info('replication');
      if (replication.includes('role:master') && !/connected_slaves:[1-9]/.test(replication)) return false;
      if (replication.includes('role:slave') && !replication.includes('master_link_status:up')) return false;
    } catch {
      return false;
    } finally {
      redis.disconnect();
    }
  }
  return true;
}

/** A fresh 3-master, 3-replica cluster, or null when redis-server or redis-cli is missing. */
export async function clusterForTests(opts: ClusterTestOptions = {}): Promise<TestCluster | null> {
  const server = onPath('redis-server');
  const cli = onPath('redis-cli');
  if (!server || !cli) return null;
  const members: TestClusterNode[] = [];
  const stop = async () => {
    await Promise.all(members.map((m) => m.stop()));
  };
  try {
    for (let i = 0; i < NODES; i++) members.push(await startNode(server, opts.nodeTimeoutMs ?? 2_000));
    const nodes = members.map((m) => m.address);
    await run(cli, ['--cluster', 'create', ...nodes, '--cluster-replicas', '1', '--cluster-yes'], { timeout: 30_000 });
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (!(await clusterReady(nodes))) {
      if (Date.now() > deadline) throw new Error(`the test cluster on ${nodes.join(',')} did not become ready in ${READY_TIMEOUT_MS} ms`);
      await sleep(200);
    }
    return { nodes, members, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

export function describeCluster(cluster: TestCluster | null, name: string, body: (cluster: TestCluster) => void): void {
  describeNeeding(cluster, name, 'no Redis Cluster: redis-server or redis-cli is not on PATH', body);
}
