/**
 * README.md's "Run it for real" block, run as written so the README cannot drift: its ```sh lines (a `\`
 * continues a line) go, in order, to one bash in a temp folder, against a Redis under a private key prefix
 * (SCANPAY_REDIS_PREFIX=scanpay-test:<run>:, deleted after with SCAN + UNLINK). `npx scanpay …` runs this
 * repository's bin and `npm start` the compiled gateway, through two shims on PATH: the same
 * `node dist/gateway/main.js` as the `start` script, without its build (`npm test` has built dist/ already,
 * and rebuilding it here would pull it from under tests running beside this one). PORT and OPS_PORT are
 * free ports. Everything started is stopped by its process group (the bash this test spawned).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { deleteKeys, describeRedis, freePort, redisForTests, testKeyPrefix } from '../support/redis.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const README = readFileSync(join(REPO, 'README.md'), 'utf8');

/** The commands of the ```sh block under the "Run it for real" heading, continuation lines joined. */
export function operatorCommands(readme: string): string[] {
  const heading = readme.indexOf('### Run it for real');
  if (heading < 0) throw new Error('README.md has no "Run it for real" section');
  const open = readme.indexOf('```sh\n', heading);
  const close = readme.indexOf('\n```', open + 6);
  const commands: string[] = [];
  let pending = '';
  for (const line of readme.slice(open + 6, close).split('\n')) {
    if (line.endsWith('\\')) pending += `${line}\n`;
    else if (pending || line.trim()) {
      commands.push(pending + line);
      pending = '';
    }
  }
  return commands;
}

const redis = await redisForTests();
afterAll(async () => {
  await redis?.stop();
});

interface Outcome { command: string; rc: number; stdout: string; stderr: string }

/** One bash reading commands from stdin; each command's exit code and output are cut out by markers. */
class Shell {
  readonly child: ChildProcess;
  #out = '';
  #err = '';
  #n = 0;

  constructor(cwd: string, env: NodeJS.ProcessEnv) {
    // detached: bash leads a new process group, which the background gateway joins (no job control here)
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

  /** SIGTERM to the whole group (bash and the gateway it started in the background); waits until it is gone. */
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

describeRedis(redis, 'README "Run it for real", run as written', (r) => {
  const prefix = testKeyPrefix();
  const outcomes: Outcome[] = [];
  let dir = '';
  let shell: Shell | undefined;

  beforeAll(async () => {
    // the shim runs what the start script runs after its build: make sure the two have not parted
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.start).toBe('npm run build && node dist/gateway/main.js');
    for (const built of ['dist/gateway/main.js', 'dist/cli/main.js']) {
      if (!existsSync(join(REPO, built))) throw new Error(`${built} is missing: run \`npm run build\` (npm test does)`);
    }
    dir = await mkdtemp(join(tmpdir(), 'scanpay-readme-'));
    const bin = join(dir, '.bin');
    await mkdir(bin);
    const shims = {
      npx: `#!/bin/sh\n[ "$1" = scanpay ] || { echo "npx (test shim): only scanpay is here, not: $*" >&2; exit 127; }\nshift\nexec node '${REPO}bin/scanpay.js' "$@"\n`,
      npm: `#!/bin/sh\n[ "$1" = start ] && [ $# -eq 1 ] || { echo "npm (test shim): only start is here, not: $*" >&2; exit 127; }\nexec node '${REPO}dist/gateway/main.js'\n`,
    };
    for (const [name, text] of Object.entries(shims)) {
      await writeFile(join(bin, name), text);
      await chmod(join(bin, name), 0o755);
    }
    shell = new Shell(dir, {
      PATH: `${bin}:${process.env.PATH}`, HOME: process.env.HOME,
      REDIS_URL: r.url, SCANPAY_REDIS_PREFIX: prefix,
      PORT: String(await freePort()), OPS_PORT: String(await freePort()), SCANPAY_THREADS: '1', LOG_LEVEL: 'warn',
    });
    for (const command of operatorCommands(README)) outcomes.push(await shell.run(command));
  }, 240_000);

  afterAll(async () => {
    await shell?.stop();
    await deleteKeys(r.url, prefix);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const find = (start: string, nth = 0): Outcome => {
    const found = outcomes.filter((o) => o.command.startsWith(start));
    if (!found[nth]) throw new Error(`the README block has no command #${nth + 1} starting "${start}": ${outcomes.map((o) => o.command).join(' | ')}`);
    return found[nth];
  };
  const show = (o: Outcome) => `${o.command}\nrc ${o.rc}\nstdout: ${o.stdout}\nstderr: ${o.stderr}`;

  it('the block still has the operator path: keys, fleet key, scanner, gateway, card, pay, block, rotate', () => {
    const commands = operatorCommands(README);
    expect(commands.length).toBe(outcomes.length);
    for (const start of ['export REDIS_URL=', 'npx scanpay keys generate', 'npx scanpay fleet-key generate', 'npx scanpay scanner provision',
      'SCANPAY_KEYRING_FILE=', 'until curl', 'npx scanpay card issue', 'npx scanpay scan ', 'npx scanpay card block',
      'npx scanpay scanner list', 'npx scanpay scanner revoke', 'npx scanpay keys rotate']) {
      expect(commands.some((c) => c.startsWith(start)), start).toBe(true);
    }
  });

  it('every setup step succeeds, in order', () => {
    for (const o of outcomes.filter((x) => !x.command.startsWith('npx scanpay scan '))) expect(o.rc, show(o)).toBe(0);
    expect(readFileSync(join(dir, 'till-1.secret'), 'utf8').trim()).toMatch(/^[0-9a-f]{64}$/);
    expect(find('npx scanpay card issue').stdout).toMatch(/•••• •••• •••• \d{4}/);
  });

  it('the first scan pays (exit 0); after `card block` the next is refused with CARD_BLOCKED (exit 1)', () => {
    const paid = find('npx scanpay scan ', 0);
    expect(paid.rc, show(paid)).toBe(0);
    expect(paid.stdout, show(paid)).toMatch(/approved/);
    const refused = find('npx scanpay scan ', 1);
    expect(refused.rc, show(refused)).toBe(1);
    expect(refused.stderr, show(refused)).toMatch(/^scanpay: .*\[CARD_BLOCKED\]$/m);
  });

  it('`scanner list` shows the recorded device as active; `scanner revoke` says it revoked it', () => {
    const list = find('npx scanpay scanner list');
    expect(list.stdout, show(list)).toMatch(/^till-1\s+provisioned \d{4}-\d\d-\d\dT\S+\s+active$/m);
    expect(find('npx scanpay scanner revoke').stdout).toMatch(/^revoked scanner till-1/);
  });

  it('`keys rotate` adds a key to the ring file and makes it the active one', () => {
    const rotate = find('npx scanpay keys rotate');
    expect(rotate.rc, show(rotate)).toBe(0);
    expect(rotate.stdout, show(rotate)).not.toBe('');
    const ring = JSON.parse(readFileSync(join(dir, 'scanpay-keyring.json'), 'utf8')) as { issuerKeys?: unknown[] };
    expect(ring.issuerKeys, JSON.stringify(Object.keys(ring))).toHaveLength(2);
  });
});
