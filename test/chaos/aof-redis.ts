/**
 * The chaos run's Redis: a private `redis-server` (test/support/redis-server.ts startServer) on a free
 * 127.0.0.1 port, in its own temp dir, with AOF (`appendonly yes`, `appendfsync always`: every acknowledged
 * write is on disk before its reply). It can be SIGKILLed and restarted on the same port and dir (the AOF
 * brings the data back), paused and made to refuse writes — faults injected on this server only, never on
 * the machine's shared Redis. It dies with this process, however that ends (startServer's leash).
 * @example
 *   const redis = await AofRedis.start();
 *   await redis.kill(); await redis.restart();
 *   await redis.stop();
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, onPath, startServer, type PrivateRedis } from '../support/redis-server.ts';

const AOF = ['--appendonly', 'yes', '--appendfsync', 'always', '--protected-mode', 'yes'];
const START_TIMEOUT_MS = 15_000; // a restart loads the AOF first

export class AofRedis {
  readonly url: string;
  #server: PrivateRedis | null = null;

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
    return this.#server?.pid ?? 0;
  }

  /** Starts the server on this port and dir (after a kill: loading the AOF) and waits until it answers. */
  async restart(): Promise<void> {
    if (this.#server) throw new Error('redis-server is already running');
    this.#server = await startServer(this.binary, AOF, { port: this.port, dir: this.dir }, START_TIMEOUT_MS);
  }

  /** SIGKILL to the server process (no shutdown, no final fsync), and waits until it is gone. */
  async kill(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    process.kill(server.pid, 'SIGKILL');
    await server.stop(); // the leash's sh exits once its server has: this waits for that and releases its pipe
    this.#server = null;
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
    await this.#server?.stop();
    this.#server = null;
    await rm(this.dir, { recursive: true, force: true });
  }
}
