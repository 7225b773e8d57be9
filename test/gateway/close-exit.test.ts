/**
 * After `gateway.close()` and `store.close()` an embedder's process exits by itself: nothing the gateway or
 * the store started keeps it alive — no timer, watcher, worker, socket or listener (issue 20). The child
 * (test/support/embedder-child.ts) pays one card, closes both, and reports process.getActiveResourcesInfo();
 * it must then exit on its own, code 0. The wait for that exit is a hang detector only: it is far longer than
 * an exit takes, and far shorter than what holds a process today (uWS closes an idle HTTP connection after
 * 10 s; undici's keep-alive is 4 s).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { deleteKeys, describeRedis, redisForTests, testKeyPrefix } from '../support/redis.ts';

const CHILD = fileURLToPath(new URL('../support/embedder-child.ts', import.meta.url));
/** How long after its "closed" line the child may take to exit before it counts as hung. */
const HANG_MS = 3_000;
/** Handles that may be open right after close: the child's own stdio, and (Redis) the store's sockets, quit and ending. */
const STDIO = new Set(['PipeWrap', 'TTYWrap']);
/** A Redis client's socket after QUIT was answered: still closing (TCPSocketWrap), its end() perhaps still being written (SimpleShutdownWrap). */
const ENDING_SOCKET = new Set(['TCPSocketWrap', 'SimpleShutdownWrap']);

interface Run {
  resources: string[];
  /** The exit code, or 'hung' if it was still running HANG_MS after it said it had closed everything. */
  exit: number | string | 'hung';
  stderr: string;
}

async function runEmbedder(env: Record<string, string>): Promise<Run> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'none')));
  const closed = new Promise<string[]>((resolve, reject) => {
    child.stdout.on('data', (d) => {
      stdout += d;
      const line = stdout.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve((JSON.parse(line) as { resources: string[] }).resources);
    });
    void exited.then((code) => reject(new Error(`the child exited (${code}) before it closed:\n${stderr}`)));
  });
  const resources = await closed;
  let timer: NodeJS.Timeout | undefined;
  const exit = await Promise.race([exited, new Promise<'hung'>((resolve) => (timer = setTimeout(() => resolve('hung'), HANG_MS)))]);
  clearTimeout(timer);
  if (exit === 'hung') {
    child.kill('SIGKILL');
    await exited;
    stderr += `\nstill running ${HANG_MS} ms after it closed; its output since: ${stdout.split('\n').slice(1).join(' ')}`;
  }
  return { resources, exit, stderr };
}

describe('a process that embeds the gateway exits once it closed the gateway and the store', () => {
  it('embedded store: nothing left open, and it exits by itself', async () => {
    const run = await runEmbedder({});
    expect(run.resources.filter((r) => !STDIO.has(r)), run.stderr).toEqual([]);
    expect(run.exit, run.stderr).toBe(0);
  }, 60_000);

  // uWS keeps an idle keep-alive HTTP connection open after the listeners close, until its own idle timeout
  // (about 10 s): the transport's closeConnections closes the apps once the HTTP answers in progress are written.
  it('with an idle HTTP keep-alive connection to each listener (a health check, a scrape): it still exits by itself', async () => {
    const run = await runEmbedder({ KEEP_ALIVE: '1' });
    // the child's own idle client sockets, which the gateway's close just ended, may still be writing their end
    // (SimpleShutdownWrap, seen on a loaded machine); an open one would be TCPSocketWrap, and would hold the exit
    expect(run.resources.filter((r) => !STDIO.has(r) && r !== 'SimpleShutdownWrap'), run.stderr).toEqual([]);
    expect(run.exit, `${run.stderr}\nan idle keep-alive HTTP socket is still open: the transport's close must close it (app.close())`).toBe(0);
  }, 60_000);
});

const redis = await redisForTests();
afterAll(async () => {
  await redis?.stop();
});

describeRedis(redis, 'the same over Redis (store and push bus)', (server) => {
  it('Redis: only the store\'s own sockets, already quit, at close; and it exits by itself', async () => {
    const prefix = testKeyPrefix();
    try {
      const run = await runEmbedder({ REDIS_URL: server.url, SCANPAY_REDIS_PREFIX: prefix });
      expect(run.resources.filter((r) => !STDIO.has(r) && !ENDING_SOCKET.has(r)), run.stderr).toEqual([]);
      expect(run.exit, run.stderr).toBe(0);
    } finally {
      await deleteKeys(server.url, prefix);
    }
  }, 60_000);
});
