/**
 * Hold expiry in the gateway (gateway/hold-sweeper.ts, docs/operations.md): a manual-capture hold not captured
 * within its window is released by the gateway's sweeper, exactly once — also with several gateways sweeping
 * one Redis at once, and racing a capture, a void or a reversal of the same hold — counted in
 * scanpay_holds_expired_total; the gateway's window is the default for a
 * merchant without its own; the sweeper stops with the gateway and survives a failing store.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HoldSweeper, SWEEP_BATCH } from '../../gateway/hold-sweeper.ts';
import { operationId } from '../../issuer/payment.ts';
import { MemoryStore, RedisStore, type CardRecord, type Store } from '../../issuer/store/index.ts';
import { PIN, metricValue, startGatewayFixture } from '../support/gateway-fixture.ts';
import { spawnGatewayChild, type GatewayProcess } from '../support/gateway-process.ts';
import { paidPayment, storedCard } from '../support/merchant-api.ts';
import { deleteKeys, describeRedis, redisForTests, testKeyPrefix } from '../support/redis.ts';

const redis = await redisForTests();
afterAll(async () => {
  await redis?.stop();
});

/** Waits (yielding to timers) until `done` holds; fails after `limitMs` — a bound on a hang, not a measured time. */
async function until(done: () => Promise<boolean>, limitMs = 30_000): Promise<void> {
  const end = Date.now() + limitMs;
  while (!(await done())) {
    if (Date.now() > end) throw new Error('never happened');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** `n` held payments (manual capture, window `holdWindowMs`) on `card`; their ids. */
async function heldPayments(store: Store, card: CardRecord, n: number, holdWindowMs: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await paidPayment(store, 'hold-shop', 10 + (i % 7), card, { captureMethod: 'manual', holdWindowMs })).id);
  return ids;
}

/** Each payment expired once (one expiry entry), and the card back at its opening balance. */
async function expectExpiredOnce(store: Store, card: CardRecord, ids: string[]): Promise<void> {
  for (const id of ids) {
    expect(await store.payments.getPayment(id)).toMatchObject({ status: 'expired', holdExpiresAt: null });
    expect((await store.payments.entries(id)).map((e) => e.type)).toEqual(['authorization', 'expiry']);
  }
  expect((await store.getCard(card.token))!.balance).toBe(card.balance);
}

describe('the hold sweeper', () => {
  it('a gateway releases a scanner\'s manual hold once its window (the gateway\'s default) passes, and counts it', async () => {
    const store = new MemoryStore();
    const fx = await startGatewayFixture({ store, gateway: { holdWindowMs: 50, holdSweepMs: 20 } });
    try {
      const card = await fx.issue();
      const scanner = await fx.scanner();
      const auth = await scanner.open(card.payloadText, 400, { capture: 'manual' });
      expect(await scanner.pin(auth.session, PIN)).toMatchObject({ outcome: 'approved' });
      const held = (await store.payments.getPayment(auth.session))!;
      expect(held.holdExpiresAt).toBe(held.createdAt + 50); // the gateway's window: the merchant has no record
      await until(async () => (await store.payments.getPayment(auth.session))!.status === 'expired');
      expect((await store.payments.entries(auth.session)).map((e) => e.type)).toEqual(['authorization', 'expiry']);
      expect((await fx.issuer.viewCard(card.pan)).balance).toBe(1_000_000);
      const metrics = await fx.metrics();
      expect(metricValue(metrics, 'scanpay_holds_expired_total')).toBe(1);
      expect(metricValue(metrics, 'scanpay_hold_sweeps_total', { result: 'ok' })).toBeGreaterThan(0);
      expect(metricValue(metrics, 'scanpay_hold_sweeps_total', { result: 'failed' })).toBe(0);
    } finally {
      await fx.close();
      await store.close();
    }
  });

  it('sweeps batch after batch until one releases none; a failing store is reported and the next sweep goes on', async () => {
    const store = new MemoryStore();
    const card = await storedCard(store, { balance: 1_000_000 });
    const ids = await heldPayments(store, card, SWEEP_BATCH * 2 + 5, 1);
    await new Promise((resolve) => setTimeout(resolve, 5)); // past their 1 ms window
    const results: unknown[] = [];
    let failNext = true;
    const payments = {
      expireHolds: (now: number, limit: number) => {
        if (failNext) {
          failNext = false;
          return Promise.reject(new Error('store down'));
        }
        return store.payments.expireHolds(now, limit);
      },
    };
    const errors: string[] = [];
    const sweeper = new HoldSweeper(payments, { intervalMs: 5, onSweep: (r) => results.push(r), onError: (e) => errors.push(e.message) });
    sweeper.start();
    await until(async () => results.length >= 2);
    await sweeper.stop();
    expect(results[0]).toBe('failed');
    expect(errors[0]).toBe('store down');
    expect(results[1]).toEqual({ released: ids.length });
    await expectExpiredOnce(store, card, ids);
    // stopped: no sweep after stop() (a tick's worth later, the count is what it was)
    const seen = results.length;
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(results.length).toBe(seen);
  });

  it('holdWindowMs and holdSweepMs are checked at the boundary', async () => {
    const store = new MemoryStore();
    await expect(startGatewayFixture({ store, gateway: { holdWindowMs: 0 } })).rejects.toThrow(/holdWindowMs must be a whole number of ms from 1 to 2592000000/);
    await expect(startGatewayFixture({ store, gateway: { holdSweepMs: -1 } })).rejects.toThrow(/holdSweepMs must be a whole number of ms from 0/);
    await store.close();
  });
});

describeRedis(redis, 'hold expiry with several sweepers on one Redis', (r) => {
  const prefix = testKeyPrefix();
  let stores: RedisStore[];

  beforeAll(async () => {
    stores = [await RedisStore.connect(r.url, { prefix }), await RedisStore.connect(r.url, { prefix })];
  });
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
    await deleteKeys(r.url, prefix);
  });

  it('four sweeps at once over two connections on 300 due holds: each released exactly once', async () => {
    const card = await storedCard(stores[0]!, { balance: 1_000_000 });
    const ids = await heldPayments(stores[0]!, card, 300, 1);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const sweepers = [...stores, ...stores].map((s) => new HoldSweeper(s.payments, { intervalMs: 1_000 }));
    const released = await Promise.all(sweepers.map((s) => s.sweep()));
    console.log(`4 concurrent sweeps (2 connections) over 300 due holds: released ${released.join(' + ')} = ${released.reduce((a, b) => a + b, 0)}`);
    expect(released.reduce((a, b) => a + b, 0)).toBe(300);
    await expectExpiredOnce(stores[1]!, card, ids);
    expect(await stores[0]!.payments.expireHolds(Date.now(), 100)).toBe(0);
  }, 60_000);

  it('holds past their window racing a capture, a void and a reversal each: one end per payment, balances reconcile', async () => {
    const card = await storedCard(stores[0]!, { balance: 1_000_000 });
    const ids = await heldPayments(stores[0]!, card, 60, 1);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const op = (paymentId: string, n: number) => ({ paymentId, merchant: 'hold-shop', opId: operationId(paymentId, 'hold-shop', `race-${n}`), fingerprint: String(n).repeat(64), at: Date.now() });
    const racing = ids.map((id, i) => {
      const [a, b] = [stores[i % 2]!, stores[(i + 1) % 2]!];
      const other = [() => a.payments.capture(op(id, 1)), () => a.payments.void(op(id, 2)), () => a.payments.reverse(op(id, 3))][i % 3]!;
      return Promise.all([other(), new HoldSweeper(b.payments, { intervalMs: 1_000 }).sweep()]);
    });
    await Promise.all(racing);
    const ends: Record<string, number> = {};
    let changes = 0;
    for (const id of ids) {
      const payment = (await stores[1]!.payments.getPayment(id))!;
      const entries = await stores[1]!.payments.entries(id);
      const releases = entries.filter((e) => e.type === 'expiry' || e.type === 'void').length;
      const captures = entries.filter((e) => e.type === 'capture').length;
      expect(releases + captures, `${id}: ${entries.map((e) => e.type).join(',')}`).toBe(1); // the hold went one way, once
      expect(['expired', 'voided', 'captured']).toContain(payment.status);
      ends[payment.status] = (ends[payment.status] ?? 0) + 1;
      changes += entries.reduce((n, e) => n + e.balanceChange, 0);
    }
    console.log(`hold expiry racing a capture, void or reversal on 60 due holds (2 connections): ends ${JSON.stringify(ends)}`);
    expect((await stores[0]!.getCard(card.token))!.balance).toBe(card.balance + changes);
  }, 60_000);

  describe('two gateway processes sweeping', () => {
    let child: GatewayProcess;
    let fx: Awaited<ReturnType<typeof startGatewayFixture>>;
    beforeAll(async () => {
      fx = await startGatewayFixture({ store: stores[0]!, gateway: { holdSweepMs: 10 } });
      child = await spawnGatewayChild({ redisUrl: r.url, prefix, keyRing: fx.keyRing, fleetKey: fx.fleetKey, options: { holdSweepMs: 10 } });
    }, 60_000);
    afterAll(async () => {
      await child?.stop();
      await fx?.close();
    });

    it('release every hold exactly once between them, and their counters add up to it', async () => {
      const card = await storedCard(stores[0]!, { balance: 1_000_000 });
      const before = await Promise.all([fx.metrics(), fetch(`${child.opsUrl}/metrics`).then((res) => res.text())]);
      const ids = await heldPayments(stores[1]!, card, 150, 1);
      await until(async () => (await Promise.all(ids.map((id) => stores[1]!.payments.getPayment(id)))).every((p) => p!.status === 'expired'), 60_000);
      await expectExpiredOnce(stores[1]!, card, ids);
      const after = await Promise.all([fx.metrics(), fetch(`${child.opsUrl}/metrics`).then((res) => res.text())]);
      const counted = after.map((text, i) => metricValue(text, 'scanpay_holds_expired_total') - metricValue(before[i]!, 'scanpay_holds_expired_total'));
      console.log(`2 gateway processes sweeping every 10 ms over 150 holds: released ${counted.join(' + ')} = ${counted[0]! + counted[1]!}`);
      expect(counted[0]! + counted[1]!).toBe(150);
    }, 90_000);
  });
});
