/**
 * A scan's merchant is its scanner's (issue 23 item 1; docs/protocol.md §scan, §8 MERCHANT_MISMATCH): a device bound
 * to merchant A (`scanner provision --merchant A`: Store.bindDevice) that names B is refused, on every gateway
 * sharing the store, and nothing is opened for it; an unbound device may name no registered merchant, but still any
 * free-text one the store does not know (the demo's and older integrations' way). Attacked concurrently over two
 * connections on each of two gateways: two in this process on the embedded store, this process and a child
 * process on Redis. The binding is read once per connection, when its token is accepted (Store.getDevice, sent
 * beside acceptDeviceToken), never per scan: counted on a store that counts its calls.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Store } from '../../issuer/store/index.ts';
import { MemoryStore } from '../../issuer/store/memory-store.ts';
import { RedisStore } from '../../issuer/store/redis-store.ts';
import type { ErrorFrame, GatewayFrame } from '../../protocol/messages.ts';
import { PIN, RawScanner, metricValue, startGatewayFixture, uniqueDevice, type GatewayFixture } from '../support/gateway-fixture.ts';
import { spawnGatewayChild } from '../support/gateway-process.ts';
import { createMerchant } from '../support/merchant-api.ts';
import { deleteKeys, describeRedis, redisForTests, testKeyPrefix } from '../support/redis.ts';

const redis = await redisForTests();
afterAll(async () => {
  await redis?.stop();
});

const FAST = { pinPaceMs: 0, framesPerSecond: 100_000, burst: 100_000 };

interface Peer { scannerUrl: string; stop(): Promise<void> }

const code = (frame: GatewayFrame) => (frame.type === 'error' ? (frame as ErrorFrame).code : frame.type);

/** Registers shop-a and shop-b, binds a device to shop-a, and runs the attack over both gateways. */
async function attack(fx: GatewayFixture, peer: Peer): Promise<void> {
  const { store } = fx;
  await createMerchant(store, fx.fleetKey, 'shop-a');
  await createMerchant(store, fx.fleetKey, 'shop-b');
  const bound = uniqueDevice('bound');
  await store.recordDevice(bound);
  expect(await store.bindDevice(bound, 'shop-a')).toBe('bound');
  const unbound = uniqueDevice('free');
  const card = await fx.issue();
  const connections: RawScanner[] = [];
  for (const url of [fx.gateway.scannerUrl, peer.scannerUrl]) {
    for (const device of [bound, bound, unbound, unbound]) connections.push(await RawScanner.connect(url, device, fx.token(device)));
  }
  try {
    const before = await fx.metrics();
    // every connection names each merchant 5 times, all at once
    const names = ['shop-a', 'shop-b', 'corner-cafe'] as const;
    const answers = await Promise.all(connections.flatMap((conn) => names.flatMap((merchant) =>
      Array.from({ length: 5 }, async () => ({ device: conn.deviceId, merchant, answer: await conn.scan(card.payloadText, 100, { merchant }) })))));
    for (const { device, merchant, answer } of answers) {
      const allowed = device === bound ? merchant === 'shop-a' : merchant === 'corner-cafe';
      expect(code(answer), `${device} naming ${merchant}`).toBe(allowed ? 'auth-required' : 'MERCHANT_MISMATCH');
      if (!allowed) expect((answer as ErrorFrame).message).toBe('this scanner takes payments for its own merchant only');
    }
    const refused = answers.filter((a) => code(a.answer) === 'MERCHANT_MISMATCH').length;
    expect(refused).toBe(8 * 5 * 2); // 8 connections, 2 names each refused, 5 times
    // on this process's gateway: counted as refused frames, and none of them judged a card
    const after = await fx.metrics();
    const onThis = refused / 2;
    expect(metricValue(after, 'scanpay_frames_rejected_total', { code: 'MERCHANT_MISMATCH' }) - metricValue(before, 'scanpay_frames_rejected_total', { code: 'MERCHANT_MISMATCH' })).toBe(onThis);
    const judged = (m: string) => metricValue(m, 'scanpay_scans_total', { outcome: 'legal' }) + metricValue(m, 'scanpay_scans_total', { outcome: 'illegal' });
    expect(judged(after) - judged(before)).toBe(answers.length / 2 - onThis);

    // the bound device's payment is its merchant's, on either gateway
    for (const conn of [connections[0], connections[4]]) {
      const auth = await conn.open(card.payloadText, 250, { merchant: 'shop-a' });
      expect(auth.merchant).toBe('shop-a');
      expect(await conn.pin(auth.session, PIN)).toMatchObject({ type: 'payment-result', outcome: 'approved' });
      expect(await store.payments.getPayment(auth.session)).toMatchObject({ merchant: 'shop-a', amount: 250 });
    }
  } finally {
    await Promise.all(connections.map((c) => c.close()));
  }
}

describe('a scan names its scanner\'s merchant (embedded store, two gateways in this process)', () => {
  it('a device bound to shop-a is refused for shop-b, an unbound one for any registered merchant, on both gateways', async () => {
    const store = new MemoryStore();
    const fx = await startGatewayFixture({ store, gateway: FAST });
    const second = await startGatewayFixture({ store, keyRing: fx.keyRing, fleetKey: fx.fleetKey, gateway: FAST });
    try {
      await attack(fx, { scannerUrl: second.gateway.scannerUrl, stop: () => second.close() });
    } finally {
      await second.close();
      await fx.close();
    }
  });

  it('reads the binding once per connection, not per scan; a binding made after a device connected counts from its next connection', async () => {
    const counted = { getDevice: 0 };
    const inner = new MemoryStore();
    const store = new Proxy(inner, {
      get(target, name, receiver) {
        const value = Reflect.get(target, name, receiver) as unknown;
        if (name === 'getDevice') counted.getDevice++;
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    }) as Store;
    const fx = await startGatewayFixture({ store, gateway: FAST });
    try {
      await createMerchant(inner, fx.fleetKey, 'shop-a');
      const card = await fx.issue();
      const device = uniqueDevice();
      const before = counted.getDevice;
      const early = await fx.scanner(device); // connected unbound
      expect(counted.getDevice - before).toBe(1);
      await inner.recordDevice(device);
      await inner.bindDevice(device, 'shop-a');
      // still unbound on this connection: shop-a is registered, so refused; a free-text merchant is not
      expect(code(await early.scan(card.payloadText, 100, { merchant: 'shop-a' }))).toBe('MERCHANT_MISMATCH');
      expect(code(await early.scan(card.payloadText, 100, { merchant: 'corner-cafe' }))).toBe('auth-required');
      const late = await fx.scanner(device); // bound from this connection on
      for (let i = 0; i < 10; i++) expect(code(await late.scan(card.payloadText, 100, { merchant: 'shop-a' }))).toBe('auth-required');
      expect(code(await late.scan(card.payloadText, 100, { merchant: 'corner-cafe' }))).toBe('MERCHANT_MISMATCH');
      expect(counted.getDevice - before).toBe(2); // two connections, 13 scans
    } finally {
      await fx.close();
    }
  });
});

describeRedis(redis, 'a scan names its scanner\'s merchant (Redis, two gateway processes)', (server) => {
  it('a device bound to shop-a is refused for shop-b, an unbound one for any registered merchant, on both gateways', async () => {
    const prefix = testKeyPrefix();
    const store = await RedisStore.connect(server.url, { prefix });
    const fx = await startGatewayFixture({ store, gateway: FAST });
    const peer = await spawnGatewayChild({ redisUrl: server.url, prefix, keyRing: fx.keyRing, fleetKey: fx.fleetKey, options: FAST });
    try {
      await attack(fx, peer);
    } finally {
      await peer.stop();
      await fx.close();
      await store.close();
      await deleteKeys(server.url, prefix);
    }
  }, 60_000);
});
