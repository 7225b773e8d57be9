/**
 * End-of-day reconciliation (issuer/settlement.ts) on MemoryStore, RedisStore and a Redis Cluster with WAIT:
 * payments, captures, refunds, voids and reversals race three period closes and sealers on several handles, and
 * afterwards every ledger entry of every payment is listed in exactly one period's report, each report's totals
 * equal the sums of the entries it lists, and a closed period's report reads the same through another handle.
 */
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { sealMerchant } from '../../issuer/journal.ts';
import { closeSettlementPeriod, openPeriod, settlementCsv, settlementReport, type SettlementEntry, type SettlementReport } from '../../issuer/settlement.ts';
import { MemoryStore, RedisStore, parseClusterNodes, type CardRecord, type Store } from '../../issuer/store/index.ts';
import { deleteKeys, describeRedis, redisForTests, testKeyPrefix } from '../support/redis.ts';
import { clusterForTests, describeCluster } from '../support/redis-cluster.ts';
import { authorizedPayment, makeCard, operationRequest } from '../support/store-fixtures.ts';

const MERCHANT = 'corner-cafe';
const redis = await redisForTests();
const cluster = await clusterForTests();
afterAll(async () => {
  await Promise.all([redis?.stop(), cluster?.stop()]);
});

const entryKey = (e: { paymentId: string; entrySeq: number }) => `${e.paymentId}#${e.entrySeq}`;

function settlementContract(open: () => Promise<{ store: Store; sibling(): Promise<Store> }>): void {
  let store: Store;
  let sibling: () => Promise<Store>;
  const handles: Store[] = [];
  beforeEach(async () => {
    ({ store, sibling } = await open());
    handles.length = 0;
    handles.push(store);
    return async () => {
      await Promise.all(handles.map((h) => h.close()));
    };
  });

  async function aCard(fields: Partial<CardRecord> = {}): Promise<CardRecord> {
    const card = makeCard({ balance: 10_000_000, limit: 10_000_000, ...fields });
    await store.insertCard(card);
    return card;
  }
  const op = (id: string) => operationRequest(id, MERCHANT, null);

  async function reports(s: Store): Promise<SettlementReport[]> {
    const all: SettlementReport[] = [];
    for (let period = 1; ; period++) {
      const report = await settlementReport(s, MERCHANT, period);
      if (!report) return all;
      all.push(report);
    }
  }

  it('an empty period reports nothing, and an unknown period is null', async () => {
    const closed = await closeSettlementPeriod(store, MERCHANT, 1, { owner: 'test', now: 1_000 });
    expect(closed).toMatchObject({ period: 1, firstSeq: 1, lastSeq: 0, closedAt: 1_000 });
    expect(await openPeriod(store, MERCHANT)).toBe(2);
    expect(await settlementReport(store, MERCHANT, 1)).toMatchObject({ status: 'closed', entries: [], currencies: [] });
    expect(await settlementReport(store, MERCHANT, 2)).toMatchObject({ status: 'open', entries: [] });
    expect(await settlementReport(store, MERCHANT, 3)).toBeNull();
    expect(await settlementReport(store, 'another-shop', 2)).toBeNull();
  });

  it('closes a period once: the same close twice at once and a retry answer the same period; a later one is PERIOD_NOT_OPEN', async () => {
    const card = await aCard();
    await authorizedPayment(store, card, 500, { merchant: MERCHANT });
    const other = await sibling();
    handles.push(other);
    const racing = await Promise.all([...Array.from({ length: 10 }, (_, i) => closeSettlementPeriod(i % 2 ? other : store, MERCHANT, 1, { owner: `closer-${i}`, now: 5_000 + i }))]);
    for (const answer of racing) expect(answer).toEqual(racing[0]);
    expect(racing[0]).toMatchObject({ period: 1, firstSeq: 1 }); // its payment's event in it or not, as the race between the closers' seals went
    expect(await openPeriod(store, MERCHANT)).toBe(2);
    expect(await store.events.closePeriod(MERCHANT, 1, 9_999)).toEqual(racing[0]); // a retry after a lost reply
    await expect(store.events.closePeriod(MERCHANT, 3, 9_999)).rejects.toMatchObject({ code: 'PERIOD_NOT_OPEN' });
    expect(await openPeriod(store, MERCHANT)).toBe(2);
  });

  it('a close seals first: what was done before it is in the period it closes, with totals per currency', async () => {
    const eur = await aCard();
    const usd = await aCard({ currency: 'USD' });
    const a = await authorizedPayment(store, eur, 1_000, { merchant: MERCHANT });
    const b = await authorizedPayment(store, eur, 400, { merchant: MERCHANT, captureMethod: 'manual' });
    const c = await authorizedPayment(store, usd, 700, { merchant: MERCHANT, currency: 'USD' });
    expect((await store.payments.refund({ ...op(a), amount: 250, reason: null })).ok).toBe(true);
    expect((await store.payments.capture({ ...op(b), amount: 300 })).ok).toBe(true);
    expect((await store.payments.reverse(op(c))).ok).toBe(true);
    const closed = await closeSettlementPeriod(store, MERCHANT, 1, { owner: 'test', now: Date.now() });
    const report = (await settlementReport(store, MERCHANT, closed.period))!;
    expect(report.status).toBe('closed');
    const eurTotals = report.currencies.find((t) => t.currency === 'EUR')!;
    expect(eurTotals).toMatchObject({
      authorizations: { count: 2, amount: 1_400 }, captures: { count: 2, amount: 1_300 }, releases: { count: 1, amount: 100 },
      refunds: { count: 1, amount: 250 }, voids: { count: 0, amount: 0 }, reversals: { count: 0, amount: 0 }, net: 1_050,
    });
    const usdTotals = report.currencies.find((t) => t.currency === 'USD')!;
    expect(usdTotals).toMatchObject({ captures: { count: 1, amount: 700 }, refunds: { count: 1, amount: 700 }, reversals: { count: 1, amount: 700 }, net: 0 });
    const csv = settlementCsv(report);
    expect(csv.split('\r\n')[0]).toBe('journal_seq,event,event_type,payment,entry_seq,type,amount,currency,refund,created_at');
    expect(csv).toContain('\r\nEUR,net,,1050\r\n');
    expect(csv.split('\r\n').filter((l) => /^\d+,ev_/.test(l))).toHaveLength(report.entries.length);
  });

  it('operations racing 3 closes and 3 sealers: every entry in exactly one period, totals equal their entries, the same through another handle', async () => {
    const stores = [store, await sibling(), await sibling()];
    handles.push(...stores.slice(1));
    const card = await aCard();
    const ids: string[] = [];
    for (let i = 0; i < 24; i++) ids.push(await authorizedPayment(stores[i % 3]!, card, 1_000, { merchant: MERCHANT, captureMethod: i % 2 ? 'manual' : 'automatic' }));
    let done = false;
    const sealers = stores.map(async (s, i) => {
      while (!done) {
        await sealMerchant(s.events, MERCHANT, { owner: `sealer-${i}`, now: Date.now(), graceMs: 0 });
        await s.events.releaseSealer(MERCHANT, `sealer-${i}`);
        await new Promise((r) => setImmediate(r)); // the embedded store answers at once: let timers run between rounds
      }
    });
    const operations = ids.flatMap((id, i) => [
      () => stores[i % 3]!.payments.capture({ ...op(id), amount: 600 }),
      () => stores[(i + 1) % 3]!.payments.refund({ ...op(id), amount: 100, reason: null }),
      () => stores[(i + 2) % 3]!.payments.void(op(id)),
      () => stores[i % 3]!.payments.refund({ ...op(id), amount: 200, reason: null }),
      () => stores[(i + 1) % 3]!.payments.reverse(op(id)),
    ]);
    // three rounds: a third of the operations at once with the close of the open period, through another handle each time
    const third = Math.ceil(operations.length / 3);
    for (let i = 0; i < 3; i++) {
      await Promise.all([
        ...operations.slice(i * third, (i + 1) * third).map((f) => f()),
        closeSettlementPeriod(stores[i]!, MERCHANT, i + 1, { owner: `closer-${i}`, now: Date.now() }),
      ]);
    }
    done = true;
    await Promise.all(sealers);
    // the last events: sealed by a last close (the closers gave their leases back)
    await closeSettlementPeriod(stores[2]!, MERCHANT, 4, { owner: 'closer-last', now: Date.now() });

    const all = await reports(store);
    expect(all.filter((r) => r.entries.length > 0).length).toBeGreaterThanOrEqual(2); // the closes really cut the operations
    // the payments were authorized before the first close: a close seals what is pending first, so they are all in period 1
    expect(all[0]!.entries.filter((e) => e.type === 'authorization')).toHaveLength(ids.length);
    expect(all.length).toBe(5); // 3 racing closes, the last close, and the open period after it
    expect(all.at(-1)).toMatchObject({ status: 'open', entries: [] });
    const listed = all.flatMap((r) => r.entries);
    const everyEntry = (await Promise.all(ids.map(async (id) => (await store.payments.entries(id)).map((e) => ({ paymentId: id, entrySeq: e.seq, amount: e.amount, type: e.type }))))).flat();
    expect(listed.map(entryKey).sort()).toEqual(everyEntry.map(entryKey).sort()); // each entry once: no duplicates, none missing
    expect(new Set(listed.map(entryKey)).size).toBe(listed.length);
    for (const e of everyEntry) expect(listed.find((l) => entryKey(l) === entryKey(e))).toMatchObject({ amount: e.amount, type: e.type });
    for (const report of all) {
      for (const t of report.currencies) {
        const mine = report.entries.filter((e) => e.currency === t.currency);
        const sum = (type: SettlementEntry['type']) => mine.filter((e) => e.type === type).reduce((s, e) => s + e.amount, 0);
        expect(t.captures.amount).toBe(sum('capture'));
        expect(t.refunds.amount).toBe(sum('refund'));
        expect(t.voids.amount).toBe(sum('void'));
        expect(t.net).toBe(sum('capture') - sum('refund'));
      }
    }
    // the card: its balance is the initial balance minus every entry's change, across all periods
    const change = (await Promise.all(ids.map((id) => store.payments.entries(id)))).flat().reduce((s, e) => s + e.balanceChange, 0);
    expect((await store.getCard(card.token))!.balance).toBe(card.balance + change);
    // a closed period's report is the same through another handle
    for (const report of all.filter((r) => r.status === 'closed')) expect(await settlementReport(stores[2]!, MERCHANT, report.period)).toEqual(report);
  });
}

describe('MemoryStore settlement', () => {
  settlementContract(async () => {
    const store = new MemoryStore();
    return { store, sibling: async () => store };
  });
});

describeRedis(redis, 'RedisStore settlement', (server) => {
  const runPrefix = testKeyPrefix();
  let next = 0;
  afterAll(async () => {
    await deleteKeys(server.url, runPrefix);
  });
  settlementContract(async () => {
    const prefix = `${runPrefix}${next++}:`;
    return { store: await RedisStore.connect(server.url, { prefix }), sibling: () => RedisStore.connect(server.url, { prefix }) };
  });
});

describeCluster(cluster, 'RedisStore settlement on a Redis Cluster (3 masters, 3 replicas, WAIT for 1 replica)', (c) => {
  const nodes = parseClusterNodes(c.nodes.join(','));
  const options = (prefix: string) => ({ prefix, waitReplicas: 1, waitTimeoutMs: 1_000 });
  settlementContract(async () => {
    const prefix = testKeyPrefix();
    return { store: await RedisStore.connectCluster(nodes, options(prefix)), sibling: () => RedisStore.connectCluster(nodes, options(prefix)) };
  });
});
