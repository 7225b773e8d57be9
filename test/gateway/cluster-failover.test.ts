/**
 * A master SIGKILLed under load (issue 11, item 5): two gateway processes over a private 3-master, 3-replica
 * Redis Cluster (cluster-node-timeout 1500 ms) with WAIT for one replica on, a fleet of paying scanners spread
 * over both (test/chaos/scanners.ts). One master is SIGKILLed; its replica is promoted; the killed node is
 * restarted on its own nodes.conf and rejoins as the new master's replica (with WAIT 1, a shard without a
 * replica acknowledges no payment, by design). Scanners on that shard pay again after a bounded pause, and
 * the reconciliation (test/chaos/reconcile.ts) finds every acknowledged approval in the ledger exactly once
 * and every balance = initial + the changes of its entries. Meanwhile the merchant captures, voids and refunds
 * what the scanners took over both gateways' merchant APIs (test/chaos/money.ts), each step waiting for its
 * replica too: every acknowledged one is in the ledger once, none refused is, and none on the failed shard
 * was acknowledged while it had no replica.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MoneyOperator, reconcileMoney } from '../chaos/money.ts';
import { reconcile } from '../chaos/reconcile.ts';
import { CHAOS_MERCHANT, ScannerFleet, type ChaosCard } from '../chaos/scanners.ts';
import { loadCore } from '../../core/index.ts';
import { Issuer } from '../../issuer/issuer.ts';
import { IssuerKeyRing } from '../../issuer/key-ring.ts';
import { RedisStore, parseClusterNodes } from '../../issuer/store/index.ts';
import { keyLayout } from '../../issuer/store/keys.ts';
import { deviceSecret, signScannerToken } from '../../protocol/scanner-token.ts';
import { PIN } from '../support/gateway-fixture.ts';
import { createMerchant } from '../support/merchant-api.ts';
import { spawnGatewayChild, type GatewayProcess } from '../support/gateway-process.ts';
import { clusterForTests, describeCluster, type TestClusterNode } from '../support/redis-cluster.ts';
import { testKeyPrefix } from '../support/redis.ts';

const NODE_TIMEOUT_MS = 1_500;
const INITIAL_BALANCE = 10_000_000;
const CARDS = 24;
const SCANNERS = 6;
/** Frame limits raised: the fleet pays as fast as it can; rate limits are not under test here. */
const GATEWAY_LIMITS = { pinPaceMs: 0, framesPerSecond: 2_000, burst: 4_000 };
/** The bound on the pause of the failed shard, from the kill to its first approval again. */
const PAUSE_BOUND_MS = 20_000;

const cluster = await clusterForTests({ nodeTimeoutMs: NODE_TIMEOUT_MS });
afterAll(async () => {
  await cluster?.stop();
});

const node = (m: TestClusterNode) => {
  const [host, port] = m.address.split(':');
  const redis = new Redis({ host, port: Number(port), lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, connectTimeout: 500 });
  redis.on('error', () => {});
  return redis;
};
/** ROLE of one node ('master', 'slave'), or 'down'. */
async function role(m: TestClusterNode): Promise<string> {
  const redis = node(m);
  try {
    await redis.connect();
    return ((await redis.call('ROLE')) as [string])[0];
  } catch {
    return 'down';
  } finally {
    redis.disconnect();
  }
}
async function until(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen in ${timeoutMs} ms`);
    await sleep(50);
  }
  return Date.now();
}

describeCluster(cluster, 'a Redis Cluster master SIGKILLed while scanners pay through two gateways', (c) => {
  const prefix = testKeyPrefix();
  const keyRing = IssuerKeyRing.generate();
  const fleetKey = new Uint8Array(randomBytes(32));
  let gateways: GatewayProcess[] = [];
  let store: RedisStore;
  const cards: ChaosCard[] = [];
  let apiKey: string;

  beforeAll(async () => {
    const child = { clusterNodes: c.nodes, prefix, keyRing, fleetKey, options: GATEWAY_LIMITS, env: { SCANPAY_REDIS_WAIT_REPLICAS: '1' } };
    gateways = await Promise.all([spawnGatewayChild(child), spawnGatewayChild(child)]);
    store = await RedisStore.connectCluster(parseClusterNodes(c.nodes.join(',')), { prefix, waitReplicas: 1 });
    apiKey = await createMerchant(store, fleetKey, CHAOS_MERCHANT);
    const issuer = new Issuer({ core: await loadCore(), store, keyRing });
    for (let i = 0; i < CARDS; i++) {
      const card = await issuer.issueCard({ pin: PIN, limit: 1_000_000, balance: INITIAL_BALANCE, currency: 'EUR' });
      cards.push({ token: keyRing.cardToken(card.pan), payloadText: card.payloadText });
    }
  }, 90_000);

  afterAll(async () => {
    await Promise.all(gateways.map((g) => g.stop()));
    await store?.close();
  });

  it('the replica takes over, scanners pay again after a bounded pause, every acknowledged approval and money operation is in the ledger once', async () => {
    // the victim: the master serving cards[0]'s slot; its cards are every card on the same master
    const admin = new Cluster(parseClusterNodes(c.nodes.join(',')));
    const keys = keyLayout(prefix);
    const slotOf = async (token: string) => Number(await admin.cluster('KEYSLOT', keys.card(token)));
    const ranges = (await admin.cluster('SLOTS')) as unknown as [number, number, [string, number, string], ...[string, number, string][]][];
    const ownerOf = (slot: number) => ranges.find(([from, to]) => slot >= from && slot <= to)!;
    const victimRange = ownerOf(await slotOf(cards[0].token));
    const victim = c.members.find((m) => m.address === `${victimRange[2][0]}:${victimRange[2][1]}`)!;
    let replica: TestClusterNode | undefined;
    for (const m of c.members) {
      const redis = node(m);
      await redis.connect();
      const [kind, host, port] = (await redis.call('ROLE')) as [string, string, number];
      redis.disconnect();
      if (kind === 'slave' && `${host}:${port}` === victim.address) replica = m;
    }
    if (!replica) throw new Error(`no replica of ${victim.address}`);
    const victimOwns = (slot: number) => ranges.some(([from, to, master]) => slot >= from && slot <= to && master[2] === victimRange[2][2]);
    const onVictim = new Set<string>();
    for (const card of cards) if (victimOwns(await slotOf(card.token))) onVictim.add(card.token);
    admin.disconnect();
    expect(onVictim.size).toBeGreaterThan(0);

    let next = 0;
    const fleet = new ScannerFleet({
      scannerUrl: () => gateways[next++ % gateways.length].scannerUrl, // each (re)connect to the other gateway
      token: (deviceId) => signScannerToken(deviceId, deviceSecret(fleetKey, deviceId), Date.now()),
      cards, scanners: SCANNERS, bind: (deviceId) => store.bindDevice(deviceId, CHAOS_MERCHANT),
    });
    const approvedOnVictim = (from: number, to = Infinity) => [...fleet.sessions.values()]
      .filter((e) => e.fate === 'approved' && onVictim.has(e.card) && e.settledAt! > from && e.settledAt! <= to);
    let nextApi = 0;
    const money = new MoneyOperator({ merchantUrl: () => gateways[nextApi++ % gateways.length].merchantUrl, apiKey, merchant: CHAOS_MERCHANT, fleet });
    const moneyOnVictim = (from: number, to: number) => money.operations
      .filter((op) => op.fate === 'acknowledged' && onVictim.has(fleet.sessions.get(op.paymentId)!.card) && op.answeredAt! > from && op.answeredAt! <= to);
    await fleet.start();
    money.start();
    try {
      await sleep(3_000);
      const killedAt = Date.now();
      const beforeKill = approvedOnVictim(0, killedAt).length;
      await victim.kill();
      const promotedAt = await until('promotion of the replica', async () => (await role(replica!)) === 'master', 30_000);
      await victim.restart();
      const rejoinedAt = await until('the killed node rejoining as a replica', async () => {
        if ((await role(victim)) !== 'slave') return false;
        const redis = node(replica!);
        try {
          await redis.connect();
          return /connected_slaves:[1-9]/.test(await redis.info('replication'));
        } catch {
          return false;
        } finally {
          redis.disconnect();
        }
      }, 30_000);
      // paying again: an approval on the failed shard for a session opened after the failover
      await until('an approval on the failed-over shard', async () => approvedOnVictim(rejoinedAt).some((e) => e.openedAt > promotedAt), PAUSE_BOUND_MS);
      await sleep(3_000); // a calm tail: the whole fleet pays on the healed cluster
      await fleet.stop();
      await money.stop();

      // the pause: the longest gap between two approvals on the failed shard, around the kill
      const times = approvedOnVictim(0).map((e) => e.settledAt!).sort((x, y) => x - y);
      let pause = { from: 0, to: 0 };
      for (let i = 1; i < times.length; i++) {
        if (times[i] > killedAt && times[i - 1] < rejoinedAt && times[i] - times[i - 1] > pause.to - pause.from) pause = { from: times[i - 1], to: times[i] };
      }
      const allTimes = [...fleet.approvalsAt].sort((x, y) => x - y);
      let fleetGap = 0;
      for (let i = 1; i < allTimes.length; i++) fleetGap = Math.max(fleetGap, allTimes[i] - allTimes[i - 1]);
      const duringNoReplica = approvedOnVictim(promotedAt, rejoinedAt).length;
      const redis = new Cluster(parseClusterNodes(c.nodes.join(',')), { lazyConnect: true });
      await redis.connect(); // ready: its masters are known (reconcile SCANs each)
      const r = await reconcile({ fleet, store, redis, prefix, cards, initialBalance: INITIAL_BALANCE }).finally(() => redis.disconnect());
      const m = await reconcileMoney(money, store, CHAOS_MERCHANT, r.approvedIds);
      const moneyWithoutReplica = moneyOnVictim(promotedAt, rejoinedAt).length;
      const codes = (m: Map<string, number>) => [...m].map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
      console.log([
        `[cluster-failover] SIGKILL master ${victim.address} (${onVictim.size}/${CARDS} cards on it, ${beforeKill} approvals on it before the kill); `
          + `replica ${replica!.address} promoted after ${promotedAt - killedAt} ms (cluster-node-timeout ${NODE_TIMEOUT_MS} ms); `
          + `killed node restarted and in sync as its replica after ${rejoinedAt - killedAt} ms`,
        `[cluster-failover] pause of the failed shard: ${pause.to - pause.from} ms without an approval on it (last ${pause.from - killedAt} ms, next ${pause.to - killedAt} ms after the kill); `
          + `${duringNoReplica} approvals on it while it had no replica (WAIT 1); ${approvedOnVictim(rejoinedAt).length} on it after the rejoin; longest gap between any two approvals ${fleetGap} ms`,
        `[cluster-failover] load: ${SCANNERS} scanners over 2 gateways, ${r.sessions} sessions, ${fleet.connects} connections; errors told — scan: ${codes(fleet.errors.scan)}; pin: ${codes(fleet.errors.pin)}; upgrade: ${codes(fleet.errors.connect)}`,
        `[cluster-failover] reconciliation: acknowledged approvals ${r.acknowledged} + unknown to the scanner, in the ledger ${r.unknownInLedger} = ledger approvals ${r.ledgerApprovals} `
          + `(missing ${r.missing}, conflicting receipts ${r.conflictingReceipts}); told failed but approved ${r.toldFailedButApproved}; unknown, not in the ledger ${r.unknownNotInLedger}; `
          + `orphans ${r.orphans}; balances ${r.balancesChecked - r.balanceMismatches}/${r.balancesChecked} = initial + entries; receipts ${r.receiptsChecked - r.receiptsBad}/${r.receiptsChecked} verify → ${r.ok ? 'OK' : 'FAILED'}`,
        `[cluster-failover] money over both merchant APIs (WAIT 1): ${(['capture', 'void', 'refund'] as const).map((k) => `${k}s ${m.operations[k].acknowledged} acknowledged, ${m.operations[k].refused} refused, ${m.operations[k].unknown} unknown`).join('; ')}; `
          + `retried failures: ${Object.entries(m.retriedFailures).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}; ${moneyWithoutReplica} acknowledged on the failed shard while it had no replica; `
          + `missing ${m.missing}, duplicated ${m.duplicated}, refused but in the ledger ${m.refusedButInLedger}, orphan entries ${m.orphanEntries}; payments ${m.paymentsChecked - m.inconsistentPayments}/${m.paymentsChecked} consistent → ${m.ok ? 'OK' : 'FAILED'}`,
      ].join('\n'));

      expect(beforeKill).toBeGreaterThan(0); // the shard was paying before the fault
      expect(pause.to - pause.from).toBeLessThan(PAUSE_BOUND_MS);
      expect(pause.to).toBeGreaterThan(promotedAt);
      expect(duringNoReplica).toBe(0); // WAIT 1: nothing acknowledged that only one copy holds
      expect(r.acknowledged).toBeGreaterThan(beforeKill);
      expect(r).toMatchObject({ missing: 0, conflictingReceipts: 0, toldFailedButApproved: 0, orphans: 0, balanceMismatches: 0, receiptsBad: 0 });
      expect(r.ledgerApprovals).toBe(r.acknowledged + r.unknownInLedger);
      expect(r.balancesChecked).toBe(CARDS);
      expect(r.ok).toBe(true);
      expect(moneyWithoutReplica).toBe(0); // WAIT 1 for money steps too
      expect(m).toMatchObject({ missing: 0, duplicated: 0, refusedButInLedger: 0, orphanEntries: 0, inconsistentPayments: 0 });
      for (const kind of ['capture', 'void', 'refund'] as const) expect(m.operations[kind].acknowledged, kind).toBeGreaterThan(0);
      expect(m.ok).toBe(true);
    } finally {
      await fleet.stop();
      await money.stop();
    }
  }, 150_000);
});
