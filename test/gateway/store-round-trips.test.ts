/**
 * What a payment costs the store, counted at the server (issue 10: at most 3 round trips), and the device's
 * frame budget now that a scan's or PIN's unit is taken inside its store step (gateway/scanners/rate-limit.ts).
 * Commands are counted with MONITOR on a private redis-server (its own process, stopped by PID), so no other
 * client is in the count; commands that scripts run are left out: one EVALSHA is one round trip. The gateway's
 * background loops (sealing journals, delivering webhooks: their own timers, not a payment's cost) are off here.
 * The budget is attacked with floods of scans and PINs over two connections of one device on two gateways
 * sharing one Redis, and on the embedded store: no more pass than the budget, and a refused frame changes nothing.
 */
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { startGateway } from '../../gateway/server.ts';

/** The receipt loop's background rounds (a few commands a second per merchant) are no part of a payment's cost. */
const RECEIPTS_OFF = 3_600_000;
import { RedisStore } from '../../issuer/store/redis-store.ts';
import type { Store } from '../../issuer/store/types.ts';
import { MemoryStore } from '../../issuer/store/memory-store.ts';
import type { GatewayFrame } from '../../protocol/messages.ts';
import { RedisPushBus } from '../../gateway/push/push-bus.ts';
import { PIN, RawScanner, WRONG_PIN, inspectedLogger, metricValue, postPin, startGatewayFixture, uniqueDevice, type GatewayFixture } from '../support/gateway-fixture.ts';
import { onPath, startServer, testKeyPrefix } from '../support/redis.ts';

const binary = onPath('redis-server');
if (!binary && process.env.CI === 'true') throw new Error('redis-server is not installed: under CI=true the round-trip count must run');
if (!binary) console.warn('\n*** SKIPPED: store round trips per payment (no redis-server on PATH) ***\n');
const server = binary ? await startServer(binary) : null;
afterAll(async () => {
  await server?.stop();
});

/** The sealer and webhook loops off: what is counted is the payment's own. */
const NO_LOOPS = { sealerIntervalMs: 0, webhooks: { intervalMs: 0 } };

/** Top-level commands the server received while `run` ran (MONITOR; a script's own calls excluded), by name. */
async function commandsDuring(url: string, run: () => Promise<void>): Promise<string[]> {
  const admin = new Redis(url);
  const monitor = await admin.monitor();
  const seen: string[] = [];
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    if (!source.includes('lua')) seen.push(args[0].toLowerCase());
  });
  try {
    await run();
    await new Promise((resolve) => setTimeout(resolve, 100)); // MONITOR's stream trails the replies
    return seen;
  } finally {
    monitor.disconnect();
    admin.disconnect();
  }
}

describe.skipIf(!server)('store round trips per payment (private redis-server, MONITOR)', () => {
  it('a payment over a scanner costs 3 commands: open session, begin PIN attempt, authorize; the rate units ride inside them', async () => {
    const store = await RedisStore.connect(server!.url, { prefix: testKeyPrefix() });
    // 40 frames back to back; the receipt loop's rounds (off the payment's path, docs/receipts.md) not in the count
    const fx = await startGatewayFixture({ store, gateway: { framesPerSecond: 1_000, burst: 1_000, receiptIntervalMs: RECEIPTS_OFF, ...NO_LOOPS } });
    try {
      const cards = await Promise.all(Array.from({ length: 4 }, () => fx.issue()));
      const scanner = await fx.scanner(); // the connection's own unit and nonce are not a payment's
      // one payment first: the store loads each script with one EVAL after the server's first NOSCRIPT
      await scanner.pin((await scanner.open(cards[0].payloadText, 99)).session, PIN);
      const payments = 20;
      let approved = 0;
      const commands = await commandsDuring(server!.url, async () => {
        for (let i = 0; i < payments; i++) {
          const auth = await scanner.open(cards[i % cards.length].payloadText, 100 + i);
          const answer = await scanner.pin(auth.session, PIN);
          if (answer.type === 'payment-result' && answer.outcome === 'approved') approved++;
        }
      });
      expect(approved).toBe(payments);
      const perPayment = commands.length / payments;
      console.log(`store round trips per payment (scanner, one Redis): ${perPayment} (${commands.length} commands over ${payments} payments: ${[...new Set(commands)].join(', ')})`);
      expect(perPayment).toBe(3);
      expect(new Set(commands)).toEqual(new Set(['evalsha']));
    } finally {
      await fx.close();
      await store.close();
    }
  }, 60_000);
});

describe.skipIf(!server)('store round trips of a page PIN (private redis-server, MONITOR)', () => {
  it('a PIN posted from the page costs 3: the attempt (its address\'s and session\'s budgets inside), authorize, the re-push note; and the push', async () => {
    const prefix = testKeyPrefix();
    const store = await RedisStore.connect(server!.url, { prefix });
    // pushes over Redis, as several gateways have them: one PUBLISH to the scanner's channel
    const fx = await startGatewayFixture({
      store, gateway: { pushBus: (deliver) => RedisPushBus.connect(server!.url, prefix, deliver, () => {}), receiptIntervalMs: RECEIPTS_OFF, ...NO_LOOPS },
    });
    try {
      const card = await fx.issue();
      const scanner = await fx.scanner();
      const warm = await scanner.open(card.payloadText, 99); // the store loads each script once first
      await postPin(warm.url, PIN, {}, undefined, { scanner: scannerOf(await (await fetch(warm.url)).text()) });
      const pages = 10;
      const auths: Awaited<ReturnType<RawScanner["open"]>>[] = [];
      for (let i = 0; i < pages; i++) auths.push(await scanner.open(card.payloadText, 100 + i));
      // the page as a browser has it: the form's hidden fields
      const forms = await Promise.all(auths.map(async (auth) => scannerOf(await (await fetch(auth.url)).text())));
      let approved = 0;
      const commands = await commandsDuring(server!.url, async () => {
        for (const [i, auth] of auths.entries()) {
          const res = await postPin(auth.url, PIN, {}, undefined, { scanner: forms[i]! });
          if (res.status === 200 && (await res.text()).includes('Payment approved')) approved++;
        }
      });
      expect(approved).toBe(pages);
      const perPost = commands.length / pages;
      console.log(`store round trips per page PIN POST (one Redis, pushes over Redis): ${perPost} (${commands.length} commands over ${pages} posts: ${[...new Set(commands)].join(', ')})`);
      expect(commands.filter((c) => c === 'evalsha').length / pages).toBe(3);
      expect(commands.filter((c) => c === 'publish').length / pages).toBe(1);
      expect(perPost).toBe(4);
    } finally {
      await fx.close();
      await store.close();
    }
  }, 60_000);
});

/** The scanner id the auth page's form posts back. */
function scannerOf(page: string): string {
  return /name="scanner" value="([^"]+)"/.exec(page)?.[1] ?? '';
}

/** Sends every frame at once over the scanners (round robin) and collects one answer per frame. */
async function blast(scanners: RawScanner[], frames: ((id: string) => object)[]): Promise<GatewayFrame[]> {
  const ids = frames.map((make, i) => {
    const scanner = scanners[i % scanners.length];
    const id = `b${i}-${scanner.newId()}`;
    scanner.send(make(id));
    return { scanner, id };
  });
  return Promise.all(ids.map(({ scanner, id }) => scanner.answer(id, 20_000)));
}

const codeOf = (f: GatewayFrame) => (f.type === 'error' ? f.code : f.type);

const stores: [string, () => Promise<{ store: Store; peerStore: Store; close(): Promise<void> }>][] = [
  ['the embedded store (one gateway)', async () => {
    const store = new MemoryStore();
    return { store, peerStore: store, close: () => store.close() };
  }],
];
if (server) {
  stores.push(['one Redis (two gateways)', async () => {
    const prefix = testKeyPrefix();
    const store = await RedisStore.connect(server.url, { prefix });
    const peerStore = await RedisStore.connect(server.url, { prefix });
    return { store, peerStore, close: async () => { await store.close(); await peerStore.close(); } };
  }]);
}

describe.each(stores)('a device\'s frame budget with the unit taken in the store step, on %s', (_name, open) => {
  it('floods of scans and then PINs over two connections pass no more than the budget; refused ones open nothing and count nothing', async () => {
    const { store, peerStore, close } = await open();
    const budget = { framesPerSecond: 1, burst: 12 };
    let fx: GatewayFixture | undefined;
    let peer: Awaited<ReturnType<typeof startGateway>> | undefined;
    try {
      fx = await startGatewayFixture({ store, gateway: budget });
      const sharedRedis = peerStore !== store;
      peer = sharedRedis
        ? await startGateway({ store: peerStore, keyRingFile: fx.keyRingFile, keyRingPollMs: 0, fleetKey: fx.fleetKey, port: 0, threads: 1, logger: inspectedLogger(), pinPaceMs: 0, ...budget })
        : undefined;
      const card = await fx.issue();
      const device = uniqueDevice();
      // two connections of one device (on both gateways over Redis): 2 units for the upgrades, 10 left
      const a = await fx.scanner(device);
      const b = sharedRedis ? await RawScanner.connect(peer!.scannerUrl, device, fx.token(device)) : await fx.scanner(device);
      const scans = await blast([a, b], Array.from({ length: 40 }, (_, i) => (id: string) => ({ v: 1, type: 'scan', id, payload: card.payloadText, amount: 100 + i, currency: 'EUR', merchant: 'corner-cafe' })));
      const opened = scans.filter((f) => f.type === 'auth-required');
      const refused = scans.filter((f) => codeOf(f) === 'RATE_LIMITED');
      // 10 units left, plus at most a few refilled at 1/s while the blast runs
      expect(opened.length).toBeGreaterThanOrEqual(8);
      expect(opened.length).toBeLessThanOrEqual(13);
      expect(opened.length + refused.length).toBe(40);
      // every session the gateway announced exists; no refused scan left one behind
      for (const f of opened) expect((await store.getSession((f as { session: string }).session))?.state).toBe('open');

      // the budget is spent: a burst of PINs for those sessions, wrong ones, is refused before any attempt is counted
      const sessions = opened.map((f) => (f as { session: string }).session);
      const pins = await blast([a, b], sessions.map((session) => (id: string) => ({ v: 1, type: 'pin', id, session, pin: WRONG_PIN })));
      const evaluated = pins.filter((f) => f.type === 'payment-result').length;
      expect(pins.filter((f) => codeOf(f) === 'RATE_LIMITED').length + evaluated).toBe(sessions.length);
      expect(evaluated).toBeLessThanOrEqual(3); // refill only, at 1/s
      expect((await store.getCard(fx.keyRing.cardToken(card.pan)))!.pinFailures).toBe(evaluated);

      // refused frames are counted as rejected, by the folded code
      const metrics = await fx.metrics() + (peer ? await (await fetch(`${peer.opsUrl}/metrics`)).text() : '');
      const rejected = [...metrics.matchAll(/^scanpay_frames_rejected_total\{code="RATE_LIMITED"\} (\d+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
      expect(rejected).toBe(refused.length + pins.filter((f) => codeOf(f) === 'RATE_LIMITED').length);
      expect(metricValue(metrics, 'scanpay_frames_rejected_total', { code: 'RATE_LIMITED' })).toBeGreaterThan(0);
      await b.close();
    } finally {
      await peer?.close();
      await fx?.close();
      await close();
    }
  }, 60_000);
});
