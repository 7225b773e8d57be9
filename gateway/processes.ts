/**
 * `npm start -- --processes N` (or SCANPAY_PROCESSES=N): N gateway processes on one port, each with its own
 * crypto pool, over the Redis they share. This process only supervises: it checks the port is free (a group
 * never joins a port someone else holds), then starts N copies of the gateway with SCANPAY_PROCESS_GROUP=i/N,
 * which lets them share the port (SO_REUSEPORT: the kernel spreads connections over them); a gateway started
 * without it listens exclusively, so an accidental second start fails instead of taking half the traffic.
 * The merchant API's port (MERCHANT_PORT) is shared by the group the same way. Each process gets its own ops
 * port (OPS_PORT + i) and cores / N crypto threads unless SCANPAY_THREADS says.
 * A group stands or falls together: SIGINT/SIGTERM stop every process gracefully; a process that dies takes
 * the others down (exit 1), and a process whose supervisor is gone stops by itself (IPC disconnect).
 * @example
 *   PORT=8080 REDIS_URL=redis://… SCANPAY_KEYRING_FILE=… SCANPAY_FLEET_KEY_FILE=… npm start -- --processes 4
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { availableParallelism } from 'node:os';
import type { StartConfig } from './config.ts';

/** Binds host:port without SO_REUSEPORT, as a check: it fails (EADDRINUSE) if anything listens there. Returns the port (port 0: one picked). */
function claimablePort(host: string, port: number, what: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (e: NodeJS.ErrnoException) => {
      reject(new Error(`cannot listen on ${host}:${port} (${what}): ${e.code === 'EADDRINUSE' ? 'the port is in use (another gateway or group?)' : e.message}`));
    });
    probe.listen({ host, port, exclusive: true }, () => {
      const picked = (probe.address() as { port: number }).port;
      probe.close(() => resolve(picked));
    });
  });
}

/** Starts and supervises the group; resolves with the exit code once every process has exited. */
export async function runProcessGroup(config: StartConfig, say: (line: string) => void): Promise<number> {
  const size = config.processes;
  const port = await claimablePort(config.host, config.port, 'scanners');
  const merchantPort = await claimablePort(config.merchantHost, config.merchantPort, 'merchant API');
  const threads = process.env.SCANPAY_THREADS || String(Math.max(1, Math.floor(availableParallelism() / size)));
  const children: ChildProcess[] = [];
  let stopping = false;
  let code = 0;
  const stopAll = (signal: NodeJS.Signals) => {
    stopping = true;
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  const exits: Promise<void>[] = [];
  for (let index = 0; index < size; index++) {
    const child = spawn(process.execPath, [...process.execArgv, process.argv[1], ...process.argv.slice(2)], {
      env: {
        ...process.env, SCANPAY_PROCESS_GROUP: `${index}/${size}`, PORT: String(port), MERCHANT_PORT: String(merchantPort),
        OPS_PORT: String(config.opsPort === 0 ? 0 : config.opsPort + index), SCANPAY_THREADS: threads,
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    children.push(child);
    exits.push(new Promise((resolve) => child.once('exit', (status, signal) => {
      if (!stopping) {
        say(`scanpay: gateway process ${index} (pid ${child.pid}) exited (${signal ?? status}); stopping the group`);
        code = 1;
        stopAll('SIGTERM');
      } else if (status !== 0 && status !== null) {
        code = status;
      }
      resolve();
    })));
  }
  say(`scanpay: ${size} gateway processes on ${config.host}:${port}, merchant API ${config.merchantHost}:${merchantPort} (pids ${children.map((c) => c.pid).join(', ')}), ${threads} crypto thread(s) each`);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => stopAll('SIGTERM'));
  await Promise.all(exits);
  return code;
}
