/**
 * README.md's "Run it for real" block, run as written so the README cannot drift: its ```sh lines (a `\`
 * continues a line) go, in order, to one bash in a temp folder, against a Redis under a private key prefix
 * (SCANPAY_REDIS_PREFIX=scanpay-test:<run>:, deleted after with SCAN + UNLINK). `npx scanpay …` runs this
 * repository's bin and `npm start` the compiled gateway, through two shims on PATH (test/support/readme-shell.ts:
 * the same `node dist/gateway/main.js` as the `start` script, without its build). PORT and OPS_PORT are free
 * ports. Besides each noted outcome: every secret file the block writes is mode 0600. Everything started is
 * stopped by its process group (the bash this test spawned).
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeRedis, redisForTests, testKeyPrefix } from '../support/redis.ts';
import { BlockRun, REPO, blockCommands, showOutcome, type Outcome } from '../support/readme-shell.ts';

const README = readFileSync(join(REPO, 'README.md'), 'utf8');

/** The commands of the ```sh block under the "Run it for real" heading, continuation lines joined. */
function operatorCommands(readme: string): string[] {
  return blockCommands(readme, '### Run it for real');
}

const redis = await redisForTests();
afterAll(async () => {
  await redis?.stop();
});

describeRedis(redis, 'README "Run it for real", run as written', (r) => {
  const prefix = testKeyPrefix();
  let run: BlockRun;

  beforeAll(async () => {
    run = await BlockRun.run(operatorCommands(README), { redisUrl: r.url, prefix, folder: 'scanpay-readme-' });
  }, 240_000);

  afterAll(async () => {
    await run?.stop();
  });

  const find = (start: string, nth = 0): Outcome => run.find(start, nth);
  const show = showOutcome;

  it('the block still has the operator path: keys, fleet key, scanner, gateway, card, pay, block, rotate', () => {
    const commands = operatorCommands(README);
    expect(commands.length).toBe(run.outcomes.length);
    for (const start of ['export REDIS_URL=', 'npx scanpay keys generate', 'npx scanpay fleet-key generate', 'npx scanpay scanner provision',
      'SCANPAY_KEYRING_FILE=', 'until curl', 'npx scanpay card issue', 'npx scanpay scan ', 'npx scanpay card block',
      'npx scanpay scanner list', 'npx scanpay scanner revoke', 'npx scanpay keys rotate']) {
      expect(commands.some((c) => c.startsWith(start)), start).toBe(true);
    }
  });

  it('every setup step succeeds, in order', () => {
    for (const o of run.outcomes.filter((x) => !x.command.startsWith('npx scanpay scan '))) expect(o.rc, show(o)).toBe(0);
    expect(readFileSync(join(run.dir, 'till-1.secret'), 'utf8').trim()).toMatch(/^[0-9a-f]{64}$/);
    expect(find('npx scanpay card issue').stdout).toMatch(/•••• •••• •••• \d{4}/);
  });

  it('every secret the block writes is owner-only (0600): key ring, fleet key and the device secret', () => {
    for (const file of ['scanpay-keyring.json', 'scanpay-fleet.key', 'till-1.secret']) {
      expect((statSync(join(run.dir, file)).mode & 0o777).toString(8), file).toBe('600');
    }
    const provision = find('npx scanpay scanner provision');
    expect(provision.command).toContain('--out till-1.secret');
    expect(provision.stdout.trim().split('\n')).toEqual([`wrote ${join(run.dir, 'till-1.secret')} (mode 0600): the secret of scanner till-1`, 'recorded scanner till-1 in the store']);
  });

  it('the first scan pays (exit 0); after `card block` the next is refused with CARD_BLOCKED (exit 1)', () => {
    const paid = find('npx scanpay scan ', 0);
    expect(paid.rc, show(paid)).toBe(0);
    expect(paid.stdout, show(paid)).toMatch(/approved/);
    const refused = find('npx scanpay scan ', 1);
    expect(refused.rc, show(refused)).toBe(1);
    expect(refused.stderr, show(refused)).toMatch(/^scanpay: .*\[CARD_BLOCKED\]$/m);
  });

  it('`scanner list` shows the recorded device as active, with its connection (the scans); `scanner revoke` says it revoked it', () => {
    const list = find('npx scanpay scanner list');
    expect(list.stdout, show(list)).toMatch(/^till-1\s+provisioned \d{4}-\d\d-\d\dT\S+\s+connected \d{4}-\d\d-\d\dT\S+\s+active$/m);
    expect(find('npx scanpay scanner revoke').stdout).toMatch(/^revoked scanner till-1/);
  });

  it('`keys rotate` adds a key to the ring file and makes it the active one', () => {
    const rotate = find('npx scanpay keys rotate');
    expect(rotate.rc, show(rotate)).toBe(0);
    expect(rotate.stdout, show(rotate)).not.toBe('');
    const ring = JSON.parse(readFileSync(join(run.dir, 'scanpay-keyring.json'), 'utf8')) as { issuerKeys?: unknown[] };
    expect(ring.issuerKeys, JSON.stringify(Object.keys(ring))).toHaveLength(2);
  });
});
