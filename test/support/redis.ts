/**
 * Redis for tests: the server in REDIS_URL when it answers, else a private `redis-server` started on a free
 * port (127.0.0.1 only, no persistence, in a temp dir), else none — and then Redis suites are skipped with a
 * loud banner, or fail under CI=true, where a missing Redis must not pass unnoticed.
 * A shared server is only ever touched under a per-run key prefix, deleted afterwards with SCAN + UNLINK:
 * never FLUSHDB/FLUSHALL, never CONFIG SET.
 * @example
 *   const redis = await redisForTests();            // top-level await: decided before tests are collected
 *   afterAll(() => redis?.stop());
 *   describeRedis(redis, 'RedisStore', (r) => { ... r.url ... });
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
import { beforeAll, describe, it } from 'vitest';

export interface TestRedis {
  url: string;
  /** True for REDIS_URL: other clients may hold keys there, so tests look only under their own prefix. */
  shared: boolean;
  /** Stops the server if this helper started it; a no-op for REDIS_URL. */
  stop(): Promise<void>;
}

const TEST_PREFIX_ROOT = 'scanpay-test:';
const START_TIMEOUT_MS = 5_000;

/** A key prefix no other run shares, so parallel runs on one server never see each other's keys. */
export function testKeyPrefix(): string {
  return `${TEST_PREFIX_ROOT}${randomUUID()}:`;
}

/** Every key starting with `prefix`, by SCAN (never KEYS, which blocks a shared server while it walks it). */
export async function keysUnder(redis: Redis, prefix: string): Promise<string[]> {
  const found: string[] = [];
  const match = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
  for await (const keys of redis.scanStream({ match, count: 500 }) as AsyncIterable<string[]>) found.push(...keys);
  return found;
}

/** Deletes every key under `prefix` (SCAN + UNLINK, never FLUSH*); refuses prefixes outside the test namespace. */
export async function deleteKeys(url: string, prefix: string): Promise<number> {
  if (!prefix.startsWith(TEST_PREFIX_ROOT) || prefix.length <= TEST_PREFIX_ROOT.length) {
    throw new Error(`refusing to delete keys outside ${TEST_PREFIX_ROOT}<run>: ${prefix}`);
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

/** A TCP port nothing listens on right now (bench/e2e uses it too). */
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
export const LEASH = 'exec 3<&0; bin="$1"; shift; "$bin" "$@" </dev/null & server=$!; { read _ <&3; kill "$server" 2>/dev/null; } & wait "$server"';

/**
 * Starts `binary` on a free port (plus `extraArgs`, e.g. cluster mode); throws with the server's own output
 * if it does not answer in time. With `at`, on that port and in that directory, which the caller owns (stop()
 * leaves it, so a killed node can be restarted on its own nodes.conf).
 */
export async function startServer(binary: string, extraArgs: string[] = [], at?: { port: number; dir: string }): Promise<TestRedis & { pid: number; port: number }> {
  const dir = at?.dir ?? (await mkdtemp(join(tmpdir(), 'scanpay-redis-')));
  const port = at?.port ?? (await freePort());
  const url = `redis://127.0.0.1:${port}`;
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...extraArgs];
  const child: ChildProcess = spawn('sh', ['-c', LEASH, 'sh', binary, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
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
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline && running()) {
    if (await answers(url)) return { url, shared: false, stop, pid: await serverPid(url), port };
    await sleep(50);
  }
  await stop();
  throw new Error(`${binary} did not start on port ${port}:\n${output}`);
}

/** The server's own process id (INFO server), e.g. to check that it is gone after stop(). */
async function serverPid(url: string): Promise<number> {
  const redis = new Redis(url);
  try {
    return Number(/process_id:(\d+)/.exec(await redis.info('server'))?.[1]);
  } finally {
    redis.disconnect();
  }
}

/** REDIS_URL if it answers, else a private redis-server from PATH, else null. */
export async function redisForTests(): Promise<TestRedis | null> {
  const url = process.env.REDIS_URL;
  if (url) {
    if (await answers(url)) return { url, shared: true, stop: async () => {} };
    console.warn(`REDIS_URL=${url.replace(/\/\/[^@/]*@/, '//***@')} does not answer; trying a private redis-server`);
  }
  const binary = onPath('redis-server');
  if (!binary) return null;
  for (let attempt = 1; ; attempt++) {
    try {
      return await startServer(binary);
    } catch (e) {
      if (attempt === 3) throw e; // else another process took the free port before redis-server bound it
    }
  }
}

/**
 * describe() for suites that need Redis. Without one: under CI=true the suite fails (beforeAll throws);
 * elsewhere it is skipped, with a banner on stderr so a green run cannot hide that Redis went untested.
 */
export function describeRedis(redis: TestRedis | null, name: string, body: (redis: TestRedis) => void): void {
  describeNeeding(redis, name, 'no Redis: REDIS_URL is unset or does not answer, and there is no redis-server on PATH', body);
}

/** describeRedis for any resource (e.g. a test cluster): the body runs with it, else the suite skips loudly or fails under CI. */
export function describeNeeding<T>(resource: T | null, name: string, why: string, body: (resource: T) => void): void {
  if (resource) {
    describe(name, () => body(resource));
    return;
  }
  if (process.env.CI === 'true') {
    describe(name, () => {
      beforeAll(() => {
        throw new Error(`${name}: ${why}. CI requires Redis (set REDIS_URL or install redis-server).`);
      });
      it('runs against Redis', () => {});
    });
    return;
  }
  const rule = '!'.repeat(78);
  console.warn(`\n${rule}\n!! SKIPPED: ${name}\n!! ${why}.\n!! Install redis-server (and redis-cli) or set REDIS_URL=redis://host:port to run it.\n${rule}\n`);
  describe.skip(name, () => {
    it('runs against Redis', () => {});
  });
}
