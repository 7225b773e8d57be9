/**
 * README.md's merchant walk ("A merchant takes a payment, captures it, refunds half and reads it back"), run as
 * written so the README cannot drift: its ```sh lines go, in order, to one bash in a temp folder, against a Redis
 * under a private key prefix (deleted after with SCAN + UNLINK), with `npx scanpay` and `npm start` pointed at this
 * repository (test/support/readme-shell.ts, as operator-path.test.ts runs its block). PORT, OPS_PORT and
 * MERCHANT_PORT are free ports. Besides each noted outcome: the API key file is mode 0600 and the key is printed
 * nowhere; the capture and the refund sent again under their keys (the refund also by the operator's `scanpay
 * refund --idempotency-key`) answer the same and move nothing; the bound
 * scanner is refused for another merchant. Everything started is stopped by its process group.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeRedis, redisForTests, testKeyPrefix } from '../support/redis.ts';
import { BlockRun, REPO, blockCommands, showOutcome, type Outcome } from '../support/readme-shell.ts';

const README = readFileSync(join(REPO, 'README.md'), 'utf8');
const HEADING = '### A merchant takes a payment, captures it, refunds half and reads it back';

const redis = await redisForTests();
afterAll(async () => {
  await redis?.stop();
});

describeRedis(redis, 'README merchant walk, run as written', (r) => {
  const prefix = testKeyPrefix();
  let run: BlockRun;

  beforeAll(async () => {
    run = await BlockRun.run(blockCommands(README, HEADING), { redisUrl: r.url, prefix, folder: 'scanpay-readme-merchant-' });
  }, 240_000);

  afterAll(async () => {
    await run?.stop();
  });

  const find = (start: string, nth = 0): Outcome => run.find(start, nth);
  const show = showOutcome;
  const json = (o: Outcome) => JSON.parse(o.stdout) as Record<string, unknown>;

  it('the block has the walk: merchant, bound scanner, gateway, card, scan, read, capture, refund, read, operator view', () => {
    const commands = blockCommands(README, HEADING);
    expect(commands.length).toBe(run.outcomes.length);
    for (const start of ['npx scanpay merchant create shop-1', 'npx scanpay scanner provision till-1 --merchant shop-1', 'npm start &', 'until curl',
      'npx scanpay card issue', 'PAYMENT=$(npx scanpay scan ', 'API=', 'curl -s $API/v1/payments/$PAYMENT ', 'curl -s -X POST $API/v1/payments/$PAYMENT/capture',
      'curl -s -X POST $API/v1/refunds', 'npx scanpay payment show $PAYMENT']) {
      expect(commands.some((c) => c.startsWith(start)), start).toBe(true);
    }
    for (const o of run.outcomes) expect(o.rc, show(o)).toBe(0);
  });

  it('merchant create writes the API key once, to a 0600 file, and prints it nowhere; the scanner is bound to shop-1', () => {
    const key = readFileSync(join(run.dir, 'shop-1.api-key'), 'utf8').trim();
    expect(key).toMatch(/^spk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect((statSync(join(run.dir, 'shop-1.api-key')).mode & 0o777).toString(8)).toBe('600');
    for (const o of run.outcomes) expect(`${o.stdout}${o.stderr}`, o.command).not.toContain(key.slice(21));
    expect(find('npx scanpay merchant create').stdout).toContain('created merchant shop-1 (Shop One): capture manual');
    expect(find('npx scanpay scanner provision').stdout).toContain("bound scanner till-1 to merchant shop-1: its scans take that merchant's payments only");
  });

  it('the payment is held (authorized), captured, half refunded, and reads back partially_refunded', () => {
    const first = json(find('curl -s $API/v1/payments/$PAYMENT ', 0));
    expect(first, show(find('curl -s $API/v1/payments/$PAYMENT ', 0))).toMatchObject({ object: 'payment', status: 'authorized', amount: 1250, currency: 'EUR', amount_captured: 0, capture_method: 'manual' });
    expect(first.id).toMatch(/^[0-9a-f]{32}$/);
    expect(json(find('curl -s -X POST $API/v1/payments/$PAYMENT/capture'))).toMatchObject({ id: first.id, status: 'captured', amount_captured: 1250 });
    expect(json(find('curl -s -X POST $API/v1/refunds'))).toMatchObject({ object: 'refund', payment: first.id, amount: 625, reason: 'returned one' });
    expect(json(find('curl -s $API/v1/payments/$PAYMENT ', 1))).toMatchObject({ id: first.id, status: 'partially_refunded', amount_captured: 1250, amount_refunded: 625 });
    const operator = find('npx scanpay payment show').stdout;
    expect(operator).toContain(`payment ${first.id}: partially_refunded`);
    expect(operator).toMatch(/^ +1 {2}authorization +1250 /m);
    expect(operator).toMatch(/^ +2 {2}capture +1250 /m);
    expect(operator).toMatch(/^ +3 {2}refund +625 /m);
    expect(operator).toMatch(/•••• •••• •••• \d{4}/);
  });

  it('sent again under the same keys, the capture and the refund answer the same and move nothing; till-1 cannot pay another merchant', async () => {
    const again = async (start: string) => {
      const command = find(start).command.replace(/\s+#[^\n]*$/, '');
      return run.shell.run(`${command} -D - `);
    };
    for (const start of ['curl -s -X POST $API/v1/payments/$PAYMENT/capture', 'curl -s -X POST $API/v1/refunds']) {
      const first = find(start).stdout;
      const repeat = await again(start);
      expect(repeat.stdout.toLowerCase(), show(repeat)).toContain('idempotent-replayed: true');
      expect(repeat.stdout.endsWith(first), show(repeat)).toBe(true); // the same body bytes
    }
    // the operator's refund under the merchant's key is the same operation: the kept answer, nothing moved
    const operator = await run.shell.run("npx scanpay refund $PAYMENT --amount 625 --reason 'returned one' --idempotency-key refund-$PAYMENT");
    expect(operator.rc, show(operator)).toBe(0);
    expect(operator.stdout).toMatch(/^refunded 625 EUR of payment [0-9a-f]{32}: refund re_[0-9a-f]{32}; 625 of 1250 refunded, now partially_refunded \(a repeat of this --idempotency-key: nothing changed now\)$/m);
    const read = await run.shell.run('curl -s $API/v1/payments/$PAYMENT -H "Authorization: Bearer $KEY"');
    expect(JSON.parse(read.stdout)).toMatchObject({ status: 'partially_refunded', amount_refunded: 625 });
    const elsewhere = await run.shell.run('npx scanpay scan card.png --gateway ws://127.0.0.1:$PORT/scanner --device till-1 --secret-file till-1.secret --amount 100 --currency EUR --merchant shop-2 --pin 1234');
    expect(elsewhere.rc, show(elsewhere)).toBe(1);
    expect(elsewhere.stderr).toMatch(/^scanpay: .*\[MERCHANT_MISMATCH\]$/m);
  });
});
