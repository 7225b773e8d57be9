/**
 * Running README.md's shell blocks as written (test/readme/): the commands of a ```sh block under a heading,
 * one bash that runs them in order and cuts out each command's exit code and output, and the `npx scanpay`
 * and `npm start` shims that point those words at this repository's bin and compiled gateway. The npm shim
 * runs what the start script runs after its build (`npm test` has built dist/ already; rebuilding it here would
 * pull it from under tests running beside the caller): checkBuilt() makes sure the two have not parted.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { deleteKeys, freePort } from './redis-server.ts';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));

/**
 * The commands of the first ```sh block after `heading` in `readme`: continuation lines (`\`) joined, and a
 * here-document (`<<'EOF'` or `<<EOF`, up to its line `EOF`) kept with the command that opens it.
 */
export function blockCommands(readme: string, heading: string): string[] {
  const at = readme.indexOf(heading);
  if (at < 0) throw new Error(`README.md has no "${heading}" section`);
  const open = readme.indexOf('```sh\n', at);
  const close = readme.indexOf('\n```', open + 6);
  const commands: string[] = [];
  let pending = '';
  let hereEnd: string | null = null;
  for (const line of readme.slice(open + 6, close).split('\n')) {
    if (hereEnd !== null) {
      pending += `${line}\n`;
      if (line === hereEnd) {
        commands.push(pending.slice(0, -1));
        pending = '';
        hereEnd = null;
      }
      continue;
    }
    const here = /<<-?\s*'?([A-Za-z_]+)'?/.exec(line);
    if (here) {
      hereEnd = here[1]!;
      pending += `${line}\n`;
    } else if (line.endsWith('\\')) pending += `${line}\n`;
    else if (pending || line.trim()) {
      commands.push(pending + line);
      pending = '';
    }
  }
  if (hereEnd !== null) throw new Error(`README.md "${heading}": a here-document without its end line ${hereEnd}`);
  return commands;
}

/** Throws unless dist/ holds the compiled gateway and CLI, and the start script is still build + that gateway. */
export function checkBuilt(): void {
  const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  if (pkg.scripts.start !== 'npm run build && node dist/gateway/main.js') throw new Error(`the start script changed: ${pkg.scripts.start}`);
  for (const built of ['dist/gateway/main.js', 'dist/cli/main.js']) {
    if (!existsSync(join(REPO, built))) throw new Error(`${built} is missing: run \`npm run build\` (npm test does)`);
  }
}

/** Writes `npx` (scanpay only) and `npm` (start only) shims into `bin`, for the front of PATH. */
export async function writeShims(bin: string): Promise<void> {
  await mkdir(bin, { recursive: true });
  const shims = {
    npx: `#!/bin/sh\n[ "$1" = scanpay ] || { echo "npx (test shim): only scanpay is here, not: $*" >&2; exit 127; }\nshift\nexec node '${REPO}bin/scanpay.js' "$@"\n`,
    npm: `#!/bin/sh\n[ "$1" = start ] && [ $# -eq 1 ] || { echo "npm (test shim): only start is here, not: $*" >&2; exit 127; }\nexec node '${REPO}dist/gateway/main.js'\n`,
  };
  for (const [name, text] of Object.entries(shims)) {
    await writeFile(join(bin, name), text);
    await chmod(join(bin, name), 0o755);
  }
}

export interface Outcome { command: string; rc: number; stdout: string; stderr: string }

/** One bash reading commands from stdin; each command's exit code and output are cut out by markers. */
export class Shell {
  readonly child: ChildProcess;
  #out = '';
  #err = '';
  #n = 0;

  constructor(cwd: string, env: NodeJS.ProcessEnv) {
    // detached: bash leads a new process group, which the background gateways join (no job control here)
    this.child = spawn('bash', ['--norc', '--noprofile'], { cwd, env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (d) => (this.#out += d));
    this.child.stderr!.on('data', (d) => (this.#err += d));
  }

  async run(command: string, timeoutMs = 120_000): Promise<Outcome> {
    const n = ++this.#n;
    const mark = `@@end-${n}-${process.pid}`;
    this.child.stdin!.write(`${command}\n__rc=$?; printf '\\n${mark} %s\\n' "$__rc"; printf '\\n${mark}\\n' >&2\n`);
    const end = new RegExp(`\\n${mark} (\\d+)\\n`);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const done = end.exec(this.#out);
      if (done && this.#err.includes(`\n${mark}\n`)) {
        const stdout = this.#out.slice(0, done.index);
        const stderr = this.#err.slice(0, this.#err.indexOf(`\n${mark}\n`));
        this.#out = this.#out.slice(done.index + done[0].length);
        this.#err = this.#err.slice(this.#err.indexOf(`\n${mark}\n`) + mark.length + 2);
        return { command, rc: Number(done[1]), stdout, stderr };
      }
      if (this.child.exitCode !== null) throw new Error(`bash exited (${this.child.exitCode}) during: ${command}\n${this.#err}`);
      if (Date.now() > deadline) throw new Error(`no end of "${command}" in ${timeoutMs} ms:\nstdout: ${this.#out}\nstderr: ${this.#err}`);
      await sleep(50);
    }
  }

  /** SIGTERM to the whole group (bash and what it started in the background); waits until it is gone. */
  async stop(): Promise<void> {
    const group = this.child.pid!;
    const alive = () => {
      try {
        process.kill(-group, 0);
        return true;
      } catch {
        return false;
      }
    };
    if (alive()) process.kill(-group, 'SIGTERM');
    const deadline = Date.now() + 15_000;
    while (alive() && Date.now() < deadline) await sleep(100);
    if (alive()) process.kill(-group, 'SIGKILL');
  }
}

export interface BlockRunOptions {
  /** The Redis the block's gateway and CLI use, and the run's own key prefix (deleted by stop()). */
  redisUrl: string;
  prefix: string;
  /** The temp folder's name prefix. */
  folder: string;
  /** More environment for the block (its own free ports, say). */
  env?: Record<string, string>;
  /** Prepares the temp folder before the first command. */
  prepare?: (dir: string) => Promise<void>;
}

/**
 * A README block run as written: a fresh temp folder with the shims, one bash with the Redis, key prefix and free
 * ports (gateway, ops, merchant listener) in its environment, every command in order; then what each answered.
 */
export class BlockRun {
  readonly outcomes: Outcome[] = [];

  private constructor(readonly dir: string, readonly shell: Shell, private readonly opts: BlockRunOptions) {}

  static async run(commands: readonly string[], opts: BlockRunOptions): Promise<BlockRun> {
    checkBuilt();
    const dir = await mkdtemp(join(tmpdir(), opts.folder));
    const bin = join(dir, '.bin');
    await writeShims(bin);
    await opts.prepare?.(dir);
    const shell = new Shell(dir, {
      PATH: `${bin}:${process.env.PATH}`, HOME: process.env.HOME,
      REDIS_URL: opts.redisUrl, SCANPAY_REDIS_PREFIX: opts.prefix,
      PORT: String(await freePort()), OPS_PORT: String(await freePort()), MERCHANT_PORT: String(await freePort()), SCANPAY_THREADS: '1', LOG_LEVEL: 'warn',
      ...opts.env,
    });
    const run = new BlockRun(dir, shell, opts);
    for (const command of commands) run.outcomes.push(await shell.run(command));
    return run;
  }

  /** The nth command that starts with `start`; a block without it fails the test saying what the block has. */
  find(start: string, nth = 0): Outcome {
    const found = this.outcomes.filter((o) => o.command.startsWith(start));
    if (!found[nth]) throw new Error(`the README block has no command #${nth + 1} starting "${start}": ${this.outcomes.map((o) => o.command).join(' | ')}`);
    return found[nth];
  }

  /** Stops what the block started, deletes its keys and its folder. */
  async stop(): Promise<void> {
    await this.shell.stop();
    await deleteKeys(this.opts.redisUrl, this.opts.prefix);
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** An outcome as a failing assertion shows it. */
export function showOutcome(o: Outcome): string {
  return `${o.command}\nrc ${o.rc}\nstdout: ${o.stdout}\nstderr: ${o.stderr}`;
}
