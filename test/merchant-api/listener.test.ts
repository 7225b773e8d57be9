/**
 * The merchant API's listener (gateway/transport/uws-server.ts, gateway/server.ts): TLS as the scanners' port;
 * its body cap and JSON depth limit; a graceful close that lets requests in flight finish and answers new ones
 * 503 SHUTTING_DOWN; a store that fails (503) and a handler that throws (500), in the error shape; the failed
 * authentication budget per caller address (429 from memory, no store read for what cannot be a key); and the
 * start-up checks (a bad merchantHost, a merchant port in use).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ScanpayError } from '../../core/errors.ts';
import { startGateway } from '../../gateway/server.ts';
import { IssuerKeyRing } from '../../issuer/key-ring.ts';
import { MemoryStore } from '../../issuer/store/index.ts';
import { MAX_JSON_DEPTH, MAX_REQUEST_BYTES } from '../../protocol/merchant-api.ts';
import { inspectedLogger, memoryLogger, startGatewayFixture, type GatewayFixture } from '../support/gateway-fixture.ts';
import { MerchantApi, createMerchant, expectReconciled, paidPayment, storedCard } from '../support/merchant-api.ts';

interface Raw {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

/** One request over node:http(s), for what fetch does not offer: an agent of our own, a local address, a CA. */
function raw(url: string, opts: { method?: string; headers?: Record<string, string>; body?: string | Buffer; agent?: Agent; localAddress?: string; ca?: Buffer } = {}): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const send = url.startsWith('https:') ? httpsRequest : httpRequest;
    const req = send(url, { method: opts.method ?? 'GET', headers: opts.headers, agent: opts.agent, localAddress: opts.localAddress, ca: opts.ca }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

const fixtures: GatewayFixture[] = [];
afterEach(async () => {
  await Promise.all(fixtures.splice(0).map((fx) => fx.close()));
});
async function gateway(store = new MemoryStore(), options: Parameters<typeof startGatewayFixture>[0]['gateway'] = {}, logger = inspectedLogger()): Promise<GatewayFixture> {
  const fx = await startGatewayFixture({ store, gateway: options, logger });
  fixtures.push(fx);
  return fx;
}

describe('TLS', () => {
  it('serves https:// from the scanners\' certificate, with HSTS', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'scanpay-merchant-tls-'));
    try {
      const certFile = join(dir, 'cert.pem');
      const keyFile = join(dir, 'key.pem');
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
        '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', keyFile, '-out', certFile], { stdio: 'ignore' });
      const ca = readFileSync(certFile);
      const fx = await gateway(new MemoryStore(), { tls: { certFile, keyFile } });
      expect(fx.gateway.merchantUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const key = await createMerchant(fx.store, fx.fleetKey, 'tls-shop');
      const { id } = await paidPayment(fx.store, 'tls-shop', 100);
      const read = await raw(`${fx.gateway.merchantUrl}/v1/payments/${id}`, { ca, headers: { authorization: `Bearer ${key}` } });
      expect(read.status).toBe(200);
      expect(JSON.parse(read.text)).toMatchObject({ id, amount: 100 });
      expect(read.headers['strict-transport-security']).toBe('max-age=31536000');
      const plain = await raw(`${fx.gateway.merchantUrl.replace('https:', 'http:')}/v1/payments/${id}`).then((r) => r.status, () => 'refused');
      expect(plain).not.toBe(200);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('limits', () => {
  it('a body past 16 KiB is 413 BODY_TOO_LARGE (streamed or not); JSON deeper than the limit 400 INVALID_JSON; nothing changes', async () => {
    const fx = await gateway();
    const api = new MerchantApi(fx.gateway.merchantUrl, await createMerchant(fx.store, fx.fleetKey, 'shop'));
    const card = await storedCard(fx.store, { balance: 10_000 });
    const { id } = await paidPayment(fx.store, 'shop', 1_000, card);
    const json = { 'content-type': 'application/json' };
    const big = `{"payment":"${id}","amount":1,"reason":"${'x'.repeat(1 << 20)}"}`;
    expect((await api.post('/v1/refunds', big, { headers: json })).json.error.code).toBe('BODY_TOO_LARGE');
    // a body that never says its length (chunked), 5 MiB of it
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 80; i++) controller.enqueue(new Uint8Array(64 * 1024).fill(0x20));
        controller.close();
      },
    });
    const streamed = await fetch(`${fx.gateway.merchantUrl}/v1/refunds`, {
      method: 'POST', body: stream, duplex: 'half', headers: { ...json, authorization: `Bearer ${api.apiKey}` },
    } as RequestInit);
    expect([streamed.status, (await streamed.json()).error.code]).toEqual([413, 'BODY_TOO_LARGE']);
    // just under the cap is read (and judged on its fields)
    const reason = 'x'.repeat(MAX_REQUEST_BYTES - 100);
    expect((await api.post('/v1/refunds', { payment: id, amount: 1, reason })).json).toMatchObject({ error: { code: 'INVALID_PARAMETER', param: 'reason' } });
    // nesting: the limit passes to the schema, one deeper is INVALID_JSON, 8,000 deep within the cap too
    const nested = (n: number) => `{"payment":"${id}","amount":1,"reason":${'['.repeat(n - 1)}${']'.repeat(n - 1)}}`;
    expect((await api.post('/v1/refunds', nested(MAX_JSON_DEPTH), { headers: json })).json.error.code).toBe('INVALID_PARAMETER');
    expect((await api.post('/v1/refunds', nested(MAX_JSON_DEPTH + 1), { headers: json })).json.error.code).toBe('INVALID_JSON');
    expect((await api.post('/v1/refunds', `${'['.repeat(8_000)}${']'.repeat(8_000)}`, { headers: json })).json.error.code).toBe('INVALID_JSON');
    // 1,500 keys fit in the cap: refused by the schema, by the first unknown one
    const wide = `{${Array.from({ length: 1_500 }, (_, i) => `"k${i}":0`).join(',')}}`;
    expect((await api.post('/v1/refunds', wide, { headers: json })).json).toMatchObject({ error: { code: 'INVALID_PARAMETER' } });
    expect((await api.get(`/v1/payments/${id}`)).json).toMatchObject({ amount_refunded: 0 });
    await expectReconciled(fx.store, card, [id]);
    expect((await api.post('/v1/refunds', { payment: id, amount: 10 })).status).toBe(200); // the listener still serves
  });
});

describe('closing', () => {
  it('a request in flight finishes; a new one on an open connection gets 503 SHUTTING_DOWN; no new connection is taken', async () => {
    const store = new MemoryStore();
    const fx = await gateway(store);
    const api = new MerchantApi(fx.gateway.merchantUrl, await createMerchant(store, fx.fleetKey, 'shop'));
    const card = await storedCard(store, { balance: 10_000 });
    const { id } = await paidPayment(store, 'shop', 1_000, card);
    let release!: () => void;
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    const gate = new Promise<void>((resolve) => (release = resolve));
    const refund = store.payments.refund.bind(store.payments);
    store.payments.refund = async (request) => {
      entered();
      await gate;
      return refund(request);
    };
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const auth = { authorization: `Bearer ${api.apiKey}` };
    try {
      expect((await raw(`${fx.gateway.merchantUrl}/v1/payments/${id}`, { agent, headers: auth })).status).toBe(200); // its connection stays open
      const slow = api.post('/v1/refunds', { payment: id, amount: 300 }, { idempotencyKey: 'slow' });
      await inside;
      const closed = fx.gateway.close(5_000);
      const late = await raw(`${fx.gateway.merchantUrl}/v1/payments/${id}`, { agent, headers: auth });
      expect([late.status, JSON.parse(late.text)]).toEqual([503, { error: { code: 'SHUTTING_DOWN', message: 'the gateway is shutting down; retry' } }]);
      expect(late.headers['retry-after']).toBe('1');
      await expect(raw(`${fx.gateway.merchantUrl}/v1/payments/${id}`, { headers: auth })).rejects.toThrow(/ECONNREFUSED|ECONNRESET|socket hang up/);
      release();
      const done = await slow;
      expect(done.json).toMatchObject({ object: 'refund', amount: 300 });
      await closed;
      expect((await store.payments.getPayment(id))!.refundedAmount).toBe(300);
      await expectReconciled(store, card, [id]);
    } finally {
      release();
      agent.destroy();
    }
  });
});

describe('failures', () => {
  it('a store that fails: 503 STORE_UNAVAILABLE with Retry-After; a handler that throws: 500 INTERNAL, logged without the key; operations audited', async () => {
    const store = new MemoryStore();
    const log = memoryLogger();
    const fx = await gateway(store, {}, log.logger);
    const api = new MerchantApi(fx.gateway.merchantUrl, await createMerchant(store, fx.fleetKey, 'shop'));
    const { id } = await paidPayment(store, 'shop', 100);
    store.payments.getPayment = async () => {
      throw new ScanpayError('STORE_UNAVAILABLE', 'connection refused');
    };
    const unavailable = await api.get(`/v1/payments/${id}`);
    expect([unavailable.status, unavailable.json.error.code, unavailable.headers.get('retry-after')]).toEqual([503, 'STORE_UNAVAILABLE', '1']);
    store.payments.getPayment = async () => {
      throw new TypeError('a bug');
    };
    const broken = await api.get(`/v1/payments/${id}`);
    expect([broken.status, broken.json]).toEqual([500, { error: { code: 'INTERNAL', message: 'internal error' } }]);
    expect(log.lines().filter((l) => l.event === 'merchant-api.error')).toEqual([expect.objectContaining({ route: '/v1/payments/{id}', error: 'a bug' })]);
    // an operation is an audit line: who, what, on which payment, the status, a replay
    await api.post('/v1/refunds', { payment: id, amount: 5 }, { idempotencyKey: 'logged' });
    await api.post('/v1/refunds', { payment: id, amount: 5 }, { idempotencyKey: 'logged' });
    expect(log.lines().filter((l) => l.event === 'merchant-api.operation')).toEqual([
      expect.objectContaining({ merchant: 'shop', operation: 'createRefund', payment: id, amount: 5, status: 200, replayed: false }),
      expect.objectContaining({ merchant: 'shop', operation: 'createRefund', payment: id, amount: 5, status: 200, replayed: true }),
    ]);
    expect(log.text()).not.toContain(api.apiKey!);
  });
});

describe('authentication failures', () => {
  it('each caller address has a failure budget: past it 429 RATE_LIMITED from memory, a good key too; another address is not charged', async () => {
    const store = new MemoryStore();
    const fx = await gateway(store, { merchantAuthFailures: { perSecond: 0.01, burst: 3 } });
    const key = await createMerchant(store, fx.fleetKey, 'shop');
    let reads = 0;
    const getApiKey = store.merchants.getApiKey.bind(store.merchants);
    store.merchants.getApiKey = (keyId) => {
      reads++;
      return getApiKey(keyId);
    };
    const url = `${fx.gateway.merchantUrl}/v1/payments`;
    const as = (authorization: string, localAddress = '127.0.0.1') => raw(url, { headers: { authorization }, localAddress });
    expect((await as(`Bearer ${key}`)).status).toBe(200); // a good key gives its unit back
    expect(reads).toBe(1);
    expect((await as('Bearer not-a-key')).status).toBe(401); // not a key's shape: no store read
    expect((await as('')).status).toBe(401);
    expect(reads).toBe(1);
    expect((await as(`Bearer spk_${'0'.repeat(16)}_${'A'.repeat(43)}`)).status).toBe(401); // a key's shape: one read
    expect(reads).toBe(2);
    const over = await as('Bearer not-a-key');
    expect([over.status, JSON.parse(over.text).error.code, over.headers['retry-after']]).toEqual([429, 'RATE_LIMITED', '1']);
    expect((await as(`Bearer ${key}`)).status).toBe(429); // the address's budget is spent, whatever it sends
    expect(reads).toBe(2);
    expect((await as(`Bearer ${key}`, '127.0.0.2')).status).toBe(200); // another caller
  });
});

describe('start-up checks', () => {
  it('a merchantHost that is no host, and a merchant port in use, fail the start with what is wrong', async () => {
    const store = new MemoryStore();
    const keyRing = IssuerKeyRing.generate();
    const fleetKey = new Uint8Array(32).fill(7);
    await expect(startGateway({ store, keyRing, fleetKey, port: 0, merchantHost: 'bad host', logger: inspectedLogger() }))
      .rejects.toThrow(/merchantHost must be an IP address \(IPv6 without brackets, e\.g\. ::1\) or a host name/);
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen({ host: '127.0.0.1', port: 0, exclusive: true }, resolve));
    const port = (taken.address() as AddressInfo).port;
    try {
      await expect(startGateway({ store, keyRing, fleetKey, port: 0, opsPort: 0, merchantPort: port, logger: inspectedLogger() }))
        .rejects.toThrow(`cannot listen on 127.0.0.1:${port} (merchant API): the port is in use`);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
    // the port is free again and a gateway takes it
    const fx = await gateway(store, { merchantPort: port });
    expect(fx.gateway.merchantUrl).toBe(`http://127.0.0.1:${port}`);
  });
});
