/**
 * Operating the gateway: /healthz, /readyz and /metrics; and a graceful shutdown — a payment whose PIN is
 * in flight when close() is called completes, is recorded once and its result reaches the scanner; frames
 * and upgrades that arrive after the close began are refused; a refused PIN can be retried on another
 * gateway over the same store.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore, type PaymentRequest, type Store } from '../../issuer/store/index.ts';
import type { PaymentResultFrame } from '../../protocol/messages.ts';
import {
  PIN, memoryTestStore, metricValue, redisTestStore, startGatewayFixture, upgradeOutcome,
  type GatewayFixture, type TestStore,
} from '../support/gateway-fixture.ts';
import { describeRedis, redisForTests } from '../support/redis.ts';

const redis = await redisForTests();
afterAll(async () => {
  await redis?.stop();
});

/** One HTTP request; `agent` false: on a new connection (fetch would reuse a kept-alive one). */
function request(url: string, opts: { method?: string; body?: string; agent?: http.Agent | false } = {}): Promise<{ status: number; text: string } | 'refused'> {
  return new Promise((resolve) => {
    const origin = new URL(url).origin; // the page's own origin, as a browser posting its form sends
    const headers = opts.body === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(opts.body), origin };
    const req = http.request(url, { method: opts.method ?? 'GET', agent: opts.agent ?? false, headers }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, text }));
    });
    req.on('error', () => resolve('refused'));
    req.end(opts.body);
  });
}

describe('ops endpoints', () => {
  let fx: GatewayFixture;
  beforeAll(async () => {
    fx = await startGatewayFixture({ store: new MemoryStore(), threads: 1 });
  });
  afterAll(async () => {
    await fx?.close();
  });

  it('/healthz answers 200', async () => {
    const res = await fetch(`${fx.gateway.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('ok\n');
  });

  it('/readyz answers 200 JSON with the store and the pool ok', async () => {
    const res = await fetch(`${fx.gateway.opsUrl}/readyz`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toMatchObject({ ready: true, store: 'ok', pool: 'ok', draining: false, storeKind: expect.stringMatching(/^embedded/) });
  });

  it('/readyz answers 503 while the store does not answer', async () => {
    const store = fx.store as Store & { ping(): Promise<void> };
    const ping = store.ping;
    store.ping = async () => {
      throw new Error('connection refused');
    };
    try {
      const res = await fetch(`${fx.gateway.opsUrl}/readyz`);
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ ready: false, store: 'unreachable', pool: 'ok' });
    } finally {
      store.ping = ping;
    }
    expect((await fetch(`${fx.gateway.opsUrl}/readyz`)).status).toBe(200);
  });

  it('/metrics exposes the flow, pool and latency metrics in Prometheus text', async () => {
    const card = await fx.issue();
    const s = await fx.scanner();
    const auth = await s.open(card.payloadText, 1_000);
    expect(await s.pin(auth.session, PIN)).toMatchObject({ outcome: 'approved' });

    const res = await fetch(`${fx.gateway.opsUrl}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    for (const name of ['scanpay_scans_total', 'scanpay_payments_total', 'scanpay_batch_size', 'scanpay_pool_queue_depth', 'scanpay_step_seconds']) {
      expect(text).toContain(`# TYPE ${name} `);
    }
    expect(metricValue(text, 'scanpay_scans_total', { outcome: 'legal' })).toBe(1);
    expect(metricValue(text, 'scanpay_payments_total', { outcome: 'approved', reason: 'none' })).toBe(1);
    expect(metricValue(text, 'scanpay_batch_size_count', { kind: 'open' })).toBeGreaterThanOrEqual(1);
    expect(metricValue(text, 'scanpay_batch_size_count', { kind: 'dvd1' })).toBeGreaterThanOrEqual(1);
    expect(metricValue(text, 'scanpay_step_seconds_count', { step: 'scan' })).toBe(1);
    expect(metricValue(text, 'scanpay_step_seconds_count', { step: 'pin' })).toBe(1);
    expect(text).toMatch(/^scanpay_pool_queue_depth 0$/m);
    expect(text).toMatch(/^scanpay_scanner_connections 1$/m);
  });

  it("the scanners' listener serves no metrics and only a bare readiness; the ops listener is loopback", async () => {
    expect((await fetch(`${fx.gateway.url}/metrics`)).status).toBe(404);
    const ready = await fetch(`${fx.gateway.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.text()).toBe('ready\n');
    expect(new URL(fx.gateway.opsUrl).hostname).toBe('127.0.0.1');
    expect(new URL(fx.gateway.opsUrl).port).not.toBe(new URL(fx.gateway.url).port);
  });

  it('unknown paths answer 404', async () => {
    expect((await fetch(`${fx.gateway.url}/nope`)).status).toBe(404);
  });
});

function shutdownSuite(openStore: () => Promise<TestStore>): void {
  let ts: TestStore;
  beforeAll(async () => {
    ts = await openStore();
  });
  afterAll(async () => {
    await ts?.dispose();
  });

  it('PINs in flight when close() is called (scanner and page) complete, are paid once and their results are delivered', async () => {
    const fx = await startGatewayFixture({ store: ts.store, threads: 1 });
    try {
      const card = await fx.issue({ balance: 10_000 });
      const s = await fx.scanner();
      const viaScanner = await s.open(card.payloadText, 1_000);
      const viaPage = await s.open(card.payloadText, 2_000);

      // hold both payments inside the issuer's authorization, so close() surely finds them in flight
      let entered = 0;
      let bothEntered!: () => void;
      const inAuthorization = new Promise<void>((resolve) => (bothEntered = resolve));
      const authorize = ts.store.authorizePayment.bind(ts.store);
      ts.store.authorizePayment = async (request: PaymentRequest) => {
        if (++entered === 2) bothEntered();
        await sleep(300);
        return authorize(request);
      };
      try {
        const pinId = s.sendPin(viaScanner.session, PIN);
        const page = fetch(`${fx.gateway.url}/auth/${viaPage.session}`, {
          method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: fx.gateway.url },
          body: new URLSearchParams({ t: new URL(viaPage.url).searchParams.get('t')!, pin: PIN }).toString(),
        });
        await inAuthorization;
        const closing = fx.gateway.close();

        // while draining: new frames are refused, and so are new connections
        const scanId = s.newId();
        s.send({ v: 1, type: 'scan', id: scanId, payload: card.payloadText, amount: 1, currency: 'EUR', merchant: 'x' });
        expect(await s.answer(scanId)).toMatchObject({ type: 'error', code: 'SHUTTING_DOWN' });
        expect(await upgradeOutcome(fx.gateway.scannerUrl, { authorization: `Bearer ${fx.token('late-till')}` })).not.toBe('open');

        const result = await s.answer<PaymentResultFrame>(pinId);
        expect(result).toMatchObject({ type: 'payment-result', session: viaScanner.session, outcome: 'approved', replayed: false });
        const pageResponse = await page;
        expect(pageResponse.status).toBe(200);
        expect(await pageResponse.text()).toContain('Payment approved');
        expect(await s.next((f) => f.type === 'payment-result' && f.id === null)).toMatchObject({ session: viaPage.session, outcome: 'approved' });
        await closing;
        expect((await s.waitClosed()).code).toBe(1001);
      } finally {
        ts.store.authorizePayment = authorize;
      }

      expect(await ts.store.getLedgerRecord(viaScanner.session)).toMatchObject({ outcome: 'approved', amount: 1_000 });
      expect(await ts.store.getLedgerRecord(viaPage.session)).toMatchObject({ outcome: 'approved', amount: 2_000 });
      expect((await fx.issuer.viewCard(card.pan)).balance).toBe(7_000);
      // after close: no upgrades, no new HTTP connections
      expect(await upgradeOutcome(fx.gateway.scannerUrl, { authorization: `Bearer ${fx.token('later-till')}` })).toBe('error');
      expect(await request(`${fx.gateway.url}/healthz`)).toBe('refused');
    } finally {
      await fx.close();
    }
  });

  it('a PIN racing close(): paid once with its result, or refused and payable on another gateway', async () => {
    const fleetKey = new Uint8Array(randomBytes(32));
    const fx = await startGatewayFixture({ store: ts.store, threads: 1, fleetKey });
    let next: GatewayFixture | undefined;
    try {
      const card = await fx.issue({ balance: 10_000 });
      const device = 'till-racing';
      const s = await fx.scanner(device);
      const auth = await s.open(card.payloadText, 1_000);
      const pinId = s.sendPin(auth.session, PIN);
      await fx.gateway.close();
      await s.waitClosed();
      // the frame may have been answered, refused (SHUTTING_DOWN) or not read at all before the socket closed
      const answer = s.drain().find((f) => 'id' in f && f.id === pinId) ?? null;

      if (answer?.type === 'payment-result') {
        expect(answer).toMatchObject({ outcome: 'approved', replayed: false });
        expect((await fx.issuer.viewCard(card.pan)).balance).toBe(9_000);
      } else {
        if (answer) expect(answer).toMatchObject({ type: 'error', code: 'SHUTTING_DOWN' });
        expect(await ts.store.getLedgerRecord(auth.session)).toBeNull();
        expect((await fx.issuer.viewCard(card.pan)).balance).toBe(10_000);
      }
      // the scanner retries on another gateway over the same store: the session pays, or replays, once
      next = await startGatewayFixture({ store: await ts.reopen(), threads: 1, keyRing: fx.keyRing, fleetKey });
      const retry = await (await next.scanner(device)).pin(auth.session, PIN);
      expect(retry).toMatchObject({ type: 'payment-result', outcome: 'approved', replayed: answer?.type === 'payment-result' });
      expect((await next.issuer.viewCard(card.pan)).balance).toBe(9_000);
    } finally {
      await fx.close();
      await next?.close();
    }
  });
}

describe('graceful shutdown on the embedded store (MemoryStore)', () => {
  shutdownSuite(memoryTestStore);
});

describeRedis(redis, 'graceful shutdown on Redis (RedisStore)', (r) => {
  shutdownSuite(() => redisTestStore(r));
});

// close() stops the listen socket and the WebSockets; an HTTP keep-alive connection opened before it may
// still deliver a page POST, which must be refused (503) rather than claim the session.
describe('after close()', () => {
  it('a page POST on an HTTP connection kept alive from before close() is refused and pays nothing', async () => {
    const store = new MemoryStore();
    const fx = await startGatewayFixture({ store, threads: 1 });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const card = await fx.issue({ balance: 10_000 });
      const s = await fx.scanner();
      const before = await s.open(card.payloadText, 100);
      const after = await s.open(card.payloadText, 200);
      const form = (session: string, url: string) => new URLSearchParams({ t: new URL(url).searchParams.get('t')!, pin: PIN }).toString();
      expect(await request(`${fx.gateway.url}/auth/${before.session}`, { method: 'POST', body: form(before.session, before.url), agent })).toMatchObject({ status: 200 });
      await fx.gateway.close();
      const late = await request(`${fx.gateway.url}/auth/${after.session}`, { method: 'POST', body: form(after.session, after.url), agent });
      expect(late === 'refused' || late.status === 503).toBe(true);
      expect(await store.getLedgerRecord(after.session)).toBeNull();
    } finally {
      agent.destroy();
      await fx.close();
    }
  });
});
