/**
 * Fuzz target: the operator CLI's argument parser, driven in-process through `main(argv, out)` (cli/main.ts,
 * commander with exitOverride, so usage errors come back as exit codes instead of process.exit).
 * Inputs: argv built from the CLI's own commands and options with random, huge, empty, numeric-edge and
 * path values, then mutated (tokens dropped, duplicated, swapped, replaced), and fully random argv.
 * The run is sandboxed: cwd and every path value inside a temp dir, no Redis URL but a closed port, no
 * gateway but a closed port, no PIN from stdin, so no case can touch anything outside the sandbox.
 * Invariants: main resolves to 0, 1 or 2 (never throws); a failure prints at least one line on stderr;
 * no output holds key ring or fleet key material; a failed command writes nothing (the temp dir and the
 * key ring file are byte for byte as before).
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { main } from '../../../cli/main.ts';
import type { Output } from '../../../cli/output.ts';
import { IssuerKeyRing } from '../../../issuer/key-ring.ts';
import { freePort } from '../../support/redis.ts';
import { timed, type FuzzOptions, type FuzzReport } from './harness.ts';

const COMMANDS = [
  ['keys', 'generate'], ['keys', 'rotate'], ['keys', 'retire', '<n>'], ['keys', 'list'],
  ['card', 'issue'], ['card', 'reissue', '<card>'], ['card', 'block', '<card>'], ['card', 'unblock', '<card>'],
  ['card', 'show', '<card>'], ['card', 'pin', '<card>'], ['scan', '<card>'], ['scanner', 'provision', '<device>'],
  ['scanner', 'list'], ['scanner', 'revoke', '<device>'], ['fleet-key', 'generate'], ['scanner'], ['keys'], [],
];
type Kind = 'flag' | 'n' | 'text' | 'path' | 'gateway' | 'redis' | 'card' | 'device';
const OPTIONS: Record<string, Kind> = {
  '--json': 'flag', '--force': 'flag', '--page': 'flag', '--help': 'flag', '-h': 'flag', '--record': 'flag',
  '--pin': 'n', '--limit': 'n', '--balance': 'n', '--amount': 'n', '--repeat': 'n', '--timeout': 'n', '--bin': 'n',
  '--currency': 'text', '--merchant': 'text', '--prefix': 'text', '--secret': 'text',
  '--device': 'device', '--qr': 'path', '--keyring': 'path', '--secret-file': 'path', '--fleet-key-file': 'path', '--out': 'path', '--file': 'path',
  '--gateway': 'gateway', '--redis': 'redis',
};
// --pin-stdin is left out on purpose: it would read this process's stdin
const ENV = ['REDIS_URL', 'SCANPAY_KEYRING', 'SCANPAY_KEYRING_FILE', 'SCANPAY_FLEET_KEY', 'SCANPAY_FLEET_KEY_FILE', 'SCANPAY_GATEWAY', 'SCANPAY_DEVICE_ID', 'SCANPAY_DEVICE_SECRET'];
const FILES = ['keyring.json', 'missing.json', 'qr.png', 'qr.svg', 'qr.txt', 'dir', 'fleet.key', 'bad.key', 'secret.hex', 'empty'];

/** Any text, without '/': a random value that lands on a path option stays inside the sandbox cwd. */
const anyText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('', ' ', '-', '--', '-1', '0', '1e3', '0x10', '9007199254740993', '1234', 'EUR', 'eur', '€', 'NaN', '--json', 'card'),
  fc.integer({ min: 1_000, max: 100_000 }).map((n) => 'x'.repeat(n)),
).map((s) => s.replaceAll('/', ''));

function valueFor(kind: Kind, sandbox: string, closedPort: number): fc.Arbitrary<string> {
  switch (kind) {
    case 'n': return fc.oneof(fc.nat().map(String), fc.stringMatching(/^[0-9]{1,20}$/), anyText);
    case 'path': return fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...FILES).map((f) => join(sandbox, f)) }, { weight: 1, arbitrary: anyText });
    case 'gateway': return fc.constantFrom(`ws://127.0.0.1:${closedPort}/scanner`, `wss://127.0.0.1:${closedPort}/x`, `http://127.0.0.1:${closedPort}`, 'ws:', 'not a url', '');
    case 'redis': return fc.constantFrom(`redis://127.0.0.1:${closedPort}`, `redis://127.0.0.1:${closedPort}/99`);
    case 'card': return fc.oneof(fc.stringMatching(/^[0-9]{16}$/), fc.constant(join(sandbox, 'qr.png')), anyText);
    case 'device': return fc.oneof(fc.stringMatching(/^[A-Za-z0-9_-]{1,70}$/), anyText);
    default: return anyText;
  }
}

function argvArbitrary(sandbox: string, closedPort: number): fc.Arbitrary<string[]> {
  const option = fc.constantFrom(...Object.keys(OPTIONS)).chain((name) =>
    OPTIONS[name] === 'flag' ? fc.constant<string[]>([name]) : valueFor(OPTIONS[name], sandbox, closedPort).map((v) => [name, v]));
  const built = fc.tuple(
    fc.array(fc.constantFrom('--keyring', '--prefix').chain((g) => valueFor(OPTIONS[g], sandbox, closedPort).map((v) => [g, v])), { maxLength: 1 }),
    fc.constantFrom(...COMMANDS),
    valueFor('card', sandbox, closedPort),
    fc.array(option, { maxLength: 8 }),
  ).map(([globals, command, positional, options]) => [
    ...globals.flat(), ...command.map((t) => (t.startsWith('<') ? positional : t)), ...options.flat(),
  ]);
  const edit = fc.tuple(fc.nat(), fc.nat(), fc.constantFrom('drop', 'dup', 'swap', 'replace'), anyText);
  const mutated = fc.tuple(built, fc.array(edit, { minLength: 1, maxLength: 3 })).map(([argv, edits]) => {
    const out = [...argv];
    for (const [a, b, how, text] of edits) {
      if (out.length === 0) break;
      const i = a % out.length;
      const j = b % out.length;
      if (how === 'drop') out.splice(i, 1);
      else if (how === 'dup') out.splice(i, 0, out[i]);
      else if (how === 'swap') [out[i], out[j]] = [out[j], out[i]];
      else out[i] = text;
    }
    return out;
  });
  const random: fc.Arbitrary<string[]> = fc.array(anyText, { maxLength: 6 });
  return fc.oneof({ weight: 3, arbitrary: built }, { weight: 3, arbitrary: mutated }, { weight: 1, arbitrary: random });
}

/** Every file under `dir` with a hash of its bytes: the sandbox's state. */
async function snapshot(dir: string): Promise<string> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const rows = await Promise.all(entries.map(async (e) => {
    const path = join(e.parentPath, e.name);
    return e.isFile() ? `${path} ${createHash('sha256').update(await readFile(path)).digest('hex')}` : `${path}/`;
  }));
  return rows.sort().join('\n');
}

/** A key ring file's key bytes in the spellings a leak could take. */
function keyStrings(ringJson: string): string[] {
  const doc = JSON.parse(ringJson) as { storageKey: string; issuerKeys: { key: string }[] };
  return [doc.storageKey, ...doc.issuerKeys.map((k) => k.key)].flatMap((s) => {
    const b = Buffer.from(s, 'base64url');
    return [s, b.toString('base64'), b.toString('hex')];
  });
}

export async function fuzzCliArgs(opts: FuzzOptions): Promise<FuzzReport> {
  const sandbox = await mkdtemp(join(tmpdir(), 'scanpay-fuzz-cli-'));
  const ringFile = join(sandbox, 'keyring.json');
  await IssuerKeyRing.generate().save(ringFile);
  const ring = await readFile(ringFile, 'utf8');
  const fleetHex = createHash('sha256').update(sandbox).digest('hex');
  /** The sandbox's files as every case must find them (a successful command may overwrite any of them). */
  const populate = async () => {
    await writeFile(ringFile, ring, { mode: 0o600 });
    await writeFile(join(sandbox, 'fleet.key'), fleetHex);
    await writeFile(join(sandbox, 'bad.key'), 'zz');
    await writeFile(join(sandbox, 'secret.hex'), 'ab'.repeat(32));
    await writeFile(join(sandbox, 'qr.png'), 'not a png');
    await writeFile(join(sandbox, 'empty'), '');
    await mkdir(join(sandbox, 'dir'));
  };
  await populate();
  const closedPort = await freePort();
  const clean = await snapshot(sandbox);
  const savedEnv = Object.fromEntries(ENV.map((k) => [k, process.env[k]]));
  const savedCwd = process.cwd();
  for (const k of ENV) delete process.env[k];
  process.env.SCANPAY_KEYRING_FILE = ringFile;
  process.chdir(sandbox); // relative paths a mutation produces land in the sandbox

  try {
    return await timed('cli-args', opts, async (seed, outcomes) => {
      await fc.assert(fc.asyncProperty(argvArbitrary(sandbox, closedPort), async (argv) => {
        const printed: string[] = [];
        const errors: string[] = [];
        const out: Output = { line: (t) => printed.push(t), json: (v) => printed.push(JSON.stringify(v)), error: (t) => errors.push(t) };
        const code = await main(['node', 'scanpay', ...argv], out);
        if (code !== 0 && code !== 1 && code !== 2) throw new Error(`exit code ${code}`);
        if (code !== 0 && errors.join('').trim() === '') throw new Error('failed without a message');
        const all = [...printed, ...errors].join('\n');
        const ringNow = await readFile(ringFile, 'utf8').catch(() => ring);
        for (const s of new Set([...keyStrings(ring), ...keyStrings(ringNow), fleetHex])) if (all.includes(s)) throw new Error('key material in the output');
        const state = await snapshot(sandbox);
        if (code !== 0 && state !== clean) throw new Error(`a failed command (exit ${code}) wrote to the sandbox`);
        if (state !== clean) { // a successful keys generate/rotate/retire: put the sandbox back for the next case
          for (const e of await readdir(sandbox)) await rm(join(sandbox, e), { recursive: true, force: true });
          await populate();
        }
        outcomes.add(`exit ${code}`);
      }), { numRuns: opts.runs, seed });
      return opts.runs;
    });
  } finally {
    process.chdir(savedCwd);
    for (const [k, v] of Object.entries(savedEnv)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await rm(sandbox, { recursive: true, force: true });
  }
}
