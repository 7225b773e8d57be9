/**
 * The chaos run's Redis: a private `redis-server` on a free 127.0.0.1 port, in its own temp dir, with AOF
 * (`appendonly yes`, `appendfsync always`: every acknowledged write is on disk before its reply). It can be
 * SIGKILLed and restarted on the same port and dir (the AOF brings the data back), paused and made to
 * refuse writes — faults injected on this server only, never on the machine's shared Redis.
 * Each server runs under the tests' leash (test/support/redis.ts): it dies with this process, however that ends.
 * @example
 *   const redis = await AofRedis.start();
 *   await redis.kill(); await redis.restart();
 *   await redis.stop();
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { answers, freePort, LEASH, onPath } from '../support/redis.ts';

const START_TIMEOUT_MS = 15_000;

export class AofRedis {
  readonly url: string;
  #leash: ChildProcess | null = null;
  #pid = 0;
  #output = '';

  private constructor(readonly binary: string, readonly dir: string, readonly port: number) {
    this.url = `redis://127.0.0.1:${port}`;
  }

  /** Null when there is no redis-server on PATH. */
  static async start(): Promise<AofRedis | null> {
    const binary = onPath('redis-server');
    if (!binary) return null;
    const dir = await mkdtemp(join(tmpdir(), 'scanpay-chaos-redis-'));
    const redis = new AofRedis(binary, dir, await freePort());
    try {
      await redis.restart();
    } catch (e) {
      await redis.stop();
      throw e;
    }
    return redis;
  }

  /** The server's own pid (what kill() signals). */
  get pid(): number {
    return this.#pid;
  }

  get running(): boolean {
    return this.#leash !== null && this.#leash.exitCode === null && this.#leash.signalCode === null;
  }

  /** Starts the server on this port and dir (after a kill: loading the AOF) and waits until it answers. */
  async restart(): Promise<void> {
    if (this.running) throw new Error('redis-server is already running');
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', '',
      '--appendonly', 'yes', '--appendfsync', 'always', '--protected-mode', 'yes'];
    const leash = spawn('sh', ['-c', LEASH, 'sh', this.binary, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    leash.stdout?.on('data', (d) => (this.#output = (this.#output + d).slice(-4_000)));
    leash.stderr?.on('data', (d) => (this.#output = (this.#output + d).slice(-4_000)));
    this.#leash = leash;
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline && this.running) {
      if (await answers(this.url)) {
        this.#pid = await this.#serverPid();
        return;
      }
      await sleep(20);
    }
    throw new Error(`redis-server did not start on port ${this.port}:\n${this.#output}`);
  }

  /** SIGKILL to the server process (no shutdown, no final fsync), and waits until it is gone. */
  async kill(): Promise<void> {
    const leash = this.#leash;
    if (!leash || !this.running) return;
    const exited = new Promise((resolve) => leash.once('exit', resolve));
    process.kill(this.#pid, 'SIGKILL');
    await exited; // the leash's sh exits once its server has
    leash.stdin?.destroy();
    this.#leash = null;
  }

  /** One command on a short-lived admin connection (CLIENT PAUSE, CONFIG SET …) to this private server. */
  async command(...args: (string | number)[]): Promise<unknown> {
    const admin = new Redis(this.url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    admin.on('error', () => {});
    try {
      await admin.connect();
      return await admin.call(String(args[0]), ...args.slice(1).map(String));
    } finally {
      admin.disconnect();
    }
  }

  /** Stops the server (through its leash) and removes its dir. */
  async stop(): Promise<void> {
    const leash = this.#leash;
    if (leash && this.running) {
      const exited = new Promise((resolve) => leash.once('exit', resolve));
      leash.stdin?.end();
      await exited;
    }
    leash?.stdin?.destroy();
    this.#leash = null;
    await rm(this.dir, { recursive: true, force: true });
  }

  async #serverPid(): Promise<number> {
    return Number(/process_id:(\d+)/.exec(String(await this.command('INFO', 'server')))?.[1]);
  }
}
