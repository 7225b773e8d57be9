/**
 * `scanpay merchant webhook add|list|remove` (cli/webhook.ts) on Redis: the secret printed once (and stored only
 * sealed: a gateway with the same fleet key opens it), list without a secret, the URL policy, an unknown merchant
 * refused; without a store, the one-line refusal.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/main.ts';
import type { Output } from '../../cli/output.ts';
import { signingSecrets } from '../../gateway/webhooks/endpoints.ts';
import { WebhookSecretBox } from '../../gateway/webhooks/secrets.ts';
import { openStore } from '../../issuer/store/index.ts';
import { createMerchant } from '../support/merchant-api.ts';
import { deleteKeys, describeRedis, keysUnder, redisForTests, testKeyPrefix } from '../support/redis.ts';
import { Redis } from 'ioredis';

const redis = await redisForTests();
afterAll(async () => {
  await redis?.stop();
});
const ERROR_LINE = /^scanpay: [^\n]+ \[[A-Z][A-Z0-9_]*\]$/;

async function cli(args: string[], env: Record<string, string | undefined> = {}) {
  const lines: string[] = [];
  const errors: string[] = [];
  const jsons: unknown[] = [];
  const out: Output = { line: (t) => lines.push(t), json: (v) => jsons.push(JSON.parse(JSON.stringify(v))), error: (t) => errors.push(t) };
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  try {
    const code = await main(['node', 'scanpay', ...args], out);
    return { code, lines, errors, json: jsons[0] };
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

describe('scanpay merchant webhook without a store', () => {
  it('is refused in one line', async () => {
    const run = await cli(['merchant', 'webhook', 'list', 'shop'], { REDIS_URL: undefined, REDIS_CLUSTER_NODES: undefined });
    expect(run.code).toBe(1);
    expect(run.errors).toEqual([expect.stringMatching(ERROR_LINE)]);
    expect(run.errors[0]).toContain('webhook commands need a persistent store');
  });
});

describeRedis(redis, 'scanpay merchant webhook on Redis', (r) => {
  it('add prints the secret once; list never; the store keeps it sealed; remove; refusals', async () => {
    const prefix = testKeyPrefix();
    const fleetKey = new Uint8Array(randomBytes(32));
    const env = { SCANPAY_FLEET_KEY: Buffer.from(fleetKey).toString('hex'), SCANPAY_FLEET_KEY_FILE: undefined, SCANPAY_WEBHOOK_ALLOW_PRIVATE: undefined };
    const g = ['--redis', r.url, '--prefix', prefix];
    const store = await openStore({ redisUrl: r.url, prefix });
    const raw = new Redis(r.url);
    try {
      await createMerchant(store, fleetKey, 'cli-shop');
      const added = await cli([...g, 'merchant', 'webhook', 'add', 'cli-shop', 'https://hooks.example/scanpay'], env);
      expect(added.code).toBe(0);
      const secret = /^secret: (whsec_[A-Za-z0-9_-]{43})$/.exec(added.lines[1]!)![1]!;
      const id = /^webhook endpoint (we_[0-9a-f]{32}) for cli-shop: https:\/\/hooks\.example\/scanpay$/.exec(added.lines[0]!)![1]!;
      const [endpoint] = await store.webhooks.listEndpoints('cli-shop');
      expect(endpoint!.id).toBe(id);
      expect(signingSecrets(WebhookSecretBox.fromFleetKey(fleetKey), endpoint!, Date.now())).toEqual([secret]); // a gateway with the fleet key signs with it
      for (const key of await keysUnder(raw, prefix)) {
        if ((await raw.type(key)) === 'hash') expect(JSON.stringify(await raw.hgetall(key)), key).not.toContain(secret.slice(6));
      }
      const listed = await cli([...g, 'merchant', 'webhook', 'list', 'cli-shop', '--json'], env);
      expect(listed.json).toEqual([{ id, url: 'https://hooks.example/scanpay', createdAt: endpoint!.createdAt, secrets: 1 }]);
      expect(JSON.stringify(listed)).not.toContain('whsec_');

      const http = await cli([...g, 'merchant', 'webhook', 'add', 'cli-shop', 'http://127.0.0.1:9000/x'], env);
      expect(http.code).toBe(2);
      expect(http.errors[0]).toMatch(/must be https.*\[USAGE\]$/);
      expect((await cli([...g, 'merchant', 'webhook', 'add', 'cli-shop', 'http://127.0.0.1:9000/x', '--json'], { ...env, SCANPAY_WEBHOOK_ALLOW_PRIVATE: '1' })).code).toBe(0);
      const unknown = await cli([...g, 'merchant', 'webhook', 'add', 'nobody', 'https://hooks.example/'], env);
      expect(unknown.errors).toEqual([expect.stringMatching(/\[MERCHANT_UNKNOWN\]$/)]);
      const wrongKey = await cli([...g, 'merchant', 'webhook', 'add', 'cli-shop', 'https://hooks.example/'], { ...env, SCANPAY_FLEET_KEY: 'zz' });
      expect(wrongKey.code).not.toBe(0);

      expect((await cli([...g, 'merchant', 'webhook', 'remove', 'cli-shop', id], env)).lines).toEqual([`removed webhook endpoint ${id}`]);
      expect((await cli([...g, 'merchant', 'webhook', 'remove', 'cli-shop', id], env)).lines[0]).toContain('nothing changed');
      expect((await cli([...g, 'merchant', 'webhook', 'remove', 'cli-shop', 'we_x'], env)).code).toBe(2);
    } finally {
      raw.disconnect();
      await store.close();
      await deleteKeys(r.url, prefix);
    }
  });
});
