/**
 * The `scanpay` operator CLI, driven in-process through main(argv, out) with a capturing Output, against
 * Redis under a per-run prefix and a key ring in a temp dir; plus the real bin once as a child process.
 * Checks: keys generate/list/rotate/retire, card issue (PNG and SVG QR that decode to the payload), show by
 * QR image, .txt payload file, payload text or PAN (and whether the given payload is the current
 * generation), block/unblock/reissue/pin by QR image, each saying what it changed; no full PAN or key bytes
 * in any output; and bad arguments give one `scanpay: <message> [CODE]` line on stderr, exit 2 for bad
 * usage or 1 for a refusal, and write nothing.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/main.ts';
import type { Output } from '../../cli/output.ts';
import { loadCore } from '../../core/index.ts';
import type { CryptoCore } from '../../core/types.ts';
import { pinVerificationValue, unwrapBasicKey } from '../../issuer/card-secrets.ts';
import { Issuer } from '../../issuer/issuer.ts';
import { IssuerKeyRing } from '../../issuer/key-ring.ts';
import { payloadFromText } from '../../issuer/payload.ts';
import { decodeQrPng, payloadQrPng } from '../../issuer/qr.ts';
import { openStore } from '../../issuer/store/index.ts';
import type { Store } from '../../issuer/store/types.ts';
import { deleteKeys, describeRedis, keysUnder, redisForTests, testKeyPrefix } from '../support/redis.ts';
import { claimFor, makeCard, makeSession, newAttempt } from '../support/store-fixtures.ts';
import { Redis } from 'ioredis';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MASKED = /^•••• •••• •••• [0-9]{4}$/;
const ERROR_LINE = /^scanpay: [^\n]+ \[[A-Z][A-Z0-9_]*\]$/;

const redis = await redisForTests();
afterAll(async () => {
  await redis?.stop();
});

interface Run {
  code: number;
  stdout: string;
  errors: string[];
  json: unknown;
  /** Everything the command wrote, for leak checks. */
  all: string;
}

/** Runs main() with a capturing Output and `env` applied to process.env for the call (restored after). */
async function cli(args: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  const lines: string[] = [];
  const errors: string[] = [];
  const jsons: unknown[] = [];
  const out: Output = {
    line: (text) => lines.push(text),
    json: (value) => jsons.push(JSON.parse(JSON.stringify(value))),
    error: (text) => errors.push(text),
  };
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  let code: number;
  try {
    code = await main(['node', 'scanpay', ...args], out);
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
  const stdout = [...lines, ...jsons.map((j) => JSON.stringify(j, null, 2))].join('\n');
  return { code, stdout, errors, json: jsons.length === 1 ? jsons[0] : jsons.length ? jsons : undefined, all: `${stdout}\n${errors.join('\n')}` };
}

/** Key material of a key ring file, in the spellings a leak might take. */
async function keyStrings(file: string): Promise<string[]> {
  const doc = JSON.parse(await readFile(file, 'utf8')) as { storageKey: string; issuerKeys: { key: string }[] };
  return [doc.storageKey, ...doc.issuerKeys.map((k) => k.key)].flatMap((s) => {
    const b = Buffer.from(s, 'base64url');
    return [s, b.toString('base64'), b.toString('hex')];
  });
}

let core: CryptoCore;
let dir: string;
const envKeys = ['REDIS_URL', 'SCANPAY_KEYRING', 'SCANPAY_KEYRING_FILE'] as const;
const savedEnv: Record<string, string | undefined> = {};
beforeAll(async () => {
  core = await loadCore();
  dir = await mkdtemp(join(tmpdir(), 'scanpay-cli-'));
  for (const k of envKeys) {
    savedEnv[k] = process.env[k];
    delete process.env[k]; // every call names its key ring and Redis explicitly
  }
});
afterAll(async () => {
  for (const k of envKeys) if (savedEnv[k] !== undefined) process.env[k] = savedEnv[k];
  await rm(dir, { recursive: true, force: true });
});

describe('the bin', () => {
  it('`node bin/scanpay.js --help` runs as a real process', () => {
    const result = spawnSync(process.execPath, ['bin/scanpay.js', '--help'], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain('Usage: scanpay');
    expect(result.stdout).toContain('keys');
    expect(result.stdout).toContain('card');
  });

  it('exits non-zero with one line on stderr when the operation fails', () => {
    const result = spawnSync(process.execPath, ['bin/scanpay.js', '--keyring', join(tmpdir(), 'scanpay-no-such-keyring.json'), 'keys', 'list'], {
      cwd: ROOT, encoding: 'utf8', timeout: 30_000, env: { ...process.env, SCANPAY_KEYRING: '', SCANPAY_KEYRING_FILE: '' },
    });
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain('KEYRING_INVALID');
  });
});

describe('card and scanner commands without a persistent store', () => {
  it('refuse with the "persistent store" message, naming which commands, when neither --redis nor REDIS_URL is given', async () => {
    const keyring = join(dir, 'no-redis-ring.json');
    expect((await cli(['--keyring', keyring, 'keys', 'generate'])).code).toBe(0);
    for (const args of [
      ['card', 'issue', '--pin', '1234', '--limit', '5000', '--currency', 'EUR'],
      ['card', 'show', '4000000000000002'],
    ]) {
      const run = await cli(['--keyring', keyring, ...args], { REDIS_URL: undefined });
      expect(run.code).toBe(1);
      expect(run.errors).toHaveLength(1);
      expect(run.errors[0]).toContain('card commands need a persistent store for the cards: pass --redis URL');
      expect(run.errors[0]).toMatch(ERROR_LINE);
      expect(run.stdout).toBe('');
    }
    for (const args of [['scanner', 'list'], ['scanner', 'revoke', 'till-1'], ['scanner', 'provision', 'till-1', '--record']]) {
      const run = await cli(args, { REDIS_URL: undefined, SCANPAY_FLEET_KEY: 'ab'.repeat(32) });
      expect(run.code, args.join(' ')).toBe(1);
      expect(run.errors, args.join(' ')).toEqual([expect.stringMatching(ERROR_LINE)]);
      expect(run.errors[0]).toContain('scanner commands need a persistent store for the device records: pass --redis URL');
      expect(run.errors[0]).not.toContain('card commands');
      expect(run.stdout).toBe('');
    }
    expect(process.env.REDIS_URL).toBeUndefined();
  });
});

describeRedis(redis, 'scanpay CLI on Redis', (r) => {
  const prefix = testKeyPrefix();
  let keyring: string;
  let store: Store;
  let client: Redis;
  const g = () => ['--redis', r.url, '--prefix', prefix, '--keyring', keyring];
  /** An issuer over the same store and key ring file, to look behind the CLI. */
  const issuer = async () => new Issuer({ core, store, keyRing: await IssuerKeyRing.load({ file: keyring, env: {} }) });
  const cardKeys = async () => (await keysUnder(client, prefix)).filter((k) => k.includes(':card:'));
  const cardRows = async () => (await cardKeys()).length;

  let pngPath: string;
  let payload: string;
  let pan: string;

  beforeAll(async () => {
    keyring = join(dir, 'keyring.json');
    store = await openStore({ redisUrl: r.url, prefix });
    client = new Redis(r.url);
  });
  afterAll(async () => {
    await store?.close();
    await client?.quit();
    await deleteKeys(r.url, prefix);
  });

  it('keys generate writes a 0600 key ring once; a second generate needs --force', async () => {
    const first = await cli([...g(), 'keys', 'generate']);
    expect(first.code, first.errors.join('\n')).toBe(0);
    expect((await stat(keyring)).mode & 0o777).toBe(0o600);
    const secrets = await keyStrings(keyring);
    for (const s of secrets) expect(first.all).not.toContain(s);
    const before = await readFile(keyring, 'utf8');

    const second = await cli([...g(), 'keys', 'generate']);
    expect(second.code).toBe(2);
    expect(second.errors).toEqual([
      `scanpay: ${keyring} exists: remove it or pass --keyring with another path; --force replaces it (every card issued under it becomes unreadable) [FILE_EXISTS]`,
    ]);
    expect(second.stdout).toBe('');
    expect(await readFile(keyring, 'utf8')).toBe(before);

    expect(first.stdout.split('\n')[0]).toBe(`wrote ${keyring} (mode 0600)`);
    const forced = await cli([...g(), 'keys', 'generate', '--force', '--json']);
    expect(forced.code).toBe(0);
    expect(forced.json).toMatchObject({ wrote: keyring, mode: '0600', replaced: true, issuerKeys: [{ id: 1, state: 'active' }] });
    expect(await readFile(keyring, 'utf8')).not.toBe(before);
    expect((await stat(keyring)).mode & 0o777).toBe(0o600);
    expect((await readdir(dir)).filter((n) => n.includes('.tmp'))).toEqual([]);
  });

  it('keys list shows ids and states, never key bytes', async () => {
    const text = await cli([...g(), 'keys', 'list']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^\s*1\s+active\s+\d{4}-\d\d-\d\dT/);
    const json = await cli([...g(), 'keys', 'list', '--json']);
    expect(json.code).toBe(0);
    const listed = (json.json as { issuerKeys: { id: number; state: string; createdAt: string }[] }).issuerKeys;
    expect(listed.map(({ id, state }) => ({ id, state }))).toEqual([{ id: 1, state: 'active' }]);
    expect(Object.keys(listed[0]).sort()).toEqual(['createdAt', 'id', 'state']);
    for (const s of await keyStrings(keyring)) {
      expect(text.all).not.toContain(s);
      expect(json.all).not.toContain(s);
    }
  });

  it('card issue --qr card.png --json: masked PAN only, and the PNG decodes to the payload', async () => {
    pngPath = join(dir, 'card.png');
    const before = await store.countCards();
    const run = await cli([...g(), 'card', 'issue', '--pin', '1234', '--limit', '5000', '--currency', 'EUR', '--qr', pngPath, '--json']);
    expect(run.code, run.errors.join('\n')).toBe(0);
    expect(run.errors).toEqual([]);
    const out = run.json as Record<string, unknown>;
    expect(out.maskedPan).toMatch(MASKED);
    expect(out).toMatchObject({ status: 'active', generation: 1, keyId: 1, limit: 5000, balance: 5000, currency: 'EUR', pinFailures: 0 });
    expect(String(out.qr)).toContain('QR version 7');
    payload = out.payload as string;
    expect(payload).toHaveLength(168);
    expect(decodeQrPng(await readFile(pngPath))).toBe(payload);
    expect(await store.countCards()).toBe(before + 1);

    const iss = await issuer();
    pan = iss.panOfPayload(payload);
    expect(String(out.maskedPan).slice(-4)).toBe(pan.slice(-4));
    expect(run.all).not.toContain(pan);
    expect(run.all.replace(/\s/g, '')).not.toContain(pan);
    for (const s of await keyStrings(keyring)) expect(run.all).not.toContain(s);
    const [verdict] = await iss.judgePayloads([payload]);
    expect(verdict.legal).toBe(true);
    expect(payloadFromText(payload)).toHaveLength(112);
  });

  it('card issue --qr card.svg writes an SVG; plain output shows the masked PAN', async () => {
    const svgPath = join(dir, 'card.svg');
    const run = await cli([...g(), 'card', 'issue', '--pin', '0000', '--limit', '100', '--balance', '50', '--currency', 'USD', '--qr', svgPath]);
    expect(run.code, run.errors.join('\n')).toBe(0);
    const svg = await readFile(svgPath, 'utf8');
    expect(svg).toContain('<svg');
    expect(run.stdout).toMatch(/card\s+•••• •••• •••• [0-9]{4}/);
    expect(run.stdout).toMatch(/balance 50/);
    const text = /payload\s+(.{168})$/m.exec(run.stdout)?.[1];
    expect(text).toBeDefined();
    const svgPan = (await issuer()).panOfPayload(text!);
    expect(run.all).not.toContain(svgPan);
    await expect((await issuer()).judgePayloads([text!])).resolves.toMatchObject([{ legal: true }]);
  });

  it('card show works with a QR image, the payload text and the PAN', async () => {
    const byPng = await cli([...g(), 'card', 'show', pngPath, '--json']);
    const byText = await cli([...g(), 'card', 'show', payload, '--json']);
    const byPan = await cli([...g(), 'card', 'show', pan, '--json']);
    for (const run of [byPng, byText, byPan]) {
      expect(run.code, run.errors.join('\n')).toBe(0);
      expect(run.json).toMatchObject({ status: 'active', generation: 1, limit: 5000, currency: 'EUR' });
      expect((run.json as { maskedPan: string }).maskedPan.slice(-4)).toBe(pan.slice(-4));
    }
    expect(byPng.all).not.toContain(pan);
    expect(byText.all).not.toContain(pan);
    const plain = await cli([...g(), 'card', 'show', pngPath]);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(/status\s+active/);
    expect(plain.stdout).toMatch(/^scanned\s+generation 1, issuer key 1: current$/m);
    expect(plain.all).not.toContain(pan);
    expect(byPng.json).toMatchObject({ scanned: { generation: 1, keyId: 1, current: true, verdict: 'legal' } });
    expect(byText.json).toMatchObject({ scanned: { generation: 1, current: true } });
    expect(byPan.json).not.toHaveProperty('scanned'); // a PAN names the card, not one of its payloads
  });

  it('card show takes a .txt payload file (as `npm start` writes demo-cards/card-N.txt)', async () => {
    const txt = join(dir, 'card-1.txt');
    await writeFile(txt, `${payload}\n`);
    const run = await cli([...g(), 'card', 'show', txt, '--json']);
    expect(run.code, run.errors.join('\n')).toBe(0);
    expect(run.json).toMatchObject({ status: 'active', generation: 1, scanned: { generation: 1, current: true, verdict: 'legal' } });
    expect((run.json as { maskedPan: string }).maskedPan.slice(-4)).toBe(pan.slice(-4));
    expect(run.all).not.toContain(pan);
  });

  it('a card file that does not exist: "no such file", exit 2, never read as payload text', async () => {
    for (const args of [['card', 'show', join(dir, 'card-9.png')], ['card', 'block', join(dir, 'card-9.txt')], ['card', 'reissue', 'demo-cards/none.png']]) {
      const run = await cli([...g(), ...args]);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.errors).toEqual([`scanpay: no such file: ${args[2]} (and it is not a card number or payload text) [NO_SUCH_FILE]`]);
      expect(run.stdout).toBe('');
    }
  });

  it('block, unblock and reissue by QR image path', async () => {
    const iss = await issuer();
    const blocked = await cli([...g(), 'card', 'block', pngPath, '--json']);
    expect(blocked.code, blocked.errors.join('\n')).toBe(0);
    expect(blocked.json).toMatchObject({ action: 'block', changed: ['status'], before: { status: 'active' }, status: 'blocked' });
    expect(await iss.judgePayloads([payload])).toMatchObject([{ legal: false, reason: 'CARD_BLOCKED' }]);
    const shownBlocked = await cli([...g(), 'card', 'show', pngPath, '--json']);
    expect(shownBlocked.json).toMatchObject({ scanned: { current: true, verdict: 'CARD_BLOCKED' } });

    const again = await cli([...g(), 'card', 'block', pngPath]);
    expect(again.code).toBe(0);
    expect(again.stdout.split('\n')[0]).toMatch(/^card •••• •••• •••• [0-9]{4} was already blocked: nothing changed$/);
    const againJson = await cli([...g(), 'card', 'block', pngPath, '--json']);
    expect(againJson.json).toMatchObject({ action: 'block', changed: [] });

    const unblocked = await cli([...g(), 'card', 'unblock', pngPath]);
    expect(unblocked.code).toBe(0);
    expect(unblocked.stdout.split('\n')[0]).toBe(`unblocked card •••• •••• •••• ${pan.slice(-4)}: status blocked → active`);
    expect(unblocked.stdout).toMatch(/^status\s+active$/m);
    expect(await iss.judgePayloads([payload])).toMatchObject([{ legal: true }]);

    const newPng = join(dir, 'card-g2.png');
    const reissued = await cli([...g(), 'card', 'reissue', pngPath, '--qr', newPng, '--json']);
    expect(reissued.code, reissued.errors.join('\n')).toBe(0);
    const out = reissued.json as { generation: number; payload: string; maskedPan: string };
    expect(reissued.json).toMatchObject({ action: 'reissue', changed: ['generation'], before: { generation: 1 } });
    expect(out.generation).toBe(2);
    expect(out.payload).not.toBe(payload);
    expect(decodeQrPng(await readFile(newPng))).toBe(out.payload);
    expect(reissued.all).not.toContain(pan);
    const verdicts = await iss.judgePayloads([payload, out.payload]);
    expect(verdicts).toMatchObject([{ legal: false, reason: 'GENERATION_STALE' }, { legal: true }]);
    // the old image still names the card (an operator holding an old print can act on it), and is reported stale
    const shown = await cli([...g(), 'card', 'show', pngPath, '--json']);
    expect(shown.json).toMatchObject({ generation: 2, scanned: { generation: 1, current: false, verdict: 'GENERATION_STALE' } });
    const shownText = await cli([...g(), 'card', 'show', pngPath]);
    expect(shownText.code).toBe(0);
    expect(shownText.stdout).toMatch(/^scanned\s+generation 1, issuer key 1: STALE — the card's current payload is generation 2; this one is refused at every scan$/m);
    const current = await cli([...g(), 'card', 'show', newPng, '--json']);
    expect(current.json).toMatchObject({ generation: 2, scanned: { generation: 2, current: true, verdict: 'legal' } });
    const plain = await cli([...g(), 'card', 'reissue', newPng]);
    expect(plain.code).toBe(0);
    expect(plain.stdout.split('\n')[0]).toBe(`re-issued card •••• •••• •••• ${pan.slice(-4)}: generation 2 → 3; payloads of older generations are now illegal`);
    const g3 = /payload\s+(.{168})$/m.exec(plain.stdout)![1];
    expect(await iss.judgePayloads([out.payload, g3])).toMatchObject([{ legal: false, reason: 'GENERATION_STALE' }, { legal: true }]);
    await writeFile(newPng, await payloadQrPng(g3));
    pngPath = newPng;
    payload = g3;
  });

  it('card issue says it issued a card', async () => {
    const run = await cli([...g(), 'card', 'issue', '--pin', '1234', '--limit', '1', '--currency', 'EUR']);
    expect(run.code, run.errors.join('\n')).toBe(0);
    expect(run.stdout.split('\n')[0]).toMatch(/^issued a new card •••• •••• •••• [0-9]{4}$/);
    const json = await cli([...g(), 'card', 'issue', '--pin', '1234', '--limit', '1', '--currency', 'EUR', '--json']);
    expect(json.json).toMatchObject({ action: 'issue', changed: [], status: 'active' });
    expect(json.json).not.toHaveProperty('before');
  });

  it('scanner revoke refuses the device\'s later tokens in the store; a second revoke says nothing changed', async () => {
    expect(await store.acceptDeviceToken('till-lost-7', 'cd'.repeat(16), 60_000)).toBe('accepted'); // it connected once
    const run = await cli([...g(), 'scanner', 'revoke', 'till-lost-7', '--json']);
    expect(run.code, run.errors.join('\n')).toBe(0);
    expect(run.json).toEqual({ action: 'revoke', deviceId: 'till-lost-7', changed: ['revoked'] });
    expect(await store.acceptDeviceToken('till-lost-7', 'ab'.repeat(16), 60_000)).toBe('revoked');
    expect(await store.acceptDeviceToken('till-other-7', 'ab'.repeat(16), 60_000)).toBe('accepted');
    const revokedAt = (await store.listDevices()).find((d) => d.deviceId === 'till-lost-7')!.revokedAt;

    const again = await cli([...g(), 'scanner', 'revoke', 'till-lost-7']);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe('scanner till-lost-7 was already revoked: nothing changed');
    const againJson = await cli([...g(), 'scanner', 'revoke', 'till-lost-7', '--json']);
    expect(againJson.json).toEqual({ action: 'revoke', deviceId: 'till-lost-7', changed: [] });
    expect((await store.listDevices()).find((d) => d.deviceId === 'till-lost-7')!.revokedAt).toBe(revokedAt);
    const bad = await cli([...g(), 'scanner', 'revoke', 'not a device']);
    expect(bad.code).toBe(2);
  });

  it('scanner show: the device, and its wrong-PIN budget now (refused until its window ends once spent)', async () => {
    const budget = { device: { max: 2, windowMs: 3_600_000 }, merchant: { max: 100, windowMs: 3_600_000 } };
    for (let i = 0; i < 2; i++) {
      const card = makeCard();
      await store.insertCard(card);
      const session = makeSession(card, { deviceId: 'till-show-1' });
      await store.openSession(session, claimFor(card));
      expect((await store.beginPinAttempt(session.id, 'till-show-1', newAttempt(), Date.now(), { lockAt: 3, paceMs: 0, budget })).kind).toBe('evaluate');
      await store.settleFailedPin(session.id, 'wrong', 3, Date.now());
    }
    expect(await store.acceptDeviceToken('till-show-1', '0f'.repeat(16), 60_000)).toBe('accepted');
    const shown = await cli([...g(), 'scanner', 'show', 'till-show-1', '--wrong-pins', '2', '--json']);
    expect(shown.code, shown.errors.join('\n')).toBe(0);
    expect(shown.json).toMatchObject({
      deviceId: 'till-show-1', revokedAt: null, lastConnectedAt: expect.any(Number),
      wrongPins: { used: 2, max: 2, windowEndsAt: expect.any(Number), refusedUntil: expect.any(Number) },
    });
    const text = await cli([...g(), 'scanner', 'show', 'till-show-1', '--wrong-pins', '2']);
    expect(text.stdout).toMatch(/wrong PINs this window: 2 of 2/);
    expect(text.stdout).toMatch(/its PINs are refused \(PIN_LIMIT\) until 20/);
    const roomy = await cli([...g(), 'scanner', 'show', 'till-show-1', '--json']); // the default budget, 10
    expect(roomy.json).toMatchObject({ wrongPins: { used: 2, max: 10, refusedUntil: null } });
    const unknown = await cli([...g(), 'scanner', 'show', 'till-never-9']);
    expect(unknown.code).toBe(1);
    expect(unknown.errors[0]).toMatch(/\[DEVICE_UNKNOWN\]$/);
    expect((await cli([...g(), 'scanner', 'show', 'till-show-1', '--wrong-pins', 'many'])).code).toBe(2);
  });

  it('scanner revoke of a device the store never heard of is refused (DEVICE_UNKNOWN, exit 1, nothing written) unless --force', async () => {
    const devicesBefore = await store.listDevices();
    const keysBefore = (await keysUnder(client, prefix)).sort();
    const typo = await cli([...g(), 'scanner', 'revoke', 'till-1O']);
    expect(typo.code).toBe(1);
    expect(typo.stdout).toBe('');
    expect(typo.errors).toEqual([expect.stringMatching(ERROR_LINE)]);
    expect(typo.errors[0]).toMatch(/^scanpay: no such scanner device in the store: till-1O was never recorded, revoked or connected on redis .* \(prefix ".+"\): check the id and --prefix, or pass --force .* \[DEVICE_UNKNOWN\]$/);
    expect(typo.errors[0]).toContain(JSON.stringify(prefix));
    expect(await store.listDevices()).toEqual(devicesBefore);
    expect((await keysUnder(client, prefix)).sort()).toEqual(keysBefore);
    expect(await store.acceptDeviceToken('till-1O', 'ef'.repeat(16), 60_000)).toBe('accepted'); // still not revoked

    // a device provisioned without --record that never connected: --force revokes it
    const forced = await cli([...g(), 'scanner', 'revoke', 'till-quiet-3', '--force', '--json']);
    expect(forced.code, forced.errors.join('\n')).toBe(0);
    expect(forced.json).toEqual({ action: 'revoke', deviceId: 'till-quiet-3', changed: ['revoked'] });
    expect(await store.acceptDeviceToken('till-quiet-3', 'ab'.repeat(16), 60_000)).toBe('revoked');
  });

  it('scanner provision --record --out: a 0600 file, recorded once; list shows it with its last connection; revoke needs no --force', async () => {
    const fleetKeyFile = join(dir, 'cli-fleet.key');
    await writeFile(fleetKeyFile, `${'5a'.repeat(32)}\n`);
    const secretFile = join(dir, 'till-rec-1.secret');
    const provision = ['scanner', 'provision', 'till-rec-1', '--record', '--fleet-key-file', fleetKeyFile, '--out', secretFile];
    const first = await cli([...g(), ...provision]);
    expect(first.code, first.errors.join('\n')).toBe(0);
    expect(first.stdout.split('\n')).toEqual([`wrote ${secretFile} (mode 0600): the secret of scanner till-rec-1`, 'recorded scanner till-rec-1 in the store']);
    const secret = await readFile(secretFile, 'utf8');
    expect(secret).toMatch(/^[0-9a-f]{64}\n$/);
    expect(first.all).not.toContain(secret.trim());
    expect((await stat(secretFile)).mode & 0o777).toBe(0o600);

    const again = await cli([...g(), ...provision, '--force']);
    expect(again.code).toBe(0);
    expect(again.stdout.split('\n')).toEqual([`replaced ${secretFile} (mode 0600): the secret of scanner till-rec-1`, 'scanner till-rec-1 was already recorded: nothing changed']);
    expect(await readFile(secretFile, 'utf8')).toBe(secret); // the same device, the same secret
    const json = await cli([...g(), ...provision, '--force', '--json']);
    expect(json.json).toEqual({ deviceId: 'till-rec-1', wrote: secretFile, mode: '0600', replaced: true, recorded: false });

    const listed = await cli([...g(), 'scanner', 'list']);
    expect(listed.stdout).toMatch(/^till-rec-1\s+provisioned \d{4}-\d\d-\d\dT\S+\s+connected never\s+active$/m);
    expect(await store.acceptDeviceToken('till-rec-1', 'ab'.repeat(16), 60_000)).toBe('accepted');
    const connected = await cli([...g(), 'scanner', 'list', '--json']);
    const row = (connected.json as { devices: { deviceId: string; lastConnectedAt: number | null }[] }).devices.find((d) => d.deviceId === 'till-rec-1');
    expect(row?.lastConnectedAt).toEqual(expect.any(Number));
    expect((await cli([...g(), 'scanner', 'list'])).stdout).toMatch(/^till-rec-1\s+provisioned \S+\s+connected \d{4}-\d\d-\d\dT\S+\s+active$/m);

    const revoked = await cli([...g(), 'scanner', 'revoke', 'till-rec-1']);
    expect(revoked.code, revoked.errors.join('\n')).toBe(0);
    expect(revoked.stdout).toMatch(/^revoked scanner till-rec-1: its tokens are refused and its open connections closed/);
    expect((await cli([...g(), 'scanner', 'list'])).stdout).toMatch(/^till-rec-1\s+provisioned \S+\s+connected \S+\s+revoked \d{4}-\d\d-\d\dT\S+$/m);
  });

  it('card pin changes the stored PIN verification value, and says so', async () => {
    const ring = await IssuerKeyRing.load({ file: keyring, env: {} });
    const before = (await store.getCard(ring.cardToken(pan)))!;
    const run = await cli([...g(), 'card', 'pin', pngPath, '--pin', '4321', '--json']);
    expect(run.code, run.errors.join('\n')).toBe(0);
    expect(run.json).toMatchObject({ action: 'pin', changed: ['pin'], status: 'active' });
    expect(run.all).not.toContain('4321');
    const after = (await store.getCard(ring.cardToken(pan)))!;
    const basicKey = unwrapBasicKey(core, ring.storageKey, after.token, after.wrappedBasicKey);
    expect(Buffer.from(after.pvv).equals(Buffer.from(pinVerificationValue(core, basicKey, pan, '4321')))).toBe(true);
    expect(Buffer.from(before.pvv).equals(Buffer.from(pinVerificationValue(core, basicKey, pan, '1234')))).toBe(true);
    expect(Buffer.from(after.pvv).equals(Buffer.from(before.pvv))).toBe(false);
    basicKey.fill(0);
    const plain = await cli([...g(), 'card', 'pin', pngPath, '--pin', '4321']);
    expect(plain.code).toBe(0);
    expect(plain.stdout.split('\n')[0]).toBe(`changed the PIN of card •••• •••• •••• ${pan.slice(-4)}`);
    expect(plain.all).not.toContain('4321');
  });

  it('keys rotate: two keys listed, new cards under the new key, old cards still legal', async () => {
    const rotated = await cli([...g(), 'keys', 'rotate']);
    expect(rotated.code, rotated.errors.join('\n')).toBe(0);
    expect(rotated.stdout.split('\n')[0]).toBe('key 2 is now active; key 1 is now decrypt-only');
    const list = await cli([...g(), 'keys', 'list', '--json']);
    const keys = (list.json as { issuerKeys: { id: number; state: string }[] }).issuerKeys.map(({ id, state }) => ({ id, state }));
    expect(keys).toEqual([{ id: 1, state: 'decrypt-only' }, { id: 2, state: 'active' }]);
    for (const s of await keyStrings(keyring)) expect(rotated.all + list.all).not.toContain(s);
    expect((await stat(keyring)).mode & 0o777).toBe(0o600);

    const issued = await cli([...g(), 'card', 'issue', '--pin', '1111', '--limit', '1', '--currency', 'JPY', '--json']);
    expect(issued.code).toBe(0);
    expect(issued.json).toMatchObject({ keyId: 2 });
    expect(await (await issuer()).judgePayloads([payload])).toMatchObject([{ legal: true }]);
  });

  it('bad arguments: one `scanpay: … [CODE]` line on stderr, exit 2 (usage) or 1 (refused), nothing written', async () => {
    const txt = join(dir, 'bad', 'card.txt');
    await mkdir(join(dir, 'bad'));
    const dirPng = join(dir, 'bad', 'is-a-dir.png');
    await mkdir(dirPng);
    const noQr = join(dir, 'no-qr.png');
    const { PNG } = await import('pngjs');
    const blank = new PNG({ width: 32, height: 32 });
    blank.data.fill(255);
    await writeFile(noQr, PNG.sync.write(blank));
    const issue = ['card', 'issue'];
    const ok = { pin: ['--pin', '1234'], limit: ['--limit', '5000'], currency: ['--currency', 'EUR'] };
    const cases: Record<string, string[]> = {
      'missing --pin': [...issue, ...ok.limit, ...ok.currency],
      'missing --limit': [...issue, ...ok.pin, ...ok.currency],
      'missing --currency': [...issue, ...ok.pin, ...ok.limit],
      '--pin 12': [...issue, '--pin', '12', ...ok.limit, ...ok.currency],
      '--pin abcd': [...issue, '--pin', 'abcd', ...ok.limit, ...ok.currency],
      '--pin 12345': [...issue, '--pin', '12345', ...ok.limit, ...ok.currency],
      '--limit -5': [...issue, ...ok.pin, '--limit', '-5', ...ok.currency],
      '--limit abc': [...issue, ...ok.pin, '--limit', 'abc', ...ok.currency],
      '--limit 1.5': [...issue, ...ok.pin, '--limit', '1.5', ...ok.currency],
      '--limit 1e3': [...issue, ...ok.pin, '--limit', '1e3', ...ok.currency],
      '--limit 2^53': [...issue, ...ok.pin, '--limit', '9007199254740993', ...ok.currency],
      '--limit 0': [...issue, ...ok.pin, '--limit', '0', ...ok.currency],
      '--balance -1': [...issue, ...ok.pin, ...ok.limit, ...ok.currency, '--balance', '-1'],
      '--currency EURO': [...issue, ...ok.pin, ...ok.limit, '--currency', 'EURO'],
      '--currency eur': [...issue, ...ok.pin, ...ok.limit, '--currency', 'eur'],
      '--currency XXX': [...issue, ...ok.pin, ...ok.limit, '--currency', 'XXX'],
      '--bin 12': [...issue, ...ok.pin, ...ok.limit, ...ok.currency, '--bin', '12'],
      '--qr file.txt': [...issue, ...ok.pin, ...ok.limit, ...ok.currency, '--qr', txt],
      '--qr /nonexistent/dir/x.png': [...issue, ...ok.pin, ...ok.limit, ...ok.currency, '--qr', '/nonexistent/dir/x.png'],
      '--qr <a directory>.png': [...issue, ...ok.pin, ...ok.limit, ...ok.currency, '--qr', dirPng],
      'unknown option': [...issue, ...ok.pin, ...ok.limit, ...ok.currency, '--frobnicate'],
      'unknown card subcommand': ['card', 'frob'],
      'unknown command': ['frob'],
      'unknown keys subcommand': ['keys', 'frob'],
      'card show garbage': ['card', 'show', 'garbage'],
      'card show 10 KB of garbage': ['card', 'show', 'A'.repeat(10_240)],
      'card show a Luhn-invalid 16 digits': ['card', 'show', '4000000000000001'],
      'card show a PNG without a QR code': ['card', 'show', noQr],
      'card show a directory': ['card', 'show', dir],
      'card block garbage': ['card', 'block', 'garbage'],
      'card unblock unknown card': ['card', 'unblock', '4000000000000002'],
      'card reissue tampered payload': ['card', 'reissue', `${payload.slice(0, 100)}${payload[100] === 'A' ? 'B' : 'A'}${payload.slice(101)}`],
      'card pin --pin 12': ['card', 'pin', pngPath, '--pin', '12'],
      'card pin without --pin': ['card', 'pin', pngPath],
      'keys retire the active key': ['keys', 'retire', '2'],
      'keys retire abc': ['keys', 'retire', 'abc'],
      'keys retire 0': ['keys', 'retire', '0'],
      'keys retire unknown id': ['keys', 'retire', '99'],
    };
    // Exit 1 (refused) with these codes; every other case is bad usage: exit 2 [USAGE], or [NO_SUCH_FILE] below.
    const refused: Record<string, string> = {
      'card show 10 KB of garbage': 'PAYLOAD_TOO_LARGE',
      'card show a Luhn-invalid 16 digits': 'CARD_UNKNOWN',
      'card show a PNG without a QR code': 'PAYLOAD_MALFORMED',
      'card unblock unknown card': 'CARD_UNKNOWN',
      'card reissue tampered payload': 'PAYLOAD_TAG_INVALID',
      'keys retire the active key': 'BAD_ARGUMENT',
      'keys retire unknown id': 'KEY_UNKNOWN',
    };
    const missingFile = new Set(['card show garbage', 'card block garbage']);
    const ringBefore = await readFile(keyring, 'utf8');
    const rowsBefore = JSON.stringify(await Promise.all((await cardKeys()).sort().map((k) => client.hgetall(k))));
    const countBefore = await store.countCards();
    const filesBefore = (await readdir(dir, { recursive: true })).sort();
    for (const [name, args] of Object.entries(cases)) {
      const run = await cli([...g(), ...args]);
      const code = refused[name] ?? (missingFile.has(name) ? 'NO_SUCH_FILE' : 'USAGE');
      expect({ exit: run.code, errors: run.errors }, name).toEqual({ exit: refused[name] ? 1 : 2, errors: [expect.stringMatching(ERROR_LINE)] });
      expect(run.errors[0], name).toMatch(new RegExp(`\\[${code}\\]$`));
      expect(run.stdout, name).toBe('');
      expect(run.all, name).not.toContain(pan);
      expect(await store.countCards(), name).toBe(countBefore);
      expect(await cardRows(), name).toBe(countBefore);
    }
    expect(JSON.stringify(await Promise.all((await cardKeys()).sort().map((k) => client.hgetall(k))))).toBe(rowsBefore);
    expect(await readFile(keyring, 'utf8')).toBe(ringBefore);
    expect((await readdir(dir, { recursive: true })).sort()).toEqual(filesBefore);
    expect(existsSync(txt)).toBe(false);
  });

  it('keys retire says what it retired, and payloads under that key are then refused', async () => {
    const run = await cli([...g(), 'keys', 'retire', '1', '--json']);
    expect(run.code, run.errors.join('\n')).toBe(0);
    expect(run.json).toMatchObject({ action: 'retire', retired: 1, changed: ['state'], issuerKeys: [{ id: 1, state: 'retired' }, { id: 2, state: 'active' }] });
    const shown = await cli([...g(), 'card', 'show', pngPath]);
    expect(shown.code).toBe(1);
    expect(shown.errors).toEqual([expect.stringMatching(/^scanpay: .+ \[KEY_RETIRED\]$/)]);

    const rotated = await cli([...g(), 'keys', 'rotate', '--json']);
    expect(rotated.json).toMatchObject({ active: 3, decryptOnly: 2 });
    const text = await cli([...g(), 'keys', 'retire', '2']);
    expect(text.code).toBe(0);
    expect(text.stdout.split('\n')[0]).toBe('key 2 is now retired: payloads sealed under it are illegal');
    // a second time: nothing changed, and the file is not rewritten
    const ring = await readFile(keyring, 'utf8');
    const written = (await stat(keyring)).mtimeMs;
    const again = await cli([...g(), 'keys', 'retire', '2']);
    expect(again.code).toBe(0);
    expect(again.stdout.split('\n')[0]).toBe('key 2 was already retired: nothing changed');
    const againJson = await cli([...g(), 'keys', 'retire', '2', '--json']);
    expect(againJson.json).toMatchObject({ action: 'retire', retired: 2, changed: [] });
    expect(await readFile(keyring, 'utf8')).toBe(ring);
    expect((await stat(keyring)).mtimeMs).toBe(written);
    for (const s of await keyStrings(keyring)) expect(run.all + rotated.all + text.all).not.toContain(s);
  });
});
