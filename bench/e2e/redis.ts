/**
 * Redis for the end-to-end benchmark: the server in REDIS_URL if it is set (then only keys under a
 * per-run prefix are written, and deleted afterwards with SCAN + UNLINK — never FLUSH*, never CONFIG SET),
 * else a private `redis-server` on a free 127.0.0.1 port, no persistence, in a temp dir, stopped afterwards.
 * @example
 *   const redis = await benchRedis();
 *   try { ... redis.url, redis.prefix ... } finally { await redis.stop(); }
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { removeOnExit, spawnChild, type Child } from './children.ts';
import { answers, freePort } from '../../test/support/redis.ts'; // one implementation for tests and benches

export interface BenchRedis {
  url: string;
  prefix: string; // every key this run writes starts with it
  shared: boolean; // REDIS_URL: someone else's server
  pid: number | undefined; // the private server's pid (CPU accounting), undefined when shared
  /** Deletes this run's keys (shared server) or stops the private server. Idempotent. */
  stop(): Promise<void>;
}

const PREFIX_ROOT = 'scanpay-bench:';



/** The server's own pid (INFO server), for reading its CPU time from /proc. */
async function serverPid(url: string): Promise<number | undefined> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  redis.on('error', () => {});
  try {
    const m = /process_id:(\d+)/.exec(await redis.info('server'));
    return m ? Number(m[1]) : undefined;
  } finally {
    redis.disconnect();
  }
}

/** SCAN + UNLINK of every key under `prefix` (which must be one of ours). */
export async function deleteBenchKeys(url: string, prefix: string): Promise<number> {
  if (!prefix.startsWith(PREFIX_ROOT) || prefix.length <= PREFIX_ROOT.length) throw new Error(`refusing to delete keys under ${prefix}`);
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  redis.on('error', () => {});
  try {
    let deleted = 0;
    const match = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
    for await (const keys of redis.scanStream({ match, count: 1000 }) as AsyncIterable<string[]>) {
      if (keys.length > 0) deleted += await redis.unlink(...keys);
    }
    return deleted;
  } finally {
    redis.disconnect();
  }
}

/** `ownServer`: a private server even when REDIS_URL is set (a bench that reads the server's own CPU time). */
export async function benchRedis(opts: { ownServer?: boolean } = {}): Promise<BenchRedis> {
  const prefix = `${PREFIX_ROOT}${randomUUID()}:`;
  const shared = opts.ownServer ? undefined : process.env.REDIS_URL;
  if (shared) {
    if (!(await answers(shared))) throw new Error('REDIS_URL is set but does not answer');
    let stopped = false;
    return {
      url: shared, prefix, shared: true, pid: undefined,
      async stop() {
        if (stopped) return;
        stopped = true;
        await deleteBenchKeys(shared, prefix);
      },
    };
  }
  const dir = await mkdtemp(join(tmpdir(), 'scanpay-bench-redis-'));
  removeOnExit(dir);
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}`;
    // Behind a shell that kills redis-server when its stdin closes, so the server cannot outlive this
    // process even if it is SIGKILLed (the pipe closes with it). stop() closes stdin.
    const child: Child = spawnChild('redis-server', '/bin/sh', {
      args: ['-c', 'exec 3<&0; redis-server "$@" & r=$!; (cat <&3 >/dev/null; kill $r 2>/dev/null) & wait $r', 'sh',
        '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--loglevel', 'warning'],
    });
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline && child.running) {
      if (await answers(url)) {
        let stopped = false;
        return {
          url, prefix, shared: false, pid: await serverPid(url),
          async stop() {
            if (stopped) return;
            stopped = true;
            await child.stop(5_000);
            await rm(dir, { recursive: true, force: true });
          },
        };
      }
      await sleep(50);
    }
    await child.stop(1_000);
    if (attempt === 3) {
      await rm(dir, { recursive: true, force: true });
      throw new Error(`redis-server did not start (is it installed?)\n${child.stderrTail}`);
    }
  }
}
