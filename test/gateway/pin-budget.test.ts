/**
 * What a scanner holding photos of cards can do with PINs (docs/security.md, "A photographed card"), tried over
 * two gateways (on Redis: two processes), both entry points (socket and page):
 *   - one scanner sends wrong PINs for 20 cards at once: exactly its wrong-PIN budget is evaluated, the rest are
 *     refused PIN_LIMIT (counted in scanpay_pin_budget_refusals_total), and at most budget/3 cards lock;
 *   - the scanners of one merchant share the merchant's budget;
 *   - 30 right PINs racing on one card near its balance, with the PIN pace off and on: never CARD_LOCKED, the card
 *     stays active, and every one pays or is declined for funds once retried.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore, RedisStore, type Store } from '../../issuer/store/index.ts';
import type { GatewayFrame } from '../../protocol/messages.ts';
import { PIN, RawScanner, WRONG_PIN, metricValue, postPin, startGatewayFixture, uniqueDevice, type GatewayFixture } from '../support/gateway-fixture.ts';
import { spawnGatewayChild } from '../support/gateway-process.ts';
import { deleteKeys, describeRedis, redisForTests, testKeyPrefix } from '../support/redis.ts';

const redis = await redisForTests();
afterAll(async () => {
  await redis?.stop();
});

const BUDGET = { device: { max: 6, windowMs: 3_600_000 }, merchant: { max: 9, windowMs: 3_600_000 } };
const OPTIONS = { pinPaceMs: 0, framesPerSecond: 100_000, burst: 100_000, pinBudget: BUDGET };

interface Peer { url: string; scannerUrl: string; opsUrl: string; stop(): Promise<void> }

const evaluated = (metrics: string) =>
  ['correct', 'wrong', 'invalid'].reduce((n, result) => n + metricValue(metrics, 'scanpay_pin_attempts_total', { result }), 0);
const budgetRefusals = (metrics: string, scope: string) => metricValue(metrics, 'scanpay_pin_budget_refusals_total', { scope });

/** What a PIN answer says: the scanner code, or the page's. */
function told(answer: GatewayFrame | { status: number; page: string }): string {
  if ('status' in answer) return /data-code="([A-Z_]+)"/.exec(answer.page)?.[1] ?? `HTTP ${answer.status}`;
  if (answer.type === 'payment-result') return answer.outcome === 'approved' ? 'APPROVED' : answer.reason ?? 'DECLINED';
  return answer.type === 'error' ? answer.code : answer.type;
}

function suite(kind: 'memory' | 'redis', open: () => Promise<{ store: Store; peer(fx: GatewayFixture, options?: Record<string, unknown>): Promise<Peer>; dispose(): Promise<void> }>): void {
  let fx: GatewayFixture;
  let peer: Peer;
  let opened: Awaited<ReturnType<typeof open>>;
  beforeAll(async () => {
    opened = await open();
    fx = await startGatewayFixture({ store: opened.store, gateway: OPTIONS });
    peer = await opened.peer(fx);
  }, 60_000);
  afterAll(async () => {
    await peer?.stop();
    await fx?.close();
    await opened?.dispose();
  });
  const metrics = async () => [await fx.metrics(), await (await fetch(`${peer.opsUrl}/metrics`)).text()];

  it(`[${kind}] one scanner with 20 photographed cards: exactly its budget of wrong PINs is evaluated, over both gateways and the page`, async () => {
    const device = uniqueDevice('photos');
    const cards = await Promise.all(Array.from({ length: 20 }, () => fx.issue()));
    const here = await fx.scanner(device);
    const there = await RawScanner.connect(peer.scannerUrl, device, fx.token(device));
    try {
      const sessions = [];
      for (const [i, card] of cards.entries()) sessions.push(await (i % 2 ? there : here).open(card.payloadText, 100, { merchant: 'photo-shop' }));
      const before = await metrics();
      const answers = await Promise.all(sessions.map(async (auth, i) => {
        if (i % 5 !== 4) return told(await (i % 2 ? there : here).pin(auth.session, WRONG_PIN));
        const page = new URL(auth.url);
        const res = await postPin(`${i % 2 ? peer.url : fx.gateway.url}${page.pathname}${page.search}`, WRONG_PIN);
        return told({ status: res.status, page: await res.text() });
      }));
      const after = await metrics();
      const count = after.reduce((n, m, i) => n + evaluated(m) - evaluated(before[i]), 0);
      const refused = after.reduce((n, m, i) => n + budgetRefusals(m, 'device') - budgetRefusals(before[i], 'device'), 0);
      console.log(`[${kind}] 20 cards, one scanner: ${count} PINs evaluated, ${refused} refused PIN_LIMIT (budget ${BUDGET.device.max})`);
      expect(count).toBe(BUDGET.device.max);
      expect(answers.filter((a) => a === 'PIN_WRONG')).toHaveLength(BUDGET.device.max);
      expect(answers.filter((a) => a === 'PIN_LIMIT')).toHaveLength(20 - BUDGET.device.max);
      expect(refused).toBe(20 - BUDGET.device.max);
      // the refused sessions took nothing: every card but the evaluated ones still has all its tries
      const views = await Promise.all(cards.map((c) => fx.issuer.viewCard(c.pan)));
      expect(views.reduce((n, v) => n + v.pinFailures, 0)).toBe(BUDGET.device.max);
      expect(views.every((v) => v.status === 'active')).toBe(true);
      // and a right PIN from that scanner is refused too, until the window ends
      const card = await fx.issue();
      const auth = await here.open(card.payloadText, 100, { merchant: 'photo-shop-2' });
      expect(told(await here.pin(auth.session, PIN))).toBe('PIN_LIMIT');
    } finally {
      await Promise.all([here.close(), there.close()]);
    }
  }, 60_000);

  it(`[${kind}] the scanners of one merchant share its budget; another merchant's are not touched`, async () => {
    const devices = Array.from({ length: 4 }, () => uniqueDevice('till'));
    const scanners = await Promise.all(devices.map((d, i) => (i % 2 ? RawScanner.connect(peer.scannerUrl, d, fx.token(d)) : fx.scanner(d))));
    try {
      const cards = await Promise.all(Array.from({ length: 16 }, () => fx.issue()));
      const sessions: { s: RawScanner; auth: Awaited<ReturnType<RawScanner['open']>> }[] = [];
      for (const [i, card] of cards.entries()) sessions.push({ s: scanners[i % 4], auth: await scanners[i % 4].open(card.payloadText, 100, { merchant: 'one-merchant' }) });
      const answers = await Promise.all(sessions.map(async ({ s, auth }) => told(await s.pin(auth.session, WRONG_PIN))));
      expect(answers.filter((a) => a === 'PIN_WRONG')).toHaveLength(BUDGET.merchant.max);
      expect(answers.filter((a) => a === 'PIN_LIMIT')).toHaveLength(16 - BUDGET.merchant.max);
      const other = await fx.issue();
      const elsewhere = await scanners[0].open(other.payloadText, 100, { merchant: 'other-merchant' });
      expect(told(await scanners[0].pin(elsewhere.session, PIN))).toBe('APPROVED');
    } finally {
      await Promise.all(scanners.map((s) => s.close()));
    }
  }, 60_000);

  for (const paceMs of [0, 250]) {
    it(`[${kind}] 30 right PINs racing on one card near its balance (pace ${paceMs} ms): never CARD_LOCKED, each pays once or is declined for funds`, async () => {
      const pacedFx = paceMs ? await startGatewayFixture({ store: opened.store, keyRing: fx.keyRing, fleetKey: fx.fleetKey, gateway: { ...OPTIONS, pinPaceMs: paceMs } }) : fx;
      const pacedPeer = paceMs ? await opened.peer(fx, { ...OPTIONS, pinPaceMs: paceMs }) : peer;
      const device = uniqueDevice('right');
      const scanners = [await pacedFx.scanner(device), await RawScanner.connect(pacedPeer.scannerUrl, device, fx.token(device))];
      try {
        const card = await fx.issue({ balance: 2_500, limit: 1_000 });
        const sessions: { s: RawScanner; auth: Awaited<ReturnType<RawScanner['open']>> }[] = [];
        for (let i = 0; i < 30; i++) sessions.push({ s: scanners[i % 2], auth: await scanners[i % 2].open(card.payloadText, 100) });
        const final: string[] = new Array(30);
        let waiting = sessions.map((_, i) => i);
        let rounds = 0;
        for (; waiting.length > 0 && rounds < 200; rounds++) {
          const answers = await Promise.all(waiting.map(async (i) => told(await sessions[i].s.pin(sessions[i].auth.session, PIN))));
          expect(answers.filter((a) => a === 'CARD_LOCKED')).toEqual([]);
          answers.forEach((a, j) => (final[waiting[j]] = a));
          waiting = waiting.filter((_, j) => answers[j] === 'RATE_LIMITED');
          if (waiting.length) await new Promise((resolve) => setTimeout(resolve, paceMs || 5));
        }
        expect(final.filter((a) => a === 'APPROVED')).toHaveLength(25);
        expect(final.filter((a) => a === 'INSUFFICIENT_FUNDS')).toHaveLength(5);
        expect(await fx.issuer.viewCard(card.pan)).toMatchObject({ status: 'active', pinFailures: 0, balance: 0 });
      } finally {
        await Promise.all(scanners.map((s) => s.close()));
        if (paceMs) {
          await pacedPeer.stop();
          await pacedFx.close();
        }
      }
    }, 90_000);
  }
}

describe('wrong-PIN budgets and racing right PINs on the embedded store (two gateways in this process)', () => {
  suite('memory', async () => {
    const store = new MemoryStore();
    const peers: GatewayFixture[] = [];
    return {
      store,
      async peer(fx, options = OPTIONS) {
        const second = await startGatewayFixture({ store, keyRing: fx.keyRing, fleetKey: fx.fleetKey, gateway: options });
        peers.push(second);
        return { url: second.gateway.url, scannerUrl: second.gateway.scannerUrl, opsUrl: second.gateway.opsUrl, stop: () => second.close() };
      },
      dispose: async () => {},
    };
  });
});

describeRedis(redis, 'wrong-PIN budgets and racing right PINs on Redis (two gateway processes)', (server) => {
  const prefix = testKeyPrefix();
  suite('redis', async () => {
    const store = await RedisStore.connect(server.url, { prefix });
    return {
      store,
      peer: (fx, options = OPTIONS) => spawnGatewayChild({ redisUrl: server.url, prefix, keyRing: fx.keyRing, fleetKey: fx.fleetKey, options }),
      async dispose() {
        await store.close();
        await deleteKeys(server.url, prefix);
      },
    };
  });
});
