/**
 * Tests leave nothing behind: a private redis-server started by test/support/redis.ts stops with stop(),
 * and also dies when the test process that started it is killed before it could call stop().
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answers, onPath, startServer } from '../support/redis.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const redisServer = onPath('redis-server');

/** True while `pid` is a live process (a zombie counts as gone: it runs nothing and holds no port). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe.skipIf(!redisServer && process.env.CI !== 'true')('private redis-server for tests', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scanpay-leftovers-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('stop() ends the server', async () => {
    const server = await startServer(redisServer!);
    expect(alive(server.pid)).toBe(true);
    await server.stop();
    expect(alive(server.pid)).toBe(false);
    expect(await answers(server.url)).toBe(false);
  });

  it('a test process killed (SIGKILL) before stop() takes its server with it', async () => {
    const script = join(dir, 'killed.mts');
    writeFileSync(script, [
      `import { onPath, startServer } from ${JSON.stringify(join(ROOT, 'test/support/redis.ts'))};`,
      `const server = await startServer(onPath('redis-server'));`,
      `process.stdout.write(JSON.stringify({ pid: server.pid, url: server.url }) + '\\n');`,
      `process.kill(process.pid, 'SIGKILL');`,
    ].join('\n'));
    const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    const signal = await new Promise((resolve) => child.once('exit', (_code, sig) => resolve(sig)));
    expect(signal).toBe('SIGKILL');
    const { pid, url } = JSON.parse(stdout) as { pid: number; url: string };
    expect(pid).toBeGreaterThan(0);
    await expect.poll(() => alive(pid), { timeout: 5_000 }).toBe(false);
    expect(await answers(url)).toBe(false);
  });
});
