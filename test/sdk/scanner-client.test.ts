/**
 * The scanner SDK against a fake gateway (test/support/fake-gateway.ts) that checks real device tokens:
 * connect and welcome, 401, request/response correlation, error frames as typed errors, the page-flow
 * push, timeouts, and that closing rejects whatever is pending.
 */
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ScannerClient, ScannerError, isScannerError, type PushFrame } from '../../sdk/index.ts';
import { deviceSecret } from '../../protocol/scanner-token.ts';
import { FAKE_MASKED_PAN, FAKE_PIN, FakeGateway } from '../support/fake-gateway.ts';

const fleetKey = new Uint8Array(randomBytes(32));
const DEVICE = 'till-0042';
const secret = deviceSecret(fleetKey, DEVICE);
const SCAN = { payload: 'CARD-PAYLOAD', amount: 1250, currency: 'EUR', merchant: 'cafe-7' };

let gateway: FakeGateway;
const clients: ScannerClient[] = [];

async function connect(extra: Partial<Parameters<typeof ScannerClient.connect>[0]> = {}): Promise<ScannerClient> {
  const client = await ScannerClient.connect({ url: gateway.url, deviceId: DEVICE, secret, timeoutMs: 2_000, ...extra });
  clients.push(client);
  return client;
}

/** The ScannerError code a promise rejected with ('resolved' if it did not reject). */
async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (e) {
    return isScannerError(e) ? e.code : `not a ScannerError: ${String(e)}`;
  }
}

beforeAll(async () => {
  gateway = await FakeGateway.start({ fleetKey });
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});
afterAll(async () => {
  await gateway.close();
});

describe('connect', () => {
  it('resolves after the welcome frame', async () => {
    const client = await connect();
    expect(client.isOpen).toBe(true);
    expect(client.welcome).toMatchObject({ v: 1, type: 'welcome', scanner: DEVICE, limits: { maxFrameBytes: 2048 } });
  });

  it('accepts the secret as 64 hex digits', async () => {
    const client = await connect({ secret: Buffer.from(secret).toString('hex') });
    expect(client.welcome.scanner).toBe(DEVICE);
  });

  it('a wrong secret gets HTTP 401 → UNAUTHORIZED, and no connection', async () => {
    const before = gateway.connections;
    const err = await ScannerClient.connect({ url: gateway.url, deviceId: DEVICE, secret: randomBytes(32), timeoutMs: 2_000 }).catch((e) => e);
    expect(err).toBeInstanceOf(ScannerError);
    expect(err).toMatchObject({ name: 'ScannerError', code: 'UNAUTHORIZED' });
    expect(gateway.connections).toBe(before);
  });

  it("another device's secret → UNAUTHORIZED", async () => {
    const other = deviceSecret(fleetKey, 'till-0043');
    expect(await codeOf(ScannerClient.connect({ url: gateway.url, deviceId: DEVICE, secret: other }))).toBe('UNAUTHORIZED');
  });

  it('nothing listening → CLOSED', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((r) => probe.close(() => r()));
    expect(await codeOf(ScannerClient.connect({ url: `ws://127.0.0.1:${port}/scanner`, deviceId: DEVICE, secret }))).toBe('CLOSED');
  });

  it('no welcome in time → TIMEOUT, and the socket is dropped', async () => {
    const silent = await FakeGateway.start({ fleetKey, welcome: false });
    try {
      expect(await codeOf(ScannerClient.connect({ url: silent.url, deviceId: DEVICE, secret, timeoutMs: 150 }))).toBe('TIMEOUT');
      await expect.poll(() => silent.connections).toBe(0);
    } finally {
      await silent.close();
    }
  });

  it('bad arguments are refused before any network traffic', async () => {
    await expect(ScannerClient.connect({ url: gateway.url, deviceId: 'till.42', secret })).rejects.toThrow(RangeError);
    await expect(ScannerClient.connect({ url: gateway.url, deviceId: DEVICE, secret: 'abcd' })).rejects.toThrow(RangeError);
    await expect(ScannerClient.connect({ url: 'http://127.0.0.1:1/scanner', deviceId: DEVICE, secret })).rejects.toThrow(RangeError);
  });
});

describe('requests', () => {
  it('scan → auth-required for that request', async () => {
    const client = await connect();
    const auth = await client.scan(SCAN);
    expect(auth).toMatchObject({ type: 'auth-required', merchant: 'cafe-7', amount: 1250, currency: 'EUR', maskedPan: FAKE_MASKED_PAN });
    expect(auth.session).toMatch(/^[0-9a-f]{32}$/);
    expect(gateway.received.at(-1)).toMatchObject({ type: 'scan', id: auth.id, ...SCAN });
  });

  it('concurrent requests are matched by id, and ids are unique', async () => {
    const client = await connect();
    const merchants = Array.from({ length: 20 }, (_, i) => `shop-${i}`);
    const auths = await Promise.all(merchants.map((merchant) => client.scan({ ...SCAN, merchant })));
    expect(auths.map((a) => a.merchant)).toEqual(merchants);
    expect(new Set(auths.map((a) => a.id)).size).toBe(20);
  });

  it('an error frame rejects with a ScannerError carrying its code', async () => {
    const client = await connect();
    const err = await client.scan({ ...SCAN, payload: 'BLOCKED' }).catch((e) => e);
    expect(err).toBeInstanceOf(ScannerError);
    expect(err).toMatchObject({ name: 'ScannerError', code: 'CARD_BLOCKED' });
    expect(await codeOf(client.submitPin('0'.repeat(32), FAKE_PIN))).toBe('SESSION_UNKNOWN');
  });

  it('a frame that breaks the schema is refused locally and never sent', async () => {
    const client = await connect();
    const sent = gateway.received.length;
    expect(await codeOf(client.scan({ ...SCAN, currency: 'eur' }))).toBe('BAD_FRAME');
    expect(await codeOf(client.scan({ ...SCAN, amount: 12.5 }))).toBe('BAD_FRAME');
    expect(await codeOf(client.scan({ ...SCAN, payload: 'x'.repeat(257) }))).toBe('BAD_FRAME');
    expect(await codeOf(client.submitPin('not-a-session', FAKE_PIN))).toBe('BAD_FRAME');
    expect(await codeOf(client.submitPin('0'.repeat(32), '12345'))).toBe('BAD_FRAME');
    const err = (await client.submitPin('0'.repeat(32), '98765').catch((e: unknown) => e)) as Error;
    expect(err.message).not.toContain('98765'); // the PIN is never echoed
    expect(gateway.received.length).toBe(sent);
  });

  it('pin → payment-result; a repeated pin frame gets the same result, replayed', async () => {
    const client = await connect();
    const auth = await client.scan(SCAN);
    const result = await client.submitPin(auth.session, FAKE_PIN);
    expect(result).toMatchObject({ type: 'payment-result', session: auth.session, outcome: 'approved', reason: null, replayed: false });
    expect(result.receipt?.mac).toMatch(/^[0-9a-f]{64}$/);
    const again = await client.submitPin(auth.session, FAKE_PIN);
    expect(again).toMatchObject({ outcome: 'approved', replayed: true, receipt: result.receipt });
  });

  it('reverse (v1.3) → the typed reversal: the first decides, a repeat answers the same, replayed', async () => {
    const client = await connect();
    const auth = await client.scan(SCAN);
    await client.submitPin(auth.session, FAKE_PIN);
    const first = await client.reverse(auth.session);
    expect(first).toMatchObject({ type: 'reversal', session: auth.session, action: 'voided', replayed: false });
    expect(await client.reverse(auth.session)).toMatchObject({ action: 'voided', replayed: true });
    expect(await codeOf(client.reverse('not-a-session'))).toBe('BAD_FRAME'); // refused locally, never sent
  });

  it('a wrong PIN is a declined result, not an error', async () => {
    const client = await connect();
    const auth = await client.scan(SCAN);
    expect(await client.submitPin(auth.session, '0000')).toMatchObject({ outcome: 'declined', reason: 'PIN_WRONG', attemptsLeft: 2, receipt: null });
  });

  it('an answer of the wrong type rejects BAD_FRAME', async () => {
    const client = await connect();
    expect(await codeOf(client.scan({ ...SCAN, payload: 'WRONG-TYPE' }))).toBe('BAD_FRAME');
  });

  it('ping resolves with a round-trip time in ms', async () => {
    const client = await connect();
    const rtt = await client.ping();
    expect(rtt).toBeGreaterThanOrEqual(0);
    expect(rtt).toBeLessThan(2_000);
  });

  it('sends wait while the socket is backed up instead of piling up in memory, then all complete', async () => {
    const HIGH_WATER = 16 * 1024;
    const client = await connect({ maxBufferedBytes: HIGH_WATER, timeoutMs: 20_000 });
    gateway.pauseReading(true); // the kernel buffers fill (a few MB on loopback), then ws's own queue
    const big = { ...SCAN, payload: 'P'.repeat(256) }; // ~370-byte frames
    const scans = Array.from({ length: 16_000 }, () => client.scan(big));
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, client.bufferedAmount)), 1);
    await new Promise((r) => setTimeout(r, 300));
    expect(client.bufferedAmount).toBeGreaterThan(0); // it did back up...
    expect(client.bufferedAmount).toBeLessThan(HIGH_WATER + 1024); // ...but only to the high-water mark (+ one frame)
    gateway.pauseReading(false);
    const auths = await Promise.all(scans);
    clearInterval(sampler);
    expect(auths).toHaveLength(16_000);
    expect(peak).toBeLessThan(HIGH_WATER + 1024);
  });
});

describe('pacing to the advertised frame limit', () => {
  const LIMIT = { framesPerSecond: 50, burst: 100 }; // the gateway's ratio (20/s, burst 40); only the rate is advertised
  let limited: FakeGateway;
  beforeAll(async () => {
    limited = await FakeGateway.start({ fleetKey, rateLimit: LIMIT });
  });
  afterAll(async () => {
    await limited.close();
  });

  it('a burst of requests is spread out so the gateway never answers RATE_LIMITED', async () => {
    const client = await ScannerClient.connect({ url: limited.url, deviceId: DEVICE, secret, timeoutMs: 5_000 });
    clients.push(client);
    const pushes: PushFrame[] = [];
    client.on('push', (f) => pushes.push(f));
    const started = performance.now();
    const rtts = await Promise.all(Array.from({ length: 60 }, () => client.ping()));
    const elapsed = performance.now() - started;
    expect(rtts).toHaveLength(60);
    expect(limited.rateLimited).toBe(0);
    expect(pushes).toEqual([]);
    // no burst advertised → the client assumes one second's worth (50) and uses half: 25 at once, 35 at 50/s
    expect(elapsed).toBeGreaterThanOrEqual(650);
  });

  it('with pace: false the gateway limits it, and the limited requests time out (RATE_LIMITED carries id null)', async () => {
    const client = await ScannerClient.connect({ url: limited.url, deviceId: 'till-0043', secret: deviceSecret(fleetKey, 'till-0043'), pace: false });
    clients.push(client);
    const pushes: PushFrame[] = [];
    client.on('push', (f) => pushes.push(f));
    const codes = await Promise.all(Array.from({ length: 140 }, () => codeOf(client.ping({ timeoutMs: 300 }))));
    expect(codes.filter((c) => c === 'resolved').length).toBeLessThan(140);
    expect(codes.filter((c) => c !== 'resolved').every((c) => c === 'TIMEOUT')).toBe(true);
    expect(pushes.length).toBeGreaterThan(0);
    expect(pushes.every((p) => p.type === 'error' && p.code === 'RATE_LIMITED' && p.id === null)).toBe(true);
  });

  it('uses the burst the gateway advertises when there is one', async () => {
    const generous = await FakeGateway.start({ fleetKey, rateLimit: { framesPerSecond: 10, burst: 40, advertiseBurst: true } });
    try {
      const client = await ScannerClient.connect({ url: generous.url, deviceId: DEVICE, secret });
      clients.push(client);
      const started = performance.now();
      await Promise.all(Array.from({ length: 20 }, () => client.ping()));
      expect(performance.now() - started).toBeLessThan(400); // 20 = half the advertised burst: no waiting
      expect(generous.rateLimited).toBe(0);
    } finally {
      await generous.close();
    }
  });
});

describe('page flow', () => {
  it('waitForResult resolves on the push for its session; push listeners see it with id null', async () => {
    const client = await connect();
    const pushes: PushFrame[] = [];
    client.on('push', (f) => pushes.push(f));
    const [a, b] = [await client.scan(SCAN), await client.scan(SCAN)];
    const waiting = client.waitForResult(a.session, 2_000);
    gateway.payOnPage(b.session); // another session first: must not resolve a's waiter
    gateway.payOnPage(a.session);
    const result = await waiting;
    expect(result).toMatchObject({ id: null, session: a.session, outcome: 'approved' });
    await expect.poll(() => pushes.length).toBe(2);
    expect(pushes.map((p) => p.type === 'payment-result' && p.session)).toEqual([b.session, a.session]);
  });

  it('a push that arrived before waitForResult was called is still delivered', async () => {
    const client = await connect();
    const auth = await client.scan(SCAN);
    const pushed = new Promise<PushFrame>((resolve) => client.on('push', resolve));
    gateway.payOnPage(auth.session, '0000');
    await pushed;
    expect(await client.waitForResult(auth.session, 100)).toMatchObject({ session: auth.session, outcome: 'declined', reason: 'PIN_WRONG' });
  });

  it('no push in time → TIMEOUT', async () => {
    const client = await connect();
    const auth = await client.scan(SCAN);
    expect(await codeOf(client.waitForResult(auth.session, 100))).toBe('TIMEOUT');
  });
});

describe('timeouts and close', () => {
  it('a request with no answer rejects TIMEOUT, and the connection stays usable', async () => {
    const client = await connect();
    const started = Date.now();
    expect(await codeOf(client.scan({ ...SCAN, payload: 'SILENT' }, { timeoutMs: 150 }))).toBe('TIMEOUT');
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect((await client.scan(SCAN)).type).toBe('auth-required');
  });

  it('close() rejects pending requests and waiters with CLOSED; later requests reject too', async () => {
    const client = await connect();
    const auth = await client.scan(SCAN);
    const pending = codeOf(client.scan({ ...SCAN, payload: 'SILENT' }, { timeoutMs: 5_000 }));
    const waiting = codeOf(client.waitForResult(auth.session, 5_000));
    await client.close();
    expect(await pending).toBe('CLOSED');
    expect(await waiting).toBe('CLOSED');
    expect(await codeOf(client.ping())).toBe('CLOSED');
    expect(client.isOpen).toBe(false);
  });

  it('the gateway closing the connection rejects pending requests and tells close listeners', async () => {
    const client = await connect();
    const closed = new Promise<ScannerError>((resolve) => client.on('close', resolve));
    const pending = codeOf(client.scan({ ...SCAN, payload: 'SILENT' }, { timeoutMs: 5_000 }));
    await expect.poll(() => gateway.received.some((f) => f.type === 'scan' && f.payload === 'SILENT' && f.id.length > 0)).toBe(true);
    gateway.dropConnections(1001);
    expect(await pending).toBe('CLOSED');
    expect((await closed).message).toContain('1001');
  });
});
