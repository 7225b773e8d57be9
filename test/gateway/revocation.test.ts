/**
 * Revocation cuts a live connection (docs/security.md §4), tried as the attack it answers: a rogue scanner holds
 * sockets open on two gateways, each with a session open for a card, and is revoked by a third party that has
 * only the store (what `scanpay scanner revoke` does: store.revokeDevice in this process). Both sockets must
 * close with 4003, the open sessions must take no PIN by page on either gateway, and a new token must get 401:
 * over one Redis (two gateway processes), on the embedded store (one gateway in this process), and over a Redis
 * Cluster (two gateway processes, sharded pub/sub). Then the bounds for a missed push: the periodic re-read of
 * the revoked devices, and the maximum connection age (4001), on which the SDK reconnects and pays.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCore } from '../../core/index.ts';
import { Issuer } from '../../issuer/issuer.ts';
import { IssuerKeyRing } from '../../issuer/key-ring.ts';
import { keyLayout } from '../../issuer/store/keys.ts';
import { MemoryStore, RedisStore, parseClusterNodes, type Store } from '../../issuer/store/index.ts';
import type { AuthRequiredFrame, PaymentResultFrame } from '../../protocol/messages.ts';
import { deviceSecret, signScannerToken } from '../../protocol/scanner-token.ts';
import { ScannerClient, isScannerError, type ScannerError } from '../../sdk/index.ts';
import { PIN, RawScanner, postPin, startGatewayFixture, uniqueDevice, upgradeOutcome } from '../support/gateway-fixture.ts';
import { spawnGatewayChild } from '../support/gateway-process.ts';
import { clusterForTests, describeCluster } from '../support/redis-cluster.ts';
import { deleteKeys, describeRedis, redisForTests, testKeyPrefix } from '../support/redis.ts';

const redis = await redisForTests();
const cluster = await clusterForTests();
afterAll(async () => {
  await Promise.all([redis?.stop(), cluster?.stop()]);
});

/** docs/protocol.md §6. Written out, not imported: the numbers are the protocol. */
const DEVICE_REVOKED = 4003;
const REAUTHENTICATE = 4001;

/** Where a scanner connects and a holder opens the page. */
interface Endpoint { url: string; scannerUrl: string }

/** Two gateways (or one, twice) on one store, an issuer on it, and the fleet key their scanners derive from. */
interface Deployment {
  gateways: [Endpoint, Endpoint];
  store: Store;
  issuer: Issuer;
  fleetKey: Uint8Array;
  close(): Promise<void>;
}

const FAST = { pinPaceMs: 0, framesPerSecond: 1_000, burst: 1_000 };

/** Two gateway processes over Redis (one server, or a cluster's nodes): neither is this process. */
async function processesOn(where: { redisUrl?: string; clusterNodes?: string[] }, store: RedisStore, prefix: string): Promise<Deployment> {
  const keyRing = IssuerKeyRing.generate();
  const fleetKey = new Uint8Array(randomBytes(32));
  const child = { ...where, prefix, keyRing, fleetKey, options: FAST };
  const [a, b] = await Promise.all([spawnGatewayChild(child), spawnGatewayChild(child)]);
  return {
    gateways: [a, b], store, fleetKey, issuer: new Issuer({ core: await loadCore(), store, keyRing }),
    close: async () => {
      await Promise.all([a.stop(), b.stop()]);
    },
  };
}

/** One gateway in this process on the embedded store, serving as both "gateways". */
async function embedded(): Promise<Deployment> {
  const store = new MemoryStore();
  const fx = await startGatewayFixture({ store, gateway: FAST });
  return { gateways: [fx.gateway, fx.gateway], store, fleetKey: fx.fleetKey, issuer: fx.issuer, close: () => fx.close() };
}

const tokenFor = (fleetKey: Uint8Array, deviceId: string) => signScannerToken(deviceId, deviceSecret(fleetKey, deviceId), Date.now());
/** A session's page as served by `gateway` (any gateway serves any session's page). */
const pageOn = (gateway: Endpoint, auth: AuthRequiredFrame) => {
  const page = new URL(auth.url);
  return `${gateway.url}${page.pathname}${page.search}`;
};

function revocationSuite(kind: string, deploy: () => Promise<Deployment>): void {
  it(`${kind}: revoked by a third party, the device's sockets on both gateways close with 4003, its open sessions take no PIN by page on either, a new token gets 401; another device is untouched`, async () => {
    const d = await deploy();
    const scanners: RawScanner[] = [];
    const connect = async (at: Endpoint, deviceId: string) => {
      const s = await RawScanner.connect(at.scannerUrl, deviceId, tokenFor(d.fleetKey, deviceId));
      scanners.push(s);
      return s;
    };
    try {
      const [a, b] = d.gateways;
      const card = await d.issuer.issueCard({ pin: PIN, limit: 1_000_000, balance: 1_000_000, currency: 'EUR' });
      const rogue = uniqueDevice('rogue');
      const honest = uniqueDevice('honest');
      const onA = await connect(a, rogue);
      const onB = await connect(b, rogue);
      const bystander = await connect(b, honest);
      const sessions = [await onA.open(card.payloadText, 100), await onB.open(card.payloadText, 200)];
      const honestSession = await bystander.open(card.payloadText, 300);

      const revokedAt = performance.now();
      await d.store.revokeDevice(rogue);
      const closed = await Promise.all([onA, onB].map(async (s) => ({ ...(await s.waitClosed(5_000)), ms: Math.round(performance.now() - revokedAt) })));
      console.log(`[${kind}] revoked → closed with ${closed.map((c) => c.code).join(', ')} on A after ${closed[0].ms} ms, on B after ${closed[1].ms} ms`);
      expect(closed.map(({ code, reason }) => ({ code, reason }))).toEqual([
        { code: DEVICE_REVOKED, reason: 'device revoked' }, { code: DEVICE_REVOKED, reason: 'device revoked' },
      ]);

      // the holder's page, on either gateway, for either session: no form, no PIN taken, nothing counted or paid
      for (const auth of sessions) {
        for (const gateway of [a, b]) {
          expect((await fetch(pageOn(gateway, auth))).status).toBe(403);
          const res = await postPin(pageOn(gateway, auth), PIN);
          expect(res.status).toBe(403);
          expect(await res.text()).toContain('data-code="DEVICE_REVOKED"');
        }
        expect(await d.store.getLedgerRecord(auth.session)).toBeNull();
        expect((await d.store.getSession(auth.session))?.state).toBe('open');
      }
      expect(await d.issuer.viewCard(card.pan)).toMatchObject({ pinFailures: 0, balance: 1_000_000 });

      // a fresh token, on both gateways
      for (const gateway of [a, b]) expect(await upgradeOutcome(gateway.scannerUrl, { authorization: `Bearer ${tokenFor(d.fleetKey, rogue)}` })).toBe(401);

      // the other device on the same gateway: still connected, and pays
      expect(bystander.isOpen).toBe(true);
      expect(await bystander.pin(honestSession.session, PIN)).toMatchObject({ type: 'payment-result', outcome: 'approved' });
    } finally {
      await Promise.all(scanners.map((s) => s.close()));
      await d.close();
    }
  }, 90_000);
}

describeRedis(redis, 'revocation over one Redis (two gateway processes)', (server) => {
  revocationSuite('redis', async () => {
    const prefix = testKeyPrefix();
    const store = await RedisStore.connect(server.url, { prefix });
    const d = await processesOn({ redisUrl: server.url }, store, prefix);
    return { ...d, close: async () => { await d.close(); await store.close(); await deleteKeys(server.url, prefix); } };
  });

  it('a revocation whose push never came is found by the periodic re-read, and the socket closes with 4003', async () => {
    const prefix = testKeyPrefix();
    const store = await RedisStore.connect(server.url, { prefix });
    const raw = new Redis(server.url);
    const fx = await startGatewayFixture({ store, gateway: { revocationRefreshMs: 200 } });
    try {
      const device = uniqueDevice('unheard');
      const scanner = await fx.scanner(device);
      // written as revokeDevice writes it, without the announcement: a push lost on the way
      const keys = keyLayout(prefix);
      await raw.hset(keys.device(device), 'revokedAt', String(Date.now()));
      await raw.sadd(keys.revokedDevices, device);
      expect(await scanner.waitClosed(5_000)).toEqual({ code: DEVICE_REVOKED, reason: 'device revoked' });
    } finally {
      await fx.close();
      await raw.quit();
      await store.close();
      await deleteKeys(server.url, prefix);
    }
  }, 30_000);
});

describe('revocation on the embedded store (one gateway in this process)', () => {
  revocationSuite('embedded', embedded);

  it('the SDK takes 4003 as final: pending requests and the client close with DEVICE_REVOKED, and it never tries to reconnect', async () => {
    const store = new MemoryStore();
    const fx = await startGatewayFixture({ store, gateway: FAST });
    const deviceId = uniqueDevice('sdk');
    const client = await ScannerClient.connect({ url: fx.gateway.scannerUrl, deviceId, secret: deviceSecret(fx.fleetKey, deviceId), reconnect: { initialDelayMs: 10, maxDelayMs: 20 } });
    try {
      const events: string[] = [];
      for (const event of ['disconnected', 'reconnect-failed', 'reconnected'] as const) client.on(event, () => events.push(event));
      const closedWith = new Promise<ScannerError>((resolve) => client.on('close', resolve));
      const waiting = client.waitForResult('0'.repeat(32), 10_000).catch((e: unknown) => e);
      await store.revokeDevice(deviceId);
      expect(isScannerError(await closedWith, 'DEVICE_REVOKED')).toBe(true);
      expect(isScannerError(await waiting, 'DEVICE_REVOKED')).toBe(true);
      expect((await closedWith).retryable).toBe(false);
      await new Promise((resolve) => setTimeout(resolve, 300)); // many backoff delays: a reconnect loop would show
      expect(events).toEqual([]);
      expect(client.state).toBe('closed');
      expect(isScannerError(await client.ping().catch((e: unknown) => e), 'DEVICE_REVOKED')).toBe(true);
    } finally {
      await client.close();
      await fx.close();
    }
  });
});

describe('a revocation landing while an upgrade is accepted', () => {
  it('the token passed the store just before the revocation: the socket opens and is closed with 4003 before any welcome; the SDK says DEVICE_REVOKED', async () => {
    const memory = new MemoryStore();
    const deviceId = uniqueDevice('racing');
    // the revocation lands right after the store accepted this device's token, before the gateway opens the socket
    const store = new Proxy(memory, {
      get(target, name, receiver) {
        const value = Reflect.get(target, name, receiver);
        if (name !== 'acceptDeviceToken') return typeof value === 'function' ? value.bind(target) : value;
        return async (id: string, ...rest: [string, number]) => {
          const verdict = await target.acceptDeviceToken(id, ...rest);
          if (id === deviceId) await target.revokeDevice(id);
          return verdict;
        };
      },
    });
    const fx = await startGatewayFixture({ store, gateway: FAST });
    try {
      const connecting = ScannerClient.connect({ url: fx.gateway.scannerUrl, deviceId, secret: deviceSecret(fx.fleetKey, deviceId), timeoutMs: 5_000 });
      const refused = await connecting.then(() => null, (e: unknown) => e);
      expect(isScannerError(refused, 'DEVICE_REVOKED'), String(refused)).toBe(true);
      expect(await upgradeOutcome(fx.gateway.scannerUrl, { authorization: `Bearer ${fx.token(deviceId)}` })).toBe(401);
    } finally {
      await fx.close();
    }
  });
});

describeCluster(cluster, 'revocation over a Redis Cluster (two gateway processes, sharded pub/sub)', (c) => {
  revocationSuite('cluster', async () => {
    const prefix = testKeyPrefix();
    const store = await RedisStore.connectCluster(parseClusterNodes(c.nodes.join(',')), { prefix });
    const d = await processesOn({ clusterNodes: c.nodes }, store, prefix);
    return { ...d, close: async () => { await d.close(); await store.close(); } };
  });
});

describe('maximum connection age', () => {
  it('closes a connection with 4001 at its age; the SDK connects again with a fresh token and pays, with or without `reconnect`', async () => {
    const fx = await startGatewayFixture({ store: new MemoryStore(), gateway: { ...FAST, maxConnectionAgeS: 1 } });
    try {
      const raw = await fx.scanner();
      const openedAt = performance.now();
      const closed = await raw.waitClosed(5_000);
      expect(closed).toEqual({ code: REAUTHENTICATE, reason: 'connection age limit reached: reconnect with a fresh token' });
      console.log(`[age] a connection with a 1 s maximum age closed after ${Math.round(performance.now() - openedAt)} ms`);

      const card = await fx.issue();
      for (const reconnect of [false, true]) {
        const deviceId = uniqueDevice(reconnect ? 'renew' : 'plain');
        const client = await ScannerClient.connect({ url: fx.gateway.scannerUrl, deviceId, secret: deviceSecret(fx.fleetKey, deviceId), reconnect });
        try {
          const drops: string[] = [];
          client.on('disconnected', (e) => drops.push(e.message));
          const renewed = new Promise<void>((resolve) => client.on('reconnected', () => resolve()));
          await renewed;
          expect(drops[0]).toContain(`(${REAUTHENTICATE} `);
          expect(client.state).toBe('open');
          const auth = await client.scan({ payload: card.payloadText, amount: 150, currency: 'EUR', merchant: 'corner-cafe' });
          const result: PaymentResultFrame = await client.submitPin(auth.session, PIN);
          expect(result).toMatchObject({ outcome: 'approved' });
        } finally {
          await client.close();
        }
      }
    } finally {
      await fx.close();
    }
  }, 30_000);
});
