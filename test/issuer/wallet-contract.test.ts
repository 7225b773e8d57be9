/**
 * The wallet's store steps (issuer/store/wallet-types.ts) as one suite, run against MemoryStore, RedisStore and
 * RedisStore on a 3+3 Redis Cluster with WAIT: an enrolment is a PIN attempt (the same count and lock as a
 * payment's, raced by 200 enrolments over several handles), completeEnrolment decides its session once, listing and
 * revocation, a code's counter used once (raced by 100 uses), and the card's static-QR policy at the scan, at the
 * authorization and at the enrolment. Every refusal is typed and changes nothing.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isScanpayError } from '../../core/errors.ts';
import { MemoryStore, RedisStore, parseClusterNodes, type AuthSession, type CardRecord, type PinPolicy, type Store } from '../../issuer/store/index.ts';
import { ENROLMENT_DEVICE, ENROLMENT_MERCHANT, ENROLMENT_PURPOSE } from '../../issuer/store/wallet-types.ts';
import { deleteKeys, describeRedis, redisForTests, testKeyPrefix } from '../support/redis.ts';
import { clusterForTests, describeCluster } from '../support/redis-cluster.ts';
import { claimFor, makeCard, makePayment, makeSession, newAttempt } from '../support/store-fixtures.ts';

const ENROL: PinPolicy = { lockAt: 3, paceMs: 0, from: 'page', purpose: 'wallet-enrolment' };
const PAY: PinPolicy = { lockAt: 3, paceMs: 0 };
const redis = await redisForTests();
const cluster = await clusterForTests();
afterAll(async () => {
  await Promise.all([redis?.stop(), cluster?.stop()]);
});

const newEnrolmentId = () => randomBytes(16).toString('hex');
const newEnrolment = (id = newEnrolmentId()) => ({ id, wrappedPan: new Uint8Array(randomBytes(44)) });

function enrolmentSession(card: CardRecord): AuthSession {
  return makeSession(card, { amount: 0, deviceId: ENROLMENT_DEVICE, merchant: ENROLMENT_MERCHANT, purpose: ENROLMENT_PURPOSE });
}

function codeSession(card: CardRecord, amount = 500): AuthSession {
  return { ...makeSession(card, { amount }), via: 'code', payload: new Uint8Array(randomBytes(41)) };
}

async function failure(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return 'resolved';
  } catch (e) {
    return isScanpayError(e) ? e.code : `not a ScanpayError: ${String(e)}`;
  }
}

type OpenStore = () => Promise<{ store: Store; sibling(): Promise<Store> }>;

function walletContract(open: OpenStore): void {
  let store: Store;
  let openSibling: () => Promise<Store>;
  let siblings: Store[];

  beforeEach(async () => {
    ({ store, sibling: openSibling } = await open());
    siblings = [];
  });
  afterEach(async () => {
    await Promise.all([store, ...siblings].map((s) => s.close()));
  });

  async function handles(n: number): Promise<Store[]> {
    while (siblings.length < n - 1) siblings.push(await openSibling());
    return [store, ...siblings.slice(0, n - 1)];
  }

  async function aCard(fields: Partial<CardRecord> = {}): Promise<CardRecord> {
    const card = makeCard(fields);
    expect(await store.insertCard(card)).toBe(true);
    return card;
  }

  /** An enrolment through the store's own steps: its session, its PIN attempt (evaluated), its completion. */
  async function enrolled(card: CardRecord, s: Store = store) {
    const session = enrolmentSession(card);
    expect(await s.openSession(session, claimFor(card))).toEqual({ ok: true });
    const attempt = newAttempt();
    expect((await s.beginPinAttempt(session.id, null, attempt, Date.now(), ENROL)).kind).toBe('evaluate');
    const done = await s.completeEnrolment(session.id, newEnrolment(), attempt, Date.now());
    if (done.kind !== 'enrolled') throw new Error(`not enrolled: ${JSON.stringify(done)}`);
    return done.enrolment;
  }

  describe('enrolment', () => {
    it('is a PIN attempt on its own session: completed once, the failures reset, the enrolment listed active with counter 0', async () => {
      const card = await aCard({ pinFailures: 2 });
      const session = enrolmentSession(card);
      await store.openSession(session, claimFor(card));
      const attempt = newAttempt();
      const begun = await store.beginPinAttempt(session.id, null, attempt, Date.now(), ENROL);
      expect(begun.kind).toBe('evaluate');
      const fresh = newEnrolment();
      const { id } = fresh;
      const now = Date.now();
      const done = await store.completeEnrolment(session.id, fresh, attempt, now);
      const enrolment = { id, cardToken: card.token, createdAt: now, status: 'active', revokedAt: null, lastCounter: 0, wrappedPan: fresh.wrappedPan };
      expect(done).toEqual({ kind: 'enrolled', enrolment });
      expect((await store.getCard(card.token))!.pinFailures).toBe(0);
      expect(await store.listEnrolments(card.token)).toEqual([enrolment]);
      expect(await store.getEnrolment(id)).toEqual(enrolment);
      // the same call re-sent gets the same enrolment; any other call gets the session's decision, no enrolment
      expect(await store.completeEnrolment(session.id, fresh, attempt, now + 5)).toEqual(done);
      expect(await store.completeEnrolment(session.id, newEnrolment(), newAttempt(), now + 5)).toEqual({ kind: 'settled', result: { outcome: 'approved', reason: null, ledger: false } });
      expect(await store.listEnrolments(card.token)).toHaveLength(1);
      expect((await store.getSession(session.id))!.state).toBe('done');
    });

    it('keeps payments and enrolments apart: a payment PIN does not find an enrolment session, nor an enrolment PIN a payment session', async () => {
      const card = await aCard();
      const enrolment = enrolmentSession(card);
      const payment = makeSession(card);
      await store.openSession(enrolment, claimFor(card));
      await store.openSession(payment, claimFor(card));
      expect(await store.beginPinAttempt(enrolment.id, null, newAttempt(), Date.now(), { ...PAY, from: 'page' })).toEqual({ kind: 'refused', reason: 'SESSION_UNKNOWN' });
      expect(await store.beginPinAttempt(enrolment.id, ENROLMENT_DEVICE, newAttempt(), Date.now(), PAY)).toEqual({ kind: 'refused', reason: 'SESSION_UNKNOWN' });
      expect(await store.beginPinAttempt(payment.id, null, newAttempt(), Date.now(), ENROL)).toEqual({ kind: 'refused', reason: 'SESSION_UNKNOWN' });
      // neither was claimed: both are still open
      expect((await store.getSession(enrolment.id))!.state).toBe('open');
      expect((await store.getSession(payment.id))!.state).toBe('open');
      // completing an enrolment needs its attempt's claim; a payment session is none
      expect(await failure(store.completeEnrolment(enrolment.id, newEnrolment(), newAttempt(), Date.now()))).toBe('BAD_ARGUMENT');
      expect(await failure(store.completeEnrolment(payment.id, newEnrolment(), newAttempt(), Date.now()))).toBe('BAD_ARGUMENT');
      expect(await store.listEnrolments(card.token)).toEqual([]);
    });

    it('refuses a malformed enrolment (id, wrapped PAN) at completion, and nothing changes', async () => {
      const card = await aCard({ pinFailures: 1 });
      const session = enrolmentSession(card);
      await store.openSession(session, claimFor(card));
      const attempt = newAttempt();
      await store.beginPinAttempt(session.id, null, attempt, Date.now(), ENROL);
      for (const bad of [{ id: 'nope', wrappedPan: new Uint8Array(44) }, { id: newEnrolmentId(), wrappedPan: new Uint8Array(43) }, { id: newEnrolmentId() }]) {
        expect(await failure(store.completeEnrolment(session.id, bad as never, attempt, Date.now()))).toMatch(/^BAD_/);
      }
      expect((await store.getSession(session.id))!.state).toBe('pending');
      expect((await store.getCard(card.token))!.pinFailures).toBe(1);
      expect(await store.listEnrolments(card.token)).toEqual([]);
      expect((await store.completeEnrolment(session.id, newEnrolment(), attempt, Date.now())).kind).toBe('enrolled');
    });

    it('refuses a malformed enrolment session (money on it, a scanner of its own) and writes nothing', async () => {
      const card = await aCard();
      for (const bad of [{ amount: 1 }, { deviceId: 'lane-1' }, { merchant: 'corner-cafe' }]) {
        const session = { ...enrolmentSession(card), ...bad };
        expect(await failure(store.openSession(session, claimFor(card)))).toBe('BAD_ARGUMENT');
        expect(await store.getSession(session.id)).toBeNull();
      }
    });

    it('counts wrong PINs as a payment does: 200 concurrent wrong-PIN enrolments over several handles evaluate at most 3 and lock the card', async () => {
      const card = await aCard();
      const all = await handles(4);
      const sessions = Array.from({ length: 200 }, () => enrolmentSession(card));
      for (const session of sessions) expect((await store.openSession(session, claimFor(card))).ok).toBe(true);
      let evaluated = 0;
      const outcomes = await Promise.all(sessions.map(async (session, i) => {
        const s = all[i % all.length]!;
        const begun = await s.beginPinAttempt(session.id, null, newAttempt(), Date.now(), ENROL);
        if (begun.kind !== 'evaluate') return begun.kind;
        evaluated++;
        return (await s.settleFailedPin(session.id, 'wrong', 3, Date.now())).reason;
      }));
      expect(evaluated).toBeLessThanOrEqual(3);
      const after = (await store.getCard(card.token))!;
      expect(after).toMatchObject({ status: 'locked', pinFailures: 3 });
      expect(outcomes.filter((o) => o === 'evaluate')).toEqual([]);
      // once locked, an enrolment's attempt is decided without an evaluation, right PIN or wrong
      const late = enrolmentSession(card);
      expect(await store.openSession(late, claimFor(card))).toEqual({ ok: false, reason: 'CARD_LOCKED' });
      expect(await store.listEnrolments(card.token)).toEqual([]);
    });

    it('settles without an enrolment when the card was blocked between the attempt and its completion', async () => {
      const card = await aCard();
      const session = enrolmentSession(card);
      await store.openSession(session, claimFor(card));
      const attempt = newAttempt();
      await store.beginPinAttempt(session.id, null, attempt, Date.now(), ENROL);
      await store.updateCard(card.token, (c) => ({ ...c, status: 'blocked' }));
      expect(await store.completeEnrolment(session.id, newEnrolment(), attempt, Date.now())).toEqual({ kind: 'settled', result: { outcome: 'declined', reason: 'CARD_BLOCKED', ledger: false } });
      expect(await store.listEnrolments(card.token)).toEqual([]);
    });
  });

  describe('revocation and listing', () => {
    it('revokes once (the first time kept), lists oldest first with the revoked one, and says unknown for an id it never had', async () => {
      const card = await aCard();
      const first = await enrolled(card);
      const second = await enrolled(card);
      const at = Date.now() + 10;
      expect(await store.revokeEnrolment(first.id, at)).toBe('revoked');
      expect(await store.revokeEnrolment(first.id, at + 99)).toBe('already-revoked');
      expect(await store.revokeEnrolment(newEnrolmentId(), at)).toBe('unknown');
      const listed = await store.listEnrolments(card.token);
      expect(listed.map((e) => e.id).sort()).toEqual([first.id, second.id].sort());
      expect(listed.find((e) => e.id === first.id)).toEqual({ ...first, status: 'revoked', revokedAt: at });
      expect(listed.find((e) => e.id === second.id)).toEqual(second);
      expect(await store.getEnrolment(newEnrolmentId())).toBeNull();
      expect(await failure(store.revokeEnrolment('not-an-id', at))).toBe('BAD_ARGUMENT');
    });
  });

  describe('consumeCode', () => {
    it('takes each counter once and only upwards, opening its session in the same step; a refusal opens none', async () => {
      const card = await aCard();
      const enrolment = await enrolled(card);
      const first = codeSession(card);
      expect(await store.consumeCode({ enrolmentId: enrolment.id, counter: 5, session: first })).toEqual({ ok: true, enrolment: { ...enrolment, lastCounter: 5 } });
      expect((await store.getSession(first.id))!.session).toMatchObject({ id: first.id, via: 'code', amount: 500 });
      // unclaimed, it takes a PIN (on the holder's phone): the attempt gets the code's 41 bytes back as its payload
      const begun = await store.beginPinAttempt(first.id, first.deviceId, newAttempt(), Date.now(), { ...PAY, from: 'page' });
      expect(begun.kind === 'evaluate' && begun.session.payload).toEqual(first.payload);
      for (const counter of [5, 4, 1]) {
        const again = codeSession(card);
        expect(await store.consumeCode({ enrolmentId: enrolment.id, counter, session: again })).toEqual({ ok: false, reason: 'CODE_USED' });
        expect(await store.getSession(again.id)).toBeNull();
      }
      expect((await store.getEnrolment(enrolment.id))!.lastCounter).toBe(5);
      expect((await store.consumeCode({ enrolmentId: enrolment.id, counter: 6, session: codeSession(card) })).ok).toBe(true);
      // the same session id again is a caller's bug
      expect(await failure(store.consumeCode({ enrolmentId: enrolment.id, counter: 7, session: first }))).toBe('BAD_ARGUMENT');
      expect((await store.getEnrolment(enrolment.id))!.lastCounter).toBe(6);
    });

    it('refuses a revoked enrolment, another card\'s, an unknown one, and a card blocked or locked, changing nothing', async () => {
      const card = await aCard();
      const other = await aCard();
      const enrolment = await enrolled(card);
      const refused = async (use: Parameters<Store['consumeCode']>[0], reason: string) => {
        expect(await store.consumeCode(use)).toEqual({ ok: false, reason });
        expect(await store.getSession(use.session.id)).toBeNull();
      };
      await refused({ enrolmentId: enrolment.id, counter: 1, session: codeSession(other) }, 'ENROLMENT_UNKNOWN');
      await refused({ enrolmentId: newEnrolmentId(), counter: 1, session: codeSession(card) }, 'ENROLMENT_UNKNOWN');
      await store.updateCard(card.token, (c) => ({ ...c, status: 'blocked' }));
      await refused({ enrolmentId: enrolment.id, counter: 1, session: codeSession(card) }, 'CARD_BLOCKED');
      await store.updateCard(card.token, (c) => ({ ...c, status: 'locked' }));
      await refused({ enrolmentId: enrolment.id, counter: 1, session: codeSession(card) }, 'CARD_LOCKED');
      await store.updateCard(card.token, (c) => ({ ...c, status: 'active' }));
      await store.revokeEnrolment(enrolment.id, Date.now());
      await refused({ enrolmentId: enrolment.id, counter: 1, session: codeSession(card) }, 'ENROLMENT_REVOKED');
      expect((await store.getEnrolment(enrolment.id))!.lastCounter).toBe(0);
      // bad input is typed and writes nothing
      for (const counter of [0, -1, 2 ** 32, 1.5]) expect(await failure(store.consumeCode({ enrolmentId: enrolment.id, counter, session: codeSession(card) }))).toBe('BAD_ARGUMENT');
      expect(await failure(store.consumeCode({ enrolmentId: enrolment.id, counter: 1, session: makeSession(card) }))).toBe('BAD_ARGUMENT');
    });

    it('one counter used by 100 concurrent calls over several handles: exactly one opens a session', async () => {
      const card = await aCard();
      const enrolment = await enrolled(card);
      const all = await handles(4);
      const results = await Promise.all(Array.from({ length: 100 }, (_, i) => all[i % all.length]!.consumeCode({ enrolmentId: enrolment.id, counter: 1, session: codeSession(card) })));
      expect(results.filter((r) => r.ok)).toHaveLength(1);
      expect(results.filter((r) => !r.ok && r.reason === 'CODE_USED')).toHaveLength(99);
    });

    it('a code paid without a PIN leaves the wrong-PIN count as it is; the static-QR rule does not apply to it', async () => {
      const card = await aCard({ pinFailures: 2, staticQr: 'limit', staticQrLimit: 100, codeNoPinLimit: 1_000 });
      const enrolment = await enrolled(card);
      await store.updateCard(card.token, (c) => ({ ...c, pinFailures: 2 }));
      const session = codeSession(card, 800);
      const claim = newAttempt();
      expect((await store.consumeCode({ enrolmentId: enrolment.id, counter: 1, session, claim })).ok).toBe(true);
      // claimed by its code: pending, it takes no PIN
      expect((await store.getSession(session.id))!.state).toBe('pending');
      expect(await store.beginPinAttempt(session.id, session.deviceId, newAttempt(), Date.now(), { ...PAY, takeoverMs: 60_000 })).toMatchObject({ kind: 'used', state: 'pending' });
      const paid = await store.authorizePayment(makePayment(card, { sessionId: session.id, amount: 800, via: 'code', attempt: claim }));
      expect(paid).toMatchObject({ replayed: false, record: { outcome: 'approved', amount: 800 } });
      expect((await store.getCard(card.token))!.pinFailures).toBe(2);
      expect((await store.getSession(session.id))!.state).toBe('done');
    });
  });

  describe('the card\'s static-QR policy', () => {
    it('validates the policy at the boundary: a bad one is BAD_ARGUMENT and the row stays as it was', async () => {
      const card = await aCard();
      for (const bad of [{ staticQr: 'never' }, { staticQr: 'limit', staticQrLimit: -1, codeNoPinLimit: 0 }, { staticQr: 'limit', staticQrLimit: 1.5, codeNoPinLimit: 0 }, { staticQr: 'allowed', staticQrLimit: 0, codeNoPinLimit: '5' }]) {
        expect(await failure(store.updateCard(card.token, (c) => ({ ...c, ...bad }) as CardRecord))).toBe('BAD_ARGUMENT');
      }
      expect(await failure(store.insertCard(makeCard({ staticQr: 'sometimes' as never, staticQrLimit: 0, codeNoPinLimit: 0 })))).toBe('BAD_ARGUMENT');
      expect(await store.getCard(card.token)).toEqual(card);
      const set = await store.updateCard(card.token, (c) => ({ ...c, staticQr: 'limit', staticQrLimit: 2_000, codeNoPinLimit: 500 }));
      expect(await store.getCard(card.token)).toEqual(set);
      expect(set).toMatchObject({ staticQr: 'limit', staticQrLimit: 2_000, codeNoPinLimit: 500 });
    });

    it('limit: a scan over the limit is refused (typed, no session), one at the limit opens', async () => {
      const card = await aCard({ staticQr: 'limit', staticQrLimit: 1_000, codeNoPinLimit: 0 });
      const over = makeSession(card, { amount: 1_001 });
      expect(await store.openSession(over, claimFor(card))).toEqual({ ok: false, reason: 'STATIC_QR_REFUSED' });
      expect(await store.getSession(over.id)).toBeNull();
      expect(await store.openSession(makeSession(card, { amount: 1_000 }), claimFor(card))).toEqual({ ok: true });
    });

    it('refused-when-enrolled: scans pass until a wallet is enrolled, are refused while one is active, pass again once revoked; a second wallet is refused', async () => {
      const card = await aCard({ staticQr: 'refused-when-enrolled', staticQrLimit: 0, codeNoPinLimit: 0 });
      expect(await store.openSession(makeSession(card), claimFor(card))).toEqual({ ok: true });
      const enrolment = await enrolled(card);
      expect(await store.openSession(makeSession(card), claimFor(card))).toEqual({ ok: false, reason: 'STATIC_QR_REFUSED' });
      // another enrolment from the printed QR: refused at its scan
      expect(await store.openSession(enrolmentSession(card), claimFor(card))).toEqual({ ok: false, reason: 'STATIC_QR_REFUSED' });
      await store.revokeEnrolment(enrolment.id, Date.now());
      expect(await store.openSession(makeSession(card), claimFor(card))).toEqual({ ok: true });
    });

    it('is judged again at the authorization (declined STATIC_QR_REFUSED, with its record) and at an enrolment\'s completion', async () => {
      const card = await aCard({ staticQr: 'refused-when-enrolled', staticQrLimit: 0, codeNoPinLimit: 0 });
      // a payment scanned before the wallet was enrolled
      const payment = makeSession(card, { amount: 700 });
      await store.openSession(payment, claimFor(card));
      const payAttempt = newAttempt();
      expect((await store.beginPinAttempt(payment.id, payment.deviceId, payAttempt, Date.now(), PAY)).kind).toBe('evaluate');
      // two enrolments racing: both opened before either completed
      const [a, b] = [enrolmentSession(card), enrolmentSession(card)];
      const attempts = [newAttempt(), newAttempt()];
      for (const [i, s] of [a, b].entries()) {
        await store.openSession(s, claimFor(card));
        expect((await store.beginPinAttempt(s.id, null, attempts[i]!, Date.now(), ENROL)).kind).toBe('evaluate');
      }
      expect((await store.completeEnrolment(a.id, newEnrolment(), attempts[0]!, Date.now())).kind).toBe('enrolled');
      expect(await store.completeEnrolment(b.id, newEnrolment(), attempts[1]!, Date.now())).toEqual({ kind: 'settled', result: { outcome: 'declined', reason: 'STATIC_QR_REFUSED', ledger: false } });
      const paid = await store.authorizePayment(makePayment(card, { sessionId: payment.id, amount: 700, attempt: payAttempt }));
      expect(paid.record).toMatchObject({ outcome: 'declined', reason: 'STATIC_QR_REFUSED', balanceAfter: card.balance });
      expect((await store.listEnrolments(card.token)).filter((e) => e.status === 'active')).toHaveLength(1);
    });
  });
}

describe('MemoryStore wallet', () => {
  walletContract(async () => {
    const store = new MemoryStore();
    return { store, sibling: async () => store };
  });
});

describeRedis(redis, 'RedisStore wallet', (server) => {
  const runPrefix = testKeyPrefix();
  let next = 0;
  afterAll(async () => {
    await deleteKeys(server.url, runPrefix);
  });
  walletContract(async () => {
    const prefix = `${runPrefix}${next++}:`;
    const store = await RedisStore.connect(server.url, { prefix });
    return { store, sibling: () => RedisStore.connect(server.url, { prefix }) };
  });
});

describeCluster(cluster, 'RedisStore wallet on a Redis Cluster (3 masters, 3 replicas, WAIT for 1 replica)', (c) => {
  const nodes = parseClusterNodes(c.nodes.join(','));
  const options = (prefix: string) => ({ prefix, waitReplicas: 1, waitTimeoutMs: 1_000 });
  walletContract(async () => {
    const prefix = testKeyPrefix();
    const store = await RedisStore.connectCluster(nodes, options(prefix));
    return { store, sibling: () => RedisStore.connectCluster(nodes, options(prefix)) };
  });
});
