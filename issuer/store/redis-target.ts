/**
 * Which Redis the store and the push bus talk to: one server (a redis:// URL) or a Redis Cluster (its seed
 * nodes, `REDIS_CLUSTER_NODES=host:port,host:port`; ioredis learns the rest of the topology from them).
 * @example
 *   const target = redisTarget({ clusterNodes: '10.0.0.1:7000,10.0.0.2:7000' }); // { cluster: [...] }
 */
import { ScanpayError } from '../../core/errors.ts';

export interface ClusterNode {
  host: string;
  port: number;
}

export type RedisTarget = { url: string } | { cluster: ClusterNode[] };

/** `host:port[,host:port…]` (IPv6 as `[::1]:7000`) as ioredis Cluster seed nodes. */
export function parseClusterNodes(list: string): ClusterNode[] {
  const nodes = list.split(',').map((s) => s.trim()).filter(Boolean).map((entry) => {
    const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(entry);
    const port = m ? Number(m[3]) : 0;
    if (!m || port < 1 || port > 65_535) throw new ScanpayError('BAD_ARGUMENT', `REDIS_CLUSTER_NODES entry "${entry}" is not host:port`);
    return { host: m[1] ?? m[2], port };
  });
  if (nodes.length === 0) throw new ScanpayError('BAD_ARGUMENT', 'REDIS_CLUSTER_NODES lists no host:port');
  return nodes;
}

/**
 * What ioredis is given as one server: `redis://[[user]:password@]host[:port][/db]`, `rediss://…` (TLS), or a
 * unix socket path. Anything else is refused before ioredis sees it: it would read an `http://` URL as a socket
 * path, and a malformed URL's error quotes it, password and all. The message never shows the URL.
 */
export function checkRedisUrl(url: string): void {
  if (url.startsWith('/')) return; // a unix socket path
  let parsed: URL | null = null;
  try {
    parsed = new URL(url);
  } catch {
    // reported below
  }
  const db = parsed?.pathname ?? '';
  if (!parsed || (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') || parsed.hostname === '' || !/^(\/\d{0,5})?$/.test(db) || parsed.hash !== '') {
    throw new ScanpayError('BAD_ARGUMENT', 'REDIS_URL must be redis://[:password@]host[:port][/db], rediss://… or a unix socket path (the value is not shown: it may hold a password)');
  }
}

/** The target from a URL and/or a node list (both set is ambiguous: refused), or null for neither. */
export function redisTarget(opts: { redisUrl?: string; clusterNodes?: string }): RedisTarget | null {
  if (opts.redisUrl && opts.clusterNodes) throw new ScanpayError('BAD_ARGUMENT', 'set REDIS_URL or REDIS_CLUSTER_NODES, not both');
  if (opts.clusterNodes) return { cluster: parseClusterNodes(opts.clusterNodes) };
  if (!opts.redisUrl) return null;
  checkRedisUrl(opts.redisUrl);
  return { url: opts.redisUrl };
}
