/**
 * The real store (BRIEF §4): the store contract on Redis, every change to money, PIN counters and sessions
 * in one Lua script (redis-scripts.ts), so it is atomic across any number of gateway processes.
 *
 * Key layout (also docs/storage.md); every key starts with the prefix (default "scanpay:"), nothing else is written:
 *   {prefix}card:{pan}         hash: pan, generation, keyId, status, wrappedBasicKey (base64), pvv (base64),
 *                              currency, limit, balance, pinFailures, updatedAt — numbers as decimal strings. No TTL.
 *   {prefix}cards              string counter: number of cards, incremented by the insert script. No TTL.
 *   {prefix}session:{id}       hash: session (the AuthSession as JSON), scannerId, expiresAt, usedAt (once claimed).
 *                              PEXPIREAT expiresAt + 10 min while unused, expiresAt + 24 h once used (session-retention.ts).
 *   {prefix}ledger:{sessionId} string: the LedgerRecord as JSON. No TTL: the ledger is kept.
 *
 * @example
 *   const store = await RedisStore.connect('redis://127.0.0.1:6379', { prefix: 'scanpay:' });
 *   const { record, replayed } = await store.authorizePayment(request);
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { ScanpayError, isScanpayError } from '../../core/errors.ts';
import { cardFromHash, cardToHash, keyLayout, ledgerFromJson, ledgerHead, sessionFromJson, type KeyLayout } from './redis-codec.ts';
import { withStoreScripts, type ScriptedRedis } from './redis-scripts.ts';
import { EXPIRED_SESSION_RETENTION_MS, USED_SESSION_RETENTION_MS } from './session-retention.ts';
import type { AuthSession, CardMutation, CardRecord, LedgerRecord, PaymentRequest, SessionClaim, Store } from './types.ts';
import {
  checkedCard, checkedLockAt, checkedMutation, checkedPan, checkedPaymentRequest, checkedScannerId, checkedSession,
  checkedSessionId, checkedTime,
} from './validate.ts';

export const DEFAULT_PREFIX = 'scanpay:';
/** Characters a prefix may hold: no spaces or glob metacharacters, so `SCAN MATCH {prefix}*` finds exactly our keys. */
const PREFIX_PATTERN = /^[A-Za-z0-9:._{}-]{1,128}$/;
/** updateCard gives up (STORE_CONFLICT) after this many lost compare-and-sets in a row. */
const UPDATE_ATTEMPTS = 50;
/** Cap of the randomised back-off between attempts, so contending writers spread out instead of colliding again. */
const UPDATE_BACKOFF_CAP_MS = 100;

export interface RedisStoreOptions {
  prefix?: string;
}

type ClaimFailure = Extract<SessionClaim, { ok: false }>['reason'];

/** Where the connection points, without credentials (for logs and /readyz). */
function describeConnection(redis: Redis): string {
  const { host, port, db, path, tls } = redis.options;
  return path ? `redis unix:${path}` : `redis ${tls ? 'rediss' : 'redis'}://${host}:${port}/${db ?? 0}`;
}

/** Any failure of the client or the server becomes STORE_UNAVAILABLE; our own typed errors pass through. */
function storeFailure(e: unknown): ScanpayError {
  return isScanpayError(e) ? e : new ScanpayError('STORE_UNAVAILABLE', e instanceof Error ? e.message : String(e));
}

export class RedisStore implements Store {
  readonly description: string;
  readonly persistent = true;

  readonly #redis: ScriptedRedis;
  readonly #keys: KeyLayout;

  /** Takes ownership of `redis`: close() quits it. */
  constructor(redis: Redis, opts: RedisStoreOptions = {}) {
    const prefix = opts.prefix ?? DEFAULT_PREFIX;
    if (!PREFIX_PATTERN.test(prefix)) throw new ScanpayError('BAD_ARGUMENT', `prefix must match ${PREFIX_PATTERN}`);
    this.#redis = withStoreScripts(redis);
    this.#keys = keyLayout(prefix);
    this.description = describeConnection(redis);
  }

  /** Connects and checks the server answers; STORE_UNAVAILABLE (with the reason, never the password) if not. */
  static async connect(url: string, opts: RedisStoreOptions = {}): Promise<RedisStore> {
    // auto-pipelining sends the commands of one event-loop turn in one write: fewer syscalls under load
    const redis = new Redis(url, { lazyConnect: true, enableAutoPipelining: true });
    // Failures reach callers through their rejected commands; without a listener ioredis prints each to stderr.
    let cause: unknown;
    redis.on('error', (e) => (cause = e));
    try {
      await redis.connect();
      await redis.ping();
    } catch (e) {
      redis.disconnect();
      throw storeFailure(cause ?? e); // the socket's error ("ECONNREFUSED …") says more than "Connection is closed"
    }
    return new RedisStore(redis, opts);
  }

  async insertCard(card: CardRecord): Promise<boolean> {
    const row = checkedCard(card);
    const fields = Object.entries(cardToHash(row)).flat();
    return (await this.#run(() => this.#redis.scanpayInsertCard(this.#keys.card(row.pan), this.#keys.cardCount, ...fields))) === 1;
  }

  async getCard(pan: string): Promise<CardRecord | null> {
    const hash = await this.#run(() => this.#redis.hgetall(this.#keys.card(checkedPan(pan))));
    return Object.keys(hash).length === 0 ? null : cardFromHash(hash);
  }

  async updateCard(pan: string, mutate: CardMutation): Promise<CardRecord | null> {
    const key = this.#keys.card(checkedPan(pan));
    for (let attempt = 1; attempt <= UPDATE_ATTEMPTS; attempt++) {
      const read = await this.#run(() => this.#redis.hgetall(key));
      if (Object.keys(read).length === 0) return null;
      const next = mutate(cardFromHash(read));
      if (next === null) return cardFromHash(read); // decoded afresh: the mutation may have edited its argument
      const row = checkedMutation(next, pan);
      const expected = Object.entries(read).flat(); // compared as read, byte for byte, not re-encoded
      const written = Object.entries(cardToHash(row)).flat();
      const outcome = await this.#run(() => this.#redis.scanpayUpdateCard(key, expected.length / 2, ...expected, ...written));
      if (outcome === 1) return row;
      if (outcome === -1) return null;
      await sleep(Math.random() * Math.min(UPDATE_BACKOFF_CAP_MS, 2 ** attempt));
    }
    throw new ScanpayError('STORE_CONFLICT', `card update lost ${UPDATE_ATTEMPTS} compare-and-sets in a row`);
  }

  async createSession(session: AuthSession): Promise<boolean> {
    const s = checkedSession(session);
    const keepUntil = s.expiresAt + EXPIRED_SESSION_RETENTION_MS;
    const created = await this.#run(() =>
      this.#redis.scanpayCreateSession(this.#keys.session(s.id), JSON.stringify(s), s.scannerId, s.expiresAt, keepUntil),
    );
    return created === 1;
  }

  async getSession(id: string): Promise<AuthSession | null> {
    const json = await this.#run(() => this.#redis.hget(this.#keys.session(checkedSessionId(id)), 'session'));
    const session = json === null ? null : sessionFromJson(json);
    return session && Date.now() < session.expiresAt ? session : null;
  }

  async claimSession(id: string, scannerId: string, now: number): Promise<SessionClaim> {
    const key = this.#keys.session(checkedSessionId(id));
    checkedScannerId(scannerId);
    checkedTime(now, 'now');
    const [verdict, json] = await this.#run(() => this.#redis.scanpayClaimSession(key, scannerId, now, USED_SESSION_RETENTION_MS));
    if (verdict !== 'OK') return { ok: false, reason: verdict as ClaimFailure };
    return { ok: true, session: sessionFromJson(json ?? '') };
  }

  async recordPinFailure(pan: string, lockAt: number): Promise<{ failures: number; locked: boolean } | null> {
    const key = this.#keys.card(checkedPan(pan));
    checkedLockAt(lockAt);
    const result = await this.#run(() => this.#redis.scanpayRecordPinFailure(key, lockAt, Date.now()));
    return result === null ? null : { failures: result[0], locked: result[1] === 1 };
  }

  async clearPinFailures(pan: string): Promise<void> {
    const key = this.#keys.card(checkedPan(pan));
    await this.#run(() => this.#redis.scanpayClearPinFailures(key, Date.now()));
  }

  async authorizePayment(request: PaymentRequest): Promise<{ record: LedgerRecord; replayed: boolean }> {
    const req = checkedPaymentRequest(request);
    const [json, replayed] = await this.#run(() =>
      this.#redis.scanpayAuthorizePayment(
        this.#keys.ledger(req.sessionId), this.#keys.card(req.pan),
        ledgerHead(req), String(req.amount), String(-req.amount), req.currency, String(req.at),
      ),
    );
    return { record: ledgerFromJson(json), replayed: replayed === 1 };
  }

  async getLedgerRecord(sessionId: string): Promise<LedgerRecord | null> {
    const json = await this.#run(() => this.#redis.get(this.#keys.ledger(checkedSessionId(sessionId))));
    return json === null ? null : ledgerFromJson(json);
  }

  async countCards(): Promise<number> {
    return Number((await this.#run(() => this.#redis.get(this.#keys.cardCount))) ?? 0);
  }

  async ping(): Promise<void> {
    await this.#run(() => this.#redis.ping());
  }

  async close(): Promise<void> {
    if (this.#redis.status === 'end') return;
    try {
      await this.#redis.quit();
    } catch {
      this.#redis.disconnect(); // the server is gone: drop the socket instead of waiting for a reply
    }
  }

  async #run<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (e) {
      throw storeFailure(e);
    }
  }
}
