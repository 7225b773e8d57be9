/**
 * Private `redis-server` processes and per-run key prefixes, for the tests (redis.ts, redis-cluster.ts,
 * test/chaos) and the benchmarks (bench/e2e/redis.ts) alike; no test framework in here, so a benchmark can
 * import it. A private server listens on 127.0.0.1 only, on a free port, in a temp dir, with no persistence
 * unless asked, and dies with this process however it ends (LEASH). A shared server is only ever touched under
 * a per-run key prefix, deleted afterwards with SCAN + UNLINK: never FLUSHDB/FLUSHALL, never CONFIG SET.
 * @example
 *   const server = await startServer(onPath('redis-server')!);   // { url, pid, port, stop }
 *   await deleteKeys(sharedUrl, prefix);                          // prefix from testKeyPrefix()
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';

export interface TestRedis {
  url: string;
  /** True for REDIS_URL: other clients may hold keys there, so tests look only under their own prefix. */
  shared: boolean;
  /** Stops the server if this helper started it; a no-op for REDIS_URL. */
  stop(): Promise<void>;
}

/** A server startServer started: its own pid (what a fault injection kills) and port. */
export type PrivateRedis = TestRedis & { pid: number; port: number };

const TEST_PREFIX_ROOT = 'scanpay-test:';
/** The roots under which a run's keys live on a shared server (tests, benchmarks): the only ones deleteKeys deletes. */
const RUN_PREFIX_ROOTS = [TEST_PREFIX_ROOT, 'scanpay-bench:'];
const START_TIMEOUT_MS = 5_000;

/** A key prefix no other run shares, so parallel runs on one server never see each other's keys. */
export function testKeyPrefix(root = TEST_PREFIX_ROOT): string {
  return `${root}${randomUUID()}:`;
}

/** Every key starting with `prefix`, by SCAN (never KEYS, which blocks a shared server while it walks it). */
export async function keysUnder(redis: Redis, prefix: string): Promise<string[]> {
  const found: string[] = [];
  const match = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
  for await (const keys of redis.scanStream({ match, count: 500 }) as AsyncIterable<string[]>) found.push(...keys);
  return found;
}

/** Deletes every key under `prefix` (SCAN + UNLINK, never FLUSH*); refuses a prefix that is not one run's. */
export async function deleteKeys(url: string, prefix: string): Promise<number> {
  const root = RUN_PREFIX_ROOTS.find((r) => prefix.startsWith(r));
  if (!root || prefix.length <= root.length) {
    throw new Error(`refusing to delete keys outside ${RUN_PREFIX_ROOTS.map((r) => `${r}<run>`).join(' or ')}: ${prefix}`);
  }
  const redis = new Redis(url);
  try {
    const keys = await keysUnder(redis, prefix);
    let deleted = 0;
    for (let i = 0; i < keys.length; i += 500) deleted += await redis.unlink(...keys.slice(i, i + 500));
    return deleted;
  } finally {
    await redis.quit();
  }
}

/** True when a Redis server answers PING at url within a second. */
export async function answers(url: string): Promise<boolean> {
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: 1_000, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  redis.on('error', () => {}); // the outcome is the boolean below
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

export function onPath(binary: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, binary);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return null;
}

/** A TCP port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/**
 * redis-server cannot watch its parent, so it runs under a small sh that holds the read end of a pipe from
 * this process (fd 3) and kills the server when the pipe closes: on stop(), and also when this process dies
 * without calling it (a crashed or killed test worker), so no server outlives the test run.
 * (The reader gets fd 3 explicitly: a background job's stdin is /dev/null in a non-interactive sh.)
 */
const LEASH = 'exec 3<&0; bin="$1"; shift; "$bin" "$@" </dev/null & server=$!; { read _ <&3; kill "$server" 2>/dev/null; } & wait "$server"';

/**
 * Starts `binary` on a free port, no persistence, plus `extraArgs` (a later option wins over an earlier one,
 * so `--appendonly yes` turns the AOF on; or cluster mode); throws with the server's own output if it does not
 * answer within `timeoutMs`. Without `at` it tries three free ports (another process may take one before the
 * server binds it) and stop() removes its temp dir. With `at`, on that port and in that directory, which the
 * caller owns (stop() leaves it, so a killed server can be restarted on its own AOF or nodes.conf).
 */
export async function startServer(binary: string, extraArgs: string[] = [], at?: { port: number; dir: string }, timeoutMs = START_TIMEOUT_MS): Promise<PrivateRedis> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(binary, extraArgs, at, timeoutMs);
    } catch (e) {
      if (at || attempt === 3) throw e;
    }
  }
}

async function startOnce(binary: string, extraArgs: string[], at: { port: number; dir: string } | undefined, timeoutMs: number): Promise<PrivateRedis> {
  const dir = at?.dir ?? (await mkdtemp(join(tmpdir(), 'scanpay-redis-')));
  const port = at?.port ?? (await freePort());
  const url = `redis://127.0.0.1:${port}`;
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...extraArgs];
  const child: ChildProcess = spawn('sh', ['-c', LEASH, 'sh', binary, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d) => (output = (output + d).slice(-8_000)));
  child.stderr?.on('data', (d) => (output = (output + d).slice(-8_000)));
  child.once('error', (e) => (output += `\n${e.message}`)); // e.g. sh missing: no pid, no exit event
  const running = (): boolean => child.pid !== undefined && child.exitCode === null && child.signalCode === null;
  const stop = async (): Promise<void> => {
    if (running()) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.stdin?.end(); // the leash: sh kills the server, waits for it, then exits
      await exited;
    }
    child.stdin?.destroy();
    if (!at) await rm(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && running()) {
    if (await answers(url)) return { url, shared: false, stop, pid: await serverPid(url), port };
    await sleep(50);
  }
  await stop();
  throw new Error(`${binary} did not start on port ${port}:\n${output}`);
}

/** The server's own process id (INFO server): what a fault injection kills, whose CPU time a benchmark reads. */
export async function serverPid(url: string): Promise<number> {
  const redis = new Redis(url);
  try {
    return Number(/process_id:(\d+)/.exec(await redis.info('server'))?.[1]);
  } finally {
    redis.disconnect();
  }
}
