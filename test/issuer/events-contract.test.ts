/**
 * Events and merchants' journals (issuer/store/event-types.ts, issuer/journal.ts) as one suite on MemoryStore,
 * RedisStore and a Redis Cluster with WAIT: each step that moves money writes exactly one event holding the
 * entries it made (a refusal or a replay writes none); sealers on several handles, racing the operations and a
 * period close, seal every event exactly once, in order per payment, into one unbroken chain with each record
 * in exactly one period; and `verifyJournal` finds an edited entry, an edited event and a removed record.
 */
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { sealMerchant, verifyJournal } from '../../issuer/journal.ts';
import { MARK_GRACE_MS } from '../../issuer/store/retention.ts';
import { Cluster, Redis } from 'ioredis';
import { MemoryStore, RedisStore, keyLayout, parseClusterNodes, type CardRecord, type JournalRecord, type PaymentRequest, type Store } from '../../issuer/store/index.ts';
import { deleteKeys, describeRedis, redisForTests, testKeyPrefix } from '../support/redis.ts';
import { clusterForTests, describeCluster } from '../support/redis-cluster.ts';
import { authorizedPayment, makeCard, operationRequest } from '../support/store-fixtures.ts';

const MERCHANT = 'corner-cafe';
const redis = await redisForTests();
const cluster = await clusterForTests();
afterAll(async () => {
  await Promise.all([redis?.stop(), cluster?.stop()]);
});

interface Opened {
  store: Store;
  sibling(): Promise<Store>;
  /** Raw access to what the store keeps, to tamper with it (null: the embedded store, tampered through its objects). */
  tamper: { editEntry(paymentId: string): Promise<void>; dropRecord(merchant: string, seq: number): Promise<void> } | null;
}

function eventsContract(open: () => Promise<Opened>, tamperable: boolean, markGraceMs: number): void {
  let opened: Opened;
  let store: Store;
  const handles: Store[] = [];

  beforeEach(async () => {
    opened = await open();
    store = opened.store;
    handles.length = 0;
    handles.push(store);
    return async () => {
      await Promise.all(handles.map((h) => h.close()));
    };
  });

  async function aCard(fields: Partial<CardRecord> = {}): Promise<CardRecord> {
    const card = makeCard({ balance: 1_000_000, limit: 1_000_000, ...fields });
    await store.insertCard(card);
    return card;
  }
  const paid = (card: CardRecord, amount: number, fields: Partial<PaymentRequest> = {}, s = store) => authorizedPayment(s, card, amount, { merchant: MERCHANT, ...fields });
  const op = (id: string, key: string | null = null) => operationRequest(id, MERCHANT, key);

  /** Sealing rounds by `owner` (with no grace, so marks clear at once) until the outbox is empty. */
  async function sealAll(s: Store = store, owner = 'sealer-a'): Promise<JournalRecord[]> {
    const all: JournalRecord[] = [];
    for (let round = 0; round < 100; round++) {
      all.push(...await sealMerchant(s.events, MERCHANT, { owner, now: Date.now() + 1, graceMs: 0 }));
      if ((await s.events.outbox(MERCHANT, 1)).length === 0) return all;
    }
    throw new Error('the outbox never emptied');
  }

  it('each step that moves money writes one event with the entries it made; a refusal or a replay writes none', async () => {
    const card = await aCard();
    const auto = await paid(card, 1_000);
    const held = await paid(card, 500, { captureMethod: 'manual' });
    const declined = await paid(card, 5_000_000);
    const refundOp = op(auto, 'k1');
    expect((await store.payments.refund({ ...refundOp, amount: 300, reason: 'damaged' })).ok).toBe(true);
    expect((await store.payments.refund({ ...refundOp, amount: 300, reason: 'damaged' })).replayed).toBe(true);
    expect((await store.payments.refund({ ...op(auto), amount: 10_000, reason: null })).ok).toBe(false);
    expect((await store.payments.capture({ ...op(held), amount: 200 })).ok).toBe(true);
    expect((await store.payments.reverse(op(held))).ok).toBe(true);
    expect((await store.payments.reverse(op(held))).replayed).toBe(true);

    const autoEvents = await store.events.paymentEvents(auto);
    expect(autoEvents.map((e) => [e.id, e.type, e.entries.map((x) => x.type)])).toEqual([
      [`ev_${auto}_1`, 'payment.approved', ['authorization', 'capture']],
      [`ev_${auto}_2`, 'refund.created', ['refund']],
    ]);
    expect(autoEvents[1]).toMatchObject({ merchant: MERCHANT, paymentId: auto, n: 2, refund: { amount: 300, reason: 'damaged' }, payment: { refundedAmount: 300, status: 'partially_refunded' } });
    const heldEvents = await store.events.paymentEvents(held);
    expect(heldEvents.map((e) => [e.type, e.action, e.entries.map((x) => x.type), e.payment.status])).toEqual([
      ['payment.approved', null, ['authorization'], 'authorized'],
      ['payment.captured', null, ['capture', 'release'], 'captured'],
      ['payment.reversed', 'refunded', ['refund'], 'refunded'],
    ]);
    expect((await store.events.paymentEvents(declined)).map((e) => [e.type, e.entries.length, e.payment.declineReason])).toEqual([['payment.declined', 0, 'OVER_LIMIT']]);
    // every entry is in exactly one event, in order
    for (const id of [auto, held]) {
      expect((await store.events.paymentEvents(id)).flatMap((e) => e.entries)).toEqual(await store.payments.entries(id));
    }
    expect(await store.events.getEvent(`ev_${held}_2`)).toEqual(heldEvents[1]);
    expect(await store.events.getEvent(`ev_${held}_9`)).toBeNull();
    // many in one step, in order, an unknown one null
    expect(await store.events.getEvents([`ev_${held}_2`, `ev_${auto}_1`, `ev_${held}_9`, `ev_${held}_1`])).toEqual([heldEvents[1], autoEvents[0], null, heldEvents[0]]);
    expect(await store.events.getEvents([])).toEqual([]);
    await expect(store.events.getEvents([`ev_${held}_1`, 'not-an-event'])).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    expect(await store.events.eventMerchants()).toContain(MERCHANT);
  });

  it('paymentsEvents reads each payment from its own first event, as paymentEvents does, in one step; a bad `from` is refused', async () => {
    const card = await aCard();
    const ids = [await paid(card, 100), await paid(card, 200, { captureMethod: 'manual' }), await paid(card, 300)];
    await store.payments.refund({ ...op(ids[0]!), amount: 50, reason: null });
    await store.payments.void(op(ids[1]!));
    const reads = [{ paymentId: ids[0]!, from: 2 }, { paymentId: ids[1]!, from: 1 }, { paymentId: ids[2]!, from: 2 }, { paymentId: ids[0]!, from: 1 }];
    const each = await Promise.all(reads.map((r) => store.events.paymentEvents(r.paymentId, r.from)));
    expect(each.map((events) => events.map((e) => e.type))).toEqual([['refund.created'], ['payment.approved', 'payment.voided'], [], ['payment.approved', 'refund.created']]);
    expect(await store.events.paymentsEvents(reads)).toEqual(each);
    expect(await store.events.paymentsEvents([])).toEqual([]);
    for (const from of [0, 1.5, -1, '1']) {
      await expect(store.events.paymentsEvents([{ paymentId: ids[0]!, from: from as number }])).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    }
  });

  it('a hold that expires writes payment.expired once', async () => {
    const card = await aCard();
    const id = await paid(card, 700, { captureMethod: 'manual', holdWindowMs: 1, at: Date.now() - 10 });
    expect(await store.payments.expireHolds(Date.now(), 10)).toBe(1);
    expect(await store.payments.expireHolds(Date.now(), 10)).toBe(0);
    expect((await store.events.paymentEvents(id)).map((e) => [e.type, e.entries.map((x) => x.type)])).toEqual([
      ['payment.approved', ['authorization']], ['payment.expired', ['expiry']],
    ]);
  });

  it('seals every event once, in order per payment, into one chain that verifies; sealed events leave the outbox', async () => {
    const card = await aCard();
    const ids = [await paid(card, 100), await paid(card, 200, { captureMethod: 'manual' })];
    await store.payments.refund({ ...op(ids[0]!), amount: 50, reason: null });
    await store.payments.void(op(ids[1]!));
    const records = await sealAll();
    expect(records.map((r) => r.seq)).toEqual([1, 2, 3, 4]);
    expect(records.map((r) => r.eventId).sort()).toEqual([`ev_${ids[0]}_1`, `ev_${ids[0]}_2`, `ev_${ids[1]}_1`, `ev_${ids[1]}_2`].sort());
    expect(records[0]!.prevHash).toBe('0'.repeat(64));
    records.slice(1).forEach((r, i) => expect(r.prevHash).toBe(records[i]!.hash));
    expect(await store.events.journal(MERCHANT, 1, 10)).toEqual(records);
    expect(await store.events.journalRecordOf(MERCHANT, `ev_${ids[1]}_2`)).toEqual(records.find((r) => r.eventId === `ev_${ids[1]}_2`));
    expect(await sealMerchant(store.events, MERCHANT, { owner: 'sealer-a', now: Date.now() })).toEqual([]);
    const report = await verifyJournal(store, MERCHANT);
    expect(report).toMatchObject({ ok: true, records: 4, payments: 2, problems: [] });
  });

  it('keeps a mark younger than the grace, and one whose payment had an event after it was read', async () => {
    const card = await aCard();
    const id = await paid(card, 100);
    const [mark] = await store.events.outbox(MERCHANT, 10);
    expect(mark).toMatchObject({ paymentId: id });
    expect(await store.events.clearMark(MERCHANT, mark!, mark!.mark + MARK_GRACE_MS - 1, MARK_GRACE_MS)).toBe(false);
    await store.payments.refund({ ...op(id), amount: 10, reason: null }); // marks it again
    expect(await store.events.clearMark(MERCHANT, mark!, mark!.mark + MARK_GRACE_MS * 2, MARK_GRACE_MS)).toBe(false);
    const [moved] = await store.events.outbox(MERCHANT, 10);
    expect(moved!.mark).toBeGreaterThan(mark!.mark);
    expect(await store.events.clearMark(MERCHANT, moved!, moved!.mark + MARK_GRACE_MS, MARK_GRACE_MS)).toBe(true);
  });

  it('clears many marks in one step: only those still at their score and past the grace; reads many sealed counts in one', async () => {
    const card = await aCard();
    const ids = [await paid(card, 100), await paid(card, 200), await paid(card, 300)];
    const marks = await store.events.outbox(MERCHANT, 10);
    expect(new Set(marks.map((m) => m.paymentId))).toEqual(new Set(ids));
    expect(await store.events.sealedCounts(MERCHANT, ids)).toEqual([0, 0, 0]);
    const latest = Math.max(...marks.map((m) => m.mark));
    expect(await store.events.clearMarks(MERCHANT, marks, latest + MARK_GRACE_MS - 1, MARK_GRACE_MS)).toBe(marks.filter((m) => m.mark <= latest - 1).length);
    const left = await store.events.outbox(MERCHANT, 10);
    const moved = left[0]!;
    await store.payments.refund({ ...op(moved.paymentId), amount: 10, reason: null }); // marks it again: its old mark no longer clears
    const stale = [moved, ...left.slice(1)];
    expect(await store.events.clearMarks(MERCHANT, stale, latest + MARK_GRACE_MS * 2 + 10_000, MARK_GRACE_MS)).toBe(left.length - 1);
    expect((await store.events.outbox(MERCHANT, 10)).map((m) => m.paymentId)).toEqual([moved.paymentId]);
    expect(await store.events.clearMarks(MERCHANT, [], Date.now(), 0)).toBe(0);
    await sealAll(); // only the payment still marked is sealed: the cleared marks' events stay out of the journal
    expect(await store.events.sealedCounts(MERCHANT, [ids[0]!, moved.paymentId, ids[2]!])).toEqual(
      [ids[0]!, moved.paymentId, ids[2]!].map((id) => (id === moved.paymentId ? 2 : 0)),
    );
    expect(await store.events.sealedCount(MERCHANT, moved.paymentId)).toBe(2);
    expect(await store.events.sealedCounts(MERCHANT, [])).toEqual([]);
  });

  it('an append of records marks its merchant\'s receipts due until a round takes the mark; an empty append does not', async () => {
    const card = await aCard();
    await paid(card, 100);
    expect(await store.events.receiptsDue()).not.toContain(MERCHANT);
    await sealAll();
    expect(await store.events.receiptsDue()).toContain(MERCHANT);
    await store.events.takeReceiptsDue(MERCHANT);
    expect(await store.events.receiptsDue()).not.toContain(MERCHANT);
    expect(await store.events.appendJournal(MERCHANT, await store.events.journalHead(MERCHANT), [])).toBe(true);
    expect(await store.events.receiptsDue()).not.toContain(MERCHANT);
    await store.events.markReceiptsDue(MERCHANT);
    expect(await store.events.receiptsDue()).toContain(MERCHANT);
  });

  it('one round seals an outbox of more marks than a page, reading past marks kept by the grace', async () => {
    const card = await aCard();
    const ids: string[] = [];
    for (let i = 0; i < 450; i++) ids.push(await paid(card, 10));
    const marks = await store.events.outbox(MERCHANT, 1_000);
    expect(marks).toHaveLength(450);
    const after = await store.events.outbox(MERCHANT, 10, marks[99]);
    expect(after).toEqual(marks.slice(100, 110)); // the page after a mark, oldest first (marks of one millisecond by id)
    // a grace that keeps every mark (a cluster's, for a step that may still run) does not stop the round at its first page
    const records = await sealMerchant(store.events, MERCHANT, { owner: 'sealer-a', now: Date.now(), graceMs: MARK_GRACE_MS });
    expect(records.map((r) => r.paymentId).sort()).toEqual([...ids].sort());
    expect(await store.events.outbox(MERCHANT, 1_000)).toHaveLength(450);
    expect(await sealMerchant(store.events, MERCHANT, { owner: 'sealer-a', now: Date.now(), graceMs: MARK_GRACE_MS })).toEqual([]);
    // the store's own grace: none where the step marks its payment atomically, MARK_GRACE_MS on a cluster
    expect(store.events.markGraceMs).toBe(markGraceMs);
    await sealMerchant(store.events, MERCHANT, { owner: 'sealer-a', now: Date.now() + 1 });
    expect(await store.events.outbox(MERCHANT, 1_000)).toHaveLength(markGraceMs === 0 ? 0 : 450);
  });

  it('3 sealers racing 150 operations and 3 period closes: every event sealed once, in order, each record in one period', async () => {
    const stores = [store, ...await Promise.all([opened.sibling(), opened.sibling()])];
    handles.push(...stores.slice(1));
    const card = await aCard();
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) ids.push(await paid(card, 1_000, { captureMethod: i % 2 ? 'manual' : 'automatic' }, stores[i % 3]));
    let done = false;
    const sealers = stores.map(async (s, i) => {
      let sealed = 0;
      while (!done) {
        // a lapsed lease is what lets two sealers both try: each round with its own owner takes turns with the others
        sealed += (await sealMerchant(s.events, MERCHANT, { owner: `sealer-${i}`, now: Date.now(), graceMs: 0 })).length;
        await s.events.releaseSealer(MERCHANT, `sealer-${i}`);
        await new Promise((r) => setImmediate(r)); // the embedded store answers at once: let timers run between rounds
      }
      return sealed;
    });
    const operations = ids.flatMap((id, i) => [
      () => stores[i % 3]!.payments.refund({ ...op(id), amount: 100, reason: null }),
      () => stores[(i + 1) % 3]!.payments.capture(op(id)),
      () => stores[(i + 2) % 3]!.payments.refund({ ...op(id), amount: 200, reason: null }),
      () => stores[i % 3]!.payments.void(op(id)),
      () => stores[(i + 1) % 3]!.payments.reverse(op(id)),
    ]);
    // periods 1, 2, 3 closed one after another (a close names its period), each through another handle, while the operations run
    const closes = async () => {
      for (let i = 0; i < 3; i++) {
        await new Promise((r) => setTimeout(r, 20));
        await stores[i]!.events.closePeriod(MERCHANT, i + 1, Date.now());
      }
    };
    await Promise.all([...operations.map((f) => f()), closes()]);
    done = true;
    await Promise.all(sealers);
    await sealAll(stores[1]);

    const journal = await store.events.journal(MERCHANT, 1, 10_000);
    const events = (await Promise.all(ids.map((id) => store.events.paymentEvents(id)))).flat();
    expect(journal).toHaveLength(events.length);
    expect(new Set(journal.map((r) => r.eventId))).toEqual(new Set(events.map((e) => e.id)));
    const last = new Map<string, number>();
    for (const record of journal) {
      const n = Number(record.eventId.split('_')[2]);
      expect(n, record.eventId).toBe((last.get(record.paymentId) ?? 0) + 1);
      last.set(record.paymentId, n);
    }
    // periods 1..3 closed, 4 open: contiguous, and each record's period the one whose range holds it
    const periods = await Promise.all([1, 2, 3, 4].map((k) => store.events.getPeriod(MERCHANT, k)));
    expect(periods.map((p) => p?.closedAt === null)).toEqual([false, false, false, true]);
    for (let k = 0; k < 3; k++) expect(periods[k + 1]!.firstSeq).toBe(periods[k]!.lastSeq! + 1);
    for (const record of journal) {
      const p = periods[record.period - 1]!;
      expect(record.seq).toBeGreaterThanOrEqual(p.firstSeq);
      if (p.lastSeq !== null) expect(record.seq).toBeLessThanOrEqual(p.lastSeq);
    }
    expect(periods[2]!.closingHash).toBe(periods[2]!.lastSeq === 0 ? '0'.repeat(64) : journal[periods[2]!.lastSeq! - 1]!.hash);
    expect(await verifyJournal(store, MERCHANT)).toMatchObject({ ok: true, records: journal.length, payments: ids.length });
  });

  // the embedded store hands out copies: nothing outside it can edit what it keeps
  if (tamperable) it('verifyJournal finds an edited ledger entry and a removed journal record', async () => {
    const card = await aCard();
    const ids = [await paid(card, 100), await paid(card, 200), await paid(card, 300)];
    await sealAll();
    expect((await verifyJournal(store, MERCHANT)).ok).toBe(true);
    await opened.tamper!.editEntry(ids[1]!);
    const edited = await verifyJournal(store, MERCHANT);
    expect(edited.ok).toBe(false);
    expect(edited.problems).toEqual([expect.stringMatching(new RegExp(`^record [123]: its event ev_${ids[1]}_1 was changed$`))]);
    await opened.tamper!.dropRecord(MERCHANT, 2);
    const dropped = await verifyJournal(store, MERCHANT);
    expect(dropped.problems.join('\n')).toContain('does not link to the record before it');
  });
}

describe('MemoryStore events', () => {
  eventsContract(async () => {
    const store = new MemoryStore();
    return { store, sibling: async () => store, tamper: null };
  }, false, 0);
});

/** Tampering as someone with write access to Redis would: one entry's amount changed, one journal record removed. */
function redisTamper(client: () => Redis | Cluster, prefix: string): NonNullable<Opened['tamper']> {
  const keys = keyLayout(prefix);
  const withClient = async (body: (r: Redis | Cluster) => Promise<unknown>) => {
    const r = client();
    try {
      await body(r);
    } finally {
      r.disconnect();
    }
  };
  return {
    editEntry: (paymentId) => withClient((r) => r.lset(keys.entries(paymentId), 0, 'authorization|1|-1|0|x||0')),
    dropRecord: (merchant, seq) => withClient(async (r) => {
      const text = await r.lindex(keys.journal(merchant), seq - 1);
      await r.lrem(keys.journal(merchant), 1, text!);
    }),
  };
}

describeRedis(redis, 'RedisStore events', (server) => {
  const runPrefix = testKeyPrefix();
  let next = 0;
  afterAll(async () => {
    await deleteKeys(server.url, runPrefix);
  });
  eventsContract(async () => {
    const prefix = `${runPrefix}${next++}:`;
    const store = await RedisStore.connect(server.url, { prefix });
    return { store, sibling: () => RedisStore.connect(server.url, { prefix }), tamper: redisTamper(() => new Redis(server.url), prefix) };
  }, true, 0);
});

describeCluster(cluster, 'RedisStore events on a Redis Cluster (3 masters, 3 replicas, WAIT for 1 replica)', (c) => {
  const nodes = parseClusterNodes(c.nodes.join(','));
  const options = (prefix: string) => ({ prefix, waitReplicas: 1, waitTimeoutMs: 1_000 });
  eventsContract(async () => {
    const prefix = testKeyPrefix();
    const store = await RedisStore.connectCluster(nodes, options(prefix));
    return { store, sibling: () => RedisStore.connectCluster(nodes, options(prefix)), tamper: redisTamper(() => new Cluster(nodes), prefix) };
  }, true, MARK_GRACE_MS);
});
