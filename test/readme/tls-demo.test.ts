/**
 * README.md's "TLS on a local machine" block, run as written beside a plain demo: in one temp folder, a plain
 * `npm start` (demo mode, ./demo-cards) is running when the block's lines run in order in one bash — openssl
 * makes the certificate, the block's `npm start` (in the background here, as in another terminal) serves
 * wss:// and https:// from its own demo folder, and its `npx scanpay scan` pays over TLS. Then the plain
 * gateway's own printed pay command still pays: the second demo did not overwrite the first's material
 * (issue 20: it used to, and the first then answered 401). The block's ports 8443, 9443 and 8444 become free
 * ports; `npx scanpay` and `npm start` are the shims of test/support/readme-shell.ts. Everything started is
 * stopped by its process group.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, onPath } from '../support/redis.ts';
import { REPO, Shell, blockCommands, checkBuilt, writeShims, type Outcome } from '../support/readme-shell.ts';

const README = readFileSync(join(REPO, 'README.md'), 'utf8');
const BANNER_DONE = 'Ctrl-C stops';

/** Waits (polling the file) until `file` holds the end of a start banner; throws with the file if it never does. */
async function bannerIn(file: string, timeoutMs = 60_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await readFile(file, 'utf8').catch(() => '');
    if (text.includes(BANNER_DONE)) return text;
    if (Date.now() > deadline) throw new Error(`no banner in ${file} after ${timeoutMs} ms:\n${text}`);
    await sleep(100);
  }
}

// openssl makes the block's certificate; without it the block cannot run as written (fails under CI=true)
const haveOpenssl = onPath('openssl') !== null;
if (!haveOpenssl) console.warn('\n!! SKIPPED: the README TLS block: openssl is not on PATH (Debian package openssl)\n');

describe.skipIf(!haveOpenssl && process.env.CI !== 'true')('README "TLS on a local machine", run as written beside a plain demo', () => {
  const commands = blockCommands(README, '### TLS on a local machine');
  let dir = '';
  let shell: Shell | undefined;
  let tlsPort = 0;
  let tlsMerchantPort = 0;
  const outcomes: Outcome[] = [];
  let plainBanner = '';
  let plainPaid: Outcome;

  beforeAll(async () => {
    checkBuilt();
    dir = await mkdtemp(join(tmpdir(), 'scanpay-readme-tls-'));
    const bin = join(dir, '.bin');
    await writeShims(bin);
    tlsPort = await freePort();
    const tlsOpsPort = await freePort();
    tlsMerchantPort = await freePort();
    shell = new Shell(dir, {
      PATH: `${bin}:${process.env.PATH}`, HOME: process.env.HOME, SCANPAY_THREADS: '1', LOG_LEVEL: 'warn',
    });
    const plain = await shell.run(`PORT=${await freePort()} OPS_PORT=${await freePort()} MERCHANT_PORT=${await freePort()} npm start 2> plain.err &`);
    expect(plain.rc).toBe(0);
    plainBanner = await bannerIn(join(dir, 'plain.err'));
    for (const written of commands) {
      let command = written.replaceAll('8443', String(tlsPort)).replaceAll('9443', String(tlsOpsPort)).replaceAll('8444', String(tlsMerchantPort));
      if (/(^|\s)npm start(\s|$)/.test(command)) {
        // the block runs it in the foreground of another terminal: here in the background, its banner in a file
        command = `${command.replace(/\s+#.*$/, '')} 2> tls.err &`;
        outcomes.push(await shell.run(command));
        await bannerIn(join(dir, 'tls.err'));
      } else {
        outcomes.push(await shell.run(command));
      }
    }
    // the plain demo's own printed command, after the TLS demo started in the same folder
    const printed = /^\s*(npx scanpay scan .*)$/m.exec(plainBanner);
    if (!printed) throw new Error(`the plain demo printed no pay command:\n${plainBanner}`);
    plainPaid = await shell.run(printed[1]);
  }, 180_000);

  afterAll(async () => {
    await shell?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const show = (o: Outcome) => `${o.command}\nrc ${o.rc}\nstdout: ${o.stdout}\nstderr: ${o.stderr}`;

  it('the block is still: a certificate, a TLS gateway on its own ports and demo folder, a payment over wss://', () => {
    expect(commands).toHaveLength(3);
    expect(commands[0]).toMatch(/^openssl req /);
    expect(commands[1]).toMatch(/^PORT=8443 OPS_PORT=9443 MERCHANT_PORT=8444 SCANPAY_DEMO_DIR=demo-tls TLS_CERT_FILE=cert\.pem TLS_KEY_FILE=key\.pem npm start/);
    expect(commands[2]).toMatch(/^NODE_EXTRA_CA_CERTS=cert\.pem npx scanpay scan demo-tls\/card-1\.png --gateway wss:\/\/127\.0\.0\.1:8443\/scanner/);
  });

  it('the TLS gateway starts beside the plain one and serves wss://', async () => {
    for (const o of outcomes) expect(o.rc, show(o)).toBe(0);
    const banner = await readFile(join(dir, 'tls.err'), 'utf8');
    expect(banner).toContain(`scanpay gateway listening on https://127.0.0.1:${tlsPort}  (scanners: wss://127.0.0.1:${tlsPort}/scanner)`);
    expect(banner).toContain(`merchant API: https://127.0.0.1:${tlsMerchantPort}/v1/payments`);
    expect(banner).toContain('npx scanpay scan demo-tls/card-1.png');
  });

  it('the block\'s scan pays over TLS (exit 0, approved)', () => {
    const paid = outcomes[2];
    expect(paid.rc, show(paid)).toBe(0);
    expect(paid.stdout, show(paid)).toMatch(/^approved /);
  });

  it('the plain demo\'s printed pay command still pays: its demo-cards/ was not overwritten', () => {
    expect(plainPaid.rc, show(plainPaid)).toBe(0);
    expect(plainPaid.stdout, show(plainPaid)).toMatch(/^approved /);
  });
});
