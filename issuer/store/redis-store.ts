/**
 * The real store (BRIEF §4): the store contract on Redis, every change to money, PIN counters, sessions,
 * device tokens and rate limits in one Lua script (redis-scripts.ts), so it is atomic across any number of
 * gateway processes. Key layout in keys.ts and docs/storage.md: one payment's keys share a hash tag.
 *
 * Two connections, with and without auto-pipelining (#run says which one a command takes). Fails fast: every
 * command has a deadline (commandTimeout) and nothing waits in an offline queue while a connection is down,
 * so callers get STORE_UNAVAILABLE at once and can retry; ioredis reconnects by itself.
 * A command whose reply was lost may still be re-sent by ioredis on reconnect: every step is idempotent
 * for the same call (attempt ids), so a re-send neither counts twice nor reads as a replay.
 *
 * @example
 *   const store = await RedisStore.connect('redis://127.0.0.1:6379', { prefix: 'scanpay:' });
 *   const { record, replayed } = await store.authorizePayment(request);
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Cluster, Redis } from 'ioredis';
import { ScanpayError, isScanpayError } from '../../core/errors.ts';
import { keyLayout, type KeyLayout } from './keys.ts';
import { CARD_REFUSED, ledgerResult } from '../payment.ts';
import {
  cardFromHash, cardFromValues, cardToHash, ledgerFromFields, ledgerHead, payloadFromBase64, resultFromDecision, sessionFromJson, sessionKind, sessionToJson, writtenLedger,
} from './redis-codec.ts';
import type { RedisContext } from './redis-context.ts';
import type { EventStore } from './event-types.ts';
import type { MerchantStore } from './merchant-types.ts';
import type { PaymentStore } from './payment-types.ts';
import { RedisEvents } from './redis-events.ts';
import { RedisReceipts } from './redis-receipts.ts';
import type { ReceiptStore } from './receipt-types.ts';
import { RedisWebhooks } from './redis-webhooks.ts';
import type { WebhookStore } from './webhook-types.ts';
import { isNoScript, scriptArgs, STORE_SCRIPTS, withStoreScripts, type AllScripts, type PinBudgetBefore, type RateUnitArgs, type ScriptedRedis } from './redis-scripts.ts';
import { RedisMerchants } from './redis-merchants.ts';
import { RedisWallet } from './redis-wallet.ts';
import type { EnrolmentRecord, EnrolmentRevocation, NewEnrolment } from './wallet-types.ts';
import type { CodeConsumption, CodeUse, EnrolmentCompletion } from './types.ts';
import { RedisPayments } from './redis-payments.ts';
import type { ClusterNode } from './redis-target.ts';
import { EXPIRED_SESSION_RETENTION_MS, USED_SESSION_RETENTION_MS, payloadDeadline } from './retention.ts';
import type {
  AuthSession, Authorization, CardClaim, CardMutation, CardRecord, DeviceBinding, DeviceRecord, DeviceRevocation, DeviceTokenCheck, LedgerRecord, OpenedSession,
  PaymentRequest, PinAttempt, PinBudget, PinPolicy, PinResult, RateLimit, RateTake, RevocationFeed, RevocationListener, SessionRefusal, SessionView,
  Store,
} from './types.ts';
import { RECENT_RESULTS } from './types.ts';
import {
  checkedAttempt, checkedBudgetOwner, checkedCard, checkedCardToken, checkedClaim, checkedCodeUse, checkedDeviceId, checkedLockAt, checkedMerchantId, checkedMutation, checkedNonce,
  checkedPaymentRequest, checkedPolicy, checkedRate, checkedSession, checkedSessionId, checkedTime, isDeviceId, isMerchant,
} from './validate.ts';

export const DEFAULT_PREFIX = 'scanpay:';
/**
 * Characters a prefix may hold: no spaces or glob metacharacters, so `SCAN MATCH {prefix}*` finds exactly our
 * keys, and no braces, which would replace the hash tags that keep a payment on one cluster slot.
 */
export const PREFIX_PATTERN = /^[A-Za-z0-9:._-]{1,128}$/;
/** Default deadline of one command; a slower answer is STORE_UNAVAILABLE (retryable). */
export const DEFAULT_COMMAND_TIMEOUT_MS = 2_000;
/** The decisions of a card that takes no PIN (payment.ts), in the order the scripts take them. */
const REFUSED_CODES = [CARD_REFUSED.gone, CARD_REFUSED.blocked, CARD_REFUSED.locked] as const;
/** A script's rate units when it takes none. */
const NO_RATE_UNITS: RateUnitArgs = [0];
/** What openSession may answer besides OK: the card row's verdicts (card-legality.ts) and RATE_LIMITED. */
const OPEN_REFUSALS = new Set(['RATE_LIMITED', 'CARD_UNKNOWN', 'BASIC_KEY_MISMATCH', 'GENERATION_STALE', 'CARD_BLOCKED', 'CARD_LOCKED', 'STATIC_QR_REFUSED']);
/** updateCard gives up (STORE_CONFLICT) after this many lost compare-and-sets in a row. */
const UPDATE_ATTEMPTS = 50;
/** Cap of the randomised back-off between attempts, so contending writers spread out instead of colliding again. */
const UPDATE_BACKOFF_CAP_MS = 100;

export interface RedisStoreOptions {
  prefix?: string;
  /** Deadline of each command (ms); default DEFAULT_COMMAND_TIMEOUT_MS. */
  commandTimeoutMs?: number;
  /**
   * Replicas that must confirm a PIN attempt's count and a payment (Redis WAIT) before either is acknowledged;
   * default 0 (no WAIT: a single Redis without replicas). Fewer within waitTimeoutMs: STORE_UNAVAILABLE, retryable.
   */
  waitReplicas?: number;
  /** How long WAIT may block (ms); default DEFAULT_WAIT_TIMEOUT_MS, less than the command deadline. */
  waitTimeoutMs?: number;
}

export const DEFAULT_WAIT_TIMEOUT_MS = 500;

type StoreClient = Redis | Cluster;
/** Two clients to the same Redis or cluster: one without auto-pipelining, one with it. */
interface StoreClients {
  direct: StoreClient;
  batched: StoreClient;
}

/**
 * What the constructor takes: an ioredis `Redis` or `Cluster`, or `{ direct, batched }`, a pair of them to the
 * same Redis. Declared as `object` on purpose: the package's public declarations name no ioredis type, so a
 * consumer's compile never reads ioredis's declarations (whose breakage, e.g. 6.1's untyped `redis-errors`,
 * would otherwise become the consumer's). The constructor checks what it was given, once.
 */
export type RedisClientHandle = object;

function storeClients(handle: RedisClientHandle): StoreClients {
  const isClient = (c: unknown): c is StoreClient => c instanceof Redis || c instanceof Cluster;
  if (isClient(handle)) return { direct: handle, batched: handle };
  const pair = handle as Partial<StoreClients>;
  if (isClient(pair.direct) && isClient(pair.batched)) return { direct: pair.direct, batched: pair.batched };
  throw new ScanpayError('BAD_ARGUMENT', 'RedisStore takes an ioredis Redis or Cluster client, or { direct, batched }, two of them');
}

/** Where the connection points, without credentials (for logs and /readyz). */
function describeConnection(redis: StoreClient): string {
  // a cluster's masters as it knows them now (they change on failover)
  if (redis instanceof Cluster) return `redis cluster ${redis.nodes('master').map((n) => `${n.options.host}:${n.options.port}`).sort().join(',')}`;
  const { host, port, db, path, tls } = redis.options;
  return path ? `redis unix:${path}` : `redis ${tls ? 'rediss' : 'redis'}://${host}:${port}/${db ?? 0}`;
}

/** Quits a client, or drops its socket when the server is gone (instead of waiting for a reply). */
async function quit(client: StoreClient): Promise<void> {
  if (client.status === 'end') return;
  try {
    await client.quit();
  } catch {
    client.disconnect();
  }
}

/** Any failure of the client or the server becomes STORE_UNAVAILABLE; our own typed errors pass through. */
function storeFailure(e: unknown): ScanpayError {
  return isScanpayError(e) ? e : new ScanpayError('STORE_UNAVAILABLE', e instanceof Error ? e.message : String(e));
}

export class RedisStore implements Store {
  readonly persistent = true;
  // typed by their contracts: the public declarations name no Redis client types
  readonly payments: PaymentStore;
  readonly merchants: MerchantStore;
  readonly events: EventStore;
  readonly receipts: ReceiptStore;
  readonly webhooks: WebhookStore;
  readonly #payments: RedisPayments;
  readonly #wallet: RedisWallet;

  readonly #direct: ScriptedRedis;
  readonly #batched: ScriptedRedis;
  /** Store commands sent and not yet answered (which client the next one takes: #run). */
  #waiting = 0;
  readonly #keys: KeyLayout;
  readonly #wait: { replicas: number; timeoutMs: number };
  /** The subscribers watchRevocations opened (close() quits them too). */
  readonly #subscribers = new Set<StoreClient>();

  /**
   * Takes ownership of the client (one server or a Cluster), or of a pair to the same Redis: `direct` without
   * auto-pipelining and `batched` with it (#run says which one each command takes); close() quits them.
   */
  constructor(redis: RedisClientHandle, opts: RedisStoreOptions = {}) {
    const prefix = opts.prefix ?? DEFAULT_PREFIX;
    if (!PREFIX_PATTERN.test(prefix)) throw new ScanpayError('BAD_ARGUMENT', `prefix must match ${PREFIX_PATTERN}`);
    const replicas = opts.waitReplicas ?? 0;
    const timeoutMs = opts.waitTimeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS;
    if (!Number.isSafeInteger(replicas) || replicas < 0) throw new ScanpayError('BAD_ARGUMENT', 'waitReplicas must be an integer ≥ 0');
    // WAIT 0 ms blocks forever; a WAIT longer than the command deadline would time out in the client instead
    if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 1 || timeoutMs >= (opts.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS)) {
      throw new ScanpayError('BAD_ARGUMENT', 'waitTimeoutMs must be an integer from 1 to below the command deadline');
    }
    this.#wait = { replicas, timeoutMs };
    const { direct, batched } = storeClients(redis);
    this.#direct = withStoreScripts(direct);
    this.#batched = batched === direct ? this.#direct : withStoreScripts(batched);
    this.#keys = keyLayout(prefix);
    const context: RedisContext = {
      keys: this.#keys, cluster: this.#direct instanceof Cluster,
      run: (command) => this.#run(command), durable: (name, ...args) => this.#durable(name, ...args),
    };
    this.#payments = new RedisPayments(context);
    this.payments = this.#payments;
    this.merchants = new RedisMerchants(context);
    this.events = new RedisEvents(context);
    this.receipts = new RedisReceipts(context);
    this.webhooks = new RedisWebhooks(context);
    this.#wallet = new RedisWallet(context);
  }

  /** Connects and checks the server answers; STORE_UNAVAILABLE (with the reason, never the password) if not. */
  static async connect(url: string, opts: RedisStoreOptions = {}): Promise<RedisStore> {
    return RedisStore.#opened((enableAutoPipelining) => new Redis(url, {
      lazyConnect: true,
      enableAutoPipelining,
      commandTimeout: opts.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
      enableOfflineQueue: false, // while disconnected, fail at once (STORE_UNAVAILABLE) instead of queueing
      connectTimeout: 2_000,
      retryStrategy: (times) => Math.min(50 * 2 ** times, 1_000), // keep reconnecting, at most a second apart
    }), opts);
  }

  /**
   * The same over a Redis Cluster, from seed nodes (REDIS_CLUSTER_NODES): ioredis routes each command to the
   * master of its key's slot, and every script's keys share one hash tag (keys.ts), so each runs on one node.
   */
  static async connectCluster(nodes: ClusterNode[], opts: RedisStoreOptions = {}): Promise<RedisStore> {
    return RedisStore.#opened((enableAutoPipelining) => new Cluster(nodes, {
      lazyConnect: true,
      enableAutoPipelining,
      enableOfflineQueue: false,
      clusterRetryStrategy: (times) => Math.min(50 * 2 ** times, 1_000),
      redisOptions: { commandTimeout: opts.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS, connectTimeout: 2_000 },
    }), opts);
  }

  /** Two clients of one kind, without and with auto-pipelining (see #run), connected and answering. */
  static async #opened(client: (autoPipelining: boolean) => StoreClient, opts: RedisStoreOptions): Promise<RedisStore> {
    const clients = { direct: client(false), batched: client(true) };
    // Failures reach callers through their rejected commands; without a listener ioredis prints each to stderr.
    let cause: unknown;
    for (const c of Object.values(clients)) c.on('error', (e) => (cause = e));
    try {
      await Promise.all(Object.values(clients).map(async (c) => {
        await c.connect();
        await c.ping();
      }));
    } catch (e) {
      for (const c of Object.values(clients)) c.disconnect();
      throw storeFailure(cause ?? e); // the socket's error ("ECONNREFUSED …") says more than "Connection is closed"
    }
    return new RedisStore(clients, opts);
  }

  get description(): string {
    return describeConnection(this.#direct);
  }

  async insertCard(card: CardRecord): Promise<boolean> {
    const row = checkedCard(card);
    const fields = Object.entries(cardToHash(row)).flat();
    const inserted = (await this.#run((redis) => redis.scanpayInsertCard(this.#keys.card(row.token), ...fields))) === 1;
    // The count is a separate key (on its own slot in a cluster): exact unless a process dies between the two.
    if (inserted) await this.#run((redis) => redis.incr(this.#keys.cardCount));
    return inserted;
  }

  async getCard(token: string): Promise<CardRecord | null> {
    const hash = await this.#run((redis) => redis.hgetall(this.#keys.card(checkedCardToken(token))));
    return Object.keys(hash).length === 0 ? null : cardFromHash(hash);
  }

  async updateCard(token: string, mutate: CardMutation): Promise<CardRecord | null> {
    const key = this.#keys.card(checkedCardToken(token));
    for (let attempt = 1; attempt <= UPDATE_ATTEMPTS; attempt++) {
      const read = await this.#run((redis) => redis.hgetall(key));
      if (Object.keys(read).length === 0) return null;
      const next = mutate(cardFromHash(read));
      if (next === null) return cardFromHash(read); // decoded afresh: the mutation may have edited its argument
      const row = checkedMutation(next, token);
      const expected = Object.entries(read).flat(); // compared as read, byte for byte, not re-encoded
      const written = Object.entries(cardToHash(row)).flat();
      const outcome = await this.#run((redis) => redis.scanpayUpdateCard(key, expected.length / 2, ...expected, ...written));
      if (outcome === 1) return row;
      if (outcome === -1) return null;
      await sleep(Math.random() * Math.min(UPDATE_BACKOFF_CAP_MS, 2 ** attempt));
    }
    throw new ScanpayError('STORE_CONFLICT', `card update lost ${UPDATE_ATTEMPTS} compare-and-sets in a row`);
  }

  async countCards(): Promise<number> {
    return Number((await this.#run((redis) => redis.get(this.#keys.cardCount))) ?? 0);
  }

  async openSession(session: AuthSession, claim: CardClaim, rates: readonly RateTake[] = []): Promise<OpenedSession> {
    const s = checkedSession(session);
    const c = checkedClaim(claim);
    const units = await this.#rateUnits(rates);
    if (!units) return { ok: false, reason: 'RATE_LIMITED' };
    const [verdict] = await this.#run((redis) =>
      redis.scanpayOpenSession(
        this.#keys.card(s.cardToken), this.#keys.session(s.id), this.#keys.sessionPayload(s.id), this.#keys.walletsActive(s.cardToken), sessionToJson(s),
        s.deviceId, s.cardToken, s.expiresAt, s.expiresAt + EXPIRED_SESSION_RETENTION_MS, s.merchant, Buffer.from(s.payload).toString('base64'),
        payloadDeadline(s), Buffer.from(c.basicKeyCheck).toString('base64'), c.generation, c.keyId, s.amount, s.via ?? '', ...sessionKind(s), ...units,
      ),
    );
    if (verdict === 'OK') return { ok: true };
    if (verdict === 'EXISTS') throw new ScanpayError('BAD_ARGUMENT', 'session id exists');
    if (!OPEN_REFUSALS.has(verdict)) throw new ScanpayError('STORE_CORRUPT', 'openSession: unexpected answer');
    return { ok: false, reason: verdict as Exclude<OpenedSession, { ok: true }>['reason'] };
  }

  async getSession(id: string): Promise<SessionView | null> {
    const [json, usedAt, result] = await this.#run((redis) => redis.hmget(this.#keys.session(checkedSessionId(id)), 'session', 'usedAt', 'result'));
    if (json === null) return null;
    const session = sessionFromJson(json);
    if (usedAt === null) return Date.now() < session.expiresAt ? { session, state: 'open', result: null } : null;
    return { session, state: result ? 'done' : 'pending', result: result ? resultFromDecision(result) : null };
  }

  async beginPinAttempt(id: string, deviceId: string | null, attempt: string, now: number, policy: PinPolicy, rates: readonly RateTake[] = []): Promise<PinAttempt> {
    const key = this.#keys.session(checkedSessionId(id));
    if (deviceId !== null) checkedDeviceId(deviceId);
    checkedAttempt(attempt);
    checkedTime(now, 'now');
    const { lockAt, paceMs, takeoverMs, budget, from, purpose } = checkedPolicy(policy);
    const units = await this.#rateUnits(rates);
    if (!units) return { kind: 'refused', reason: 'RATE_LIMITED' };
    const budgeting = await this.#pinBudgetArgs(key, budget);
    // the count is durable before the PIN is verified: a failover must not hand an attacker back an attempt
    const [verdict, json, extra, payload, fresh] = await this.#durable('scanpayBeginPinAttempt',
      key, this.#keys.sessionPayload(id), this.#keys.cardKeyPrefix(id), deviceId ?? '', attempt, now, lockAt, paceMs, USED_SESSION_RETENTION_MS,
      ...REFUSED_CODES, takeoverMs!, ...budgeting.args, from!, purpose!, ...units,
    ).catch(async (e: unknown) => {
      await this.#giveBackPinBudget(...budgeting.taken);
      throw e;
    });
    // on a cluster the budgets were taken before the script: an attempt it did not evaluate afresh gives them back
    if (verdict !== 'EVALUATE' || fresh !== 1) await this.#giveBackPinBudget(...budgeting.taken);
    if (json === undefined) return { kind: 'refused', reason: verdict as SessionRefusal };
    const record = sessionFromJson(json);
    if (verdict === 'EVALUATE') {
      const session = { ...record, payload: payloadFromBase64(payload ?? '', record.via) };
      return { kind: 'evaluate', session, card: cardFromValues(extra as (string | null)[]) };
    }
    if (verdict === 'DECIDED') return { kind: 'decided', session: record, result: resultFromDecision(extra as string) };
    const code = extra as string | null | undefined;
    return { kind: 'used', session: record, state: code ? 'done' : 'pending', result: code ? resultFromDecision(code) : null };
  }

  async settleFailedPin(sessionId: string, verdict: 'wrong' | 'invalid', lockAt: number, now: number): Promise<PinResult> {
    const key = this.#keys.session(checkedSessionId(sessionId));
    checkedLockAt(lockAt);
    checkedTime(now, 'now');
    if (verdict !== 'wrong' && verdict !== 'invalid') throw new ScanpayError('BAD_ARGUMENT', 'verdict must be wrong or invalid');
    const code = await this.#run((redis) =>
      redis.scanpaySettleFailedPin(key, this.#keys.sessionPayload(sessionId), this.#keys.cardKeyPrefix(sessionId), verdict, lockAt, now, ...REFUSED_CODES),
    );
    return resultFromDecision(code);
  }

  async authorizePayment(request: PaymentRequest): Promise<Authorization> {
    const req = checkedPaymentRequest(request);
    const cluster = this.#direct instanceof Cluster;
    const sessionKey = this.#keys.session(req.sessionId);
    const holdExpiresAt = req.at + req.holdWindowMs;
    // a merchant's payment index and the holds are on other slots than the payment: on a cluster they are written
    // first (a listing or the sweep skips an entry whose payment never came), on one Redis inside the script
    if (cluster) {
      await this.#run((redis) => redis.zadd(this.#keys.merchantPayments(req.merchant), req.at, req.sessionId));
      if (req.captureMethod === 'manual') await this.#run((redis) => redis.zadd(this.#keys.holds, holdExpiresAt, req.sessionId));
    }
    const [kind, replayed, decision, balanceAfter, head, budgetedBy] = await this.#payments.marked(req.merchant, req.sessionId, req.at, (outbox, eventMerchants) =>
      this.#durable('scanpayAuthorizePayment',
        this.#keys.payment(req.sessionId), this.#keys.card(req.cardToken), sessionKey, this.#keys.sessionPayload(req.sessionId), this.#keys.entries(req.sessionId),
        this.#keys.events(req.sessionId), this.#keys.walletsActive(req.cardToken),
        ledgerHead(req), String(req.amount), req.currency, String(req.at), req.attempt, ...REFUSED_CODES, cluster ? '' : this.#keys.pinBudgetPrefix,
        req.captureMethod, holdExpiresAt, req.sessionId, req.merchant, req.cardToken, req.last4,
        cluster ? '' : this.#keys.merchantPayments(req.merchant), cluster ? '' : this.#keys.holds, outbox, eventMerchants, req.via ?? '',
      ));
    if (kind === 'WRITTEN') this.#payments.wroteEvent(req.merchant); // its event, and the merchant in the event merchants' set
    // a cluster keeps the budgets on their own slots: the correct PIN's units are given back here
    if (budgetedBy) await this.#giveBackPinBudget(this.#keys.pinBudget('device', budgetedBy), this.#keys.pinBudget('merchant', req.merchant));
    if (kind === 'SETTLED' || kind === 'REFUSED') return { record: null, result: resultFromDecision(decision), replayed: replayed === 1 };
    // written by this call: the record is the checked request and the script's decision, not read back
    const record = kind === 'WRITTEN' ? writtenLedger(req, decision, balanceAfter) : ledgerFromFields(head, decision, balanceAfter);
    return { record, result: ledgerResult(record), replayed: replayed === 1 };
  }

  completeEnrolment(sessionId: string, enrolment: NewEnrolment, attempt: string, now: number): Promise<EnrolmentCompletion> {
    return this.#wallet.completeEnrolment(sessionId, enrolment, attempt, now);
  }

  getEnrolment(id: string): Promise<EnrolmentRecord | null> {
    return this.#wallet.getEnrolment(id);
  }

  listEnrolments(cardToken: string): Promise<EnrolmentRecord[]> {
    return this.#wallet.listEnrolments(cardToken);
  }

  revokeEnrolment(id: string, now: number): Promise<EnrolmentRevocation> {
    return this.#wallet.revokeEnrolment(id, now);
  }

  async consumeCode(use: CodeUse, rates: readonly RateTake[] = []): Promise<CodeConsumption> {
    const checked = checkedCodeUse(use);
    const units = await this.#rateUnits(rates);
    if (!units) return { ok: false, reason: 'RATE_LIMITED' };
    return this.#wallet.consumeCode(checked, units);
  }

  async getLedgerRecord(sessionId: string): Promise<LedgerRecord | null> {
    const [head, decision, balanceAfter] = await this.#run((redis) => redis.hmget(this.#keys.payment(checkedSessionId(sessionId)), 'head', 'decision', 'balanceAfter'));
    return decision === null ? null : ledgerFromFields(head, decision, balanceAfter);
  }

  async acceptDeviceToken(deviceId: string, nonce: string, ttlMs: number): Promise<DeviceTokenCheck> {
    checkedDeviceId(deviceId);
    checkedNonce(nonce);
    const ttl = Math.max(1, checkedTime(ttlMs, 'ttlMs'));
    const device = this.#keys.device(deviceId);
    const verdict = await this.#run((redis) => redis.scanpayAcceptDeviceToken(device, this.#keys.deviceNonce(deviceId, nonce), ttl, Date.now()));
    return verdict as DeviceTokenCheck;
  }

  async revokeDevice(deviceId: string, { evenIfUnknown = false }: { evenIfUnknown?: boolean } = {}): Promise<DeviceRevocation> {
    const key = this.#keys.device(checkedDeviceId(deviceId));
    const outcome = await this.#run((redis) => redis.scanpayRevokeDevice(key, Date.now(), evenIfUnknown ? '1' : '0')) as DeviceRevocation;
    if (outcome === 'unknown') return outcome;
    // the indexes are keys of their own (slots); added again on a repeat, in case a process died between the steps
    await this.#run((redis) => redis.sadd(this.#keys.deviceIndex, deviceId));
    await this.#run((redis) => redis.sadd(this.#keys.revokedDevices, deviceId));
    // announced after it is written, and again on a repeat (a gateway may have missed it): one that hears of it
    // and reads revokedDevices() finds it
    const channel = this.#keys.revocations;
    await this.#run((redis) => (redis instanceof Cluster ? redis.spublish(channel, deviceId) : redis.publish(channel, deviceId)));
    return outcome;
  }

  async revokedDevices(): Promise<string[]> {
    return (await this.#run((redis) => redis.smembers(this.#keys.revokedDevices))).sort();
  }

  /**
   * One more connection, a subscriber on `{prefix}{revocations}`: SUBSCRIBE on one Redis, SSUBSCRIBE on a cluster
   * (the channel's fixed hash tag puts it on one shard). ioredis reconnects and subscribes again by itself; then
   * `resumed` is called (one Redis: once the channel is subscribed again; a cluster: once its subscribers are).
   */
  async watchRevocations(listener: RevocationListener): Promise<RevocationFeed> {
    const channel = this.#keys.revocations;
    const sharded = this.#direct instanceof Cluster;
    const subscriber: StoreClient = this.#direct instanceof Cluster
      ? this.#direct.duplicate([], { shardedSubscribers: true })
      : this.#direct.duplicate({ connectionName: `${channel.replace(/[{}]/g, '')}` }); // CLIENT LIST names it
    subscriber.on('error', () => {}); // it reconnects by itself; what a cut lost, `resumed` makes up for
    subscriber.on(sharded ? 'smessage' : 'message', (from: string, deviceId: string) => {
      if (from === channel && isDeviceId(deviceId)) listener.revoked(deviceId); // anything else on it is not ours
    });
    const subscribe = () => (subscriber instanceof Cluster ? subscriber.ssubscribe(channel) : subscriber.subscribe(channel));
    try {
      await subscriber.connect();
      await subscribe();
    } catch (e) {
      subscriber.disconnect();
      throw storeFailure(e);
    }
    // registered after the first subscription, so each is a resumption after a cut
    if (sharded) subscriber.on('subscribersReady', () => listener.resumed());
    else subscriber.on('ready', () => void subscribe().then(() => listener.resumed(), () => {})); // a failed one: the next 'ready' tries again
    this.#subscribers.add(subscriber);
    return {
      close: async () => {
        if (this.#subscribers.delete(subscriber)) await quit(subscriber);
      },
    };
  }

  async recordDevice(deviceId: string): Promise<boolean> {
    const recorded = await this.#run((redis) => redis.hsetnx(this.#keys.device(checkedDeviceId(deviceId)), 'provisionedAt', String(Date.now())));
    await this.#run((redis) => redis.sadd(this.#keys.deviceIndex, deviceId));
    return recorded === 1;
  }

  /** HSETNX keeps the first binding; a binding never changes, so reading it after a refused HSETNX is enough. */
  async bindDevice(deviceId: string, merchant: string): Promise<DeviceBinding> {
    const key = this.#keys.device(checkedDeviceId(deviceId));
    const m = checkedMerchantId(merchant);
    if ((await this.#run((redis) => redis.hsetnx(key, 'merchant', m))) === 1) return 'bound';
    return (await this.#run((redis) => redis.hget(key, 'merchant'))) === m ? 'already-bound' : 'bound-elsewhere';
  }

  async listDevices(): Promise<DeviceRecord[]> {
    const ids = (await this.#run((redis) => redis.smembers(this.#keys.deviceIndex))).sort();
    return (await Promise.all(ids.map((deviceId) => this.getDevice(deviceId)))).filter((d): d is DeviceRecord => d !== null);
  }

  async getDevice(deviceId: string): Promise<DeviceRecord | null> {
    const at = (v: string | null) => (v !== null && /^[0-9]{1,16}$/.test(v) ? Number(v) : null);
    const fields = await this.#run((redis) => redis.hmget(this.#keys.device(checkedDeviceId(deviceId)), 'provisionedAt', 'revokedAt', 'connectedAt', 'merchant'));
    const [provisionedAt, revokedAt, lastConnectedAt] = fields.slice(0, 3).map(at);
    const merchant = isMerchant(fields[3]) ? fields[3] : null;
    if (provisionedAt === null && revokedAt === null && lastConnectedAt === null && merchant === null) return null;
    return { deviceId, provisionedAt, revokedAt, lastConnectedAt, merchant };
  }

  async wrongPinWindow(scope: 'device' | 'merchant', id: string): Promise<{ used: number; endsAt: number } | null> {
    const key = this.#keys.pinBudget(scope, checkedBudgetOwner(scope, id));
    const [[, used], [, ttl]] = (await this.#run((redis) => redis.multi().get(key).pttl(key).exec()))! as [[unknown, string | null], [unknown, number]];
    // the key holds 1 + the units (redis-scripts.ts PIN_BUDGET)
    return used === null || ttl < 0 ? null : { used: Math.max(0, Number(used) - 1), endsAt: Date.now() + ttl };
  }

  async rememberResult(deviceId: string, sessionId: string, ttlMs: number): Promise<void> {
    const key = this.#keys.deviceRecent(checkedDeviceId(deviceId));
    checkedSessionId(sessionId);
    const ttl = Math.max(1, checkedTime(ttlMs, 'ttlMs'));
    // one key, one script: the list stays bounded and expires as a whole
    await this.#run((redis) => redis.scanpayRememberResult(key, sessionId, ttl, RECENT_RESULTS));
  }

  async recentResults(deviceId: string): Promise<string[]> {
    return this.#run((redis) => redis.lrange(this.#keys.deviceRecent(checkedDeviceId(deviceId)), 0, RECENT_RESULTS - 1));
  }

  async takeRate(key: string, limit: RateLimit): Promise<boolean> {
    const { key: name, limit: { perSecond, burst } } = checkedRate(key, limit);
    return (await this.#run((redis) => redis.scanpayTakeRate(this.#keys.rate(name), 1000 / perSecond, burst))) === 1;
  }

  /**
   * The wrong-PIN budgets as BEGIN_PIN_ATTEMPT's arguments. On one Redis the script takes them (in its one round
   * trip); on a cluster their keys are on other slots, so they are taken here first (the session's merchant read
   * for the merchant's), and the script is told what was found: it answers a spent budget only where it would
   * evaluate the attempt, and the units are given back if it did not (beginPinAttempt).
   */
  async #pinBudgetArgs(sessionKey: string, budget: PinBudget | undefined): Promise<{ args: PinBudgetBefore; taken: string[] }> {
    const none = { args: ['', 0, 0, 0, 0, ''] as PinBudgetBefore, taken: [] };
    if (!budget) return none;
    const { device, merchant } = budget;
    if (!(this.#direct instanceof Cluster)) return { args: [this.#keys.pinBudgetPrefix, device.max, merchant.max, device.windowMs, merchant.windowMs, ''], taken: [] };
    // the session's own scanner and merchant: a PIN for another scanner's session is refused by the script
    const [deviceId, merchantId] = await this.#run((redis) => redis.hmget(sessionKey, 'deviceId', 'merchant'));
    if (deviceId === null || merchantId === null) return none; // no such session: the script says which refusal
    const keys = { device: this.#keys.pinBudget('device', deviceId), merchant: this.#keys.pinBudget('merchant', merchantId) };
    // the two keys are on two slots: taken side by side, and a unit taken from one budget is given back if the other is spent
    const [deviceTaken, merchantTaken] = await Promise.all([
      this.#run((redis) => redis.scanpayTakePinBudget(keys.device, device.max, device.windowMs)),
      this.#run((redis) => redis.scanpayTakePinBudget(keys.merchant, merchant.max, merchant.windowMs)),
    ]);
    if (deviceTaken === 1 && merchantTaken === 1) return { args: ['', 0, 0, 0, 0, 'taken'], taken: [keys.device, keys.merchant] };
    await this.#giveBackPinBudget(deviceTaken === 1 ? keys.device : null, merchantTaken === 1 ? keys.merchant : null);
    return { args: ['', 0, 0, 0, 0, deviceTaken === 1 ? 'merchant' : 'device'], taken: [] };
  }

  /** Budget units taken on a cluster (each key on its own slot), given back side by side. */
  async #giveBackPinBudget(...keys: (string | null)[]): Promise<void> {
    await Promise.all(keys.map((key) => key && this.#run((redis) => redis.scanpayGiveBackPinBudget(key))));
  }

  /**
   * A step's rate units as its script's arguments, or null when one was refused. On one Redis the script takes
   * them (in its one round trip); on a cluster their keys are on other slots, so they are taken here first, in
   * order, and the script gets none.
   */
  async #rateUnits(rates: readonly RateTake[]): Promise<RateUnitArgs | null> {
    const units = rates.map((rate) => checkedRate(rate.key, rate.limit));
    if (this.#direct instanceof Cluster) {
      for (const { key, limit } of units) if (!(await this.takeRate(key, limit))) return null;
      return NO_RATE_UNITS;
    }
    return [units.length, ...units.flatMap(({ key, limit: { perSecond, burst } }) => [this.#keys.rate(key), 1000 / perSecond, burst])];
  }

  async ping(): Promise<void> {
    // both connections: a store is ready only if either may carry the next command
    await this.#run(() => Promise.all([...new Set([this.#direct, this.#batched])].map((client) => client.ping())));
  }

  async close(): Promise<void> {
    const subscribers = [...this.#subscribers];
    this.#subscribers.clear();
    await Promise.all([...new Set([this.#direct, this.#batched]), ...subscribers].map(quit));
  }

  /**
   * A script whose effect must survive a failover before it is acknowledged. With waitReplicas > 0, WAIT follows
   * it in one pipeline: on one connection (WAIT counts replicas that have this connection's writes so far), and
   * on a cluster on the node the script ran on (a cluster pipeline goes to the master of its keys' one slot).
   * Too few replicas in time: STORE_UNAVAILABLE. The write stands on the master, so a retry replays it (the
   * ledger key, the attempt id) and waits again rather than paying or counting twice.
   */
  async #durable<K extends keyof AllScripts>(name: K, ...args: Parameters<AllScripts[K]>): Promise<Awaited<ReturnType<AllScripts[K]>>> {
    type Reply = Awaited<ReturnType<AllScripts[K]>>;
    const { replicas, timeoutMs } = this.#wait;
    if (replicas === 0) return this.#run((redis) => (redis[name] as (...a: unknown[]) => Promise<Reply>)(...args));
    const script = STORE_SCRIPTS[name];
    // a script the server has not run answers NOSCRIPT without running: send its text then, in a pipeline of its own
    const once = (byText: boolean) => this.#run(async (redis) => {
      const pipeline = redis.pipeline();
      const sent = scriptArgs(script, args);
      if (byText) pipeline.eval(script.lua, ...sent);
      else pipeline.evalsha(script.sha, ...sent);
      return pipeline.wait(replicas, timeoutMs).exec();
    });
    let replies = await once(false);
    if (isNoScript(replies?.[0]?.[0])) replies = await once(true);
    const [[scriptError, reply], [waitError, reached]] = replies ?? [[new Error('pipeline discarded')], [null]];
    if (scriptError) throw storeFailure(scriptError);
    if (waitError) throw storeFailure(waitError);
    if (Number(reached) < replicas) {
      throw new ScanpayError('STORE_UNAVAILABLE', `the write reached ${Number(reached)} of ${replicas} replicas within ${timeoutMs} ms; retry`);
    }
    return reply as Reply;
  }

  /**
   * Runs one store command on the client for the moment: the direct one while no other command is waiting for
   * its reply (a lone command written at once, without auto-pipelining's deferral and per-batch pipeline), the
   * auto-pipelined one while others are (the commands of one event-loop turn then share one socket write).
   * Measured with `bench:e2e --only light` and `--only pool` on one Redis, set-ups in alternating rounds: with 2
   * payments in flight back to back, 1,100 and 700 µs of main-thread CPU per payment with this pair against 1,600
   * and 1,000 with auto-pipelining alone (1,150 and 650 with none); at the closed-loop peak 3,982 and 3,789
   * payments/s with the pair against 2,920 and 3,037 with auto-pipelining alone (none at all: 3,642).
   */
  async #run<T>(command: (redis: ScriptedRedis) => Promise<T>): Promise<T> {
    const redis = this.#waiting === 0 ? this.#direct : this.#batched;
    this.#waiting++;
    try {
      return await command(redis);
    } catch (e) {
      throw storeFailure(e);
    } finally {
      this.#waiting--;
    }
  }
}
