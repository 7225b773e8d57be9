/**
 * `scanpay settlement close|report` and `scanpay journal verify` against a private Redis: the operator closes a
 * merchant's day, reads its report (text, JSON, CSV) and verifies its journal; an entry edited in Redis makes the
 * verification fail (exit 1, the problem named); bad usage changes nothing.
 */
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/main.ts';
import type { Output } from '../../cli/output.ts';
import { sealMerchant } from '../../issuer/journal.ts';
import { RedisStore, keyLayout } from '../../issuer/store/index.ts';
import { deleteKeys, describeRedis, redisForTests, testKeyPrefix } from '../support/redis.ts';
import { authorizedPayment, makeCard, operationRequest } from '../support/store-fixtures.ts';

const MERCHANT = 'corner-cafe';
const redis = await redisForTests();
afterAll(async () => {
  await redis?.stop();
});

async function cli(args: string[]): Promise<{ code: number; lines: string[]; errors: string[]; json: unknown }> {
  const lines: string[] = [];
  const errors: string[] = [];
  const jsons: unknown[] = [];
  const out: Output = { line: (t) => lines.push(t), json: (v) => jsons.push(JSON.parse(JSON.stringify(v))), error: (t) => errors.push(t) };
  const code = await main(['node', 'scanpay', ...args], out);
  return { code, lines, errors, json: jsons[0] };
}

describeRedis(redis, 'settlement and journal commands', (server) => {
  const prefix = testKeyPrefix();
  afterAll(async () => {
    await deleteKeys(server.url, prefix);
  });
  const store = (() => RedisStore.connect(server.url, { prefix }))();
  const on = (...args: string[]) => cli(['--redis', server.url, '--prefix', prefix, ...args]);

  it('closes the day, reports it as text, JSON and CSV, and verifies the journal; an edited entry fails verification', async () => {
    const s = await store;
    const card = makeCard({ balance: 100_000, limit: 100_000 });
    await s.insertCard(card);
    const a = await authorizedPayment(s, card, 2_000, { merchant: MERCHANT });
    const b = await authorizedPayment(s, card, 500, { merchant: MERCHANT, captureMethod: 'manual' });
    await s.payments.refund({ ...operationRequest(a, MERCHANT, null), amount: 800, reason: null });
    await s.payments.void(operationRequest(b, MERCHANT, null));

    const closed = await on('settlement', 'close', '--merchant', MERCHANT, '--json');
    expect(closed.code, closed.errors.join()).toBe(0);
    expect(closed.json).toMatchObject({ period: 1, firstSeq: 1, lastSeq: 4 });
    const again = await on('settlement', 'close', '--merchant', MERCHANT, '--period', '1', '--json');
    expect(again.json).toEqual(closed.json); // already closed: shown as it was, nothing more closed

    const text = await on('settlement', 'report', '--merchant', MERCHANT, '--period', '1');
    expect(text.code).toBe(0);
    expect(text.lines.join('\n')).toContain('EUR: captures 1 (2000), refunds 1 (800), voids 1 (500)');
    expect(text.lines.join('\n')).toContain('net 1200');
    const json = await on('settlement', 'report', '--merchant', MERCHANT, '--period', '1', '--json');
    expect(json.json).toMatchObject({ status: 'closed', currencies: [{ currency: 'EUR', net: 1_200 }] });
    const csv = await on('settlement', 'report', '--merchant', MERCHANT, '--period', '1', '--csv');
    const rows = `${csv.lines.join('\n')}\n`.split('\r\n');
    expect(rows[0]).toBe('journal_seq,event,event_type,payment,entry_seq,type,amount,currency,refund,created_at');
    expect(rows.filter((r) => /^\d+,ev_/.test(r))).toHaveLength(5); // authorization+capture, authorization, refund, void
    expect(rows).toContain('EUR,net,,1200');
    const current = await on('settlement', 'report', '--merchant', MERCHANT, '--period', 'current', '--json');
    expect(current.json).toMatchObject({ period: 2, status: 'open', entries: [] });

    const verified = await on('journal', 'verify', '--merchant', MERCHANT);
    expect(verified.code).toBe(0);
    expect(verified.lines[0]).toBe(`journal of ${MERCHANT}: 4 records, 2 payments: intact`);

    // someone with write access to Redis makes the refund smaller
    const raw = new Redis(server.url);
    const key = keyLayout(prefix).entries(a);
    const entries = await raw.lrange(key, 0, -1);
    const refundAt = entries.findIndex((e) => e.startsWith('refund|'));
    await raw.lset(key, refundAt, entries[refundAt]!.replace('|800|', '|80|'));
    raw.disconnect();
    const broken = await on('journal', 'verify', '--merchant', MERCHANT);
    expect(broken.code).toBe(1);
    // an event holds its entries as the payment's entry list does, so the journal's hash of the refund's event catches it
    expect(broken.lines.join('\n')).toMatch(new RegExp(`record \\d: its event ev_${a}_2 was changed`));
    expect(broken.errors[0]).toMatch(/^scanpay: the journal of corner-cafe failed verification \[JOURNAL_BROKEN\]$/);
    await s.close();
  });

  it('bad usage changes nothing: exit 2, one line', async () => {
    for (const args of [
      ['settlement', 'close', '--merchant', 'no spaces'], ['settlement', 'report', '--merchant', MERCHANT, '--period', '0'],
      ['settlement', 'report', '--merchant', MERCHANT, '--period', 'yesterday'], ['journal', 'verify'],
    ]) {
      const run = await on(...args);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.errors).toHaveLength(1);
    }
    const unknown = await on('settlement', 'report', '--merchant', MERCHANT, '--period', '99');
    expect(unknown).toMatchObject({ code: 1 });
    expect(unknown.errors[0]).toContain('[PERIOD_NOT_FOUND]');
    const s = await RedisStore.connect(server.url, { prefix });
    expect((await sealMerchant(s.events, MERCHANT, { owner: 'x', now: Date.now() })).length).toBe(0);
    await s.close();
  });
});

describe('settlement commands without a persistent store', () => {
  it('refuse, naming why', async () => {
    const saved = process.env.REDIS_URL;
    delete process.env.REDIS_URL;
    try {
      const run = await cli(['settlement', 'close', '--merchant', MERCHANT]);
      expect(run.code).toBe(1);
      expect(run.errors[0]).toContain('settlement and journal commands need a persistent store');
    } finally {
      if (saved !== undefined) process.env.REDIS_URL = saved;
    }
  });
});
