/**
 * Child processes of the end-to-end benchmark: spawned directly as `node --import tsx <file>` (one pid
 * per child, no npx/shell layers, so its CPU time can be read from /proc), talking line-delimited JSON
 * on stdout and taking commands on stdin. Every child is killed when the orchestrator exits, is
 * interrupted or crashes; and every child also exits on its own when its stdin closes (its parent is gone).
 * @example
 *   installCleanup();
 *   const gw = spawnChild('gateway', GATEWAY_FILE, { env });
 *   const { port } = await gw.waitFor('ready', 30_000);
 *   await gw.stop();
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { createInterface } from 'node:readline';

export type Message = Record<string, unknown> & { event: string };

export interface SpawnOptions {
  env?: NodeJS.ProcessEnv;
  args?: string[];
  nodeFlags?: string[];
  /** Raise the open-file limit of the child to this (soft limit, up to the hard limit) before exec. */
  nofile?: number;
}

const live = new Set<Child>();
const CLK_TCK = (() => {
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const n = Number.parseInt(r.stdout ?? '', 10);
  return Number.isFinite(n) && n > 0 ? n : 100;
})();

/** utime + stime of a process in ms, from /proc (null if it is gone). */
export function cpuMsOf(pid: number | undefined): number | null {
  if (!pid) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from #3 (state) on
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK; // #14 utime, #15 stime
  } catch {
    return null;
  }
}

/** Resident set size of a process in bytes, from /proc (null if it is gone). */
export function rssOf(pid: number | undefined): number | null {
  if (!pid) return null;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** The soft and hard open-file limits this process runs under (children inherit them). */
export function fileLimits(): { soft: number; hard: number } {
  const read = (flag: string) => {
    const r = spawnSync('/bin/sh', ['-c', `ulimit ${flag}n`], { encoding: 'utf8' });
    const text = (r.stdout ?? '').trim();
    return text === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number.parseInt(text, 10) || 1024;
  };
  return { soft: read('-S'), hard: read('-H') };
}

export class Child {
  readonly name: string;
  readonly proc: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #stderr = '';
  #queue: Message[] = [];
  #waiters: { event: string; resolve: (m: Message) => void }[] = [];
  #exitInfo: { code: number | null; signal: NodeJS.Signals | null } | null = null;

  constructor(name: string, proc: ChildProcess) {
    this.name = name;
    this.proc = proc;
    this.exited = new Promise((resolve) => {
      proc.once('exit', (code, signal) => {
        this.#exitInfo = { code, signal };
        live.delete(this);
        resolve({ code, signal });
      });
    });
    proc.once('error', (e) => {
      this.#stderr += `\n[spawn] ${e.message}`;
    });
    proc.stderr?.on('data', (d: Buffer) => {
      this.#stderr = (this.#stderr + d.toString()).slice(-8_000);
    });
    if (proc.stdout) {
      createInterface({ input: proc.stdout }).on('line', (line) => {
        let message: Message;
        try {
          message = JSON.parse(line) as Message;
          if (typeof message?.event !== 'string') throw new Error('no event');
        } catch {
          this.#stderr = (this.#stderr + `\n[stdout] ${line}`).slice(-8_000);
          return;
        }
        const i = this.#waiters.findIndex((w) => w.event === message.event);
        if (i >= 0) this.#waiters.splice(i, 1)[0]!.resolve(message);
        else this.#queue.push(message);
      });
    }
    proc.stdin?.on('error', () => {}); // EPIPE when the child is already gone: its exit is reported instead
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  get running(): boolean {
    return this.#exitInfo === null && this.proc.pid !== undefined;
  }

  get stderrTail(): string {
    return this.#stderr.trim().split('\n').slice(-20).join('\n');
  }

  /** The next message with this event (queued or future); rejects on timeout or if the child exits first. */
  waitFor<T extends Message = Message>(event: string, timeoutMs: number): Promise<T> {
    const i = this.#queue.findIndex((m) => m.event === event);
    if (i >= 0) return Promise.resolve(this.#queue.splice(i, 1)[0] as T);
    return new Promise<T>((resolve, reject) => {
      const waiter = { event, resolve: (m: Message) => { cleanup(); resolve(m as T); } };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${this.name}: no "${event}" within ${timeoutMs} ms\n${this.stderrTail}`));
      }, timeoutMs);
      const onExit = (info: { code: number | null; signal: NodeJS.Signals | null }) => {
        if (!this.#waiters.includes(waiter)) return;
        cleanup();
        reject(new Error(`${this.name} exited (code ${info.code}, signal ${info.signal}) before "${event}"\n${this.stderrTail}`));
      };
      const cleanup = () => {
        clearTimeout(timer);
        const at = this.#waiters.indexOf(waiter);
        if (at >= 0) this.#waiters.splice(at, 1);
      };
      this.#waiters.push(waiter);
      void this.exited.then(onExit);
    });
  }

  /** Sends one command line; returns the answer with `event` if one is expected. */
  async command<T extends Message = Message>(line: string, event?: string, timeoutMs = 30_000): Promise<T | undefined> {
    const answer = event ? this.waitFor<T>(event, timeoutMs) : undefined;
    this.proc.stdin?.write(`${line}\n`);
    return answer;
  }

  /** Closes stdin (the child's cue to finish) or sends `first`, then SIGTERM after graceMs, then SIGKILL. */
  async stop(graceMs = 15_000, first: 'stdin' | NodeJS.Signals = 'stdin'): Promise<void> {
    if (!this.running) return;
    if (first === 'stdin') this.proc.stdin?.end();
    else this.proc.kill(first);
    const timeout = (ms: number) => new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), ms).unref());
    if ((await Promise.race([this.exited, timeout(graceMs)])) !== 'timeout') return;
    this.proc.kill('SIGTERM');
    if ((await Promise.race([this.exited, timeout(5_000)])) !== 'timeout') return;
    this.proc.kill('SIGKILL');
    await this.exited;
  }
}

/** `node [flags] --import tsx <file> [args]`, or a plain executable when `file` is not a .ts file. */
export function spawnChild(name: string, file: string, opts: SpawnOptions = {}): Child {
  const isTs = file.endsWith('.ts');
  const command = isTs ? process.execPath : file;
  let args = isTs ? [...(opts.nodeFlags ?? []), '--import', 'tsx', file, ...(opts.args ?? [])] : [...(opts.args ?? [])];
  let executable = command;
  if (opts.nofile) {
    // raise the soft limit in a shell that then execs the real program: same pid, no extra process
    args = ['-c', `ulimit -S -n ${opts.nofile} && exec "$0" "$@"`, command, ...args];
    executable = '/bin/sh';
  }
  const proc = spawn(executable, args, { env: { ...process.env, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
  const child = new Child(name, proc);
  live.add(child);
  return child;
}

let installed = false;
const tempDirs = new Set<string>();

/** A temp dir to delete when this process exits, however it exits (short of SIGKILL). */
export function removeOnExit(dir: string): void {
  tempDirs.add(dir);
}

/**
 * Kills every live child when this process exits, is interrupted (SIGINT/SIGTERM/SIGHUP) or crashes
 * (uncaught exception, unhandled rejection); `extra` runs first on the asynchronous paths (e.g. Redis key cleanup).
 */
export function installCleanup(extra?: () => Promise<void>): void {
  if (installed) return;
  installed = true;
  const killAll = (signal: NodeJS.Signals) => {
    for (const child of live) if (child.running) child.proc.kill(signal);
  };
  process.on('exit', () => {
    killAll('SIGKILL');
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  });
  // a reader that went away (`… | head`) must not turn the cleanup itself into a crash
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});
  let stopping = false;
  const stopAndExit = async (code: number, why: string) => {
    if (stopping) return;
    stopping = true;
    try {
      console.error(`\nbench: ${why}; stopping ${live.size} child process(es)`);
    } catch {
      // stderr is gone
    }
    const force = setTimeout(() => {
      killAll('SIGKILL');
      process.exit(code);
    }, 10_000);
    force.unref();
    try {
      await extra?.();
    } catch (e) {
      try {
        console.error(`bench: cleanup failed: ${(e as Error).message}`);
      } catch {
        // stderr is gone
      }
    }
    killAll('SIGTERM');
    await Promise.race([Promise.all([...live].map((c) => c.exited)), new Promise((r) => setTimeout(r, 5_000).unref())]);
    killAll('SIGKILL');
    process.exit(code);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void stopAndExit(130, signal));
  process.on('uncaughtException', (e) => {
    console.error(e);
    void stopAndExit(1, 'uncaught exception');
  });
  process.on('unhandledRejection', (e) => {
    console.error(e);
    void stopAndExit(1, 'unhandled rejection');
  });
  exitOnDeadline = (ms: number) => {
    setTimeout(() => void stopAndExit(1, `deadline of ${Math.round(ms / 1000)} s passed`), ms).unref();
  };
}

let exitOnDeadline: (ms: number) => void = () => {};

/** Stops everything if the whole run takes longer than `ms` (installCleanup first). */
export function deadline(ms: number): void {
  exitOnDeadline(ms);
}

/** For children: exit when the parent goes away (stdin closes), running `onEnd` first. */
export function exitWithParent(onEnd: () => Promise<void> | void): void {
  let ending = false;
  const end = () => {
    if (ending) return;
    ending = true;
    Promise.resolve(onEnd()).finally(() => process.exit(0));
  };
  process.stdin.on('end', end);
  process.stdin.on('close', end);
  process.stdin.on('error', end);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, end);
  process.stdin.resume();
}

/** For children: one JSON line on stdout. */
export function emit<T extends { event: string }>(message: T): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}
