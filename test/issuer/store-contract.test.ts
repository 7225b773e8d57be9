/**
 * The store contract (issuer/store/types.ts) as one suite, run against MemoryStore and RedisStore so the
 * embedded default and the real store cannot drift apart: cards and their compare-and-set, sessions
 * (single-use, expiring, bound to a scanner), PIN attempts counted before they are verified (and raced),
 * exactly-once authorization and the ledger, one-time device tokens, revocation and shared rate limits.
 * Concurrency tests spread their calls over several handles on the same data (Redis: several connections).
 * Then what only Redis has: key TTLs, the key prefix, restarts, damaged rows, connection failures. And the
 * whole contract again on a 3-master, 3-replica Redis Cluster with WAIT on: every script there, where a
 * CROSSSLOT (or an undeclared key off the script's slot) fails the test.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Cluster, Redis, type Command } from 'ioredis';
import { isScanpayError } from '../../core/errors.ts';
import {
  EXPIRED_SESSION_RETENTION_MS, MemoryStore, RedisStore, USED_SESSION_RETENTION_MS, openStore,
  type AuthSession, type CardRecord, type PaymentRequest, type PinPolicy, type SessionRecord, type Store,
} from '../../issuer/store/index.ts';
import { keyLayout as layout } from '../../issuer/store/keys.ts';
import { parseClusterNodes } from '../../issuer/store/redis-target.ts';
import { ENROLMENT_DEVICE, ENROLMENT_MERCHANT, ENROLMENT_PURPOSE } from '../../issuer/store/wallet-types.ts';
import { deleteKeys, describeRedis, keysUnder, redisForTests, testKeyPrefix } from '../support/redis.ts';
import { clusterForTests, describeCluster } from '../support/redis-cluster.ts';
import { claimFor, makeCard, makePayment, makeSession, newAttempt, newCardToken, newSessionId } from '../support/store-fixtures.ts';

const POLICY: PinPolicy = { lockAt: 3, paceMs: 0 };
const LOCKED = { outcome: 'declined', reason: 'CARD_LOCKED', attemptsLeft: 0, ledger: false };

const redis = await redisForTests();
const cluster = await clusterForTests();
afterAll(async () => {
  await Promise.all([redis?.stop(), cluster?.stop()]);
});

/** A card, a session and its counted PIN attempt on `store`: the payment request that may now be authorized. */
async function countedPayment(store: Store, amount = 1_000): Promise<{ card: CardRecord; request: PaymentRequest }> {
  const card = makeCard({ balance: 5_000 });
  await store.insertCard(card);
  const session = makeSession(card, { amount });
  await store.openSession(session, claimFor(session));
  const attempt = newAttempt();
  expect((await store.beginPinAttempt(session.id, session.deviceId, attempt, Date.now(), POLICY)).kind).toBe('evaluate');
  return { card, request: makePayment(card, { sessionId: session.id, amount, attempt }) };
}

/** A session as the store keeps it once it no longer needs the payload (getSession, used, decided). */
function kept(session: AuthSession): SessionRecord {
  const { payload: _payload, ...record } = session;
  return record;
}

/** The ScanpayError code a call rejected with, 'resolved' if it did not, or a description of a foreign error. */
async function failure(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return 'resolved';
  } catch (e) {
    return isScanpayError(e) ? e.code : `not a ScanpayError: ${String(e)}`;
  }
}

/** Resolves once `done()` holds (checked every 10 ms), or fails after `timeoutMs` naming what was awaited. */
async function eventually(done: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  for (const start = Date.now(); !done(); await new Promise((resolve) => setTimeout(resolve, 10))) {
    if (Date.now() - start > timeoutMs) throw new Error(`not within ${timeoutMs} ms: ${what}`);
  }
}

/** A fresh empty store, and a way to open more handles on its data (MemoryStore: the same instance). */
type OpenStore = () => Promise<{ store: Store; sibling(): Promise<Store> }>;

function storeContract(open: OpenStore): void {
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

  /** `n` handles on the same data, the first being `store`. */
  async function handles(n: number): Promise<Store[]> {
    while (siblings.length < n - 1) siblings.push(await openSibling());
    return [store, ...siblings.slice(0, n - 1)];
  }

  async function inserted(overrides: Partial<CardRecord> = {}): Promise<CardRecord> {
    const card = makeCard(overrides);
    expect(await store.insertCard(card)).toBe(true);
    return card;
  }

  describe('cards', () => {
    it('inserts a card once: get returns it, a second insert of the token is false and changes nothing', async () => {
      const card = await inserted();
      expect(await store.getCard(card.token)).toEqual(card);
      expect(await store.insertCard({ ...makeCard({ token: card.token }), balance: 1 })).toBe(false);
      expect(await store.getCard(card.token)).toEqual(card);
    });

    it('returns null for an unknown token', async () => {
      expect(await store.getCard(newCardToken())).toBeNull();
    });

    it('keeps its own copies: changing what went in or came out changes nothing stored', async () => {
      const card = makeCard();
      const original = structuredClone(card);
      await store.insertCard(card);
      card.pvv[0] ^= 0xff;
      card.wrappedBasicKey.fill(0);
      card.balance = 0;
      const read = (await store.getCard(card.token))!;
      expect(read).toEqual(original);
      read.pvv.fill(0);
      read.status = 'blocked';
      const updated = (await store.updateCard(card.token, (c) => ({ ...c, limit: 7 })))!;
      updated.wrappedBasicKey.fill(0);
      expect(await store.getCard(card.token)).toEqual({ ...original, limit: 7 });
    });

    it('lets exactly one of 20 concurrent inserts of one token win', async () => {
      const token = newCardToken();
      const stores = await handles(4);
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => stores[i % 4].insertCard(makeCard({ token }))));
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await store.countCards()).toBe(1);
    });

    it('counts cards exactly: duplicates do not count', async () => {
      expect(await store.countCards()).toBe(0);
      const cards = [makeCard(), makeCard(), makeCard()];
      for (const card of cards) await store.insertCard(card);
      await store.insertCard(cards[0]);
      expect(await store.countCards()).toBe(3);
    });

    it.each([
      ['a token of 31 hex digits', { token: 'a'.repeat(31) }, 'BAD_ARGUMENT'],
      ['a PAN for a token', { token: '4111111111111111' }, 'BAD_ARGUMENT'],
      ['5 digits for last4', { last4: '12345' }, 'BAD_ARGUMENT'],
      ['a fractional balance', { balance: 1.5 }, 'BAD_ARGUMENT'],
      ['a negative limit', { limit: -1 }, 'BAD_ARGUMENT'],
      ['a balance past 2^53', { balance: 2 ** 53 }, 'BAD_ARGUMENT'],
      ['an unknown status', { status: 'frozen' as CardRecord['status'] }, 'BAD_ARGUMENT'],
      ['a lowercase currency', { currency: 'eur' }, 'BAD_ARGUMENT'],
      ['a short PVV', { pvv: new Uint8Array(31) }, 'BAD_LENGTH'],
    ] as const)('rejects a card with %s and writes nothing', async (_, overrides, code) => {
      const card = makeCard(overrides as Partial<CardRecord>);
      expect(await failure(store.insertCard(card))).toBe(code);
      expect(await store.countCards()).toBe(0);
    });
  });

  describe('updateCard', () => {
    it('writes the mutation and returns the row as stored', async () => {
      const card = await inserted();
      const updated = await store.updateCard(card.token, (c) => ({ ...c, generation: c.generation + 1, updatedAt: 42 }));
      expect(updated).toEqual({ ...card, generation: 2, updatedAt: 42 });
      expect(await store.getCard(card.token)).toEqual(updated);
    });

    it('leaves the row alone when the mutation returns null, and returns it', async () => {
      const card = await inserted();
      expect(await store.updateCard(card.token, () => null)).toEqual(card);
      expect(await store.getCard(card.token)).toEqual(card);
    });

    it('returns null for an unknown card without calling the mutation', async () => {
      let called = false;
      const result = await store.updateCard(newCardToken(), (c) => ((called = true), c));
      expect(result).toBeNull();
      expect(called).toBe(false);
    });

    it('loses no update: 100 concurrent increments of the balance add exactly 100', async () => {
      const card = await inserted({ balance: 1_000 });
      const stores = await handles(4);
      await Promise.all(
        Array.from({ length: 100 }, (_, i) => stores[i % 4].updateCard(card.token, (c) => ({ ...c, balance: c.balance + 1 }))),
      );
      expect((await store.getCard(card.token))!.balance).toBe(1_100);
    });

    it('refuses a mutation that changes the token or breaks the row, and keeps the row', async () => {
      const card = await inserted();
      expect(await failure(store.updateCard(card.token, (c) => ({ ...c, token: newCardToken() })))).toBe('BAD_ARGUMENT');
      expect(await failure(store.updateCard(card.token, (c) => ({ ...c, balance: -5 })))).toBe('BAD_ARGUMENT');
      expect(await store.getCard(card.token)).toEqual(card);
    });
  });

  /** A card in the store and an open session for it. */
  async function opened(cardFields: Partial<CardRecord> = {}, sessionFields: Partial<AuthSession> = {}): Promise<{ card: CardRecord; session: AuthSession }> {
    const card = await inserted(cardFields);
    const session = makeSession(card, sessionFields);
    expect(await store.openSession(session, claimFor(session))).toEqual({ ok: true });
    return { card, session };
  }

  const begin = (s: Store, session: AuthSession, attempt = newAttempt(), now = Date.now(), policy = POLICY) =>
    s.beginPinAttempt(session.id, session.deviceId, attempt, now, policy);

  describe('sessions', () => {
    it('opens a session for a legal card row, judged in the same step; getSession shows it open, without the payload', async () => {
      const { session } = await opened();
      expect(await store.getSession(session.id)).toEqual({ session: kept(session), state: 'open', result: null });
    });

    it('opens no session for an unknown card', async () => {
      const session = makeSession(makeCard());
      expect(await store.openSession(session, claimFor(session))).toEqual({ ok: false, reason: 'CARD_UNKNOWN' });
      expect(await store.getSession(session.id)).toBeNull();
    });

    it('refuses an existing id, and an id off the card\'s shard, with BAD_ARGUMENT', async () => {
      const { card, session } = await opened();
      expect(await failure(store.openSession({ ...session, deviceId: 'scanner-evil' }, claimFor(session)))).toBe('BAD_ARGUMENT');
      expect((await store.getSession(session.id))!.session.deviceId).toBe(session.deviceId);
      const offShard = makeSession(card, { id: (card.token.startsWith('0') ? '1' : '0') + newSessionId(card.token).slice(1) });
      expect(await failure(store.openSession(offShard, claimFor(offShard)))).toBe('BAD_ARGUMENT');
    });

    it('opens no session for an authentic payload its row makes illegal: mismatched key, stale, re-keyed, blocked, locked', async () => {
      const cases: [Partial<CardRecord>, (card: CardRecord) => ReturnType<typeof claimFor>, string][] = [
        [{}, (c) => claimFor(c, { basicKeyCheck: c.basicKeyCheck.map((b, i) => (i === 7 ? b ^ 1 : b)) }), 'BASIC_KEY_MISMATCH'],
        [{ generation: 2 }, (c) => claimFor(c, { generation: 1 }), 'GENERATION_STALE'],
        [{ keyId: 2 }, (c) => claimFor(c, { keyId: 1 }), 'GENERATION_STALE'],
        [{ status: 'blocked' }, (c) => claimFor(c), 'CARD_BLOCKED'],
        [{ status: 'locked' }, (c) => claimFor(c), 'CARD_LOCKED'],
      ];
      for (const [fields, claim, reason] of cases) {
        const card = await inserted(fields);
        const session = makeSession(card);
        expect(await store.openSession(session, claim(card)), reason).toEqual({ ok: false, reason });
        expect(await store.getSession(session.id)).toBeNull();
        expect(await begin(store, session)).toEqual({ kind: 'refused', reason: 'SESSION_UNKNOWN' });
        expect(await store.getCard(card.token)).toEqual(card);
      }
      // the same checks in the same order as card-legality.ts: a key mismatch is told before a stale generation
      const card = await inserted({ generation: 2, status: 'blocked' });
      expect(await store.openSession(makeSession(card), claimFor(card, { generation: 1, basicKeyCheck: new Uint8Array(16) }))).toEqual({ ok: false, reason: 'BASIC_KEY_MISMATCH' });
      expect(await store.openSession(makeSession(card), claimFor(card, { generation: 1 }))).toEqual({ ok: false, reason: 'GENERATION_STALE' });
      expect(await failure(store.openSession(makeSession(card), { ...claimFor(card), basicKeyCheck: new Uint8Array(15) }))).toBe('BAD_LENGTH');
    });

    it('hides an expired open session, and refuses a PIN for it from expiresAt on', async () => {
      const past = Date.now() - 1;
      const { session } = await opened({}, { createdAt: past - 60_000, expiresAt: past });
      expect(await store.getSession(session.id)).toBeNull();
      expect(await begin(store, session)).toEqual({ kind: 'refused', reason: 'SESSION_EXPIRED' });
      const { session: live } = await opened();
      expect(await begin(store, live, newAttempt(), live.expiresAt)).toEqual({ kind: 'refused', reason: 'SESSION_EXPIRED' });
      expect((await begin(store, live, newAttempt(), live.expiresAt - 1)).kind).toBe('evaluate');
    });

    it('answers an unknown id with SESSION_UNKNOWN and getSession with null', async () => {
      const session = makeSession(makeCard());
      expect(await begin(store, session)).toEqual({ kind: 'refused', reason: 'SESSION_UNKNOWN' });
      expect(await store.getSession(session.id)).toBeNull();
    });

    it('takes the same session again while unused (a re-send after a lost reply); refuses another under its id, or once used', async () => {
      const card = await inserted();
      const session = makeSession(card);
      const answers = await Promise.all(Array.from({ length: 20 }, () => store.openSession(session, claimFor(session))));
      for (const answer of answers) expect(answer).toEqual({ ok: true });
      expect((await store.getSession(session.id))?.session).toEqual(kept(session));
      expect(await failure(store.openSession({ ...session, amount: session.amount + 1 }, claimFor(session)))).toBe('BAD_ARGUMENT');
      expect(await failure(store.openSession({ ...session, deviceId: 'scanner-2' }, claimFor(session)))).toBe('BAD_ARGUMENT');
      expect((await store.getSession(session.id))?.session).toEqual(kept(session)); // unchanged
      expect((await store.beginPinAttempt(session.id, session.deviceId, newAttempt(), Date.now(), POLICY)).kind).toBe('evaluate');
      expect(await failure(store.openSession(session, claimFor(session)))).toBe('BAD_ARGUMENT'); // used: no re-open
    });

    it('rejects malformed sessions and ids with BAD_ARGUMENT', async () => {
      const card = await inserted();
      const session = makeSession(card);
      expect(await failure(store.openSession({ ...session, id: 'not-hex' }, claimFor(session)))).toBe('BAD_ARGUMENT');
      expect(await failure(store.openSession({ ...session, expiresAt: session.createdAt - 1 }, claimFor(session)))).toBe('BAD_ARGUMENT');
      expect(await failure(store.openSession({ ...session, payload: new Uint8Array(5_000) }, claimFor(session)))).toBe('BAD_ARGUMENT');
      expect(await failure(store.openSession({ ...session, payload: 'x'.repeat(112) as unknown as Uint8Array }, claimFor(session)))).toBe('BAD_ARGUMENT');
      // the payment's values as the protocol defines them (protocol/values.ts): what a scan could never carry
      for (const bad of [{ amount: 0 }, { amount: 2 ** 53 }, { currency: 'EURO' }, { merchant: 'Corner Café' }, { merchant: 'm'.repeat(17) }]) {
        expect(await failure(store.openSession({ ...session, ...bad }, claimFor(session))), JSON.stringify(bad)).toBe('BAD_ARGUMENT');
      }
      expect(await failure(store.beginPinAttempt('../../etc', 'scanner-1', newAttempt(), Date.now(), POLICY))).toBe('BAD_ARGUMENT');
      expect(await failure(store.beginPinAttempt(session.id, 'scanner-1', 'short', Date.now(), POLICY))).toBe('BAD_ARGUMENT');
      expect(await failure(store.beginPinAttempt(session.id, 'scanner-1', newAttempt(), Date.now(), { lockAt: 0, paceMs: 0 }))).toBe('BAD_ARGUMENT');
      expect(await store.getSession(session.id)).toBeNull();
      expect(await store.getCard(card.token)).toEqual(card);
    });
  });

  describe('PIN attempts', () => {
    it('counts the attempt before it is verified: in flight on the card it takes a try; never settled, it counts as wrong', async () => {
      const { card, session } = await opened();
      const now = Date.now();
      const policy = { lockAt: 1, paceMs: 0, takeoverMs: 5_000 };
      expect(await begin(store, session, newAttempt(), now, policy)).toMatchObject({ kind: 'evaluate', session, card: { token: card.token, pinFailures: 0 } });
      expect(await store.getSession(session.id)).toEqual({ session: kept(session), state: 'pending', result: null });
      // lockAt 1: its one try is in flight, so the card takes no other attempt (refused, not decided: the session stays open)
      const other = makeSession(card);
      await store.openSession(other, claimFor(other));
      expect(await begin(store, other, newAttempt(), now + 1, policy)).toEqual({ kind: 'refused', reason: 'PIN_PACED' });
      expect((await store.getSession(other.id))!.state).toBe('open');
      // its gateway died: once its takeover time passes it counts as the wrong PIN it may have been, and locks
      expect(await begin(store, other, newAttempt(), now + 5_000, policy)).toEqual({ kind: 'decided', session: kept(other), result: LOCKED });
      expect((await store.getCard(card.token))!.pinFailures).toBe(1);
    });

    it('takes an attempt for the session\'s own scanner without naming it (the page), and every rate unit given first, in order', async () => {
      const { card, session } = await opened();
      const units = [{ key: 'page-address:10.0.0.1', limit: { perSecond: 0.001, burst: 2 } }, { key: `page-session:${session.id}`, limit: { perSecond: 0.001, burst: 1 } }];
      const first = await store.beginPinAttempt(session.id, null, newAttempt(), Date.now(), POLICY, units);
      expect(first).toMatchObject({ kind: 'evaluate', session: { deviceId: session.deviceId }, card: { token: card.token } });
      // the session's unit is spent: refused before anything is looked at, the address's unit taken all the same
      expect(await store.beginPinAttempt(session.id, null, newAttempt(), Date.now(), POLICY, units)).toEqual({ kind: 'refused', reason: 'RATE_LIMITED' });
      expect(await store.takeRate(units[0].key, units[0].limit)).toBe(false);
      expect(await store.takeRate(units[1].key, units[1].limit)).toBe(false);
    });

    it('answers another scanner with SESSION_WRONG_SCANNER without consuming the session or counting', async () => {
      const { card, session } = await opened();
      expect(await store.beginPinAttempt(session.id, 'scanner-2', newAttempt(), Date.now(), POLICY)).toEqual({ kind: 'refused', reason: 'SESSION_WRONG_SCANNER' });
      expect((await store.getCard(card.token))!.pinFailures).toBe(0);
      expect((await begin(store, session)).kind).toBe('evaluate');
    });

    it('refuses a scanner\'s PIN for a holder-device session (PIN_ENTRY_HOLDER_DEVICE): nothing claimed, counted, paced or budgeted; the page\'s is evaluated', async () => {
      const { card, session } = await opened({}, { pinEntry: 'holder-device' });
      expect(await store.getSession(session.id)).toEqual({ session: kept(session), state: 'open', result: null });
      const before = (await store.getCard(card.token))!;
      const paced: PinPolicy = { lockAt: 3, paceMs: 60_000, budget: { device: { max: 1, windowMs: 60_000 }, merchant: { max: 1, windowMs: 60_000 } } };
      for (const from of [undefined, 'scanner', 'scanner', 'scanner'] as const) {
        expect(await store.beginPinAttempt(session.id, session.deviceId, newAttempt(), Date.now(), { ...paced, ...(from ? { from } : {}) }))
          .toEqual({ kind: 'refused', reason: 'PIN_ENTRY_HOLDER_DEVICE' });
      }
      expect(await store.getCard(card.token)).toEqual(before); // no count, no pace, nothing in flight
      expect((await store.getSession(session.id))!.state).toBe('open');
      // the page (holding the page token) is the way in: evaluated, once, with the budgets untouched by the refusals
      const page = await store.beginPinAttempt(session.id, session.deviceId, newAttempt(), Date.now(), { ...paced, from: 'page' });
      expect(page).toMatchObject({ kind: 'evaluate', session: { id: session.id, pinEntry: 'holder-device' } });
      // and once used, a scanner's PIN is still refused (it learns the outcome from the push or `status`)
      expect(await store.beginPinAttempt(session.id, session.deviceId, newAttempt(), Date.now(), { ...paced, from: 'scanner' })).toEqual({ kind: 'refused', reason: 'PIN_ENTRY_HOLDER_DEVICE' });
      // a session without the policy takes a scanner's PIN as before
      const plain = await opened();
      expect((await store.beginPinAttempt(plain.session.id, plain.session.deviceId, newAttempt(), Date.now(), { ...POLICY, from: 'scanner' })).kind).toBe('evaluate');
    });

    it('gives a re-sent call (same attempt id) the same evaluation, counted once', async () => {
      const { card, session } = await opened();
      const attempt = newAttempt();
      expect((await begin(store, session, attempt)).kind).toBe('evaluate');
      expect((await begin(store, session, attempt)).kind).toBe('evaluate');
      expect(await begin(store, session)).toEqual({ kind: 'used', session: kept(session), state: 'pending', result: null });
      expect(await store.settleFailedPin(session.id, 'wrong', 3, Date.now())).toEqual({ outcome: 'declined', reason: 'PIN_WRONG', attemptsLeft: 2, ledger: false });
      expect((await store.getCard(card.token))!.pinFailures).toBe(1);
    });

    it('locks the card at the third wrong PIN; the answer then reads the same for every later attempt', async () => {
      const card = await inserted();
      const after = makeSession(card); // opened while the card takes PINs; a locked card's scan opens none
      await store.openSession(after, claimFor(after));
      const results = [];
      for (let i = 0; i < 3; i++) {
        const session = makeSession(card);
        await store.openSession(session, claimFor(session));
        expect((await begin(store, session)).kind).toBe('evaluate');
        results.push(await store.settleFailedPin(session.id, 'wrong', 3, Date.now()));
      }
      expect(results).toEqual([
        { outcome: 'declined', reason: 'PIN_WRONG', attemptsLeft: 2, ledger: false },
        { outcome: 'declined', reason: 'PIN_WRONG', attemptsLeft: 1, ledger: false },
        LOCKED,
      ]);
      const [other] = (await handles(2)).slice(1);
      expect(await other.getCard(card.token)).toMatchObject({ status: 'locked', pinFailures: 3 });
      expect(await store.openSession(makeSession(card), claimFor(card))).toEqual({ ok: false, reason: 'CARD_LOCKED' });
      expect(await begin(store, after)).toEqual({ kind: 'decided', session: kept(after), result: LOCKED });
      expect(await store.getSession(after.id)).toEqual({ session: kept(after), state: 'done', result: LOCKED });
      expect((await store.getCard(card.token))!.pinFailures).toBe(3); // not evaluated, not counted
    });

    it('evaluates at most lockAt attempts of 60 racing sessions over several handles', async () => {
      const card = await inserted();
      const sessions = Array.from({ length: 60 }, () => makeSession(card));
      for (const session of sessions) await store.openSession(session, claimFor(session));
      const stores = await handles(4);
      const attempts = await Promise.all(sessions.map((session, i) => begin(stores[i % 4], session)));
      const evaluated = attempts.filter((a) => a.kind === 'evaluate');
      expect(evaluated).toHaveLength(3);
      // the other 57 wait their turn: told to retry, their sessions still open, nothing counted for them
      expect(attempts.filter((a) => a.kind === 'refused' && a.reason === 'PIN_PACED')).toHaveLength(57);
      for (const a of evaluated) await store.settleFailedPin(a.session.id, 'wrong', 3, Date.now());
      expect(await store.getCard(card.token)).toMatchObject({ status: 'locked', pinFailures: 3 });
      const retried = await Promise.all(sessions.map((session, i) => begin(stores[i % 4], session)));
      expect(retried.filter((a) => a.kind === 'decided' && a.result.reason === 'CARD_LOCKED')).toHaveLength(57);
      expect(await store.getCard(card.token)).toMatchObject({ status: 'locked', pinFailures: 3 });
    });

    it('never tells right PINs racing on one card (no pace) that it is locked: at most lockAt in flight, the rest retry, each pays once', async () => {
      const card = await inserted({ balance: 30 * 100, limit: 100 });
      const sessions = Array.from({ length: 30 }, () => makeSession(card, { amount: 100 }));
      for (const session of sessions) await store.openSession(session, claimFor(session));
      const stores = await handles(4);
      const answers: string[] = [];
      let waiting = sessions.map((session, i) => ({ session, s: stores[i % 4] }));
      for (let round = 0; waiting.length > 0 && round < 100; round++) {
        const begun = await Promise.all(waiting.map(async ({ session, s }) => {
          const attempt = newAttempt();
          return { session, s, attempt, begun: await begin(s, session, attempt) };
        }));
        expect(begun.filter((b) => b.begun.kind === 'evaluate').length).toBeLessThanOrEqual(3);
        await Promise.all(begun.map(async ({ session, s, attempt, begun: b }) => {
          if (b.kind === 'evaluate') answers.push((await s.authorizePayment(makePayment(card, { sessionId: session.id, amount: 100, attempt }))).result.outcome);
          else if (b.kind !== 'refused' || b.reason !== 'PIN_PACED') answers.push(`${b.kind}:${b.kind === 'decided' ? b.result.reason : ''}`);
        }));
        waiting = begun.filter((b) => b.begun.kind === 'refused').map(({ session, s }) => ({ session, s }));
      }
      expect(answers).toEqual(Array(30).fill('approved'));
      expect(await store.getCard(card.token)).toMatchObject({ status: 'active', pinFailures: 0, balance: 0 });
    });

    it('paces attempts on one card: a second within paceMs is refused and leaves its session open', async () => {
      const card = await inserted();
      const [first, second] = [makeSession(card), makeSession(card)];
      await store.openSession(first, claimFor(first));
      await store.openSession(second, claimFor(second));
      const now = Date.now();
      const policy = { lockAt: 3, paceMs: 1_000 };
      expect((await begin(store, first, newAttempt(), now, policy)).kind).toBe('evaluate');
      expect(await begin(store, second, newAttempt(), now + 999, policy)).toEqual({ kind: 'refused', reason: 'PIN_PACED' });
      expect((await store.getSession(second.id))!.state).toBe('open');
      expect((await store.getCard(card.token))!.pinFailures).toBe(0); // the first is in flight, unsettled; the second took nothing
      expect((await begin(store, second, newAttempt(), now + 1_000, policy)).kind).toBe('evaluate');
    });

    it('decides without counting for a blocked card, and for a card that is gone', async () => {
      const { card, session } = await opened({ pinFailures: 1 });
      await store.updateCard(card.token, (c) => ({ ...c, status: 'blocked' })); // blocked after the scan
      expect(await begin(store, session)).toEqual({ kind: 'decided', session: kept(session), result: { outcome: 'declined', reason: 'CARD_BLOCKED', ledger: false } });
      expect((await store.getCard(card.token))!.pinFailures).toBe(1);
      const gone = makeSession(makeCard());
      expect(await store.openSession(gone, claimFor(gone))).toEqual({ ok: false, reason: 'CARD_UNKNOWN' });
    });

    it('lets a new attempt take over one left pending past takeoverMs, counted anew; not before', async () => {
      const { card, session } = await opened();
      const now = Date.now();
      const policy = { lockAt: 3, paceMs: 0, takeoverMs: 5_000 };
      expect((await begin(store, session, newAttempt(), now, policy)).kind).toBe('evaluate'); // its gateway then died
      expect(await begin(store, session, newAttempt(), now + 4_999, policy)).toEqual({ kind: 'used', session: kept(session), state: 'pending', result: null });
      const takeover = await begin(store, session, newAttempt(), now + 5_000, policy);
      expect(takeover).toMatchObject({ kind: 'evaluate', card: { pinFailures: 1 } }); // the abandoned one counted as wrong
      // a decided session is never taken over
      await store.settleFailedPin(session.id, 'wrong', 3, now + 5_001);
      expect(await begin(store, session, newAttempt(), now + 60_000, policy)).toMatchObject({ kind: 'used', state: 'done' });
      expect((await store.getCard(card.token))!.pinFailures).toBe(2);
    });

    it('settles once: a second settlement keeps the first result', async () => {
      const { session } = await opened();
      await begin(store, session);
      const first = await store.settleFailedPin(session.id, 'wrong', 3, Date.now());
      expect(await store.settleFailedPin(session.id, 'invalid', 3, Date.now())).toEqual(first);
      expect(await begin(store, session)).toEqual({ kind: 'used', session: kept(session), state: 'done', result: first });
    });

    it("settles 'invalid' as CARD_INVALID, keeping the count", async () => {
      const { card, session } = await opened();
      await begin(store, session);
      expect(await store.settleFailedPin(session.id, 'invalid', 3, Date.now())).toEqual({ outcome: 'declined', reason: 'CARD_INVALID', ledger: false });
      expect(await store.getCard(card.token)).toMatchObject({ status: 'active', pinFailures: 1 });
    });

    it('keeps a blocked card blocked when its count reaches lockAt', async () => {
      const card = await inserted({ pinFailures: 2 });
      const session = makeSession(card);
      await store.openSession(session, claimFor(session));
      await begin(store, session);
      await store.updateCard(card.token, (c) => ({ ...c, status: 'blocked' }));
      expect(await store.settleFailedPin(session.id, 'wrong', 3, Date.now())).toMatchObject({ reason: 'CARD_BLOCKED' });
      expect((await store.getCard(card.token))!.status).toBe('blocked');
    });
  });

  describe('wrong-PIN budgets per scanner and per merchant', () => {
    const budget = (device: number, merchant: number, windowMs = 60_000): PinPolicy => ({
      ...POLICY, budget: { device: { max: device, windowMs }, merchant: { max: merchant, windowMs } },
    });
    /** `n` cards, each with an open session of `deviceId` at `merchant`. */
    async function sessionsOn(n: number, deviceId = 'scanner-1', merchant = 'corner-cafe'): Promise<AuthSession[]> {
      const sessions: AuthSession[] = [];
      for (let i = 0; i < n; i++) {
        const card = await inserted();
        const session = makeSession(card, { deviceId, merchant });
        await store.openSession(session, claimFor(card));
        sessions.push(session);
      }
      return sessions;
    }
    const attempt = (s: Store, session: AuthSession, policy: PinPolicy) => s.beginPinAttempt(session.id, session.deviceId, newAttempt(), Date.now(), policy);

    it('refuses a scanner\'s PINs once its wrong ones fill the budget, across cards; nothing changes for the refused one', async () => {
      const policy = budget(3, 100);
      const [a, b, c, d] = await sessionsOn(4);
      for (const session of [a, b, c]) {
        expect((await attempt(store, session, policy)).kind).toBe('evaluate');
        await store.settleFailedPin(session.id, 'wrong', 3, Date.now());
      }
      expect(await attempt(store, d, policy)).toEqual({ kind: 'refused', reason: 'DEVICE_PIN_BUDGET' });
      expect((await store.getSession(d.id))!.state).toBe('open');
      expect(await store.getCard(d.cardToken)).toMatchObject({ pinFailures: 0, status: 'active' });
      // another scanner of the merchant has a budget of its own
      const [other] = await sessionsOn(1, 'scanner-2');
      expect((await attempt(store, other, policy)).kind).toBe('evaluate');
    });

    it('gives the units back for a correct PIN: a scanner paying all day never spends its budget', async () => {
      const policy = budget(2, 2);
      for (const session of await sessionsOn(6)) {
        const attemptId = newAttempt();
        expect((await store.beginPinAttempt(session.id, session.deviceId, attemptId, Date.now(), policy)).kind).toBe('evaluate');
        const card = (await store.getCard(session.cardToken))!;
        expect((await store.authorizePayment(makePayment(card, { sessionId: session.id, amount: session.amount, attempt: attemptId }))).result.outcome).toBe('approved');
      }
      const [wrong] = await sessionsOn(1);
      expect((await attempt(store, wrong, policy)).kind).toBe('evaluate');
    });

    it('refuses every scanner of a merchant once the merchant\'s wrong PINs fill its budget; other merchants are not touched', async () => {
      const policy = budget(100, 2);
      const spent = [...await sessionsOn(1, 'till-1', 'shop-a'), ...await sessionsOn(1, 'till-2', 'shop-a')];
      for (const session of spent) {
        expect((await attempt(store, session, policy)).kind).toBe('evaluate');
        await store.settleFailedPin(session.id, 'wrong', 3, Date.now());
      }
      const [third] = await sessionsOn(1, 'till-3', 'shop-a');
      expect(await attempt(store, third, policy)).toEqual({ kind: 'refused', reason: 'MERCHANT_PIN_BUDGET' });
      const [elsewhere] = await sessionsOn(1, 'till-3', 'shop-b');
      expect((await attempt(store, elsewhere, policy)).kind).toBe('evaluate');
    });

    it('evaluates exactly the budget of 40 attempts racing over several handles, one card each', async () => {
      const policy = budget(5, 1_000);
      const sessions = await sessionsOn(40);
      const stores = await handles(4);
      const answers = await Promise.all(sessions.map((session, i) => attempt(stores[i % 4], session, policy)));
      expect(answers.filter((a) => a.kind === 'evaluate')).toHaveLength(5);
      expect(answers.filter((a) => a.kind === 'refused' && a.reason === 'DEVICE_PIN_BUDGET')).toHaveLength(35);
    });

    it('shows a budget\'s window: the units counted and when it ends; none before the first', async () => {
      const policy = budget(5, 100);
      expect(await store.wrongPinWindow('device', 'scanner-w')).toBeNull();
      const before = Date.now();
      for (const session of await sessionsOn(2, 'scanner-w', 'shop-w')) {
        expect((await attempt(store, session, policy)).kind).toBe('evaluate');
        await store.settleFailedPin(session.id, 'wrong', 3, Date.now());
      }
      const window = (await store.wrongPinWindow('device', 'scanner-w'))!;
      expect(window.used).toBe(2);
      expect(window.endsAt).toBeGreaterThan(before + 60_000 - 5_000);
      expect(window.endsAt).toBeLessThanOrEqual(Date.now() + 60_000 + 50);
      expect(await store.wrongPinWindow('merchant', 'shop-w')).toMatchObject({ used: 2 });
      expect(await failure(store.wrongPinWindow('device', 'not a device'))).toBe('BAD_ARGUMENT');
    });

    it('keeps a window\'s end when its units are given back: a correct PIN neither ends nor restarts it', async () => {
      const policy = budget(5, 100, 60_000);
      const [paid, next] = await sessionsOn(2, 'scanner-k', 'shop-k');
      const attemptId = newAttempt();
      expect((await store.beginPinAttempt(paid.id, paid.deviceId, attemptId, Date.now(), policy)).kind).toBe('evaluate');
      const first = (await store.wrongPinWindow('device', 'scanner-k'))!;
      expect(first.used).toBe(1);
      const card = (await store.getCard(paid.cardToken))!;
      await store.authorizePayment(makePayment(card, { sessionId: paid.id, merchant: paid.merchant, amount: paid.amount, attempt: attemptId }));
      const givenBack = (await store.wrongPinWindow('device', 'scanner-k'))!;
      expect(givenBack.used).toBe(0);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect((await attempt(store, next, policy)).kind).toBe('evaluate');
      const again = (await store.wrongPinWindow('device', 'scanner-k'))!;
      expect(again.used).toBe(1);
      // the same window (its end read through a TTL: a round trip either way), not one started 200 ms later
      for (const window of [givenBack, again]) expect(Math.abs(window.endsAt - first.endsAt)).toBeLessThan(100);
      expect(await store.wrongPinWindow('merchant', 'shop-k')).toMatchObject({ used: 1 });
    });

    it('starts a new window once the budget\'s window has passed', async () => {
      const policy = budget(1, 100, 150);
      const [first, second] = await sessionsOn(2);
      expect((await attempt(store, first, policy)).kind).toBe('evaluate');
      await store.settleFailedPin(first.id, 'wrong', 3, Date.now());
      expect(await attempt(store, second, policy)).toEqual({ kind: 'refused', reason: 'DEVICE_PIN_BUDGET' });
      await new Promise((resolve) => setTimeout(resolve, 250));
      expect((await attempt(store, second, policy)).kind).toBe('evaluate');
    });

    it('takes no unit for an attempt it does not evaluate: a locked card, a re-sent call, a paced card', async () => {
      const policy = budget(1, 100);
      const card = await inserted({ status: 'active', pinFailures: 0 });
      const [session, paced] = [makeSession(card), makeSession(card)];
      await store.openSession(session, claimFor(card));
      await store.openSession(paced, claimFor(card));
      const attemptId = newAttempt();
      expect((await store.beginPinAttempt(session.id, session.deviceId, attemptId, Date.now(), policy)).kind).toBe('evaluate');
      expect((await store.beginPinAttempt(session.id, session.deviceId, attemptId, Date.now(), policy)).kind).toBe('evaluate'); // re-sent
      expect(await attempt(store, paced, { ...policy, lockAt: 1 })).toEqual({ kind: 'refused', reason: 'PIN_PACED' });
      await store.authorizePayment(makePayment(card, { sessionId: session.id, amount: session.amount, attempt: attemptId }));
      const [next] = await sessionsOn(1);
      expect((await attempt(store, next, policy)).kind).toBe('evaluate');
    });
  });

  describe('authorizePayment', () => {
    /** A session whose PIN attempt was counted, and the payment for it. */
    async function evaluated(cardFields: Partial<CardRecord> = {}, paymentFields: Partial<PaymentRequest> = {}) {
      const { card, session } = await opened(cardFields);
      const attempt = newAttempt();
      expect((await begin(store, session, attempt)).kind).toBe('evaluate');
      return { card, session, request: makePayment(card, { sessionId: session.id, amount: session.amount, ...paymentFields, attempt }) };
    }

    it('approves: balance down, pinFailures reset, the record in the ledger, the session done', async () => {
      const { card, session, request } = await evaluated({ balance: 5_000, pinFailures: 1 }, { amount: 1_250 });
      const { record, result, replayed } = await store.authorizePayment(request);
      expect(replayed).toBe(false);
      const { sessionId, cardToken: token, last4, merchant, amount, currency, cryptogram, at } = request;
      expect(record).toEqual({ sessionId, cardToken: token, last4, merchant, amount, currency, cryptogram, at, outcome: 'approved', reason: null, balanceAfter: 3_750 });
      expect(result).toEqual({ outcome: 'approved', reason: null, ledger: true });
      expect(await store.getCard(card.token)).toMatchObject({ balance: 3_750, pinFailures: 0, updatedAt: at });
      expect(await store.getLedgerRecord(request.sessionId)).toEqual(record);
      expect(await store.getSession(session.id)).toEqual({ session: kept(session), state: 'done', result });
    });

    it('replays a retry with the same session id: the same record, the balance unchanged; a re-send is no replay', async () => {
      const { card, request } = await evaluated({ balance: 5_000 }, { amount: 1_000 });
      const first = await store.authorizePayment(request);
      expect(await store.authorizePayment(request)).toEqual({ ...first, replayed: false }); // same call re-sent
      expect(await store.authorizePayment({ ...request, at: request.at + 5_000, attempt: newAttempt() })).toEqual({ ...first, replayed: true });
      expect((await store.getCard(card.token))!.balance).toBe(4_000);
    });

    it('pays once for 50 concurrent retries of one session', async () => {
      const { card, request } = await evaluated({ balance: 5_000 }, { amount: 100 });
      const stores = await handles(5);
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) => stores[i % 5].authorizePayment({ ...request, attempt: newAttempt() })));
      expect(results.filter((r) => !r.replayed)).toHaveLength(1);
      for (const r of results) expect(r.record).toEqual(results[0].record);
      expect((await store.getCard(card.token))!.balance).toBe(4_900);
    });

    it('pays each of 40 concurrent sessions on one card exactly once, never below zero', async () => {
      const card = await inserted({ balance: 3_000 });
      const stores = await handles(4);
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, i) => stores[i % 4].authorizePayment(makePayment(card, { amount: 100 }))),
      );
      expect(results.filter((r) => r.record?.outcome === 'approved')).toHaveLength(30);
      expect(results.filter((r) => r.record?.reason === 'INSUFFICIENT_FUNDS')).toHaveLength(10);
      expect((await store.getCard(card.token))!.balance).toBe(0);
    });

    const declines: [string, Partial<CardRecord>, Partial<PaymentRequest>][] = [
      ['INSUFFICIENT_FUNDS', { balance: 1_000 }, { amount: 1_001 }],
      ['OVER_LIMIT', { limit: 500 }, { amount: 501 }],
      ['CURRENCY_MISMATCH', { currency: 'EUR' }, { currency: 'USD' }],
    ];
    it.each(declines)('declines with %s: reason recorded, balance unchanged, a retry replays it', async (reason, cardFields, requestFields) => {
      const { card, request } = await evaluated(cardFields, requestFields);
      const { record, result, replayed } = await store.authorizePayment(request);
      expect(replayed).toBe(false);
      expect(record).toMatchObject({ outcome: 'declined', reason, balanceAfter: card.balance });
      expect(result).toEqual({ outcome: 'declined', reason, ledger: true });
      expect((await store.getCard(card.token))!.balance).toBe(card.balance);
      expect(await store.getLedgerRecord(request.sessionId)).toEqual(record);
      // A declined session stays declined even once the cause is gone: one outcome per idempotency key.
      await store.updateCard(card.token, (c) => ({ ...c, currency: request.currency, limit: 1e9, balance: 1e9 }));
      expect(await store.authorizePayment({ ...request, attempt: newAttempt() })).toEqual({ record, result, replayed: true });
    });

    it.each([
      ['locked', LOCKED],
      ['blocked', { outcome: 'declined', reason: 'CARD_BLOCKED', ledger: false }],
    ] as const)('declines a card %s since the attempt began with no ledger record, as a wrong PIN would be', async (status, expected) => {
      const { card, session, request } = await evaluated();
      await store.updateCard(card.token, (c) => ({ ...c, status }));
      expect(await store.authorizePayment(request)).toEqual({ record: null, result: expected, replayed: false });
      expect(await store.getLedgerRecord(request.sessionId)).toBeNull();
      expect(await store.getCard(card.token)).toMatchObject({ status, balance: card.balance });
      expect(await store.getSession(session.id)).toEqual({ session: kept(session), state: 'done', result: expected });
      expect(await store.authorizePayment({ ...request, attempt: newAttempt() })).toEqual({ record: null, result: expected, replayed: true });
    });

    it('declines a card that is gone with CARD_INVALID and no record, creating no card', async () => {
      const request = makePayment(makeCard());
      expect(await store.authorizePayment(request)).toEqual({ record: null, result: { outcome: 'declined', reason: 'CARD_INVALID', ledger: false }, replayed: false });
      expect(await store.getCard(request.cardToken)).toBeNull();
      expect(await store.countCards()).toBe(0);
    });

    it('is exact at the largest safe amounts', async () => {
      const max = Number.MAX_SAFE_INTEGER;
      const card = await inserted({ limit: max, balance: max });
      const { record } = await store.authorizePayment(makePayment(card, { amount: max - 1 }));
      expect(record).toMatchObject({ outcome: 'approved', amount: max - 1, balanceAfter: 1 });
      expect((await store.getCard(card.token))!.balance).toBe(1);
    });

    it('keeps a merchant id of every allowed character and the full 16 bytes intact through the ledger', async () => {
      const card = await inserted();
      const merchant = 'Az09._-'.padEnd(16, 'm');
      const request = makePayment(card, { merchant });
      await store.authorizePayment(request);
      expect((await store.getLedgerRecord(request.sessionId))!.merchant).toBe(merchant);
    });

    it.each([
      ['a fractional amount', { amount: 10.5 }],
      ['a negative amount', { amount: -100 }],
      ['a zero amount', { amount: 0 }],
      ['an amount past 2^53', { amount: 2 ** 53 }],
      ['a lowercase currency', { currency: 'eur' }],
      // protocol/values.ts: the merchant is bound into the cryptogram as 16 ASCII bytes, so nothing else is stored
      ['a merchant of quotes, backslashes, slashes and non-ASCII', { merchant: 'Bäckerei "Zur Mühle" \\ 東京 / </script> \u2028 😀' }],
      ['a merchant over 16 bytes', { merchant: 'm'.repeat(17) }],
      ['an empty merchant', { merchant: '' }],
      ['an uppercase cryptogram', { cryptogram: 'AB'.repeat(32) }],
      ['a malformed session id', { sessionId: 'x'.repeat(32) }],
      ['a session id off the card\'s shard', { sessionId: 'ffff'.repeat(8) }],
      ['no attempt id', { attempt: undefined }],
    ])('rejects %s with BAD_ARGUMENT and records nothing', async (_, fields) => {
      const card = await inserted({ token: `0000${newCardToken().slice(4)}` });
      const request = { ...makePayment(card), ...fields } as PaymentRequest;
      expect(await failure(store.authorizePayment(request))).toBe('BAD_ARGUMENT');
      expect(await store.getCard(card.token)).toEqual(card);
      if (/^[0-9a-f]{32}$/.test(request.sessionId)) expect(await store.getLedgerRecord(request.sessionId)).toBeNull();
    });

    it('returns null for a session id with no ledger record', async () => {
      expect(await store.getLedgerRecord(newSessionId(newCardToken()))).toBeNull();
    });
  });

  describe('device tokens and rate limits', () => {
    const nonce = () => newAttempt();

    it('accepts a nonce once, across handles; other nonces and devices are independent', async () => {
      const stores = await handles(3);
      const n = nonce();
      const verdicts = await Promise.all(Array.from({ length: 30 }, (_, i) => stores[i % 3].acceptDeviceToken('till-1', n, 60_000)));
      expect(verdicts.filter((v) => v === 'accepted')).toHaveLength(1);
      expect(verdicts.filter((v) => v === 'replayed')).toHaveLength(29);
      expect(await store.acceptDeviceToken('till-1', nonce(), 60_000)).toBe('accepted');
      expect(await store.acceptDeviceToken('till-2', n, 60_000)).toBe('accepted');
    });

    it('records and lists devices: provisioned and revoked, the first time of each kept', async () => {
      await store.recordDevice('till-b');
      await store.recordDevice('till-a');
      await store.revokeDevice('till-b');
      const [a, b] = await store.listDevices();
      expect(a).toMatchObject({ deviceId: 'till-a', revokedAt: null });
      expect(b).toMatchObject({ deviceId: 'till-b', provisionedAt: expect.any(Number), revokedAt: expect.any(Number) });
      await store.recordDevice('till-b');
      await store.revokeDevice('till-b');
      expect((await store.listDevices())[1]).toEqual(b);
      expect(await store.acceptDeviceToken('till-a', nonce(), 60_000)).toBe('accepted');
    });

    it('remembers page results per device, newest first, each once, bounded, and forgets them at their TTL', async () => {
      const card = makeCard();
      const ids = Array.from({ length: 25 }, () => newSessionId(card.token));
      for (const id of ids) await store.rememberResult('till-r', id, 60_000);
      await store.rememberResult('till-r', ids[24], 60_000);
      const recent = await store.recentResults('till-r');
      expect(recent).toEqual(ids.slice(5).reverse());
      expect(await store.recentResults('till-other')).toEqual([]);
      await store.rememberResult('till-short', ids[0], 30);
      await new Promise((resolve) => setTimeout(resolve, 80));
      expect(await store.recentResults('till-short')).toEqual([]);
    });

    it('announces each revocation to every watcher on the store, whichever handle revoked, and lists the revoked', async () => {
      const [a, b] = await handles(2);
      const heard: string[][] = [[], []];
      const feeds = await Promise.all([a, b].map((s, i) => s.watchRevocations({ revoked: (id) => heard[i].push(id), resumed: () => {} })));
      try {
        await b.recordDevice('till-ok');
        await b.recordDevice('till-r2');
        expect(await b.revokeDevice('till-r2')).toBe('revoked');
        expect(await a.revokeDevice('till-r1', { evenIfUnknown: true })).toBe('revoked');
        expect(await a.revokeDevice('till-nobody')).toBe('unknown'); // nothing written: nothing announced or listed
        await eventually(() => heard.every((h) => h.length === 2), 'both revocations heard by both watchers');
        expect(heard.map((h) => [...h].sort())).toEqual([['till-r1', 'till-r2'], ['till-r1', 'till-r2']]);
        expect(await a.revokedDevices()).toEqual(['till-r1', 'till-r2']);
        expect(await b.revokedDevices()).toEqual(['till-r1', 'till-r2']);
        // revoked again: announced again (a gateway that missed it hears it), listed once
        await feeds[0].close();
        expect(await a.revokeDevice('till-r1')).toBe('already-revoked');
        await eventually(() => heard[1].length === 3, 'the repeated revocation heard');
        expect(heard[1][2]).toBe('till-r1');
        expect(heard[0]).toHaveLength(2); // a closed feed hears nothing more
        expect(await a.revokedDevices()).toEqual(['till-r1', 'till-r2']);
      } finally {
        await Promise.all(feeds.map((f) => f.close()));
      }
    });

    it('refuses every token of a revoked device', async () => {
      expect(await store.revokeDevice('till-9', { evenIfUnknown: true })).toBe('revoked');
      expect(await store.acceptDeviceToken('till-9', nonce(), 60_000)).toBe('revoked');
      expect(await store.acceptDeviceToken('till-8', nonce(), 60_000)).toBe('accepted');
    });

    it('revokes only a device it knows (recorded, revoked or connected), unless told; nothing written for an unknown one', async () => {
      expect(await store.revokeDevice('till-typo')).toBe('unknown');
      expect(await store.listDevices()).toEqual([]);
      expect(await store.acceptDeviceToken('till-typo', nonce(), 60_000)).toBe('accepted'); // not revoked by the refused call
      // that connection made it known: now it is revoked, and a second revocation changes nothing
      expect(await store.revokeDevice('till-typo')).toBe('revoked');
      const [revoked] = await store.listDevices();
      expect(revoked).toMatchObject({ deviceId: 'till-typo', provisionedAt: null, revokedAt: expect.any(Number), lastConnectedAt: expect.any(Number) });
      expect(await store.revokeDevice('till-typo')).toBe('already-revoked');
      expect(await store.revokeDevice('till-typo', { evenIfUnknown: true })).toBe('already-revoked');
      expect(await store.listDevices()).toEqual([revoked]); // the first revocation's time is kept
      // a recorded device is known before it ever connects
      expect(await store.recordDevice('till-new')).toBe(true);
      expect(await store.revokeDevice('till-new')).toBe('revoked');
      // evenIfUnknown: a device provisioned without a record that never connected
      expect(await store.revokeDevice('till-quiet', { evenIfUnknown: true })).toBe('revoked');
      expect(await store.acceptDeviceToken('till-quiet', nonce(), 60_000)).toBe('revoked');
      expect((await store.listDevices()).map((d) => d.deviceId)).toEqual(['till-new', 'till-quiet', 'till-typo']);
    });

    it('revokes once when many handles race: one "revoked", the rest "already-revoked", one time kept', async () => {
      const stores = await handles(3);
      await store.recordDevice('till-race');
      const outcomes = await Promise.all(Array.from({ length: 30 }, (_, i) => stores[i % 3].revokeDevice('till-race')));
      expect(outcomes.filter((o) => o === 'revoked')).toHaveLength(1);
      expect(outcomes.filter((o) => o === 'already-revoked')).toHaveLength(29);
      const unknown = await Promise.all(Array.from({ length: 12 }, (_, i) => stores[i % 3].revokeDevice('till-nobody')));
      expect(new Set(unknown)).toEqual(new Set(['unknown']));
      expect((await store.listDevices()).map((d) => d.deviceId)).toEqual(['till-race']);
    });

    it('notes a device\'s last accepted connection, not a replayed or revoked one; a device that only connected is not listed', async () => {
      expect(await store.recordDevice('till-c')).toBe(true);
      expect(await store.recordDevice('till-c')).toBe(false); // the first time is kept
      expect((await store.listDevices())[0]).toEqual({ deviceId: 'till-c', provisionedAt: expect.any(Number), revokedAt: null, lastConnectedAt: null, merchant: null });
      const n = nonce();
      const before = Date.now();
      expect(await store.acceptDeviceToken('till-c', n, 60_000)).toBe('accepted');
      const first = (await store.listDevices())[0].lastConnectedAt!;
      expect(first).toBeGreaterThanOrEqual(before);
      expect(first).toBeLessThanOrEqual(Date.now());
      await new Promise((resolve) => setTimeout(resolve, 5));
      expect(await store.acceptDeviceToken('till-c', n, 60_000)).toBe('replayed');
      expect((await store.listDevices())[0].lastConnectedAt).toBe(first);
      expect(await store.acceptDeviceToken('till-c', nonce(), 60_000)).toBe('accepted');
      const second = (await store.listDevices())[0].lastConnectedAt!;
      expect(second).toBeGreaterThan(first);
      expect(await store.revokeDevice('till-c')).toBe('revoked');
      expect(await store.acceptDeviceToken('till-c', nonce(), 60_000)).toBe('revoked');
      expect((await store.listDevices())[0].lastConnectedAt).toBe(second);
      // connected only: known (revocable) but not in the list
      expect(await store.acceptDeviceToken('till-only', nonce(), 60_000)).toBe('accepted');
      expect((await store.listDevices()).map((d) => d.deviceId)).toEqual(['till-c']);
    });

    it('binds a device to one merchant, once, whatever the races; a binding is kept through revocation and never moved', async () => {
      const stores = await handles(3);
      expect(await store.getDevice('till-m')).toBeNull();
      const outcomes = await Promise.all(Array.from({ length: 30 }, (_, i) => stores[i % 3].bindDevice('till-m', i % 2 === 0 ? 'shop-a' : 'shop-b')));
      const winner = (await store.getDevice('till-m'))!.merchant!;
      expect(['shop-a', 'shop-b']).toContain(winner);
      expect(outcomes.filter((o) => o === 'bound')).toHaveLength(1);
      expect(outcomes.filter((o) => o === 'already-bound')).toHaveLength(14); // the winner's other 14
      expect(outcomes.filter((o) => o === 'bound-elsewhere')).toHaveLength(15);
      expect(await store.getDevice('till-m')).toEqual({ deviceId: 'till-m', provisionedAt: null, revokedAt: null, lastConnectedAt: null, merchant: winner });
      expect((await store.listDevices()).map((d) => d.deviceId)).not.toContain('till-m'); // bound, not recorded: listed once recorded
      expect(await store.recordDevice('till-m')).toBe(true);
      expect(await store.revokeDevice('till-m')).toBe('revoked');
      expect(await store.bindDevice('till-m', winner === 'shop-a' ? 'shop-b' : 'shop-a')).toBe('bound-elsewhere');
      expect((await store.listDevices()).find((d) => d.deviceId === 'till-m')).toMatchObject({ merchant: winner, revokedAt: expect.any(Number) });
      expect(await failure(store.bindDevice('till-m', 'no spaces'))).toBe('BAD_ARGUMENT');
      expect(await failure(store.bindDevice('bad id', 'shop-a'))).toBe('BAD_ARGUMENT');
    });

    it('lists devices in the same order on both stores (by UTF-16 code unit, as a JavaScript sort)', async () => {
      for (const id of ['b', 'B', 'a_1', 'a-1', 'A', '_z', '9']) await store.recordDevice(id);
      expect((await store.listDevices()).map((d) => d.deviceId)).toEqual(['9', 'A', 'B', '_z', 'a-1', 'a_1', 'b']);
    });

    it('lets a burst through and no more, shared by every handle', async () => {
      const stores = await handles(3);
      const limit = { perSecond: 0.001, burst: 5 }; // no refill within the test
      const taken = await Promise.all(Array.from({ length: 40 }, (_, i) => stores[i % 3].takeRate('device:burst', limit)));
      expect(taken.filter(Boolean)).toHaveLength(5);
      expect(await store.takeRate('device:other', limit)).toBe(true);
    });

    it('refills at the rate', async () => {
      const limit = { perSecond: 20, burst: 1 };
      expect(await store.takeRate('device:refill', limit)).toBe(true);
      expect(await store.takeRate('device:refill', limit)).toBe(false);
      await new Promise((resolve) => setTimeout(resolve, 80));
      expect(await store.takeRate('device:refill', limit)).toBe(true);
    });

    it('takes a frame\'s rate unit inside openSession and beginPinAttempt: from the same budget as takeRate, first, and a refused one changes nothing', async () => {
      const stores = await handles(3);
      const rate = { key: 'device:in-step', limit: { perSecond: 0.001, burst: 4 } }; // no refill within the test
      const card = await inserted();
      const sessions = Array.from({ length: 12 }, () => makeSession(card));
      // 12 scans at once over 3 handles, with 4 units: 4 sessions open, 8 answers RATE_LIMITED and no session
      const answers = await Promise.all(sessions.map((session, i) => stores[i % 3].openSession(session, claimFor(session), [rate])));
      const opened = sessions.filter((_, i) => answers[i].ok);
      expect(opened).toHaveLength(4);
      expect(answers.filter((a) => !a.ok && a.reason === 'RATE_LIMITED')).toHaveLength(8);
      for (const [i, session] of sessions.entries()) {
        expect((await store.getSession(session.id)) === null).toBe(!answers[i].ok);
      }
      // the same budget as takeRate: spent
      expect(await store.takeRate(rate.key, rate.limit)).toBe(false);
      // a PIN with a spent unit: refused before anything else, nothing counted, the session still open
      const [first] = opened;
      expect(await store.beginPinAttempt(first.id, first.deviceId, newAttempt(), Date.now(), POLICY, [rate])).toEqual({ kind: 'refused', reason: 'RATE_LIMITED' });
      expect((await store.getSession(first.id))!.state).toBe('open');
      expect((await store.getCard(card.token))!.pinFailures).toBe(0);
      // refused first: even a session that does not exist reads RATE_LIMITED, not SESSION_UNKNOWN
      const unknown = makeSession(card);
      expect(await store.beginPinAttempt(unknown.id, unknown.deviceId, newAttempt(), Date.now(), POLICY, [rate])).toEqual({ kind: 'refused', reason: 'RATE_LIMITED' });
      const unknownCard = makeSession(makeCard());
      expect(await store.openSession(unknownCard, claimFor(unknownCard), [rate])).toEqual({ ok: false, reason: 'RATE_LIMITED' });
      // another device's budget is its own, and a unit taken in the step counts as takeRate would
      const other = { key: 'device:in-step-2', limit: { perSecond: 0.001, burst: 2 } };
      expect((await begin(store, first, newAttempt(), Date.now())).kind).toBe('evaluate');
      const second = opened[1];
      expect((await store.beginPinAttempt(second.id, second.deviceId, newAttempt(), Date.now() + POLICY.paceMs + 1, POLICY, [other])).kind).toBe('evaluate');
      expect(await store.takeRate(other.key, other.limit)).toBe(true);
      expect(await store.takeRate(other.key, other.limit)).toBe(false);
      // a malformed unit is BAD_ARGUMENT, and nothing is taken or opened
      const bad = makeSession(card);
      expect(await failure(store.openSession(bad, claimFor(bad), [{ key: 'a b', limit: rate.limit }]))).toBe('BAD_ARGUMENT');
      expect(await failure(store.openSession(bad, claimFor(bad), [{ key: 'ok', limit: { perSecond: 0, burst: 1 } }]))).toBe('BAD_ARGUMENT');
      expect(await store.getSession(bad.id)).toBeNull();
    });

    it('rejects malformed device ids, nonces, rate keys and limits with BAD_ARGUMENT', async () => {
      expect(await failure(store.acceptDeviceToken('bad id', nonce(), 1_000))).toBe('BAD_ARGUMENT');
      expect(await failure(store.acceptDeviceToken('till-1', 'XYZ', 1_000))).toBe('BAD_ARGUMENT');
      expect(await failure(store.revokeDevice('*'))).toBe('BAD_ARGUMENT');
      expect(await failure(store.takeRate('a b', { perSecond: 1, burst: 1 }))).toBe('BAD_ARGUMENT');
      expect(await failure(store.takeRate('ok', { perSecond: 0, burst: 1 }))).toBe('BAD_ARGUMENT');
      expect(await failure(store.takeRate('ok', { perSecond: 1, burst: 0 }))).toBe('BAD_ARGUMENT');
    });
  });

  it('answers ping', async () => {
    await expect(store.ping()).resolves.toBeUndefined();
  });
}

describe('MemoryStore', () => {
  storeContract(async () => {
    const store = new MemoryStore();
    return { store, sibling: async () => store };
  });

  it('says it is embedded and not persistent', () => {
    const store = new MemoryStore();
    expect(store.persistent).toBe(false);
    expect(store.description).toMatch(/^embedded \(in-process, not persistent/);
  });

  it('forgets sessions past their retention (bounded memory)', async () => {
    const store = new MemoryStore();
    const card = makeCard();
    await store.insertCard(card);
    const longAgo = Date.now() - USED_SESSION_RETENTION_MS - 60_000;
    const stale = makeSession(card, { createdAt: longAgo - 1_000, expiresAt: longAgo });
    expect((await store.openSession(stale, claimFor(stale))).ok).toBe(true);
    expect(await store.beginPinAttempt(stale.id, stale.deviceId, newAttempt(), Date.now(), POLICY)).toEqual({ kind: 'refused', reason: 'SESSION_UNKNOWN' });
  });
});

describeRedis(redis, 'RedisStore', (server) => {
  const runPrefix = testKeyPrefix();
  let next = 0;
  const freshPrefix = (): string => `${runPrefix}${next++}:`;

  afterAll(async () => {
    await deleteKeys(server.url, runPrefix);
  });

  storeContract(async () => {
    const prefix = freshPrefix();
    const store = await RedisStore.connect(server.url, { prefix });
    return { store, sibling: () => RedisStore.connect(server.url, { prefix }) };
  });

  describe('Redis only', () => {
    let raw: Redis;
    beforeEach(() => {
      raw = new Redis(server.url);
    });
    afterEach(async () => {
      await raw.quit();
    });

    it('with WAIT for a replica a single Redis lacks: STORE_UNAVAILABLE, the write stands, and the retry replays it exactly once', async () => {
      const prefix = freshPrefix();
      const waiting = await RedisStore.connect(server.url, { prefix, waitReplicas: 1, waitTimeoutMs: 50 });
      const plain = await RedisStore.connect(server.url, { prefix });
      try {
        const { card, request } = await countedPayment(plain);
        expect(await failure(waiting.authorizePayment(request))).toBe('STORE_UNAVAILABLE');
        expect((await plain.getCard(card.token))!.balance).toBe(4_000); // applied on the master, not acknowledged
        const retried = await plain.authorizePayment({ ...request, attempt: newAttempt() });
        expect(retried).toMatchObject({ replayed: true, record: { outcome: 'approved', balanceAfter: 4_000 } });
        expect((await plain.getCard(card.token))!.balance).toBe(4_000);
        // the PIN attempt count waits too: counted on the master, refused to the caller
        const session = makeSession(card);
        await plain.openSession(session, claimFor(session));
        expect(await failure(waiting.beginPinAttempt(session.id, session.deviceId, newAttempt(), Date.now(), POLICY))).toBe('STORE_UNAVAILABLE');
        expect(await raw.hget(layout(prefix).card(card.token), 'pinInFlight')).toMatch(/@[0-9]+$/); // in flight on the master
      } finally {
        await Promise.all([waiting.close(), plain.close()]);
      }
    });

    it('refuses a WAIT timeout of 0 (WAIT would block forever) or at or past the command deadline', () => {
      const client = new Redis({ lazyConnect: true });
      for (const waitTimeoutMs of [0, 2_000, 1.5]) {
        expect(() => new RedisStore(client, { waitReplicas: 1, waitTimeoutMs })).toThrow(/waitTimeoutMs/);
      }
      expect(() => new RedisStore(client, { waitReplicas: -1 })).toThrow(/waitReplicas/);
      client.disconnect();
    });

    it('says where it is, without the password, and that it is persistent', async () => {
      const url = new URL(server.url);
      url.password = 'not-the-password';
      const store = await RedisStore.connect(url.toString(), { prefix: freshPrefix() });
      expect(store.persistent).toBe(true);
      expect(store.description).toBe(`redis redis://${url.hostname}:${url.port}/${url.pathname.slice(1) || '0'}`);
      await store.close();
    });

    it('gives session keys a TTL (unused: expiry + 10 min; used: expiry + 24 h), and no TTL to cards, count and ledger', async () => {
      const prefix = freshPrefix();
      const store = await RedisStore.connect(server.url, { prefix });
      const card = makeCard();
      await store.insertCard(card);
      const session = makeSession(card);
      await store.openSession(session, claimFor(session));
      const keys = layout(prefix);
      const unusedTtl = await raw.pttl(keys.session(session.id));
      expect(unusedTtl).toBeGreaterThan(0);
      expect(unusedTtl).toBeLessThanOrEqual(session.expiresAt + EXPIRED_SESSION_RETENTION_MS - Date.now() + 1_000);
      await store.beginPinAttempt(session.id, session.deviceId, newAttempt(), Date.now(), POLICY);
      const usedTtl = await raw.pttl(keys.session(session.id));
      expect(usedTtl).toBeGreaterThan(USED_SESSION_RETENTION_MS - 60_000);
      expect(usedTtl).toBeLessThanOrEqual(session.expiresAt + USED_SESSION_RETENTION_MS - Date.now() + 1_000);
      await store.authorizePayment(makePayment(card, { sessionId: session.id }));
      for (const key of [keys.card(card.token), keys.cardCount, keys.payment(session.id)]) expect(await raw.pttl(key)).toBe(-1);
      await store.close();
    });

    it('lets the server drop a session at its TTL', async () => {
      const prefix = freshPrefix();
      const store = await RedisStore.connect(server.url, { prefix });
      // Expired long enough ago that expiresAt + retention has passed too: the key must never stay.
      const longAgo = Date.now() - EXPIRED_SESSION_RETENTION_MS - 1_000;
      const card = makeCard();
      await store.insertCard(card);
      const session = makeSession(card, { createdAt: longAgo - 1_000, expiresAt: longAgo });
      await store.openSession(session, claimFor(session));
      expect(await raw.exists(layout(prefix).session(session.id))).toBe(0);
      expect(await store.beginPinAttempt(session.id, session.deviceId, newAttempt(), Date.now(), POLICY)).toEqual({ kind: 'refused', reason: 'SESSION_UNKNOWN' });
      await store.close();
    });

    it('writes only keys under its prefix, each payment\'s under one hash tag', async () => {
      const prefix = freshPrefix();
      const client = new Redis(server.url);
      const touched: string[] = [];
      const send = client.sendCommand.bind(client);
      client.sendCommand = (command: Command, ...rest: unknown[]) => {
        touched.push(...command.getKeys().map(String));
        return (send as (...args: unknown[]) => unknown)(command, ...rest);
      };
      const store = new RedisStore(client, { prefix });
      const card = makeCard();
      await store.insertCard(card);
      await store.updateCard(card.token, (c) => ({ ...c, generation: 2 }));
      const session = makeSession(card);
      await store.openSession(session, claimFor(card, { generation: 2 }));
      await store.getSession(session.id);
      await store.beginPinAttempt(session.id, session.deviceId, newAttempt(), Date.now(), POLICY);
      await store.authorizePayment(makePayment(card, { sessionId: session.id }));
      await store.getLedgerRecord(session.id);
      const wrong = makeSession(card);
      await store.openSession(wrong, claimFor(card, { generation: 2 }));
      await store.beginPinAttempt(wrong.id, wrong.deviceId, newAttempt(), Date.now(), POLICY);
      await store.settleFailedPin(wrong.id, 'wrong', 3, Date.now());
      await store.countCards();
      await store.acceptDeviceToken('till-1', newAttempt(), 60_000);
      await store.revokeDevice('till-2', { evenIfUnknown: true });
      await store.takeRate('device:till-1', { perSecond: 1, burst: 1 });
      await store.close();

      const keys = layout(prefix);
      // each session's payload key too, deleted once the session was decided
      const expected = [
        keys.card(card.token), keys.cardCount, keys.session(session.id), keys.payment(session.id), keys.session(wrong.id),
        keys.sessionPayload(session.id), keys.sessionPayload(wrong.id),
        keys.entries(session.id), keys.events(session.id), // the payment's entries and events (its merchant's index and outbox are written inside the script: not declared keys)
        keys.walletsActive(card.token), // declared by the scan and the authorization (read only under a 'refused-when-enrolled' policy: never written here)
      ];
      for (const key of touched) expect(key.startsWith(prefix)).toBe(true);
      expect(new Set(touched)).toEqual(new Set([
        ...expected, keys.device('till-1'), keys.device('till-2'), keys.deviceIndex, keys.revokedDevices, keys.rate('device:till-1'),
        ...touched.filter((k) => k.startsWith(`${prefix}{dev:till-1}:nonce:`)),
      ]));
      // card, sessions and ledger of one card share the hash tag {shard}: one cluster slot for every payment step
      const tag = `{${card.token.slice(0, 4)}}`;
      for (const key of [keys.card(card.token), keys.session(session.id), keys.sessionPayload(session.id), keys.payment(session.id), keys.entries(session.id), keys.events(session.id), keys.session(wrong.id), keys.walletsActive(card.token)]) expect(key).toContain(tag);
      // till-1's device key holds its last connection (connectedAt); the payment's entries and events, and its
      // merchant's index and outbox (and the set of merchants with events)
      expect(await keysUnder(raw, prefix)).toHaveLength(16);
      expect(await keysUnder(raw, prefix)).toEqual(expect.arrayContaining([
        keys.merchantPayments(session.merchant), keys.outbox(session.merchant), keys.eventMerchants, keys.events(session.id),
      ]));
      expect(await raw.hkeys(keys.device('till-1'))).toEqual(['connectedAt']);
      expect(keys.revocations.startsWith(prefix)).toBe(true); // the revocations channel too
      if (!server.shared) {
        // A private server holds only this run's keys: nothing anywhere lacks the run's prefix.
        expect((await keysUnder(raw, '')).filter((key) => !key.startsWith(runPrefix))).toEqual([]);
      }
    });

    it('keeps a session\'s card payload only while it can take a PIN: gone once decided, and at expiry + takeover at the latest', async () => {
      const prefix = freshPrefix();
      const store = await RedisStore.connect(server.url, { prefix });
      const keys = layout(prefix);
      const card = makeCard({ balance: 10_000 });
      await store.insertCard(card);
      const [open, wrong, paid, decided] = [makeSession(card), makeSession(card), makeSession(card), makeSession(card)];
      for (const session of [open, wrong, paid, decided]) await store.openSession(session, claimFor(card));
      const ttl = await raw.pttl(keys.sessionPayload(open.id));
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(open.expiresAt + 10_000 - Date.now() + 1_000); // PXAT expiresAt + the default takeover
      expect(Buffer.from((await raw.get(keys.sessionPayload(open.id)))!, 'base64')).toEqual(Buffer.from(open.payload));
      await store.beginPinAttempt(wrong.id, wrong.deviceId, newAttempt(), Date.now(), POLICY);
      await store.settleFailedPin(wrong.id, 'wrong', 3, Date.now());
      const attempt = newAttempt();
      await store.beginPinAttempt(paid.id, paid.deviceId, attempt, Date.now(), POLICY);
      await store.authorizePayment(makePayment(card, { sessionId: paid.id, amount: paid.amount, attempt }));
      await store.updateCard(card.token, (c) => ({ ...c, status: 'blocked' }));
      expect((await store.beginPinAttempt(decided.id, decided.deviceId, newAttempt(), Date.now(), POLICY)).kind).toBe('decided');
      const payloads = (await keysUnder(raw, prefix)).filter((key) => key.includes(':payload:'));
      expect(payloads).toEqual([keys.sessionPayload(open.id)]);
      // and no session record holds a payload in any form
      for (const session of [open, wrong, paid, decided]) {
        const fields = await raw.hgetall(keys.session(session.id));
        expect(JSON.stringify(fields)).not.toContain(Buffer.from(session.payload).toString('base64').slice(0, 40));
      }
      await store.close();
    });

    it('a revocation feed whose subscriber was cut listens again and says so (resumed), so a revocation missed meanwhile is read', async () => {
      const prefix = freshPrefix();
      const store = await RedisStore.connect(server.url, { prefix });
      const other = await RedisStore.connect(server.url, { prefix });
      let resumed = 0;
      const heard: string[] = [];
      const feed = await store.watchRevocations({ revoked: (id) => heard.push(id), resumed: () => resumed++ });
      try {
        const name = `${prefix}revocations`;
        const line = ((await raw.call('CLIENT', 'LIST', 'TYPE', 'pubsub')) as string).split('\n').find((l) => l.includes(` name=${name} `));
        expect(line).toBeDefined(); // CLIENT LIST names the subscriber after its channel
        await raw.client('KILL', 'ID', /\bid=(\d+)/.exec(line!)![1]);
        await other.revokeDevice('till-cut', { evenIfUnknown: true }); // very likely published while no subscriber listens: lost
        await eventually(() => resumed === 1, 'resumed after the cut');
        expect(await store.revokedDevices()).toEqual(['till-cut']); // what the watcher reads on `resumed`
        await other.revokeDevice('till-after', { evenIfUnknown: true });
        await eventually(() => heard.includes('till-after'), 'a revocation after the cut heard');
      } finally {
        await feed.close();
        await Promise.all([store.close(), other.close()]);
      }
      // closed: the subscriber is gone from the server
      expect(((await raw.call('CLIENT', 'LIST', 'TYPE', 'pubsub')) as string)).not.toContain(` name=${prefix}revocations `);
    });

    it('gives up with STORE_CONFLICT when every compare-and-set loses, leaving the competing write', async () => {
      const prefix = freshPrefix();
      const client = new Redis(server.url);
      const store = new RedisStore(client, { prefix });
      const card = makeCard();
      await store.insertCard(card);
      let attempts = 0;
      // Queued on the store's own connection, so it always lands between the read and the compare-and-set.
      const interfere = (): void => void client.hset(layout(prefix).card(card.token), 'updatedAt', String(++attempts));
      const update = store.updateCard(card.token, (c) => (interfere(), { ...c, balance: 0 }));
      expect(await failure(update)).toBe('STORE_CONFLICT');
      expect(attempts).toBe(50);
      expect(await store.getCard(card.token)).toEqual({ ...card, updatedAt: 50 });
      await store.close();
    });

    it('keeps a PIN lockout and used device tokens across a restart of the gateway (a new connection)', async () => {
      const prefix = freshPrefix();
      const before = await RedisStore.connect(server.url, { prefix });
      const card = makeCard();
      await before.insertCard(card);
      const pending = makeSession(card); // scanned before the lock
      await before.openSession(pending, claimFor(pending));
      for (let i = 0; i < 3; i++) {
        const session = makeSession(card);
        await before.openSession(session, claimFor(session));
        await before.beginPinAttempt(session.id, session.deviceId, newAttempt(), Date.now(), POLICY);
        await before.settleFailedPin(session.id, 'wrong', 3, Date.now());
      }
      const nonce = newAttempt();
      expect(await before.acceptDeviceToken('till-1', nonce, 60_000)).toBe('accepted');
      await before.close();
      const after = await RedisStore.connect(server.url, { prefix });
      expect(await after.getCard(card.token)).toMatchObject({ status: 'locked', pinFailures: 3 });
      expect(await after.openSession(makeSession(card), claimFor(card))).toEqual({ ok: false, reason: 'CARD_LOCKED' });
      expect(await after.beginPinAttempt(pending.id, pending.deviceId, newAttempt(), Date.now(), POLICY)).toMatchObject({ kind: 'decided', result: LOCKED });
      expect(await after.acceptDeviceToken('till-1', nonce, 60_000)).toBe('replayed');
      await after.close();
    });

    it('reads a session stored before its purpose and PIN entry had fields of their own from its JSON, as before', async () => {
      const prefix = freshPrefix();
      const store = await RedisStore.connect(server.url, { prefix });
      // each session on a card of its own: the attempts evaluated below stay in flight on their cards
      const older = async (fields: Partial<AuthSession>): Promise<AuthSession> => {
        const card = makeCard();
        await store.insertCard(card);
        const session = makeSession(card, fields);
        expect(await store.openSession(session, claimFor(card))).toEqual({ ok: true });
        const key = layout(prefix).session(session.id);
        expect(await raw.hmget(key, 'purpose', 'pinEntry')).toEqual([session.purpose ?? 'payment', session.pinEntry ?? '']);
        await raw.hdel(key, 'purpose', 'pinEntry');
        return session;
      };
      try {
        const holder = await older({ pinEntry: 'holder-device' });
        expect(await store.beginPinAttempt(holder.id, holder.deviceId, newAttempt(), Date.now(), { ...POLICY, from: 'scanner' })).toEqual({ kind: 'refused', reason: 'PIN_ENTRY_HOLDER_DEVICE' });
        expect((await store.beginPinAttempt(holder.id, holder.deviceId, newAttempt(), Date.now(), { ...POLICY, from: 'page' })).kind).toBe('evaluate');
        const payment = await older({});
        expect(await store.beginPinAttempt(payment.id, payment.deviceId, newAttempt(), Date.now(), { ...POLICY, purpose: ENROLMENT_PURPOSE })).toEqual({ kind: 'refused', reason: 'SESSION_UNKNOWN' });
        expect((await store.beginPinAttempt(payment.id, payment.deviceId, newAttempt(), Date.now(), { ...POLICY, from: 'scanner' })).kind).toBe('evaluate');
        const enrolment = await older({ amount: 0, deviceId: ENROLMENT_DEVICE, merchant: ENROLMENT_MERCHANT, purpose: ENROLMENT_PURPOSE });
        expect(await store.beginPinAttempt(enrolment.id, null, newAttempt(), Date.now(), { ...POLICY, from: 'page' })).toEqual({ kind: 'refused', reason: 'SESSION_UNKNOWN' });
        const attempt = newAttempt();
        expect((await store.beginPinAttempt(enrolment.id, null, attempt, Date.now(), { ...POLICY, from: 'page', purpose: ENROLMENT_PURPOSE })).kind).toBe('evaluate');
        const done = await store.completeEnrolment(enrolment.id, { id: randomBytes(16).toString('hex'), wrappedPan: new Uint8Array(randomBytes(44)) }, attempt, Date.now());
        expect(done.kind).toBe('enrolled');
      } finally {
        await store.close();
      }
    });

    it('reports a damaged row as STORE_CORRUPT, without its content in the message', async () => {
      const prefix = freshPrefix();
      const store = await RedisStore.connect(server.url, { prefix });
      const card = makeCard();
      await store.insertCard(card);
      await raw.hset(layout(prefix).card(card.token), 'balance', 'lots');
      const error = await store.getCard(card.token).catch((e: unknown) => e);
      expect(isScanpayError(error, 'STORE_CORRUPT')).toBe(true);
      // read by a script (the PIN attempt's HMGET of the card's fields): a bad value, then a missing field
      const attemptOn = async () => {
        const session = makeSession(card);
        await store.openSession(session, claimFor(card));
        return store.beginPinAttempt(session.id, session.deviceId, newAttempt(), Date.now(), POLICY).catch((e: unknown) => e);
      };
      expect(isScanpayError(await attemptOn(), 'STORE_CORRUPT')).toBe(true);
      await raw.hset(layout(prefix).card(card.token), 'balance', String(card.balance));
      await raw.hdel(layout(prefix).card(card.token), 'pvv');
      expect(isScanpayError(await attemptOn(), 'STORE_CORRUPT')).toBe(true);
      const damaged = '4000001234567899';
      await raw.hset(layout(prefix).payment('0'.repeat(32)), 'head', `{"card":"${damaged}"`, 'decision', 'approved', 'balanceAfter', '1');
      const ledgerError = await store.getLedgerRecord('0'.repeat(32)).catch((e: unknown) => e);
      expect(isScanpayError(ledgerError, 'STORE_CORRUPT')).toBe(true);
      expect(String((ledgerError as Error).message)).not.toContain(damaged);
      await store.close();
    });

    it('refuses an empty prefix, one with glob characters, or one with braces (they would replace the hash tags)', () => {
      for (const prefix of ['', 'scanpay*', 'a b:', 'scanpay:{x}:']) {
        expect(() => new RedisStore(raw, { prefix })).toThrow(/prefix must match/);
      }
    });

    it('fails to connect to a closed port with STORE_UNAVAILABLE', async () => {
      const url = server.url.replace(/:\d+(\/|$)/, ':1$1'); // port 1: nothing listens there
      expect(await failure(RedisStore.connect(url))).toBe('STORE_UNAVAILABLE');
    });

    it('is what openStore picks for a URL, with the prefix given', async () => {
      const prefix = freshPrefix();
      const store = await openStore({ redisUrl: server.url, prefix });
      expect(store).toBeInstanceOf(RedisStore);
      await store.insertCard(makeCard());
      expect(await raw.get(layout(prefix).cardCount)).toBe('1');
      await store.close();
    });
  });
});

describeCluster(cluster, 'RedisStore on a Redis Cluster (3 masters, 3 replicas, WAIT for 1 replica)', (c) => {
  const nodes = parseClusterNodes(c.nodes.join(','));
  const options = (prefix: string) => ({ prefix, waitReplicas: 1, waitTimeoutMs: 1_000 });

  storeContract(async () => {
    const prefix = testKeyPrefix();
    const store = await RedisStore.connectCluster(nodes, options(prefix));
    return { store, sibling: () => RedisStore.connectCluster(nodes, options(prefix)) };
  });

  describe('cluster only', () => {
    let raw: Cluster;
    beforeEach(async () => {
      raw = new Cluster(nodes);
      await raw.ping();
    });
    afterEach(async () => {
      await raw.quit();
    });

    it('puts cards on all three masters (a hash tag per card shard, not one slot for everything) and counts them exactly', async () => {
      const prefix = testKeyPrefix();
      const store = await RedisStore.connectCluster(nodes, options(prefix));
      try {
        expect(store.description).toMatch(/^redis cluster (127\.0\.0\.1:\d+,){2}127\.0\.0\.1:\d+$/);
        for (let i = 0; i < 30; i++) await store.insertCard(makeCard());
        expect(await store.countCards()).toBe(30);
        const perMaster = await Promise.all(raw.nodes('master').map(async (node) => (await keysUnder(node, prefix)).length));
        expect(perMaster).toHaveLength(3);
        for (const n of perMaster) expect(n).toBeGreaterThan(0);
        expect(perMaster.reduce((a, b) => a + b, 0)).toBe(31); // 30 cards + the count key
      } finally {
        await store.close();
      }
    });

    it('WAITs on the node that ran the script: with that shard\'s replica stopped the payment is not acknowledged, another shard\'s is, and the retry replays once', async () => {
      const prefix = testKeyPrefix();
      const store = await RedisStore.connectCluster(nodes, { prefix, waitReplicas: 1, waitTimeoutMs: 300 });
      try {
        const here = await countedPayment(store);
        let there = await countedPayment(store);
        const slotOf = async (token: string) => Number(await raw.cluster('KEYSLOT', layout(prefix).card(token)));
        const slots = (await raw.cluster('SLOTS')) as unknown as [number, number, [string, number], [string, number]][];
        const shardOf = (slot: number) => slots.find(([from, to]) => slot >= from && slot <= to)!;
        const shard = shardOf(await slotOf(here.card.token));
        while (shardOf(await slotOf(there.card.token))[2][1] === shard[2][1]) there = await countedPayment(store);
        const replica = c.members.find((m) => m.address === `127.0.0.1:${shard[3][1]}`)!;
        process.kill(replica.pid, 'SIGSTOP');
        try {
          expect(await failure(store.authorizePayment(here.request))).toBe('STORE_UNAVAILABLE');
          expect((await store.authorizePayment(there.request)).record).toMatchObject({ outcome: 'approved' });
        } finally {
          process.kill(replica.pid, 'SIGCONT');
        }
        // the replica catches up; the retry is acknowledged, and the card was debited once
        let retried;
        for (let i = 0; i < 20 && !retried; i++) {
          retried = await store.authorizePayment({ ...here.request, attempt: newAttempt() }).catch(() => undefined);
        }
        expect(retried).toMatchObject({ replayed: true, record: { outcome: 'approved', balanceAfter: 4_000 } });
        expect((await store.getCard(here.card.token))!.balance).toBe(4_000);
      } finally {
        await store.close();
      }
    });
  });
});

describe('openStore', () => {
  it('picks the embedded store without a URL', async () => {
    expect(await openStore({})).toBeInstanceOf(MemoryStore);
    expect(await openStore({ redisUrl: '' })).toBeInstanceOf(MemoryStore);
  });

  it('refuses a URL and cluster nodes together, and a node list that is not host:port', async () => {
    expect(await failure(openStore({ redisUrl: 'redis://127.0.0.1:1', clusterNodes: '127.0.0.1:2' }))).toBe('BAD_ARGUMENT');
    for (const list of ['', ' , ', '127.0.0.1', 'host:0', 'host:70000', 'redis://h:1']) {
      expect(() => parseClusterNodes(list)).toThrow(/REDIS_CLUSTER_NODES/);
    }
    expect(parseClusterNodes('10.0.0.1:7000, [::1]:7001')).toEqual([{ host: '10.0.0.1', port: 7000 }, { host: '::1', port: 7001 }]);
  });
});
