/**
 * `scanpay scan` and `scanpay scanner provision` (cli/scan.ts) through main(), against the fake gateway:
 * exit codes (0 approved, 1 declined or refused, 2 usage) with one `scanpay: <message> [CODE]` line, the
 * result line, QR images and .txt payload files, missing files, the page flow, --repeat, env fallbacks;
 * and the PIN line reader.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/main.ts';
import type { Output } from '../../cli/output.ts';
import { readFirstLine } from '../../cli/pin-prompt.ts';
import { payloadQrPng } from '../../issuer/qr.ts';
import { deviceSecret } from '../../protocol/scanner-token.ts';
import { FAKE_PIN, FakeGateway, HOLDER_DEVICE_MERCHANT } from '../support/fake-gateway.ts';

const fleetKeyHex = randomBytes(32).toString('hex');
const fleetKey = new Uint8Array(Buffer.from(fleetKeyHex, 'hex'));
const DEVICE = 'till-0042';
const secretHex = Buffer.from(deviceSecret(fleetKey, DEVICE)).toString('hex');
const dir = mkdtempSync(join(tmpdir(), 'scanpay-cli-scan-'));
const ENV_KEYS = ['SCANPAY_GATEWAY', 'SCANPAY_DEVICE_ID', 'SCANPAY_DEVICE_SECRET', 'SCANPAY_FLEET_KEY', 'SCANPAY_FLEET_KEY_FILE'];
const savedEnv = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));

let gateway: FakeGateway;

function capture(): Output & { lines: string[]; errors: string[]; json: (v: unknown) => void; values: unknown[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  const values: unknown[] = [];
  return { lines, errors, values, line: (t) => lines.push(t), json: (v) => values.push(v), error: (t) => errors.push(t) };
}

async function run(...args: string[]): Promise<{ code: number; lines: string[]; errors: string[]; values: unknown[] }> {
  const out = capture();
  const code = await main(['node', 'scanpay', ...args], out);
  return { code, lines: out.lines, errors: out.errors, values: out.values };
}

const connection = (): string[] => ['--gateway', gateway.url, '--device', DEVICE, '--secret', secretHex];
const payment = ['--amount', '1250', '--currency', 'EUR', '--merchant', 'cafe-7'];

beforeAll(async () => {
  gateway = await FakeGateway.start({ fleetKey });
});
afterEach(() => {
  for (const k of ENV_KEYS) if (savedEnv[k] === undefined) delete process.env[k]; else process.env[k] = savedEnv[k];
});
afterAll(async () => {
  await gateway.close();
});

describe('scanpay scanner provision', () => {
  it('prints the device secret derived from the fleet key file', async () => {
    const keyFile = join(dir, 'fleet.key');
    writeFileSync(keyFile, `${fleetKeyHex}\n`, { mode: 0o600 });
    const r = await run('scanner', 'provision', DEVICE, '--fleet-key-file', keyFile);
    expect(r).toMatchObject({ code: 0, lines: [secretHex] });
  });

  it('takes the fleet key from SCANPAY_FLEET_KEY', async () => {
    process.env.SCANPAY_FLEET_KEY = fleetKeyHex;
    expect((await run('scanner', 'provision', 'till-7')).lines).toEqual([Buffer.from(deviceSecret(fleetKey, 'till-7')).toString('hex')]);
  });

  it('no fleet key → 1 FLEET_KEY_INVALID; bad device id → 2', async () => {
    const r = await run('scanner', 'provision', DEVICE);
    expect(r.code).toBe(1);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatch(/^scanpay: .*\[FLEET_KEY_INVALID\]$/);
    process.env.SCANPAY_FLEET_KEY = fleetKeyHex;
    const bad = await run('scanner', 'provision', 'till.42');
    expect(bad).toMatchObject({ code: 2, errors: ['scanpay: device id must be 1-64 of A-Z a-z 0-9 _ - [USAGE]'], lines: [] });
  });
});

describe('scanpay scan', () => {
  it('approved with --pin: exit 0, one result line with masked PAN, amount and receipt MAC', async () => {
    const r = await run('scan', 'CARD-PAYLOAD', ...connection(), ...payment, '--pin', FAKE_PIN);
    expect(r.code).toBe(0);
    expect(r.lines).toHaveLength(1);
    expect(r.lines[0]).toMatch(/^approved {2}1250 EUR {2}merchant cafe-7 {2}card •••• •••• •••• 7893 {2}receipt [0-9a-f]{64} {2}session [0-9a-f]{32}$/);
    expect(r.errors).toEqual([]);
  });

  it('a wrong PIN: the declined line, then exit 1 with one scanpay: line', async () => {
    const r = await run('scan', 'CARD-PAYLOAD', ...connection(), ...payment, '--pin', '0000');
    expect(r.code).toBe(1);
    expect(r.lines[0]).toMatch(/^declined PIN_WRONG \(2 attempts left\) {2}1250 EUR .* no receipt/);
    expect(r.errors).toEqual(['scanpay: payment declined [PIN_WRONG]']);
  });

  it('an error frame: exit 1 naming the code', async () => {
    const r = await run('scan', 'BLOCKED', ...connection(), ...payment, '--pin', FAKE_PIN);
    expect(r.code).toBe(1);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatch(/^scanpay: .*\[CARD_BLOCKED\]$/);
  });

  it('a wrong secret: exit 1 UNAUTHORIZED', async () => {
    const r = await run('scan', 'CARD-PAYLOAD', '--gateway', gateway.url, '--device', DEVICE, '--secret', 'ab'.repeat(32), ...payment, '--pin', FAKE_PIN);
    expect(r.code).toBe(1);
    expect(r.errors[0]).toMatch(/\[UNAUTHORIZED\]$/);
  });

  it('a QR image: the payload decoded from the PNG is what is scanned', async () => {
    const payloadText = 'QR-PAYLOAD-0042';
    const png = join(dir, 'card.png');
    writeFileSync(png, await payloadQrPng(payloadText));
    const r = await run('scan', png, ...connection(), ...payment, '--pin', FAKE_PIN);
    expect(r.code).toBe(0);
    expect(gateway.received.filter((f) => f.type === 'scan').at(-1)).toMatchObject({ payload: payloadText });
  });

  it('a .txt payload file (as `npm start` writes demo-cards/card-N.txt): its payload line is what is scanned', async () => {
    const txt = join(dir, 'card-1.txt');
    writeFileSync(txt, 'TXT-PAYLOAD-0001\n');
    const r = await run('scan', txt, ...connection(), ...payment, '--pin', FAKE_PIN);
    expect(r.code, r.errors.join('\n')).toBe(0);
    expect(gateway.received.filter((f) => f.type === 'scan').at(-1)).toMatchObject({ payload: 'TXT-PAYLOAD-0001' });
  });

  it('a card file that does not exist: exit 2 NO_SUCH_FILE, nothing sent (never scanned as payload text)', async () => {
    const sent = gateway.received.length;
    for (const missing of [join(dir, 'card-9.png'), join(dir, 'card-9.txt')]) {
      const r = await run('scan', missing, ...connection(), ...payment, '--pin', FAKE_PIN);
      expect(r.code).toBe(2);
      expect(r.errors).toEqual([`scanpay: no such file: ${missing} (and it is not payload text) [NO_SUCH_FILE]`]);
    }
    const r = await run('scan', 'CARD-PAYLOAD', ...connection(), ...payment, '--pin', FAKE_PIN, '--secret-file', join(dir, 'none.secret'), '--secret', secretHex);
    expect(r.code).toBe(2); // --secret with --secret-file: usage, before the file is looked at
    const noSecret = await run('scan', 'CARD-PAYLOAD', '--gateway', gateway.url, '--device', DEVICE, '--secret-file', join(dir, 'none.secret'), ...payment, '--pin', FAKE_PIN);
    expect(noSecret.code).toBe(2);
    expect(noSecret.errors[0]).toMatch(/^scanpay: no such file: --secret-file .*none\.secret \[NO_SUCH_FILE\]$/);
    expect(gateway.received.length).toBe(sent);
  });

  it('a file that is not an image: exit 1 PAYLOAD_MALFORMED, nothing sent', async () => {
    const junk = join(dir, 'junk.png');
    writeFileSync(junk, 'not a png');
    const sent = gateway.received.length;
    const r = await run('scan', junk, ...connection(), ...payment, '--pin', FAKE_PIN);
    expect(r.code).toBe(1);
    expect(r.errors[0]).toMatch(/\[PAYLOAD_MALFORMED\]$/);
    expect(gateway.received.length).toBe(sent);
  });

  it('--page: prints the auth page URL, waits for the push, prints the result', async () => {
    const before = new Set(gateway.sessions.keys());
    const running = run('scan', 'CARD-PAYLOAD', ...connection(), ...payment, '--page');
    await expect.poll(() => [...gateway.sessions.keys()].find((s) => !before.has(s))).toBeDefined();
    const session = [...gateway.sessions.keys()].find((s) => !before.has(s))!;
    gateway.payOnPage(session);
    const r = await running;
    expect(r.code).toBe(0);
    expect(r.lines[0]).toBe(`auth page http://127.0.0.1/pay/${session}`);
    expect(r.lines[1]).toMatch(new RegExp(`^approved .* session ${session}$`));
  });

  it('a holder-device session: prints the holder URL, sends no PIN (not even one given with --pin), waits for the push', async () => {
    const before = new Set(gateway.sessions.keys());
    const sent = gateway.received.length;
    const running = run('scan', 'CARD-PAYLOAD', ...connection(), '--amount', '1250', '--currency', 'EUR', '--merchant', HOLDER_DEVICE_MERCHANT, '--pin', FAKE_PIN);
    await expect.poll(() => [...gateway.sessions.keys()].find((s) => !before.has(s))).toBeDefined();
    const session = [...gateway.sessions.keys()].find((s) => !before.has(s))!;
    gateway.payOnPage(session);
    const r = await running;
    expect(r.code).toBe(0);
    expect(r.lines[0]).toBe(`holder url http://127.0.0.1/pay/${session}`);
    expect(r.lines.at(-1)).toMatch(new RegExp(`^approved .* session ${session}$`));
    expect(gateway.received.slice(sent).map((f) => f.type)).toEqual(['scan']);
  });

  it('a one-time code paid at its scan (v1.6): the result line, no PIN asked or sent, exit 0', async () => {
    const sent = gateway.received.length;
    const r = await run('scan', 'PAID-CODE', ...connection(), ...payment, '--page'); // no PIN to give: --page (a terminal would not be asked either)
    expect(r.code).toBe(0);
    expect(r.lines).toHaveLength(1);
    expect(r.lines[0]).toMatch(/^approved {2}1250 EUR {2}merchant cafe-7 {2}card •••• •••• •••• 7893 {2}receipt [0-9a-f]{64} {2}session [0-9a-f]{32}$/);
    expect(gateway.received.slice(sent).map((f) => f.type)).toEqual(['scan']);
  });

  it('--repeat N: N sessions on one connection, then payments/s', async () => {
    const before = gateway.sessions.size;
    const r = await run('scan', 'CARD-PAYLOAD', ...connection(), ...payment, '--pin', FAKE_PIN, '--repeat', '25');
    expect(r.code).toBe(0);
    expect(gateway.sessions.size - before).toBe(25);
    expect(r.lines).toHaveLength(2);
    expect(r.lines[0]).toMatch(/^approved /);
    expect(r.lines[1]).toMatch(/^25 of 25 payments approved in [0-9.]+ s: [0-9.]+ payments\/s \(latency p50 [0-9.]+ ms, p99 [0-9.]+ ms\)$/);
  });

  it('--json prints the payment-result frame', async () => {
    const r = await run('scan', 'CARD-PAYLOAD', ...connection(), ...payment, '--pin', FAKE_PIN, '--json');
    expect(r.code).toBe(0);
    expect(r.values[0]).toMatchObject({ type: 'payment-result', outcome: 'approved', replayed: false });
  });

  it('env fallbacks: SCANPAY_GATEWAY, SCANPAY_DEVICE_ID, SCANPAY_DEVICE_SECRET; --secret-file', async () => {
    process.env.SCANPAY_GATEWAY = gateway.url;
    process.env.SCANPAY_DEVICE_ID = DEVICE;
    process.env.SCANPAY_DEVICE_SECRET = secretHex;
    expect((await run('scan', 'CARD-PAYLOAD', ...payment, '--pin', FAKE_PIN)).code).toBe(0);
    delete process.env.SCANPAY_DEVICE_SECRET;
    const secretFile = join(dir, 'device.secret');
    writeFileSync(secretFile, `${secretHex}\n`, { mode: 0o600 });
    expect((await run('scan', 'CARD-PAYLOAD', ...payment, '--pin', FAKE_PIN, '--secret-file', secretFile)).code).toBe(0);
  });

  it.each([
    ['no --amount', ['--currency', 'EUR', '--merchant', 'm', '--pin', FAKE_PIN]],
    ['amount not a number', ['--amount', '12.50', '--currency', 'EUR', '--merchant', 'm', '--pin', FAKE_PIN]],
    ['amount zero', ['--amount', '0', '--currency', 'EUR', '--merchant', 'm', '--pin', FAKE_PIN]],
    ['lowercase currency', ['--amount', '1', '--currency', 'eur', '--merchant', 'm', '--pin', FAKE_PIN]],
    ['merchant with a space', ['--amount', '1', '--currency', 'EUR', '--merchant', 'a b', '--pin', FAKE_PIN]],
    ['--pin and --page', [...payment, '--pin', FAKE_PIN, '--page']],
    ['--pin of 3 digits', [...payment, '--pin', '123']],
    ['--repeat 0', [...payment, '--pin', FAKE_PIN, '--repeat', '0']],
    ['no PIN source and stdin not a terminal', payment],
  ])('usage: %s → exit 2, one `scanpay: … [USAGE]` line, nothing sent', async (_name, args) => {
    const sent = gateway.received.length;
    const r = await run('scan', 'CARD-PAYLOAD', ...connection(), ...args);
    expect(r.code).toBe(2);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatch(/^scanpay: [^\n]+ \[USAGE\]$/);
    expect(gateway.received.length).toBe(sent);
  });

  it.each([
    ['-5', '--amount must be positive (≥ 1)'],
    ['0', '--amount must be positive (≥ 1)'],
    ['12.50', '--amount must be a whole number, got "12.50"'],
    ['9007199254740993', '--amount must be at most 9007199254740991'],
  ])('--amount %s says: %s', async (amount, message) => {
    const r = await run('scan', 'CARD-PAYLOAD', ...connection(), '--amount', amount, '--currency', 'EUR', '--merchant', 'm', '--pin', FAKE_PIN);
    expect(r).toMatchObject({ code: 2, errors: [`scanpay: ${message} [USAGE]`] });
  });

  it('usage: no gateway, no device, no secret, bad secret → exit 2', async () => {
    const base = ['scan', 'CARD-PAYLOAD', ...payment, '--pin', FAKE_PIN];
    for (const args of [
      ['--device', DEVICE, '--secret', secretHex],
      ['--gateway', gateway.url, '--secret', secretHex],
      ['--gateway', gateway.url, '--device', DEVICE],
      ['--gateway', gateway.url, '--device', DEVICE, '--secret', 'abc'],
      ['--gateway', 'http://x/', '--device', DEVICE, '--secret', secretHex],
    ]) {
      const r = await run(...base, ...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.errors, args.join(' ')).toHaveLength(1);
      expect(r.errors[0]).toMatch(/^scanpay: [^\n]+ \[USAGE\]$/);
    }
  });
});

describe('readFirstLine (--pin-stdin)', () => {
  const feed = (...chunks: string[]): PassThrough => {
    const s = new PassThrough();
    for (const c of chunks) s.write(c);
    s.end();
    return s;
  };

  it('the first line, without its line ending, across chunks', async () => {
    expect(await readFirstLine(feed('12', '34\nrest\n'))).toBe('1234');
    expect(await readFirstLine(feed('1234\r\n'))).toBe('1234');
    expect(await readFirstLine(feed('1234'))).toBe('1234');
    expect(await readFirstLine(feed(''))).toBe('');
  });

  it('refuses an endless first line', async () => {
    await expect(readFirstLine(feed('9'.repeat(10_000)))).rejects.toMatchObject({ code: 'PIN_FORMAT' });
  });
});
