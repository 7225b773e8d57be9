/**
 * A one-time code replayed at once over two gateway PROCESSES (test/support/gateway-process.ts), on a single Redis
 * and on a private Redis Cluster (3 masters, 3 replicas, WAIT for one replica on): 100 scans of one code, split
 * over 8 scanner connections on A and B, pay exactly once; the other 99 are CODE_STALE; the card's balance moves
 * once and the enrolment's counter is the code's. Then the used code and an older one are refused on either
 * gateway, and the next code pays. The wallet is enrolled on A's /wallet routes, its codes made by oneTimeCode.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadCore } from '../../core/index.ts';
import type { CryptoCore } from '../../core/types.ts';
import { Issuer } from '../../issuer/issuer.ts';
import { IssuerKeyRing } from '../../issuer/key-ring.ts';
import { RedisStore, parseClusterNodes, type Store } from '../../issuer/store/index.ts';
import type { ErrorFrame, GatewayFrame, PaymentResultFrame } from '../../protocol/messages.ts';
import { deviceSecret, signScannerToken } from '../../protocol/scanner-token.ts';
import { enrolWallet } from '../support/code-wallet.ts';
import { PIN, RawScanner, uniqueDevice } from '../support/gateway-fixture.ts';
import { spawnGatewayChild, type GatewayProcess } from '../support/gateway-process.ts';
import { clusterForTests, describeCluster } from '../support/redis-cluster.ts';
import { deleteKeys, describeRedis, redisForTests, testKeyPrefix } from '../support/redis.ts';

const redis = await redisForTests();
const cluster = await clusterForTests();
afterAll(async () => {
  await Promise.all([redis?.stop(), cluster?.stop()]);
});

const codeOf = (frame: GatewayFrame) => (frame.type === 'error' ? (frame as ErrorFrame).code : frame.type);

interface Shape {
  child: { redisUrl?: string; clusterNodes?: string[]; env?: Record<string, string> };
  store(prefix: string): Promise<RedisStore>;
  cleanup(prefix: string): Promise<void>;
}

function replaySuite(shape: () => Shape): void {
  const prefix = testKeyPrefix();
  const keyRing = IssuerKeyRing.generate();
  const fleetKey = new Uint8Array(randomBytes(32));
  let a: GatewayProcess;
  let b: GatewayProcess;
  let store: Store;
  let issuer: Issuer;
  let core: CryptoCore;
  const scanners: RawScanner[] = [];
  const connect = async (gateway: GatewayProcess) => {
    const deviceId = uniqueDevice();
    const scanner = await RawScanner.connect(gateway.scannerUrl, deviceId, signScannerToken(deviceId, deviceSecret(fleetKey, deviceId), Date.now()));
    scanners.push(scanner);
    return scanner;
  };

  beforeAll(async () => {
    const s = shape();
    const child = { ...s.child, prefix, keyRing, fleetKey, options: { pinPaceMs: 0, framesPerSecond: 10_000, burst: 10_000 } };
    [a, b] = await Promise.all([spawnGatewayChild(child), spawnGatewayChild(child)]);
    store = await s.store(prefix);
    core = await loadCore();
    issuer = new Issuer({ core, store, keyRing });
  }, 60_000);

  afterAll(async () => {
    await Promise.all(scanners.map((x) => x.close()));
    await Promise.all([a?.stop(), b?.stop()]);
    await store?.close();
    await shape().cleanup(prefix);
  });

  it('one code, 100 scans at once over two gateway processes: exactly one payment, 99 CODE_STALE; then the used and an older code are refused, the next pays', async () => {
    const card = await issuer.issueCard({ pin: PIN, limit: 1_000_000, balance: 1_000_000, currency: 'EUR' });
    await issuer.setCardPolicy(card.pan, { codeNoPinLimit: 5_000 });
    const wallet = await enrolWallet(a.url, core, card.payloadText);
    const onA = await Promise.all([0, 1, 2, 3].map(() => connect(a)));
    const onB = await Promise.all([0, 1, 2, 3].map(() => connect(b)));
    const all = [...onA, ...onB];
    const older = wallet.code();
    const code = wallet.code();
    const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => all[i % all.length]!.scan(code.text, 1_000) as Promise<GatewayFrame>));
    const paid = answers.filter((x) => x.type === 'payment-result') as PaymentResultFrame[];
    expect(paid).toHaveLength(1);
    expect(paid[0]).toMatchObject({ outcome: 'approved', receipt: { amount: 1_000 } });
    expect(answers.map(codeOf).filter((c) => c !== 'payment-result')).toEqual(Array.from({ length: 99 }, () => 'CODE_STALE'));
    expect((await issuer.viewCard(card.pan)).balance).toBe(1_000_000 - 1_000);
    expect((await store.getEnrolment(wallet.enrolmentId))!.lastCounter).toBe(code.counter);
    expect(await store.getLedgerRecord(paid[0]!.session)).toMatchObject({ outcome: 'approved', amount: 1_000 });
    // the photographed code after its owner's payment, and an older one, on either gateway
    for (const scanner of [onA[0]!, onB[0]!]) {
      expect(codeOf(await scanner.scan(code.text, 1_000))).toBe('CODE_STALE');
      expect(codeOf(await scanner.scan(older.text, 1_000))).toBe('CODE_STALE');
    }
    expect(await onB[1]!.scan(wallet.code().text, 1_000)).toMatchObject({ type: 'payment-result', outcome: 'approved' });
    expect((await issuer.viewCard(card.pan)).balance).toBe(1_000_000 - 2_000);
  }, 60_000);
}

describeRedis(redis, 'a code replayed over two gateway processes on one Redis', (r) => {
  replaySuite(() => ({
    child: { redisUrl: r.url },
    store: (prefix) => RedisStore.connect(r.url, { prefix }),
    cleanup: async (prefix) => {
      await deleteKeys(r.url, prefix);
    },
  }));
});

describeCluster(cluster, 'a code replayed over two gateway processes on a Redis Cluster', (c) => {
  replaySuite(() => ({
    child: { clusterNodes: c.nodes, env: { SCANPAY_REDIS_WAIT_REPLICAS: '1' } },
    store: (prefix) => RedisStore.connectCluster(parseClusterNodes(c.nodes.join(',')), { prefix }),
    cleanup: async () => {}, // the cluster is this file's own, stopped (and its directories removed) after the suite
  }));
});
