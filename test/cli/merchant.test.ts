/**
 * `scanpay merchant …`, `scanner provision --merchant` and the operator's `payment …` / `refund`, driven in-process
 * through main(argv, out) against Redis under a per-run prefix. Checks: `merchant create` prints the API key once
 * (alone, in --json, or to a 0600 --out file) and the store holds only its keyed hash (no key, no secret half, in
 * any value under the prefix); `list` and `show` print no secret; `rotate-key` keeps the old key valid for its
 * grace and no longer; binding refuses an unknown merchant and a device bound elsewhere, before writing; the
 * payment commands move money through the store's idempotent steps, show the masked PAN only, and refuse with
 * the payments' typed codes (exit 1, nothing changed).
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/main.ts';
import type { Output } from '../../cli/output.ts';
import { apiKeyHashKey, verifyApiKey } from '../../issuer/merchant-keys.ts';
import { openStore } from '../../issuer/store/index.ts';
import type { Store } from '../../issuer/store/types.ts';
import { expectReconciled, paidPayment, storedCard } from '../support/merchant-api.ts';
import { deleteKeys, describeRedis, keysUnder, redisForTests, testKeyPrefix } from '../support/redis.ts';

const ERROR_LINE = /^scanpay: [^\n]+ \[[A-Z][A-Z0-9_]*\]$/;
const API_KEY = /^spk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/;
const FLEET_KEY = 'a5'.repeat(32);
const HOUR = 3_600_000;

const redis = await redisForTests();
afterAll(async () => {
  await redis?.stop();
});

interface Run { code: number; lines: string[]; errors: string[]; json: any; all: string } // eslint-disable-line @typescript-eslint/no-explicit-any

async function cli(args: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  const lines: string[] = [];
  const errors: string[] = [];
  const jsons: unknown[] = [];
  const out: Output = { line: (t) => lines.push(t), json: (v) => jsons.push(JSON.parse(JSON.stringify(v))), error: (t) => errors.push(t) };
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
  const json = jsons.length === 1 ? jsons[0] : undefined;
  return { code, lines, errors, json, all: [...lines, ...jsons.map((j) => JSON.stringify(j)), ...errors].join('\n') };
}

const hashKey = () => apiKeyHashKey(Buffer.from(FLEET_KEY, 'hex'));
/** The merchant a presented key authenticates at `at`, as the merchant API checks it. */
async function verified(store: Store, key: string, at = Date.now()): Promise<string | null> {
  return verifyApiKey(hashKey(), key, await store.merchants.getApiKey(key.slice(4, 20)), at);
}

describe('merchant and payment commands without a persistent store', () => {
  it('refuse with the "persistent store" message, exit 1, nothing printed', async () => {
    for (const [args, what] of [
      [['merchant', 'list'], 'merchant commands need a persistent store'],
      [['merchant', 'create', 'shop-1'], 'merchant commands need a persistent store'],
      [['payment', 'list', '--merchant', 'shop-1'], 'payment and refund commands need the store'],
      [['refund', 'ab'.repeat(16), '--amount', '5'], 'payment and refund commands need the store'],
    ] as const) {
      const run = await cli([...args], { REDIS_URL: undefined, REDIS_CLUSTER_NODES: undefined, SCANPAY_FLEET_KEY: FLEET_KEY });
      expect(run.code, args.join(' ')).toBe(1);
      expect(run.errors, args.join(' ')).toEqual([expect.stringMatching(ERROR_LINE)]);
      expect(run.errors[0]).toContain(what);
      expect(run.lines).toEqual([]);
    }
  });

  it('bad usage is exit 2 before anything is looked at', async () => {
    for (const args of [
      ['merchant', 'create', 'no spaces'], ['merchant', 'create', 'x'.repeat(17)], ['merchant', 'create', 'shop-1', '--capture', 'later'],
      ['merchant', 'create', 'shop-1', '--hold', '3 days'], ['merchant', 'create', 'shop-1', '--hold', '31d'], ['merchant', 'create', 'shop-1', '--force'],
      ['merchant', 'create', 'shop-1', '--name', 'a\u0007b'], ['merchant', 'rotate-key', 'shop-1', '--grace', '5'], ['merchant', 'rotate-key', 'shop-1', '--grace', '-1h'],
      ['payment', 'show', 'not-an-id'], ['payment', 'list'], ['payment', 'list', '--merchant', 'shop-1', '--limit', '101'],
      ['payment', 'capture', 'ab'.repeat(16), '--amount', '0'], ['refund', 'ab'.repeat(16)], ['refund', 'ab'.repeat(16), '--amount', '1', '--idempotency-key', ' x'],
      ['scanner', 'provision', 'till-1', '--merchant', 'bad merchant'], ['merchant', 'create', 'shop-1', '--pin-entry', 'phone'],
    ]) {
      const run = await cli(args, { REDIS_URL: undefined, SCANPAY_FLEET_KEY: FLEET_KEY });
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.errors, args.join(' ')).toEqual([expect.stringMatching(/\[USAGE\]$/)]);
      expect(run.lines, args.join(' ')).toEqual([]);
    }
  });
});

describeRedis(redis, 'scanpay merchant, scanner --merchant, payment and refund on Redis', (r) => {
  const prefix = testKeyPrefix();
  const env = { SCANPAY_FLEET_KEY: FLEET_KEY, SCANPAY_FLEET_KEY_FILE: undefined };
  const g = () => ['--redis', r.url, '--prefix', prefix];
  let store: Store;
  let client: Redis;
  let dir: string;
  const keysShown: string[] = [];

  /** Every string value under the prefix (hash fields and values, strings, set and list members). */
  async function everythingStored(): Promise<string> {
    const parts: string[] = [];
    for (const key of await keysUnder(client, prefix)) {
      const type = await client.type(key);
      if (type === 'hash') parts.push(...Object.entries(await client.hgetall(key)).flat());
      else if (type === 'string') parts.push((await client.get(key)) ?? '');
      else if (type === 'set') parts.push(...await client.smembers(key));
      else if (type === 'list') parts.push(...await client.lrange(key, 0, -1));
      else if (type === 'zset') parts.push(...await client.zrange(key, 0, -1));
    }
    return parts.join('\n');
  }

  beforeAll(async () => {
    store = await openStore({ redisUrl: r.url, prefix });
    client = new Redis(r.url);
    dir = await mkdtemp(join(tmpdir(), 'scanpay-cli-merchant-'));
  });
  afterAll(async () => {
    await store?.close();
    await client?.quit();
    await deleteKeys(r.url, prefix);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('create prints the API key once, alone on stdout; the store keeps only its keyed hash', async () => {
    const run = await cli([...g(), 'merchant', 'create', 'shop-1', '--name', 'Shop One', '--capture', 'manual', '--hold', '2d'], env);
    expect(run.code, run.errors.join('\n')).toBe(0);
    expect(run.lines).toHaveLength(1);
    const key = run.lines[0];
    expect(key).toMatch(API_KEY);
    keysShown.push(key);
    expect(await verified(store, key)).toBe('shop-1');
    expect(await store.merchants.getMerchant('shop-1')).toMatchObject({ id: 'shop-1', name: 'Shop One', captureMethod: 'manual', holdWindowMs: 2 * 24 * HOUR });
    const stored = await everythingStored();
    expect(stored).not.toContain(key);
    expect(stored).not.toContain(key.slice(21)); // the secret half
    expect(stored).toContain(key.slice(4, 20)); // the public id names the record

    const again = await cli([...g(), 'merchant', 'create', 'shop-1'], env);
    expect(again.code).toBe(1);
    expect(again.errors).toEqual([expect.stringMatching(/^scanpay: a merchant with this id exists: shop-1: .* \[MERCHANT_EXISTS\]$/)]);
    expect(again.lines).toEqual([]);
    expect(await store.merchants.apiKeys('shop-1')).toHaveLength(1); // no second key was stored
  });

  it('create --json gives the key in the object; --out writes it to a 0600 file and never prints it', async () => {
    const json = await cli([...g(), 'merchant', 'create', 'shop-2', '--json'], env);
    expect(json.code, json.errors.join('\n')).toBe(0);
    expect(json.json).toMatchObject({ action: 'create', merchant: 'shop-2', name: 'shop-2', captureMethod: 'automatic', apiKey: expect.stringMatching(API_KEY) });
    expect(json.json.keyId).toBe(json.json.apiKey.slice(4, 20));
    keysShown.push(json.json.apiKey);

    const file = join(dir, 'shop-3.api-key');
    const out = await cli([...g(), 'merchant', 'create', 'shop-3', '--out', file], env);
    expect(out.code, out.errors.join('\n')).toBe(0);
    const key = (await readFile(file, 'utf8')).trim();
    expect(key).toMatch(API_KEY);
    keysShown.push(key);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(out.all).not.toContain(key.slice(21));
    expect(out.lines[0]).toBe(`wrote ${file} (mode 0600): the API key of merchant shop-3`);
    expect(await verified(store, key)).toBe('shop-3');

    // an existing --out is refused before anything is stored
    const refused = await cli([...g(), 'merchant', 'create', 'shop-4', '--out', file], env);
    expect(refused.code).toBe(2);
    expect(refused.errors).toEqual([expect.stringContaining('[FILE_EXISTS]')]);
    expect(await store.merchants.getMerchant('shop-4')).toBeNull();
    // so is a missing fleet key
    const noFleet = await cli([...g(), 'merchant', 'create', 'shop-4'], { SCANPAY_FLEET_KEY: undefined, SCANPAY_FLEET_KEY_FILE: undefined });
    expect(noFleet.code).toBe(1);
    expect(noFleet.errors).toEqual([expect.stringContaining('[FLEET_KEY_INVALID]')]);
    expect(await store.merchants.getMerchant('shop-4')).toBeNull();
  });

  it('list and show name the merchants and their keys by id, and print no secret', async () => {
    const list = await cli([...g(), 'merchant', 'list'], env);
    expect(list.code).toBe(0);
    expect(list.lines.map((l) => l.split(/\s+/)[0])).toEqual(['shop-1', 'shop-2', 'shop-3']);
    expect(list.lines[0]).toMatch(/^shop-1\s+capture manual \(holds 2d\)\s+created \S+\s+Shop One$/);
    const listJson = await cli([...g(), 'merchant', 'list', '--json'], env);
    expect(listJson.json.merchants).toHaveLength(3);
    const show = await cli([...g(), 'merchant', 'show', 'shop-1'], env);
    expect(show.code).toBe(0);
    expect(show.lines[0]).toBe('merchant shop-1 (Shop One)');
    expect(show.lines).toContainEqual(expect.stringMatching(new RegExp(`^  API key ${keysShown[0].slice(4, 20)}  made \\S+  valid$`)));
    const showJson = await cli([...g(), 'merchant', 'show', 'shop-1', '--json'], env);
    expect(showJson.json.apiKeys).toEqual([{ keyId: keysShown[0].slice(4, 20), createdAt: expect.any(Number), expiresAt: null }]);
    for (const run of [list, listJson, show, showJson]) {
      for (const key of keysShown) {
        expect(run.all).not.toContain(key.slice(21));
        expect(run.all).not.toContain(key);
      }
    }
    const unknown = await cli([...g(), 'merchant', 'show', 'shop-9'], env);
    expect(unknown.code).toBe(1);
    expect(unknown.errors).toEqual([expect.stringMatching(/\[MERCHANT_UNKNOWN\]$/)]);
  });

  it('rotate-key prints the new key once; the old one stays valid for the grace and no longer', async () => {
    const old = keysShown[0];
    const before = Date.now();
    const run = await cli([...g(), 'merchant', 'rotate-key', 'shop-1', '--grace', '1h'], env);
    expect(run.code, run.errors.join('\n')).toBe(0);
    expect(run.lines).toHaveLength(1);
    const fresh = run.lines[0];
    expect(fresh).toMatch(API_KEY);
    expect(fresh).not.toBe(old);
    const oldRecord = await store.merchants.getApiKey(old.slice(4, 20));
    expect(oldRecord!.expiresAt).toBeGreaterThanOrEqual(before + HOUR);
    expect(oldRecord!.expiresAt).toBeLessThanOrEqual(Date.now() + HOUR);
    expect(await verified(store, old)).toBe('shop-1'); // within its grace
    expect(await verified(store, old, oldRecord!.expiresAt!)).toBeNull(); // at its end
    expect(await verified(store, fresh, oldRecord!.expiresAt! + 1)).toBe('shop-1');
    expect(await everythingStored()).not.toContain(fresh.slice(21));

    const show = await cli([...g(), 'merchant', 'show', 'shop-1'], env);
    expect(show.lines).toContainEqual(expect.stringMatching(new RegExp(`^  API key ${old.slice(4, 20)}  made \\S+  valid until \\S+$`)));

    // --grace 0: the others are refused at once; --json says when they ended
    const now = await cli([...g(), 'merchant', 'rotate-key', 'shop-1', '--grace', '0', '--json'], env);
    expect(now.code).toBe(0);
    expect(now.json).toMatchObject({ action: 'rotate-key', merchant: 'shop-1', apiKey: expect.stringMatching(API_KEY), othersEndAt: expect.any(Number) });
    expect(await verified(store, old)).toBeNull();
    expect(await verified(store, fresh)).toBeNull();
    expect(await verified(store, now.json.apiKey)).toBe('shop-1');

    const unknown = await cli([...g(), 'merchant', 'rotate-key', 'shop-9'], env);
    expect(unknown.code).toBe(1);
    expect(unknown.errors).toEqual([expect.stringMatching(/\[MERCHANT_UNKNOWN\]$/)]);
    expect(unknown.lines).toEqual([]);
  });

  it('scanner provision --merchant binds a device to a registered merchant, once', async () => {
    const provision = (device: string, merchant: string, ...more: string[]) => cli([...g(), 'scanner', 'provision', device, '--merchant', merchant, '--out', join(dir, `${device}-${merchant}.secret`), ...more], env);
    const unknown = await provision('till-m1', 'shop-9');
    expect(unknown.code).toBe(1);
    expect(unknown.errors).toEqual([expect.stringMatching(/^scanpay: no such merchant: shop-9: register it first .*\[MERCHANT_UNKNOWN\]$/)]);
    expect(await store.getDevice('till-m1')).toBeNull(); // nothing recorded

    const bound = await provision('till-m1', 'shop-1');
    expect(bound.code, bound.errors.join('\n')).toBe(0);
    expect(bound.lines.slice(1)).toEqual(['recorded scanner till-m1 in the store', "bound scanner till-m1 to merchant shop-1: its scans take that merchant's payments only"]);
    expect(await store.getDevice('till-m1')).toMatchObject({ merchant: 'shop-1', provisionedAt: expect.any(Number) });

    const again = await provision('till-m1', 'shop-1', '--force', '--json');
    expect(again.code).toBe(0);
    expect(again.json).toMatchObject({ deviceId: 'till-m1', recorded: false, merchant: 'shop-1', bound: false });

    const elsewhere = await provision('till-m1', 'shop-2');
    expect(elsewhere.code).toBe(1);
    expect(elsewhere.errors).toEqual([expect.stringMatching(/^scanpay: the scanner is bound to another merchant: till-m1 is bound to merchant shop-1, .*\[MERCHANT_MISMATCH\]$/)]);
    expect((await store.getDevice('till-m1'))!.merchant).toBe('shop-1');

    const show = await cli([...g(), 'scanner', 'show', 'till-m1', '--json'], env);
    expect(show.json).toMatchObject({ deviceId: 'till-m1', merchant: 'shop-1' });
    const list = await cli([...g(), 'scanner', 'list'], env);
    expect(list.lines).toContainEqual(expect.stringMatching(/^till-m1\s+provisioned \S+\s+connected never\s+active  merchant shop-1$/));
    const merchant = await cli([...g(), 'merchant', 'show', 'shop-1', '--json'], env);
    expect(merchant.json.scanners).toEqual(['till-m1']);
  });

  it('payment show, list, capture, refund, void and reverse: the store\'s steps, the masked PAN only, typed refusals', async () => {
    const card = await storedCard(store);
    const { id } = await paidPayment(store, 'shop-1', 1_000, card, { captureMethod: 'manual' });
    const { id: other } = await paidPayment(store, 'shop-2', 300, card);

    const show = await cli([...g(), 'payment', 'show', id, '--merchant', 'shop-1'], env);
    expect(show.code, show.errors.join('\n')).toBe(0);
    expect(show.lines[0]).toBe(`payment ${id}: authorized`);
    expect(show.lines[1]).toBe(`  1000 EUR authorized, 0 captured, 0 refunded; merchant shop-1; card •••• •••• •••• ${card.last4}`);
    expect(show.all).not.toContain(card.token);
    const wrongMerchant = await cli([...g(), 'payment', 'show', id, '--merchant', 'shop-2'], env);
    expect(wrongMerchant.code).toBe(1);
    expect(wrongMerchant.errors).toEqual([expect.stringMatching(/\[PAYMENT_NOT_FOUND\]$/)]);

    const list = await cli([...g(), 'payment', 'list', '--merchant', 'shop-1', '--json'], env);
    expect(list.json.payments.map((p: { id: string }) => p.id)).toEqual([id]);
    expect(JSON.stringify(list.json)).not.toContain(card.token);

    const captured = await cli([...g(), 'payment', 'capture', id, '--idempotency-key', 'cap-1'], env);
    expect(captured.code, captured.errors.join('\n')).toBe(0);
    expect(captured.lines).toEqual([`captured 1000 EUR of payment ${id}: now captured`]);
    const voided = await cli([...g(), 'payment', 'void', id], env);
    expect(voided.code).toBe(1);
    expect(voided.errors).toEqual([expect.stringMatching(/^scanpay: only an authorized, uncaptured payment can be voided: payment [0-9a-f]{32} \[PAYMENT_NOT_VOIDABLE\]$/)]);

    const refund = (...more: string[]) => cli([...g(), 'refund', id, '--amount', '500', '--reason', 'returned one', ...more], env);
    const half = await refund('--idempotency-key', 'ref-1');
    expect(half.code, half.errors.join('\n')).toBe(0);
    expect(half.lines[0]).toMatch(new RegExp(`^refunded 500 EUR of payment ${id}: refund re_[0-9a-f]{32}; 500 of 1000 refunded, now partially_refunded$`));
    const repeat = await refund('--idempotency-key', 'ref-1', '--json');
    expect(repeat.json).toMatchObject({ action: 'refund', replayed: true, refund: { amount: 500, reason: 'returned one' }, payment: { amount_refunded: 500 } });
    const reused = await cli([...g(), 'refund', id, '--amount', '400', '--idempotency-key', 'ref-1'], env);
    expect(reused.code).toBe(1);
    expect(reused.errors).toEqual([expect.stringMatching(/\[IDEMPOTENCY_KEY_REUSED\]$/)]);
    const tooMuch = await cli([...g(), 'refund', id, '--amount', '501'], env);
    expect(tooMuch.code).toBe(1);
    expect(tooMuch.errors).toEqual([expect.stringMatching(/\[AMOUNT_TOO_LARGE\]$/)]);

    const reversed = await cli([...g(), 'payment', 'reverse', id, '--merchant', 'shop-1', '--json'], env);
    expect(reversed.code, reversed.errors.join('\n')).toBe(0);
    expect(reversed.json).toMatchObject({ action: 'reverse', reversal: 'refunded', payment: { status: 'refunded', amount_refunded: 1000 } });

    const after = await cli([...g(), 'payment', 'show', id, '--json'], env);
    expect(after.json.payment).toMatchObject({ id, merchant: 'shop-1', status: 'refunded', amount_captured: 1000, amount_refunded: 1000, last4: card.last4 });
    expect(after.json.entries.map((e: { type: string }) => e.type)).toEqual(['authorization', 'capture', 'refund', 'refund']);
    expect(after.json.refunds.map((x: { amount: number }) => x.amount)).toEqual([500, 500]);
    const text = await cli([...g(), 'payment', 'show', id], env);
    expect(text.lines).toContain('  ledger entries:');
    expect(text.lines.filter((l) => /^ {4}re_[0-9a-f]{32} {2}500 EUR/.test(l))).toHaveLength(2);
    await expectReconciled(store, card, [id, other]);

    // another merchant's payment named with the wrong merchant is unknown, and nothing moved
    const notTheirs = await cli([...g(), 'refund', other, '--amount', '100', '--merchant', 'shop-1'], env);
    expect(notTheirs.code).toBe(1);
    expect(notTheirs.errors).toEqual([expect.stringMatching(/\[PAYMENT_NOT_FOUND\]$/)]);
    expect((await store.payments.getPayment(other))!.refundedAmount).toBe(0);
  });

  it('create --pin-entry holder-device stores the policy; show prints it; without it the record sets none (the gateway\'s default)', async () => {
    const run = await cli([...g(), 'merchant', 'create', 'shop-h', '--pin-entry', 'holder-device', '--json'], env);
    expect(run.code, run.errors.join('\n')).toBe(0);
    expect(run.json).toMatchObject({ action: 'create', merchant: 'shop-h', pinEntry: 'holder-device' });
    keysShown.push(run.json.apiKey);
    expect(await store.merchants.getMerchant('shop-h')).toMatchObject({ id: 'shop-h', pinEntry: 'holder-device' });
    const show = await cli([...g(), 'merchant', 'show', 'shop-h'], env);
    expect(show.lines).toContain('  PIN entry holder-device (on the holder\'s own phone; a PIN from a scanner is refused)');
    expect((await cli([...g(), 'merchant', 'show', 'shop-h', '--json'], env)).json).toMatchObject({ merchant: 'shop-h', pinEntry: 'holder-device' });
    // shop-2 was created without it
    expect((await store.merchants.getMerchant('shop-2'))!.pinEntry).toBeUndefined();
    expect((await cli([...g(), 'merchant', 'show', 'shop-2'], env)).lines).toContain('  PIN entry: the gateway\'s default (SCANPAY_PIN_ENTRY)');
    expect((await cli([...g(), 'merchant', 'show', 'shop-2', '--json'], env)).json).toMatchObject({ merchant: 'shop-2', pinEntry: null });
  });
});
