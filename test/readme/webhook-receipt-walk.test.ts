/**
 * README.md's "A merchant receives a signed webhook and verifies a receipt offline", run as written so the README
 * cannot drift: its ```sh lines go, in order, to one bash in a temp folder (test/support/readme-shell.ts, as
 * merchant-walk.test.ts runs its block), against a Redis under a private key prefix (deleted after with SCAN +
 * UNLINK), with `npx scanpay` and `npm start` pointed at this repository. The block runs "in the repository's
 * folder", where receiver.mjs's `import 'scanpay/sdk'` is the package importing itself; in the temp folder a
 * node_modules/scanpay link to this repository resolves it the same way (to its compiled dist/). PORT, OPS_PORT,
 * MERCHANT_PORT and RECEIVER_PORT are free ports.
 *
 * Checked besides each noted outcome: the receiver printed exactly the payment's two events, each verified (and
 * their ids are the merchant API's events of the payment), and it does check: a delivery with a forged signature,
 * and the real body with one byte changed under a real signature, are refused with 400; the receipts verify
 * (exit 0, chain intact), and a receipt with any one character changed fails (every position, in-process with the
 * core `receipt verify` runs, and one through the command itself), as do a wrong key and the chain out of order.
 * Everything started is stopped by its process group.
 */
import { readFileSync } from 'node:fs';
import { mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadCore } from '../../core/index.ts';
import { verifyReceipt } from '../../core/receipt.ts';
import { webhookSignature } from '../../protocol/webhook-signature.ts';
import { describeRedis, freePort, redisForTests, testKeyPrefix } from '../support/redis.ts';
import { BlockRun, REPO, blockCommands, showOutcome, type Outcome } from '../support/readme-shell.ts';
import { ed25519PrivateKey, ed25519RawPublicKey } from '../support/ed25519-keys.ts';

const README = readFileSync(join(REPO, 'README.md'), 'utf8');
const HEADING = '### A merchant receives a signed webhook and verifies a receipt offline';
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

const redis = await redisForTests();
afterAll(async () => {
  await redis?.stop();
});

describeRedis(redis, 'README webhook and receipt walk, run as written', (r) => {
  const prefix = testKeyPrefix();
  let run: BlockRun;
  let receiverPort = 0;

  beforeAll(async () => {
    receiverPort = await freePort();
    run = await BlockRun.run(blockCommands(README, HEADING), {
      redisUrl: r.url, prefix, folder: 'scanpay-readme-webhook-', env: { RECEIVER_PORT: String(receiverPort) },
      // the package importing itself, as it does in the repository's folder (see the header)
      prepare: async (dir) => {
        await mkdir(join(dir, 'node_modules'));
        await symlink(REPO, join(dir, 'node_modules', 'scanpay'), 'dir');
      },
    });
  }, 240_000);

  afterAll(async () => {
    await run?.stop();
  });

  const find = (start: string, nth = 0): Outcome => run.find(start, nth);
  const show = showOutcome;
  const value = async (name: string) => (await run.shell.run(`printf %s "$${name}"`)).stdout;
  const receipts = () => readFileSync(join(run.dir, 'receipts.txt'), 'utf8').trim().split('\n');

  it('the block has the walk: merchant, scanner, gateway allowing private receivers, receiver, endpoint, payment, refund, receipts, verify', () => {
    const commands = blockCommands(README, HEADING);
    expect(commands.length).toBe(run.outcomes.length);
    for (const start of ['npx scanpay merchant create shop-2', 'npx scanpay scanner provision till-2 --merchant shop-2', 'SCANPAY_WEBHOOK_ALLOW_PRIVATE=1 npm start &',
      'until curl -sf', "cat > receiver.mjs <<'EOF'", 'SECRET=$(curl -s -X POST $API/v1/webhook_endpoints', 'SCANPAY_WEBHOOK_SECRET=$SECRET node receiver.mjs',
      'npx scanpay card issue', 'PAYMENT=$(npx scanpay scan ', 'curl -s -X POST $API/v1/refunds', 'cat receiver.log',
      'curl -s $API/v1/payments/$PAYMENT/receipts', 'curl -s http://127.0.0.1:${PORT:-8080}/receipt-keys', 'npx scanpay receipt verify receipts.txt --chain']) {
      expect(commands.some((c) => c.startsWith(start)), start).toBe(true);
    }
    for (const o of run.outcomes) expect(o.rc, show(o)).toBe(0);
  });

  it('the endpoint was made with its secret shown once, and the receiver printed the payment\'s two events, each verified', async () => {
    expect(await value('SECRET')).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(await value('HOOK')).toBe(`http://127.0.0.1:${receiverPort}/scanpay/events`);
    const payment = await value('PAYMENT');
    expect(payment).toMatch(/^[0-9a-f]{32}$/);
    expect(JSON.parse(find('curl -s -X POST $API/v1/refunds').stdout)).toMatchObject({ object: 'refund', payment, amount: 500 });
    const printed = find('cat receiver.log').stdout.trim().split('\n');
    expect(printed).toEqual(['listening', `verified payment.approved ev_${payment}_1`, `verified refund.created ev_${payment}_2`]);
    // the events the receiver printed are the merchant API's events of this payment
    const listed = await run.shell.run('curl -s "$API/v1/events?limit=10" -H "Authorization: Bearer $KEY"');
    const events = (JSON.parse(listed.stdout) as { data: { id: string; type: string }[] }).data;
    expect(events.map((e) => `${e.type} ${e.id}`).sort(), show(listed)).toEqual([`payment.approved ev_${payment}_1`, `refund.created ev_${payment}_2`]);
  });

  it('the receiver checks: a forged signature and an altered body under a real signature get 400 and a refused line', async () => {
    const eventOne = await run.shell.run('curl -s $API/v1/events/ev_${PAYMENT}_1 -H "Authorization: Bearer $KEY"');
    const body = eventOne.stdout;
    expect(JSON.parse(body), show(eventOne)).toMatchObject({ object: 'event', type: 'payment.approved' });
    const secret = await value('SECRET');
    const t = Math.floor(Date.now() / 1000);
    const post = (b: string, header: string) => fetch(`http://127.0.0.1:${receiverPort}/scanpay/events`, {
      method: 'POST', body: b, headers: { 'Content-Type': 'application/json', 'Scanpay-Signature': header },
    });
    // sanity: the real body under the real secret is accepted, so the refusals below are the signature's doing
    expect((await post(body, `t=${t},v1=${webhookSignature(secret, t, body)}`)).status).toBe(204);
    expect((await post(body, `t=${t},v1=${webhookSignature('whsec_not-the-secret', t, body)}`)).status).toBe(400);
    const altered = body.replace('"amount":1250', '"amount":9250');
    expect(altered).not.toBe(body);
    expect((await post(altered, `t=${t},v1=${webhookSignature(secret, t, body)}`)).status).toBe(400);
    expect((await post(body, `t=${t - 600},v1=${webhookSignature(secret, t - 600, body)}`)).status).toBe(400);
    const log = readFileSync(join(run.dir, 'receiver.log'), 'utf8').trim().split('\n').slice(find('cat receiver.log').stdout.trim().split('\n').length);
    expect(log).toEqual([`verified payment.approved ${JSON.parse(body).id}`, 'refused (no-match)', 'refused (no-match)', 'refused (too-old)']);
  });

  it('the payment\'s two receipts verify offline as a chain, exit 0', async () => {
    const payment = await value('PAYMENT');
    expect(receipts()).toHaveLength(2);
    for (const line of receipts()) expect(line).toMatch(/^spr1\.[A-Za-z0-9_-]+$/);
    const keys = JSON.parse(readFileSync(join(run.dir, 'receipt-keys.json'), 'utf8')) as { object: string; keys: { state: string }[] };
    expect(keys).toMatchObject({ object: 'receipt_keys', keys: [{ id: 1, algorithm: 'Ed25519', state: 'active' }] });
    const verified = find('npx scanpay receipt verify receipts.txt');
    expect(verified.rc, show(verified)).toBe(0);
    const lines = verified.stdout.trim().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^valid payment receipt shop-2 #1: 1250 EUR \\(minor units\\), card \\d{4}, payment ${payment}, `));
    expect(lines[1]).toMatch(new RegExp(`^valid refund receipt shop-2 #2: 500 EUR \\(minor units\\), card \\d{4}, payment ${payment}, `));
    expect(lines[2]).toMatch(/^chain of 2 receipts intact; head [0-9a-f]{64}$/);
    // the keys the gateway publishes are the key ring's: `scanpay keys public --json` prints the same document
    const fromRing = await run.shell.run('npx scanpay keys public --json');
    expect(JSON.parse(fromRing.stdout), show(fromRing)).toEqual(keys);
  });

  it('a receipt with any one character changed fails; so does a wrong key, and the chain out of order', async () => {
    const [first, second] = receipts() as [string, string];
    const keys = JSON.parse(readFileSync(join(run.dir, 'receipt-keys.json'), 'utf8')) as { keys: { id: number; public_key: string }[] };
    const core = await loadCore();
    expect(verifyReceipt(core, first, keys).ok).toBe(true);
    // every position after `spr1.`, each changed to the next base64url character: never valid
    for (let i = 5; i < first.length; i++) {
      const changed = first.slice(0, i) + B64URL[(B64URL.indexOf(first[i]!) + 1) % 64] + first.slice(i + 1);
      const verdict = verifyReceipt(core, changed, keys);
      expect(verdict.ok, `position ${i}`).toBe(false);
    }
    // and through the command, as the README runs it: the amount's low byte changed (text character 40 holds bits
    // 240..245 of the bytes, inside byte 30, the amount's last)
    const at = 5 + 40;
    const changed = first.slice(0, at) + B64URL[(B64URL.indexOf(first[at]!) + 1) % 64] + first.slice(at + 1);
    const refused = await run.shell.run(`npx scanpay receipt verify ${changed} --keys receipt-keys.json`);
    expect(refused.rc, show(refused)).toBe(1);
    expect(refused.stderr).toMatch(/^scanpay: .*\[RECEIPT_SIGNATURE_INVALID\]$/m);
    // another key published under the same id
    const other = Buffer.from(ed25519RawPublicKey(ed25519PrivateKey())).toString('base64url');
    expect(verifyReceipt(core, first, { keys: [{ id: keys.keys[0]!.id, public_key: other }] })).toMatchObject({ ok: false, code: 'RECEIPT_SIGNATURE_INVALID' });
    // the two receipts in the wrong order are not a chain
    const reordered = await run.shell.run(`printf '%s\\n%s\\n' ${second} ${first} > reordered.txt && npx scanpay receipt verify reordered.txt --chain --keys receipt-keys.json`);
    expect(reordered.rc, show(reordered)).toBe(1);
    expect(reordered.stderr).toMatch(/\[RECEIPT_(CHAIN_BROKEN|SIGNATURE_INVALID)\]$/m);
  });
});
