/**
 * Many gateways over a Redis Cluster: two gateway processes (A, B) on a private 3-master, 3-replica cluster,
 * with WAIT for one replica on. A scanner on A, its PIN entered on B's page, the result pushed to the scanner
 * on A over sharded pub/sub (and only A listens on that scanner's channel); wrong PINs counted across A and B
 * lock the card at 3; one device's rate budget is shared by both.
 */
import { randomBytes } from 'node:crypto';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadCore } from '../../core/index.ts';
import { Issuer } from '../../issuer/issuer.ts';
import { IssuerKeyRing } from '../../issuer/key-ring.ts';
import { RedisStore, parseClusterNodes } from '../../issuer/store/index.ts';
import type { AuthRequiredFrame, PaymentResultFrame } from '../../protocol/messages.ts';
import { deviceSecret, signScannerToken } from '../../protocol/scanner-token.ts';
import { PIN, RawScanner, WRONG_PIN, postPin, uniqueDevice } from '../support/gateway-fixture.ts';
import { spawnGatewayChild, type GatewayProcess } from '../support/gateway-process.ts';
import { clusterForTests, describeCluster } from '../support/redis-cluster.ts';
import { testKeyPrefix } from '../support/redis.ts';

const cluster = await clusterForTests();
afterAll(async () => {
  await cluster?.stop();
});

describeCluster(cluster, 'two gateway processes over a Redis Cluster', (c) => {
  const prefix = testKeyPrefix();
  const keyRing = IssuerKeyRing.generate();
  const fleetKey = new Uint8Array(randomBytes(32));
  const RATE = { framesPerSecond: 1, burst: 6 };
  let a: GatewayProcess;
  let b: GatewayProcess;
  let store: RedisStore;
  let issuer: Issuer;
  let raw: Cluster;
  const scanners: RawScanner[] = [];

  const connect = async (gateway: GatewayProcess, deviceId: string) => {
    const token = signScannerToken(deviceId, deviceSecret(fleetKey, deviceId), Date.now());
    const scanner = await RawScanner.connect(gateway.scannerUrl, deviceId, token);
    scanners.push(scanner);
    return scanner;
  };
  const issue = () => issuer.issueCard({ pin: PIN, limit: 1_000_000, balance: 1_000_000, currency: 'EUR' });
  /** The auth page of a session, as served by `gateway` (any gateway serves any session's page). */
  const pageOn = (gateway: GatewayProcess, auth: AuthRequiredFrame) => {
    const page = new URL(auth.url);
    return `${gateway.url}${page.pathname}${page.search}`;
  };
  /** Subscribers of a scanner's push channel, summed over every node. */
  const listeners = async (deviceId: string) => {
    let n = 0;
    for (const node of raw.nodes('all')) {
      const [, count] = (await node.call('PUBSUB', 'SHARDNUMSUB', `${prefix}push:{${deviceId}}`)) as [string, number];
      n += Number(count);
    }
    return n;
  };

  beforeAll(async () => {
    const child = { clusterNodes: c.nodes, prefix, keyRing, fleetKey, options: { pinPaceMs: 0, ...RATE }, env: { SCANPAY_REDIS_WAIT_REPLICAS: '1' } };
    [a, b] = await Promise.all([spawnGatewayChild(child), spawnGatewayChild(child)]);
    store = await RedisStore.connectCluster(parseClusterNodes(c.nodes.join(',')), { prefix });
    issuer = new Issuer({ core: await loadCore(), store, keyRing });
    raw = new Cluster(parseClusterNodes(c.nodes.join(',')));
  }, 60_000);

  afterAll(async () => {
    await Promise.all(scanners.map((s) => s.close()));
    await Promise.all([a?.stop(), b?.stop()]);
    await store?.close();
    await raw?.quit();
  });

  it('a PIN entered on B\'s page pays, and the result is pushed to the scanner on A', async () => {
    const card = await issue();
    const device = uniqueDevice();
    const scanner = await connect(a, device);
    const auth = await scanner.open(card.payloadText, 700);
    expect(await listeners(device)).toBe(1); // gateway A only: B holds no connection of this scanner
    const pushed = scanner.next<PaymentResultFrame>((f) => f.type === 'payment-result' && f.id === null, 10_000);
    const res = await postPin(pageOn(b, auth), PIN);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('Payment approved');
    expect(await pushed).toMatchObject({ type: 'payment-result', session: auth.session, outcome: 'approved' });
    expect(await store.getLedgerRecord(auth.session)).toMatchObject({ outcome: 'approved', amount: 700, balanceAfter: 1_000_000 - 700 });
    expect((await issuer.viewCard(card.pan)).balance).toBe(1_000_000 - 700);
  });

  it('three wrong PINs across A\'s socket, B\'s page and B\'s socket lock the card; the right PIN on A\'s page then pays nothing', async () => {
    const card = await issue();
    const onA = await connect(a, uniqueDevice());
    const onB = await connect(b, uniqueDevice());
    // all four sessions opened first: a locked card opens none
    const [first, second] = [await onA.open(card.payloadText, 100), await onA.open(card.payloadText, 100)];
    const [third, fourth] = [await onB.open(card.payloadText, 100), await onB.open(card.payloadText, 100)];
    expect(await onA.pin(first.session, WRONG_PIN)).toMatchObject({ outcome: 'declined', reason: 'PIN_WRONG', attemptsLeft: 2 });
    expect((await postPin(pageOn(b, second), WRONG_PIN)).status).toBe(200);
    expect((await issuer.viewCard(card.pan)).pinFailures).toBe(2);
    expect(await onB.pin(third.session, WRONG_PIN)).toMatchObject({ outcome: 'declined', reason: 'CARD_LOCKED', attemptsLeft: 0 });
    expect(await onA.scan(card.payloadText, 100)).toMatchObject({ type: 'error', code: 'CARD_LOCKED' });
    const right = await postPin(pageOn(a, fourth), PIN);
    expect(await right.text()).not.toContain('Payment approved');
    expect(await store.getLedgerRecord(fourth.session)).toBeNull();
    expect(await issuer.viewCard(card.pan)).toMatchObject({ status: 'locked', pinFailures: 3, balance: 1_000_000 });
  });

  it('one device\'s rate budget is shared by both gateways', async () => {
    const device = uniqueDevice();
    const onA = await connect(a, device); // each upgrade takes one unit of the burst of 6
    const onB = await connect(b, device);
    for (let i = 0; i < 4; i++) {
      const id = onA.newId();
      onA.send({ v: 1, type: 'ping', id });
      expect(await onA.answer(id)).toMatchObject({ type: 'pong' });
    }
    const id = onB.newId();
    onB.send({ v: 1, type: 'ping', id });
    expect(await onB.answer(id)).toMatchObject({ type: 'error', code: 'RATE_LIMITED' });
  });
});
