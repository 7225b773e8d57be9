/**
 * The CLI's one convention (cli/errors.ts), without a store: `--version`, `--help` documenting the error
 * form and exit codes, commander's own errors in the `scanpay: <message> [USAGE]` form with exit 2, `--json`
 * on every command, card arguments (missing files, .txt payload files, PNGs, directories), and
 * `fleet-key generate`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { readCardArgument } from '../../cli/card-ref.ts';
import { buildProgram, main } from '../../cli/main.ts';
import type { Output } from '../../cli/output.ts';
import { payloadQrPng } from '../../issuer/qr.ts';
import { loadFleetKey } from '../../protocol/fleet-key.ts';
import { deviceSecret } from '../../protocol/scanner-token.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
/** The one error form: a single line, `scanpay: <message> [CODE]`. */
const ERROR_LINE = /^scanpay: [^\n]+ \[[A-Z][A-Z0-9_]*\]$/;
const dir = mkdtempSync(join(tmpdir(), 'scanpay-cli-conventions-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(...args: string[]): Promise<{ code: number; lines: string[]; errors: string[]; values: unknown[] }> {
  const lines: string[] = [];
  const errors: string[] = [];
  const values: unknown[] = [];
  const out: Output = { line: (t) => lines.push(t), json: (v) => values.push(JSON.parse(JSON.stringify(v))), error: (t) => errors.push(t) };
  const code = await main(['node', 'scanpay', ...args], out);
  return { code, lines, errors, values };
}

function bin(...args: string[]) {
  return spawnSync(process.execPath, ['bin/scanpay.js', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
}

describe('the bin as a real process', () => {
  it('--version prints package.json version', () => {
    const r = bin('--version');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(`${VERSION}\n`);
    expect(r.stderr).toBe('');
  });

  it('--help documents the error form and the exit codes', () => {
    const r = bin('--help');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('scanpay: <message> [CODE]');
    expect(r.stdout).toMatch(/^ {2}1 {2}refused or declined/m);
    expect(r.stdout).toMatch(/^ {2}2 {2}bad usage/m);
    for (const command of ['keys', 'card', 'fleet-key', 'scan', 'scanner', 'merchant', 'payment', 'refund', 'receipt']) expect(r.stdout).toMatch(new RegExp(`^ {2}${command}\\b`, 'm'));
    const sub = bin('card', 'issue', '--help');
    expect(sub.status).toBe(0);
    expect(sub.stdout).toContain('Exit codes:');
  });

  it("commander's own errors: one `scanpay: … [USAGE]` line on stderr, exit 2", () => {
    const r = bin('frob');
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe("scanpay: unknown command 'frob' [USAGE]\n");
  });

  it('no arguments at all (`npx scanpay`): one line that says how to get help, exit 2', () => {
    const r = bin();
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    const silent: Output = { line: () => {}, json: () => {}, error: () => {} };
    const commands = buildProgram(silent).commands.map((c) => c.name());
    expect(commands.slice(0, 9)).toEqual(['keys', 'card', 'fleet-key', 'scan', 'scanner', 'merchant', 'payment', 'refund', 'receipt']);
    expect(r.stderr).toBe(`scanpay: missing command: scanpay takes one of ${commands.join(', ')}; \`scanpay --help\` describes them [USAGE]\n`);
  });
});

describe('the README documents the same convention', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const cli = readme.slice(readme.indexOf('## The `scanpay` CLI'), readme.indexOf('## Configuration'));

  it('error form, exit codes 0/1/2 and the CLI codes, in the CLI section', () => {
    expect(cli).toContain('`scanpay: <message> [CODE]`');
    expect(cli).toMatch(/^\| 1 \| refused or declined/m);
    expect(cli).toMatch(/^\| 2 \| bad usage.*`USAGE`.*`NO_SUCH_FILE`, `FILE_EXISTS` \|$/m);
    expect(cli).toMatch(/^\| 1 \| refused or declined.*`DEVICE_UNKNOWN`/m);
    for (const command of ['--version', 'fleet-key generate', 'scanner provision', 'scan ']) expect(cli).toContain(`npx scanpay ${command}`);
  });

  it('the examples it quotes are what the CLI prints', async () => {
    const limit0 = await run('card', 'issue', '--pin', '1234', '--limit', '0', '--currency', 'EUR');
    expect(cli).toContain(`\`${limit0.errors[0]}\``);
  });
});

describe('usage errors in-process', () => {
  it.each([
    [['frob'], "unknown command 'frob'"],
    [['keys', 'lst'], "unknown command 'lst' (Did you mean list?)"],
    [['card', 'issue', '--pin', '1234', '--currency', 'EUR'], "required option '--limit <minor>' not specified"],
    [['card', 'show'], "missing required argument 'card'"],
    [['card', 'show', 'a', 'b'], "too many arguments for 'show'"],
    [['keys', 'list', '--frobnicate'], "unknown option '--frobnicate'"],
    [['card', 'issue', '--pin'], "option '--pin <digits>' argument missing"],
  ])('%j → exit 2, %s', async (args, message) => {
    const r = await run(...args);
    expect(r.code).toBe(2);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatch(ERROR_LINE);
    expect(r.errors[0]).toContain(message);
    expect(r.errors[0]).toMatch(/\[USAGE\]$/);
    expect(r.lines).toEqual([]);
  });

  it('a missing command is one line naming the commands and the help that describes them, exit 2', async () => {
    const silent: Output = { line: () => {}, json: () => {}, error: () => {} };
    const expected: [string[], string][] = [
      [[], `scanpay takes one of ${buildProgram(silent).commands.map((c) => c.name()).join(', ')}; \`scanpay --help\` describes them`],
      [['settlement'], 'scanpay settlement takes one of close, report; `scanpay settlement --help` describes them'],
      [['merchant'], 'scanpay merchant takes one of create, rotate-key, list, show, webhook; `scanpay merchant --help` describes them'],
      [['payment'], 'scanpay payment takes one of show, list, capture, void, reverse; `scanpay payment --help` describes them'],
      [['merchant', 'webhook'], 'scanpay merchant webhook takes one of add, list, remove; `scanpay merchant webhook --help` describes them'],
      [['card'], 'scanpay card takes one of issue, reissue, block, unblock, pin, show, wallets, wallet-revoke, policy; `scanpay card --help` describes them'],
      [['fleet-key'], 'scanpay fleet-key takes one of generate; `scanpay fleet-key --help` describes them'],
      [['--keyring', 'x.json', 'scanner'], 'scanpay scanner takes one of provision, list, show, revoke; `scanpay scanner --help` describes them'],
    ];
    for (const [args, message] of expected) {
      const r = await run(...args);
      expect(r.code, JSON.stringify(args)).toBe(2);
      expect(r.errors, JSON.stringify(args)).toEqual([`scanpay: missing command: ${message} [USAGE]`]);
      expect(r.lines).toEqual([]);
    }
    // `help <unknown>` is an unknown command, not a missing one; `help` and --help still print the help (stdout, exit 0)
    expect((await run('help', 'frob')).errors).toEqual(["scanpay: unknown command 'frob'; `scanpay --help` lists the commands [USAGE]"]);
    for (const args of [['help'], ['--help'], ['card', '--help'], ['help', 'card']]) {
      const r = await run(...args);
      expect(r.code, JSON.stringify(args)).toBe(0);
      expect(r.errors).toEqual([]);
      expect(r.lines.join('\n')).toContain('Usage: scanpay');
    }
  });
});

describe('--json on every command that prints', () => {
  it('every leaf command takes --json', () => {
    const leaves = (cmd: Command, path: string[] = []): [string, Command][] => (cmd.commands.length
      ? cmd.commands.flatMap((c) => leaves(c, [...path, c.name()]))
      : [[path.join(' '), cmd]]);
    const all = leaves(buildProgram({ line() {}, json() {}, error() {} }));
    expect(all.map(([name]) => name)).toEqual(expect.arrayContaining(['keys generate', 'card show', 'card pin', 'fleet-key generate', 'scan', 'scanner provision']));
    for (const [name, cmd] of all) expect(cmd.options.map((o) => o.long), name).toContain('--json');
  });
});

describe('card arguments (cli/card-ref.ts)', () => {
  const payloadText = 'QR-PAYLOAD-0042';

  it('a path that names nothing is a missing file, not payload text', async () => {
    for (const missing of [join(dir, 'card-9.txt'), join(dir, 'nope', 'card.png'), 'demo-cards/card-9.png']) {
      await expect(readCardArgument(missing, { pan: true })).rejects.toMatchObject({ code: 'NO_SUCH_FILE', exitCode: 2, message: expect.stringContaining(`no such file: ${missing}`) });
    }
  });

  it('a .txt payload file (as `npm start` writes demo-cards/card-N.txt) is read, without its line ending', async () => {
    const txt = join(dir, 'card-1.txt');
    writeFileSync(txt, `${payloadText}\n`);
    await expect(readCardArgument(txt, { pan: false })).resolves.toEqual({ kind: 'payload', text: payloadText, source: 'file' });
    writeFileSync(txt, `${payloadText}\r\n`);
    await expect(readCardArgument(txt, { pan: false })).resolves.toMatchObject({ text: payloadText });
  });

  it('a PNG is decoded as a QR image, whatever its name', async () => {
    const png = join(dir, 'card-image');
    writeFileSync(png, await payloadQrPng(payloadText));
    await expect(readCardArgument(png, { pan: true })).resolves.toEqual({ kind: 'payload', text: payloadText, source: 'qr' });
  });

  it('payload text and PANs are taken as given; PANs only where a PAN is allowed', async () => {
    await expect(readCardArgument(payloadText, { pan: true })).resolves.toEqual({ kind: 'payload', text: payloadText, source: 'text' });
    await expect(readCardArgument('4000000000000002', { pan: true })).resolves.toEqual({ kind: 'pan', pan: '4000000000000002' });
    await expect(readCardArgument('4000000000000002', { pan: false })).resolves.toMatchObject({ kind: 'payload' });
  });

  it('a directory, an SVG, a non-PNG .png, or a file of other text: typed refusals', async () => {
    const sub = join(dir, 'a-dir');
    mkdirSync(sub);
    await expect(readCardArgument(sub, { pan: true })).rejects.toMatchObject({ code: 'USAGE', message: expect.stringContaining('is a directory') });
    const svg = join(dir, 'card.svg');
    writeFileSync(svg, '<svg/>');
    await expect(readCardArgument(svg, { pan: true })).rejects.toMatchObject({ code: 'USAGE', message: expect.stringContaining('SVG') });
    const fake = join(dir, 'fake.png');
    writeFileSync(fake, 'not a png');
    await expect(readCardArgument(fake, { pan: true })).rejects.toMatchObject({ code: 'PAYLOAD_MALFORMED' });
    const notes = join(dir, 'notes.txt');
    writeFileSync(notes, 'shopping list: eggs\n');
    await expect(readCardArgument(notes, { pan: true })).rejects.toMatchObject({ code: 'PAYLOAD_MALFORMED' });
  });
});

describe('scanpay fleet-key generate', () => {
  it('writes 64 hex digits to a 0600 file, never prints the key, and the file provisions scanners', async () => {
    const file = join(dir, 'fleet.key');
    const r = await run('fleet-key', 'generate', '--file', file);
    expect(r.code, r.errors.join('\n')).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const hex = readFileSync(file, 'utf8');
    expect(hex).toMatch(/^[0-9a-f]{64}\n$/);
    expect(r.lines[0]).toBe(`wrote ${file} (mode 0600): a new scanner fleet key`);
    expect(r.lines.join('\n')).toContain(`SCANPAY_FLEET_KEY_FILE=${file}`);
    expect(r.lines.join('\n')).not.toContain(hex.trim());

    const provisioned = await run('scanner', 'provision', 'till-1', '--fleet-key-file', file, '--json');
    expect(provisioned.code).toBe(0);
    expect(provisioned.values).toEqual([{ deviceId: 'till-1', secret: Buffer.from(deviceSecret(loadFleetKey({ file }), 'till-1')).toString('hex') }]);
  });

  it('refuses to replace a fleet key without --force (exit 2 FILE_EXISTS, file unchanged); --force --json replaces it', async () => {
    const file = join(dir, 'fleet-2.key');
    expect((await run('fleet-key', 'generate', '--file', file)).code).toBe(0);
    const before = readFileSync(file, 'utf8');
    const again = await run('fleet-key', 'generate', '--file', file);
    expect(again.code).toBe(2);
    expect(again.errors).toEqual([
      `scanpay: ${file} exists: remove it or pass --file with another path; --force replaces it (every provisioned scanner then needs a new secret) [FILE_EXISTS]`,
    ]);
    expect(readFileSync(file, 'utf8')).toBe(before);

    const forced = await run('fleet-key', 'generate', '--file', file, '--force', '--json');
    expect(forced.code).toBe(0);
    expect(forced.lines).toEqual([]);
    expect(forced.values).toEqual([{ wrote: file, mode: '0600', replaced: true }]);
    const after = readFileSync(file, 'utf8');
    expect(after).not.toBe(before);
    expect(JSON.stringify(forced.values)).not.toContain(after.trim());
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('defaults to SCANPAY_FLEET_KEY_FILE', async () => {
    const file = join(dir, 'from-env.key');
    const saved = process.env.SCANPAY_FLEET_KEY_FILE;
    process.env.SCANPAY_FLEET_KEY_FILE = file;
    try {
      expect((await run('fleet-key', 'generate')).code).toBe(0);
    } finally {
      if (saved === undefined) delete process.env.SCANPAY_FLEET_KEY_FILE;
      else process.env.SCANPAY_FLEET_KEY_FILE = saved;
    }
    expect(readFileSync(file, 'utf8')).toMatch(/^[0-9a-f]{64}\n$/);
  });
});

describe('scanpay scanner provision: stdout for a pipe, or --out FILE written 0600', () => {
  const fleetKeyFile = join(dir, 'provision-fleet.key');
  writeFileSync(fleetKeyFile, `${'3c'.repeat(32)}\n`);
  const secretOf = (device: string) => Buffer.from(deviceSecret(loadFleetKey({ file: fleetKeyFile }), device)).toString('hex');

  it('without --out, stdout is the secret alone (a pipe gets just it)', () => {
    const r = bin('scanner', 'provision', 'till-1', '--fleet-key-file', fleetKeyFile);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(`${secretOf('till-1')}\n`);
    expect(r.stderr).toBe('');
  });

  it('--out writes the secret with mode 0600 whatever the umask, says so, and never prints the secret', () => {
    const file = join(dir, 'till-1.secret');
    // umask 000: a shell redirect (`> till-1.secret`) would make this file world-readable and writable
    const r = spawnSync('sh', ['-c', 'umask 000 && exec "$0" bin/scanpay.js "$@"', process.execPath, 'scanner', 'provision', 'till-1', '--fleet-key-file', fleetKeyFile, '--out', file], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(`wrote ${file} (mode 0600): the secret of scanner till-1\n`);
    expect(readFileSync(file, 'utf8')).toBe(`${secretOf('till-1')}\n`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(r.stdout + r.stderr).not.toContain(secretOf('till-1'));
  });

  it('refuses an existing --out file (FILE_EXISTS, exit 2, file unchanged) unless --force; --force alone or a directory is bad usage', async () => {
    const file = join(dir, 'till-2.secret');
    writeFileSync(file, 'keep me\n', { mode: 0o644 });
    const refused = await run('scanner', 'provision', 'till-2', '--fleet-key-file', fleetKeyFile, '--out', file);
    expect(refused.code).toBe(2);
    expect(refused.errors).toEqual([`scanpay: ${file} exists: remove it or pass another --out; --force replaces it [FILE_EXISTS]`]);
    expect(refused.lines).toEqual([]);
    expect(readFileSync(file, 'utf8')).toBe('keep me\n');

    const forced = await run('scanner', 'provision', 'till-2', '--fleet-key-file', fleetKeyFile, '--out', file, '--force', '--json');
    expect(forced.code, forced.errors.join('\n')).toBe(0);
    expect(forced.values).toEqual([{ deviceId: 'till-2', wrote: file, mode: '0600', replaced: true }]);
    expect(readFileSync(file, 'utf8')).toBe(`${secretOf('till-2')}\n`);
    expect(statSync(file).mode & 0o777).toBe(0o600); // a replaced 0644 file comes back 0600

    const noOut = await run('scanner', 'provision', 'till-2', '--fleet-key-file', fleetKeyFile, '--force');
    expect(noOut.code).toBe(2);
    expect(noOut.errors).toEqual(['scanpay: --force replaces an --out file: pass --out FILE too [USAGE]']);
    const sub = join(dir, 'a-secret-dir');
    mkdirSync(sub);
    const isDir = await run('scanner', 'provision', 'till-2', '--fleet-key-file', fleetKeyFile, '--out', sub, '--force');
    expect(isDir.code).toBe(2);
    expect(isDir.errors).toEqual([`scanpay: --out ${sub} exists and is not a file [USAGE]`]);
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('a bad fleet key writes no --out file', async () => {
    const file = join(dir, 'till-3.secret');
    const bad = join(dir, 'bad-fleet.key');
    writeFileSync(bad, 'zz\n');
    const r = await run('scanner', 'provision', 'till-3', '--fleet-key-file', bad, '--out', file);
    expect(r.code).toBe(1);
    expect(r.errors).toEqual([expect.stringMatching(/\[FLEET_KEY_INVALID\]$/)]);
    expect(existsSync(file)).toBe(false);
  });
});

describe('scanpay keys, on a key ring file', () => {
  it('generate over an existing file: FILE_EXISTS, exit 2, saying how to proceed; the file unchanged', async () => {
    const ring = join(dir, 'ring-exists.json');
    expect((await run('--keyring', ring, 'keys', 'generate')).code).toBe(0);
    const before = readFileSync(ring, 'utf8');
    const r = await run('--keyring', ring, 'keys', 'generate');
    expect(r.code).toBe(2);
    expect(r.errors).toEqual([
      `scanpay: ${ring} exists: remove it or pass --keyring with another path; --force replaces it (every card issued under it becomes unreadable) [FILE_EXISTS]`,
    ]);
    expect(r.lines).toEqual([]);
    expect(readFileSync(ring, 'utf8')).toBe(before);
  });

  it('retire of an id the ring does not hold says so (KEY_UNKNOWN, exit 1); a second retire says nothing changed and writes nothing', async () => {
    const ring = join(dir, 'ring-retire.json');
    expect((await run('--keyring', ring, 'keys', 'generate')).code).toBe(0);
    expect((await run('--keyring', ring, 'keys', 'rotate')).code).toBe(0);
    const missing = await run('--keyring', ring, 'keys', 'retire', '9');
    expect(missing.code).toBe(1);
    expect(missing.errors).toEqual(['scanpay: no such issuer key in the key ring: key 9 (the ring holds 1, 2) [KEY_UNKNOWN]']);

    const first = await run('--keyring', ring, 'keys', 'retire', '1');
    expect(first.code).toBe(0);
    expect(first.lines[0]).toBe('key 1 is now retired: payloads sealed under it are illegal');
    const written = readFileSync(ring, 'utf8');
    const mtime = statSync(ring).mtimeMs;
    const second = await run('--keyring', ring, 'keys', 'retire', '1');
    expect(second.code).toBe(0);
    expect(second.lines[0]).toBe('key 1 was already retired: nothing changed');
    const json = await run('--keyring', ring, 'keys', 'retire', '1', '--json');
    expect(json.values).toEqual([expect.objectContaining({ action: 'retire', retired: 1, changed: [] })]);
    expect(readFileSync(ring, 'utf8')).toBe(written);
    expect(statSync(ring).mtimeMs).toBe(mtime);
  });
});
