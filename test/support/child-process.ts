/**
 * Child processes that talk line-delimited JSON: the parent spawns one (`node [flags] --import tsx <file>`,
 * one pid per child, no npx or shell layers, so its CPU time can be read from /proc), waits for its messages
 * (`{"event": …}` lines on stdout) and sends it commands on stdin; the child emits its messages and exits when
 * its stdin closes, i.e. when its parent is gone. Used by the tests' second gateway (gateway-process.ts) and by
 * the benchmarks' gateways, load generators and echo server (bench/e2e).
 * @example
 *   const gw = spawnChild('gateway', GATEWAY_FILE, { env });     // parent
 *   const { port } = await gw.waitFor<Message & { port: number }>('ready', 30_000);
 *   await gw.stop();
 *   emit({ event: 'ready', port }); exitWithParent(close);       // child
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export type Message = Record<string, unknown> & { event: string };

export interface SpawnOptions {
  env?: NodeJS.ProcessEnv;
  args?: string[];
  nodeFlags?: string[];
  /** Raise the open-file limit of the child to this (soft limit, up to the hard limit) before exec. */
  nofile?: number;
  /** How much of its stderr to keep (default the last 8,000 characters). */
  stderrChars?: number;
}

const DEFAULT_STDERR_CHARS = 8_000;
const live = new Set<Child>();

/** The children spawned here that have not exited yet (to stop them all when the parent ends). */
export function liveChildren(): ReadonlySet<Child> {
  return live;
}

export class Child {
  readonly name: string;
  readonly proc: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #stderr = '';
  #queue: Message[] = [];
  #waiters: { event: string; resolve: (m: Message) => void }[] = [];
  #exitInfo: { code: number | null; signal: NodeJS.Signals | null } | null = null;

  constructor(name: string, proc: ChildProcess, stderrChars = DEFAULT_STDERR_CHARS) {
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
      this.#stderr = (this.#stderr + d.toString()).slice(-stderrChars);
    });
    if (proc.stdout) {
      createInterface({ input: proc.stdout }).on('line', (line) => {
        let message: Message;
        try {
          message = JSON.parse(line) as Message;
          if (typeof message?.event !== 'string') throw new Error('no event');
        } catch {
          this.#stderr = (this.#stderr + `\n[stdout] ${line}`).slice(-stderrChars);
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

  /** What the child wrote to stderr (the last `stderrChars` of it), with any stdout line that was not a message. */
  get stderr(): string {
    return this.#stderr;
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

  /** SIGKILL, as a crash would end it (no drain, no close), and waits for the exit. */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.proc.kill('SIGKILL');
    await this.exited;
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
  const child = new Child(name, proc, opts.stderrChars);
  live.add(child);
  return child;
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
