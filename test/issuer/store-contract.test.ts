/**
 * The store contract (issuer/store/types.ts) as one suite, run against MemoryStore and RedisStore so the
 * embedded default and the real store cannot drift apart: cards and their compare-and-set, sessions
 * (single-use, expiring, bound to a scanner), PIN lockout, exactly-once authorization and the ledger.
 * Concurrency tests spread their calls over several handles on the same data (Redis: several connections).
 * Then what only Redis has: key TTLs, the key prefix, restarts, damaged rows, connection failures.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Redis, type Command } from 'ioredis';
import { isScanpayError } from '../../core/errors.ts';
import {
  EXPIRED_SESSION_RETENTION_MS, MemoryStore, RedisStore, USED_SESSION_RETENTION_MS, openStore,
  type CardRecord, type PaymentRequest, type Store,
} from '../../issuer/store/index.ts';
import { randomPan } from '../support/dvd1-fixture.ts';
import { deleteKeys, describeRedis, keysUnder, redisForTests, testKeyPrefix } from '../support/redis.ts';
import { makeCard, makePayment, makeSession, newSessionId } from '../support/store-fixtures.ts';

const redis = await redisForTests();
afterAll(async () => {
  await redis?.stop();
});

/** The ScanpayError code a call rejected with, 'resolved' if it did not, or a description of a foreign error. */
async function failure(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return 'resolved';
  } catch (e) {
    return isScanpayError(e) ? e.code : `not a ScanpayError: ${String(e)}`;
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
    it('inserts a card once: get returns it, a second insert of the PAN is false and changes nothing', async () => {
      const card = await inserted();
      expect(await store.getCard(card.pan)).toEqual(card);
      expect(await store.insertCard({ ...makeCard({ pan: card.pan }), balance: 1 })).toBe(false);
      expect(await store.getCard(card.pan)).toEqual(card);
    });

    it('returns null for an unknown PAN', async () => {
      expect(await store.getCard(randomPan())).toBeNull();
    });

    it('keeps its own copies: changing what went in or came out changes nothing stored', async () => {
      const card = makeCard();
      const original = structuredClone(card);
      await store.insertCard(card);
      card.pvv[0] ^= 0xff;
      card.wrappedBasicKey.fill(0);
      card.balance = 0;
      const read = (await store.getCard(card.pan))!;
      expect(read).toEqual(original);
      read.pvv.fill(0);
      read.status = 'blocked';
      const updated = (await store.updateCard(card.pan, (c) => ({ ...c, limit: 7 })))!;
      updated.wrappedBasicKey.fill(0);
      expect(await store.getCard(card.pan)).toEqual({ ...original, limit: 7 });
    });

    it('lets exactly one of 20 concurrent inserts of one PAN win', async () => {
      const pan = randomPan();
      const stores = await handles(4);
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => stores[i % 4].insertCard(makeCard({ pan }))));
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
      ['a PAN of 15 digits', { pan: '411111111111111' }, 'BAD_ARGUMENT'],
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
      const updated = await store.updateCard(card.pan, (c) => ({ ...c, generation: c.generation + 1, updatedAt: 42 }));
      expect(updated).toEqual({ ...card, generation: 2, updatedAt: 42 });
      expect(await store.getCard(card.pan)).toEqual(updated);
    });

    it('leaves the row alone when the mutation returns null, and returns it', async () => {
      const card = await inserted();
      expect(await store.updateCard(card.pan, () => null)).toEqual(card);
      expect(await store.getCard(card.pan)).toEqual(card);
    });

    it('returns null for an unknown card without calling the mutation', async () => {
      let called = false;
      const result = await store.updateCard(randomPan(), (c) => ((called = true), c));
      expect(result).toBeNull();
      expect(called).toBe(false);
    });

    it('loses no update: 100 concurrent increments of the balance add exactly 100', async () => {
      const card = await inserted({ balance: 1_000 });
      const stores = await handles(4);
      await Promise.all(
        Array.from({ length: 100 }, (_, i) => stores[i % 4].updateCard(card.pan, (c) => ({ ...c, balance: c.balance + 1 }))),
      );
      expect((await store.getCard(card.pan))!.balance).toBe(1_100);
    });

    it('refuses a mutation that changes the PAN or breaks the row, and keeps the row', async () => {
      const card = await inserted();
      expect(await failure(store.updateCard(card.pan, (c) => ({ ...c, pan: randomPan() })))).toBe('BAD_ARGUMENT');
      expect(await failure(store.updateCard(card.pan, (c) => ({ ...c, balance: -5 })))).toBe('BAD_ARGUMENT');
      expect(await store.getCard(card.pan)).toEqual(card);
    });
  });

  describe('sessions', () => {
    it('creates, reads and claims a session; a second create of the id is false', async () => {
      const session = makeSession(makeCard());
      expect(await store.createSession(session)).toBe(true);
      expect(await store.createSession({ ...session, scannerId: 'scanner-evil' })).toBe(false);
      expect(await store.getSession(session.id)).toEqual(session);
      expect(await store.claimSession(session.id, session.scannerId, Date.now())).toEqual({ ok: true, session });
      // getSession answers null only when unknown or expired: a used session stays readable until it expires.
      expect(await store.getSession(session.id)).toEqual(session);
    });

    it('answers a second claim with SESSION_USED', async () => {
      const session = makeSession(makeCard());
      await store.createSession(session);
      expect((await store.claimSession(session.id, session.scannerId, Date.now())).ok).toBe(true);
      expect(await store.claimSession(session.id, session.scannerId, Date.now())).toEqual({ ok: false, reason: 'SESSION_USED' });
    });

    it('answers another scanner with SESSION_WRONG_SCANNER without consuming the session', async () => {
      const session = makeSession(makeCard());
      await store.createSession(session);
      expect(await store.claimSession(session.id, 'scanner-2', Date.now())).toEqual({ ok: false, reason: 'SESSION_WRONG_SCANNER' });
      expect(await store.claimSession(session.id, session.scannerId, Date.now())).toEqual({ ok: true, session });
    });

    it('answers a claim from expiresAt on with SESSION_EXPIRED, and getSession hides an expired session', async () => {
      const live = makeSession(makeCard());
      await store.createSession(live);
      expect(await store.claimSession(live.id, live.scannerId, live.expiresAt)).toEqual({ ok: false, reason: 'SESSION_EXPIRED' });
      expect((await store.claimSession(live.id, live.scannerId, live.expiresAt - 1)).ok).toBe(true);

      const past = Date.now() - 1;
      const expired = makeSession(makeCard(), { createdAt: past - 60_000, expiresAt: past });
      expect(await store.createSession(expired)).toBe(true);
      expect(await store.getSession(expired.id)).toBeNull();
      expect(await store.claimSession(expired.id, expired.scannerId, Date.now())).toEqual({ ok: false, reason: 'SESSION_EXPIRED' });
    });

    it('keeps a used session SESSION_USED after it expires', async () => {
      const session = makeSession(makeCard());
      await store.createSession(session);
      await store.claimSession(session.id, session.scannerId, Date.now());
      expect(await store.claimSession(session.id, session.scannerId, session.expiresAt + 60_000)).toEqual({ ok: false, reason: 'SESSION_USED' });
    });

    it('answers an unknown id with SESSION_UNKNOWN and getSession with null', async () => {
      const id = newSessionId();
      expect(await store.claimSession(id, 'scanner-1', Date.now())).toEqual({ ok: false, reason: 'SESSION_UNKNOWN' });
      expect(await store.getSession(id)).toBeNull();
    });

    it('lets exactly one of 20 concurrent claims win', async () => {
      const session = makeSession(makeCard());
      await store.createSession(session);
      const stores = await handles(4);
      const claims = await Promise.all(Array.from({ length: 20 }, (_, i) => stores[i % 4].claimSession(session.id, session.scannerId, Date.now())));
      expect(claims.filter((c) => c.ok)).toHaveLength(1);
      expect(claims.filter((c) => !c.ok && c.reason === 'SESSION_USED')).toHaveLength(19);
    });

    it('rejects a malformed session or id with BAD_ARGUMENT', async () => {
      const session = makeSession(makeCard());
      expect(await failure(store.createSession({ ...session, id: 'not-hex' }))).toBe('BAD_ARGUMENT');
      expect(await failure(store.createSession({ ...session, expiresAt: session.createdAt - 1 }))).toBe('BAD_ARGUMENT');
      expect(await failure(store.createSession({ ...session, payload: 'x'.repeat(5_000) }))).toBe('BAD_ARGUMENT');
      expect(await failure(store.claimSession('../../etc', 'scanner-1', Date.now()))).toBe('BAD_ARGUMENT');
      expect(await store.getSession(session.id)).toBeNull();
    });
  });

  describe('PIN failures', () => {
    it('locks the card at the third failure; a correct PIN resets the count but not the lock', async () => {
      const card = await inserted();
      expect(await store.recordPinFailure(card.pan, 3)).toEqual({ failures: 1, locked: false });
      expect(await store.recordPinFailure(card.pan, 3)).toEqual({ failures: 2, locked: false });
      expect(await store.recordPinFailure(card.pan, 3)).toEqual({ failures: 3, locked: true });
      const [other] = (await handles(2)).slice(1);
      expect(await other.getCard(card.pan)).toMatchObject({ status: 'locked', pinFailures: 3 });
      await store.clearPinFailures(card.pan);
      expect(await store.getCard(card.pan)).toMatchObject({ status: 'locked', pinFailures: 0 });
    });

    it('resets the count on a correct PIN before the lock', async () => {
      const card = await inserted();
      await store.recordPinFailure(card.pan, 3);
      await store.recordPinFailure(card.pan, 3);
      await store.clearPinFailures(card.pan);
      expect(await store.recordPinFailure(card.pan, 3)).toEqual({ failures: 1, locked: false });
    });

    it('counts 30 concurrent failures exactly', async () => {
      const card = await inserted();
      const stores = await handles(3);
      await Promise.all(Array.from({ length: 30 }, (_, i) => stores[i % 3].recordPinFailure(card.pan, 3)));
      expect(await store.getCard(card.pan)).toMatchObject({ status: 'locked', pinFailures: 30 });
    });

    it('keeps a blocked card blocked, and answers null for an unknown card without creating it', async () => {
      const card = await inserted({ status: 'blocked', pinFailures: 2 });
      expect(await store.recordPinFailure(card.pan, 3)).toEqual({ failures: 3, locked: false });
      expect((await store.getCard(card.pan))!.status).toBe('blocked');
      const unknown = randomPan();
      expect(await store.recordPinFailure(unknown, 3)).toBeNull();
      await store.clearPinFailures(unknown);
      expect(await store.getCard(unknown)).toBeNull();
    });
  });

  describe('authorizePayment', () => {
    it('approves: balance down by the amount, the record in the ledger', async () => {
      const card = await inserted({ balance: 5_000 });
      const request = makePayment(card, { amount: 1_250 });
      const { record, replayed } = await store.authorizePayment(request);
      expect(replayed).toBe(false);
      const { sessionId, pan, merchant, amount, currency, cryptogram, at } = request;
      expect(record).toEqual({ sessionId, pan, merchant, amount, currency, cryptogram, at, outcome: 'approved', reason: null, balanceAfter: 3_750 });
      expect(await store.getCard(card.pan)).toMatchObject({ balance: 3_750, updatedAt: at });
      expect(await store.getLedgerRecord(request.sessionId)).toEqual(record);
    });

    it('replays a retry with the same session id: the same record, the balance unchanged', async () => {
      const card = await inserted({ balance: 5_000 });
      const request = makePayment(card, { amount: 1_000 });
      const first = await store.authorizePayment(request);
      const retry = await store.authorizePayment({ ...request, at: request.at + 5_000 });
      expect(retry).toEqual({ record: first.record, replayed: true });
      expect((await store.getCard(card.pan))!.balance).toBe(4_000);
    });

    it('pays once for 50 concurrent identical requests', async () => {
      const card = await inserted({ balance: 5_000 });
      const request = makePayment(card, { amount: 100 });
      const stores = await handles(5);
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) => stores[i % 5].authorizePayment(request)));
      expect(results.filter((r) => !r.replayed)).toHaveLength(1);
      for (const r of results) expect(r.record).toEqual(results[0].record);
      expect((await store.getCard(card.pan))!.balance).toBe(4_900);
    });

    it('pays each of 40 concurrent sessions on one card exactly once, never below zero', async () => {
      const card = await inserted({ balance: 3_000 });
      const stores = await handles(4);
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, i) => stores[i % 4].authorizePayment(makePayment(card, { amount: 100 }))),
      );
      expect(results.filter((r) => r.record.outcome === 'approved')).toHaveLength(30);
      expect(results.filter((r) => r.record.reason === 'INSUFFICIENT_FUNDS')).toHaveLength(10);
      expect((await store.getCard(card.pan))!.balance).toBe(0);
    });

    const declines: [string, Partial<CardRecord>, Partial<PaymentRequest>][] = [
      ['INSUFFICIENT_FUNDS', { balance: 1_000 }, { amount: 1_001 }],
      ['OVER_LIMIT', { limit: 500 }, { amount: 501 }],
      ['CURRENCY_MISMATCH', { currency: 'EUR' }, { currency: 'USD' }],
      ['CARD_BLOCKED', { status: 'blocked' }, {}],
      ['CARD_LOCKED', { status: 'locked' }, {}],
    ];
    it.each(declines)('declines with %s: reason recorded, balance unchanged, a retry replays it', async (reason, cardFields, requestFields) => {
      const card = await inserted(cardFields);
      const request = makePayment(card, requestFields);
      const { record, replayed } = await store.authorizePayment(request);
      expect(replayed).toBe(false);
      expect(record).toMatchObject({ outcome: 'declined', reason, balanceAfter: card.balance });
      expect(await store.getCard(card.pan)).toEqual(card);
      expect(await store.getLedgerRecord(request.sessionId)).toEqual(record);
      // A declined session stays declined even once the cause is gone: one outcome per idempotency key.
      await store.updateCard(card.pan, (c) => ({ ...c, status: 'active', currency: request.currency, limit: 1e9, balance: 1e9 }));
      expect(await store.authorizePayment(request)).toEqual({ record, replayed: true });
    });

    it('declines an unknown card with CARD_UNKNOWN and balanceAfter 0, creating no card', async () => {
      const request = makePayment(makeCard());
      const { record } = await store.authorizePayment(request);
      expect(record).toMatchObject({ outcome: 'declined', reason: 'CARD_UNKNOWN', balanceAfter: 0 });
      expect(await store.getCard(request.pan)).toBeNull();
      expect(await store.countCards()).toBe(0);
    });

    it('is exact at the largest safe amounts', async () => {
      const max = Number.MAX_SAFE_INTEGER;
      const card = await inserted({ limit: max, balance: max });
      const { record } = await store.authorizePayment(makePayment(card, { amount: max - 1 }));
      expect(record).toMatchObject({ outcome: 'approved', amount: max - 1, balanceAfter: 1 });
      expect((await store.getCard(card.pan))!.balance).toBe(1);
    });

    it('approves an amount of 0 without moving money', async () => {
      const card = await inserted({ balance: 0 });
      const { record } = await store.authorizePayment(makePayment(card, { amount: 0 }));
      expect(record).toMatchObject({ outcome: 'approved', balanceAfter: 0 });
    });

    it('keeps merchant text intact through the ledger (quotes, backslashes, slashes, non-ASCII)', async () => {
      const card = await inserted();
      const merchant = 'Bäckerei "Zur Mühle" \\ 東京 / </script> \u2028 😀';
      const request = makePayment(card, { merchant });
      await store.authorizePayment(request);
      expect((await store.getLedgerRecord(request.sessionId))!.merchant).toBe(merchant);
    });

    it.each([
      ['a fractional amount', { amount: 10.5 }],
      ['a negative amount', { amount: -100 }],
      ['an amount past 2^53', { amount: 2 ** 53 }],
      ['an uppercase cryptogram', { cryptogram: 'AB'.repeat(32) }],
      ['a malformed session id', { sessionId: 'x'.repeat(32) }],
    ])('rejects %s with BAD_ARGUMENT and records nothing', async (_, fields) => {
      const card = await inserted();
      const request = { ...makePayment(card), ...fields } as PaymentRequest;
      expect(await failure(store.authorizePayment(request))).toBe('BAD_ARGUMENT');
      expect(await store.getCard(card.pan)).toEqual(card);
      if (/^[0-9a-f]{32}$/.test(request.sessionId)) expect(await store.getLedgerRecord(request.sessionId)).toBeNull();
    });

    it('returns null for a session id with no ledger record', async () => {
      expect(await store.getLedgerRecord(newSessionId())).toBeNull();
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
    const longAgo = Date.now() - USED_SESSION_RETENTION_MS - 60_000;
    const stale = makeSession(makeCard(), { createdAt: longAgo - 1_000, expiresAt: longAgo });
    expect(await store.createSession(stale)).toBe(true);
    expect(await store.claimSession(stale.id, stale.scannerId, Date.now())).toEqual({ ok: false, reason: 'SESSION_UNKNOWN' });
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

    it('says where it is, without the password, and that it is persistent', async () => {
      const url = new URL(server.url);
      url.password = 'not-the-password';
      const store = await RedisStore.connect(url.toString(), { prefix: freshPrefix() });
      expect(store.persistent).toBe(true);
      expect(store.description).toBe(`redis redis://${url.hostname}:${url.port}/0`);
      await store.close();
    });

    it('gives session keys a TTL (unused: expiry + 10 min; used: expiry + 24 h), and no TTL to cards, count and ledger', async () => {
      const prefix = freshPrefix();
      const store = await RedisStore.connect(server.url, { prefix });
      const card = makeCard();
      await store.insertCard(card);
      const session = makeSession(card);
      await store.createSession(session);
      const unusedTtl = await raw.pttl(`${prefix}session:${session.id}`);
      expect(unusedTtl).toBeGreaterThan(0);
      expect(unusedTtl).toBeLessThanOrEqual(session.expiresAt + EXPIRED_SESSION_RETENTION_MS - Date.now() + 1_000);
      await store.claimSession(session.id, session.scannerId, Date.now());
      const usedTtl = await raw.pttl(`${prefix}session:${session.id}`);
      expect(usedTtl).toBeGreaterThan(USED_SESSION_RETENTION_MS - 60_000);
      expect(usedTtl).toBeLessThanOrEqual(session.expiresAt + USED_SESSION_RETENTION_MS - Date.now() + 1_000);
      await store.authorizePayment(makePayment(card, { sessionId: session.id }));
      for (const key of [`card:${card.pan}`, 'cards', `ledger:${session.id}`]) expect(await raw.pttl(prefix + key)).toBe(-1);
      await store.close();
    });

    it('lets the server drop a session at its TTL', async () => {
      const prefix = freshPrefix();
      const store = await RedisStore.connect(server.url, { prefix });
      // Expired long enough ago that expiresAt + retention has passed too: the key must never stay.
      const longAgo = Date.now() - EXPIRED_SESSION_RETENTION_MS - 1_000;
      const session = makeSession(makeCard(), { createdAt: longAgo - 1_000, expiresAt: longAgo });
      await store.createSession(session);
      expect(await raw.exists(`${prefix}session:${session.id}`)).toBe(0);
      expect(await store.claimSession(session.id, session.scannerId, Date.now())).toEqual({ ok: false, reason: 'SESSION_UNKNOWN' });
      await store.close();
    });

    it('writes only keys under its prefix', async () => {
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
      await store.updateCard(card.pan, (c) => ({ ...c, generation: 2 }));
      await store.recordPinFailure(card.pan, 3);
      await store.clearPinFailures(card.pan);
      const session = makeSession(card);
      await store.createSession(session);
      await store.getSession(session.id);
      await store.claimSession(session.id, session.scannerId, Date.now());
      await store.authorizePayment(makePayment(card, { sessionId: session.id }));
      await store.getLedgerRecord(session.id);
      await store.countCards();
      await store.close();

      expect(new Set(touched)).toEqual(
        new Set([`${prefix}card:${card.pan}`, `${prefix}cards`, `${prefix}session:${session.id}`, `${prefix}ledger:${session.id}`]),
      );
      expect(await keysUnder(raw, prefix)).toHaveLength(4);
      if (!server.shared) {
        // A private server holds only this run's keys: nothing anywhere lacks the run's prefix.
        expect((await keysUnder(raw, '')).filter((key) => !key.startsWith(runPrefix))).toEqual([]);
      }
    });

    it('gives up with STORE_CONFLICT when every compare-and-set loses, leaving the competing write', async () => {
      const prefix = freshPrefix();
      const client = new Redis(server.url);
      const store = new RedisStore(client, { prefix });
      const card = makeCard();
      await store.insertCard(card);
      let attempts = 0;
      // Queued on the store's own connection, so it always lands between the read and the compare-and-set.
      const interfere = (): void => void client.hset(`${prefix}card:${card.pan}`, 'updatedAt', String(++attempts));
      const update = store.updateCard(card.pan, (c) => (interfere(), { ...c, balance: 0 }));
      expect(await failure(update)).toBe('STORE_CONFLICT');
      expect(attempts).toBe(50);
      expect(await store.getCard(card.pan)).toEqual({ ...card, updatedAt: 50 });
      await store.close();
    });

    it('keeps a PIN lockout across a restart of the gateway (a new connection)', async () => {
      const prefix = freshPrefix();
      const before = await RedisStore.connect(server.url, { prefix });
      const card = makeCard();
      await before.insertCard(card);
      for (let i = 0; i < 3; i++) await before.recordPinFailure(card.pan, 3);
      await before.close();
      const after = await RedisStore.connect(server.url, { prefix });
      expect(await after.getCard(card.pan)).toMatchObject({ status: 'locked', pinFailures: 3 });
      expect(await after.recordPinFailure(card.pan, 3)).toEqual({ failures: 4, locked: true });
      await after.close();
    });

    it('reports a damaged row as STORE_CORRUPT, without the PAN in the message', async () => {
      const prefix = freshPrefix();
      const store = await RedisStore.connect(server.url, { prefix });
      const card = makeCard();
      await store.insertCard(card);
      await raw.hset(`${prefix}card:${card.pan}`, 'balance', 'lots');
      const error = await store.getCard(card.pan).catch((e: unknown) => e);
      expect(isScanpayError(error, 'STORE_CORRUPT')).toBe(true);
      expect(String((error as Error).message)).not.toContain(card.pan);
      await raw.set(`${prefix}ledger:${'0'.repeat(32)}`, `{"pan":"${card.pan}"`);
      const ledgerError = await store.getLedgerRecord('0'.repeat(32)).catch((e: unknown) => e);
      expect(isScanpayError(ledgerError, 'STORE_CORRUPT')).toBe(true);
      expect(String((ledgerError as Error).message)).not.toContain(card.pan);
      await store.close();
    });

    it('refuses an empty prefix or one with glob characters', () => {
      for (const prefix of ['', 'scanpay*', 'a b:']) {
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
      expect(await raw.get(`${prefix}cards`)).toBe('1');
      await store.close();
    });
  });
});

describe('openStore', () => {
  it('picks the embedded store without a URL', async () => {
    expect(await openStore({})).toBeInstanceOf(MemoryStore);
    expect(await openStore({ redisUrl: '' })).toBeInstanceOf(MemoryStore);
  });
});
