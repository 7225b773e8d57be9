/**
 * The embedded store (BRIEF §4): the store contract in plain Maps, for `npm start` on a machine without Redis.
 * Atomicity comes from JavaScript running one thing at a time: no method awaits between reading and writing
 * its state, so each read-modify-write completes before any other caller runs. Each step makes the same
 * checks in the same order as its Redis script (redis-scripts.ts). Records are copied on the way in and
 * out, so no caller can reach the stored state. Nothing survives the process.
 * @example
 *   const store = new MemoryStore();
 *   await store.insertCard(card);
 */
import { ScanpayError } from '../../core/errors.ts';
import { judgeCardRow } from '../card-legality.ts';
import { CARD_REFUSED, decisionResult, declineReason, ledgerResult, wrongPinDecision } from '../payment.ts';
import { MemoryMerchants } from './memory-merchants.ts';
import { MemoryPayments } from './memory-payments.ts';
import { MemoryEvents } from './memory-events.ts';
import { MemoryReceipts } from './memory-receipts.ts';
import { MemoryWebhooks } from './memory-webhooks.ts';
import { copyCard, copyEnrolment, copyResult, copySessionRecord, sameSession } from './records.ts';
import { ENROLMENT_PURPOSE, cardPolicy, staticQrRefuses, type EnrolmentRecord, type EnrolmentRevocation, type NewEnrolment } from './wallet-types.ts';
import { ExpiringMap } from './expiring-map.ts';
import { pinBudgetKey } from './keys.ts';
import { EXPIRED_SESSION_RETENTION_MS, USED_SESSION_RETENTION_MS, payloadDeadline } from './retention.ts';
import type {
  CodeConsumption, CodeUse, EnrolmentCompletion, AuthSession, Authorization, CardClaim, CardMutation, CardRecord, DeviceBinding, DeviceRecord, DeviceRevocation, DeviceTokenCheck, LedgerRecord, OpenedSession,
  PaymentRequest, PinAttempt, PinBudget, PinPolicy, PinResult, RateLimit, RateTake, RevocationFeed, RevocationListener, SessionRecord, SessionView,
  Store, WrongPinLimit,
} from './types.ts';
import { RECENT_RESULTS } from './types.ts';
import {
  checkedAttempt, checkedBudgetOwner, checkedCard, checkedCardToken, checkedCodeUse, checkedEnrolmentId, checkedNewEnrolment, checkedClaim, checkedDeviceId, checkedLockAt, checkedMerchantId, checkedMutation, checkedNonce,
  checkedPaymentRequest, checkedPolicy, checkedRate, checkedSession, checkedSessionId, checkedTime,
} from './validate.ts';

interface StoredSession {
  session: SessionRecord;
  usedAt: number | null;
  attempt: string | null; // the beginPinAttempt call that claimed it
  authorizedBy: string | null; // the authorizePayment call that wrote its ledger record
  /** Whether its attempt took wrong-PIN budget units (given back if the PIN proves right). */
  budgeted: boolean;
  result: PinResult | null;
  /** Wall-clock ms at which the entry is forgotten (the Redis key's PEXPIREAT). */
  keepUntil: number;
  /** An enrolment session's enrolment, once completeEnrolment wrote it. */
  enrolment?: string;
  /** Claimed by its code (consumeCode's claim), not by a PIN attempt. */
  codeClaim?: boolean;
}

const byCreation = (a: EnrolmentRecord, b: EnrolmentRecord) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

export class MemoryStore implements Store {
  readonly description = 'embedded (in-process, not persistent: everything is lost when this process exits)';
  readonly persistent = false;

  readonly #cards = new Map<string, CardRecord>();
  /** Payments after the payment: their holds, captures, voids, refunds and entries move these cards' balances. */
  readonly payments = new MemoryPayments(this.#cards, (id) => this.#sessions.get(id)?.session.merchant ?? null);
  readonly merchants = new MemoryMerchants();
  readonly events = new MemoryEvents(this.payments);
  readonly receipts = new MemoryReceipts();
  readonly webhooks = new MemoryWebhooks(this.events);
  readonly #sessions = new ExpiringMap<StoredSession>();
  readonly #nonces = new ExpiringMap<{ keepUntil: number }>();
  readonly #devices = new Map<string, DeviceRecord>();
  readonly #recent = new ExpiringMap<{ keepUntil: number; sessions: string[] }>();
  readonly #rates = new ExpiringMap<{ keepUntil: number; tat: number }>();
  /** Per card token, its PIN attempts in flight: session id → the time it counts as a wrong PIN if still unsettled. */
  readonly #inFlight = new Map<string, Map<string, number>>();
  /** Wrong-PIN budgets (PinBudget): units taken in the current window, by scope and id. */
  readonly #budgets = new ExpiringMap<{ keepUntil: number; used: number }>();
  /** Each session's card payload while it can take a PIN (a separate key in Redis, expiring on its own). */
  readonly #payloads = new ExpiringMap<{ keepUntil: number; bytes: Uint8Array }>();
  readonly #revocationWatchers = new Set<RevocationListener>();
  /** Wallet enrolments by id (a card's listing scans them: an embedded store holds demo-sized data). */
  readonly #enrolments = new Map<string, EnrolmentRecord>();
  /** Per card token, its active enrolments' ids (Redis: the card's wallets-active set). */
  readonly #walletsActive = new Map<string, Set<string>>();

  async insertCard(card: CardRecord): Promise<boolean> {
    const row = checkedCard(card);
    if (this.#cards.has(row.token)) return false;
    this.#cards.set(row.token, row);
    return true;
  }

  async getCard(token: string): Promise<CardRecord | null> {
    const row = this.#cards.get(checkedCardToken(token));
    return row ? copyCard(row) : null;
  }

  async updateCard(token: string, mutate: CardMutation): Promise<CardRecord | null> {
    const current = this.#cards.get(checkedCardToken(token));
    if (!current) return null;
    const next = mutate(copyCard(current));
    if (next === null) return copyCard(current);
    const row = checkedMutation(next, token);
    this.#cards.set(token, row);
    return copyCard(row);
  }

  async countCards(): Promise<number> {
    return this.#cards.size;
  }

  async openSession(session: AuthSession, claim: CardClaim, rates: readonly RateTake[] = []): Promise<OpenedSession> {
    const s = checkedSession(session);
    const c = checkedClaim(claim);
    if (!this.#takeAll(rates)) return { ok: false, reason: 'RATE_LIMITED' };
    const kept = this.#sessions.get(s.id);
    // the same session again while unused is a re-send, answered as the first; anything else under its id is refused
    if (kept && (kept.usedAt !== null || !sameSession(kept.session, s))) throw new ScanpayError('BAD_ARGUMENT', 'session id exists');
    const card = this.#cards.get(s.cardToken) ?? null;
    const verdict = judgeCardRow(c, card);
    if (verdict) return { ok: false, reason: verdict };
    // a scan of the printed QR (an enrolment's too, amount 0), under the card's wallet policy
    if (s.via !== 'code' && staticQrRefuses(cardPolicy(card!), s.amount, this.#enrolled(s.cardToken))) return { ok: false, reason: 'STATIC_QR_REFUSED' };
    if (kept) return { ok: true };
    const { payload, ...record } = s;
    this.#sessions.set(s.id, { session: record, usedAt: null, attempt: null, authorizedBy: null, budgeted: false, result: null, keepUntil: s.expiresAt + EXPIRED_SESSION_RETENTION_MS });
    this.#payloads.set(s.id, { bytes: payload, keepUntil: payloadDeadline(s) });
    return { ok: true };
  }

  async getSession(id: string): Promise<SessionView | null> {
    const entry = this.#sessions.get(checkedSessionId(id));
    if (!entry) return null;
    const session = copySessionRecord(entry.session);
    if (entry.usedAt === null) return Date.now() < entry.session.expiresAt ? { session, state: 'open', result: null } : null;
    return { session, state: entry.result ? 'done' : 'pending', result: entry.result && copyResult(entry.result) };
  }

  async beginPinAttempt(id: string, deviceId: string | null, attempt: string, now: number, policy: PinPolicy, rates: readonly RateTake[] = []): Promise<PinAttempt> {
    checkedSessionId(id);
    if (deviceId !== null) checkedDeviceId(deviceId);
    checkedAttempt(attempt);
    checkedTime(now, 'now');
    const { lockAt, paceMs, takeoverMs, budget, from, purpose } = checkedPolicy(policy);
    if (!this.#takeAll(rates)) return { kind: 'refused', reason: 'RATE_LIMITED' };
    const entry = this.#sessions.get(id);
    // Same checks, same order as the Redis script BEGIN_PIN_ATTEMPT.
    if (!entry) return { kind: 'refused', reason: 'SESSION_UNKNOWN' };
    // a payment's PIN never claims an enrolment's session, nor an enrolment's a payment's: as if it did not exist
    if ((entry.session.purpose ?? 'payment') !== purpose) return { kind: 'refused', reason: 'SESSION_UNKNOWN' };
    if (deviceId !== null && entry.session.deviceId !== deviceId) return { kind: 'refused', reason: 'SESSION_WRONG_SCANNER' };
    if (from === 'scanner' && entry.session.pinEntry === 'holder-device') return { kind: 'refused', reason: 'PIN_ENTRY_HOLDER_DEVICE' };
    const card = this.#cards.get(entry.session.cardToken);
    if (entry.usedAt !== null) {
      if (entry.result) return { kind: 'used', session: copySessionRecord(entry.session), state: 'done', result: copyResult(entry.result) };
      // the same call re-sent (its reply was lost): the same answer, counted once
      if (entry.attempt === attempt && card && this.#payload(id, now)) return this.#evaluating(entry, card, now);
      if (now - entry.usedAt < takeoverMs!) return { kind: 'used', session: copySessionRecord(entry.session), state: 'pending', result: null };
      // else: nobody finished that attempt (its gateway died or lost the store); this one takes over, counted anew
    }
    if (now >= entry.session.expiresAt) return { kind: 'refused', reason: 'SESSION_EXPIRED' };
    const inFlight = card ? this.#attemptsInFlight(card, now) : 0;
    const refusal = !card ? 'gone' : card.status === 'blocked' ? 'blocked' : card.status === 'locked' || card.pinFailures >= lockAt ? 'locked' : null;
    if (!refusal && (now < card!.pinPaceUntil || card!.pinFailures + inFlight >= lockAt)) return { kind: 'refused', reason: 'PIN_PACED' };
    if (!refusal && budget) {
      const spent = this.#budgetSpent(budget, entry.session.deviceId, entry.session.merchant, now);
      if (spent) return { kind: 'refused', reason: spent };
      this.#takeBudget(budget, entry.session.deviceId, entry.session.merchant, now);
    }
    this.#claim(entry, attempt, now);
    if (refusal) {
      entry.result = decisionResult(CARD_REFUSED[refusal]);
      this.#forgetPayload(id);
      return { kind: 'decided', session: copySessionRecord(entry.session), result: copyResult(entry.result) };
    }
    entry.budgeted = budget !== undefined;
    // counted before it is verified, like an EMV PIN try counter: in flight until settled, wrong if never settled
    this.#inFlight.get(card!.token)?.set(id, now + takeoverMs!) ?? this.#inFlight.set(card!.token, new Map([[id, now + takeoverMs!]]));
    card!.pinPaceUntil = now + paceMs;
    card!.updatedAt = now;
    return this.#evaluating(entry, card!, now);
  }

  async settleFailedPin(sessionId: string, verdict: 'wrong' | 'invalid', lockAt: number, now: number): Promise<PinResult> {
    checkedSessionId(sessionId);
    checkedLockAt(lockAt);
    checkedTime(now, 'now');
    if (verdict !== 'wrong' && verdict !== 'invalid') throw new ScanpayError('BAD_ARGUMENT', 'verdict must be wrong or invalid');
    const entry = this.#sessions.get(sessionId);
    if (entry?.result) return copyResult(entry.result); // settled already: one outcome per session
    const card = entry && this.#cards.get(entry.session.cardToken);
    // its count, unless the attempt already counted as wrong when its takeover time passed
    if (card && this.#settleInFlight(card.token, sessionId)) card.pinFailures += 1;
    let result: PinResult;
    if (verdict === 'invalid' || !card) result = decisionResult(CARD_REFUSED.gone);
    else if (card.status === 'blocked') result = decisionResult(CARD_REFUSED.blocked);
    else {
      // Only an active card turns 'locked': a blocked card stays blocked (the issuer's decision outranks a PIN lock).
      if (card.pinFailures >= lockAt && card.status === 'active') {
        card.status = 'locked';
        card.updatedAt = now;
      }
      result = decisionResult(card.status === 'locked' ? CARD_REFUSED.locked : wrongPinDecision(card.pinFailures, lockAt));
    }
    if (entry) entry.result = result;
    this.#forgetPayload(sessionId);
    return copyResult(result);
  }

  async authorizePayment(request: PaymentRequest): Promise<Authorization> {
    const req = checkedPaymentRequest(request);
    const entry = this.#sessions.get(req.sessionId);
    const existing = this.payments.record(req.sessionId);
    if (existing) return { record: existing, result: ledgerResult(existing), replayed: entry?.authorizedBy !== req.attempt };
    if (entry?.result && !entry.result.ledger) return { record: null, result: copyResult(entry.result), replayed: entry.authorizedBy !== req.attempt };
    const card = this.#cards.get(req.cardToken);
    if (card) this.#settleInFlight(card.token, req.sessionId);
    this.#forgetPayload(req.sessionId);
    if (!card || card.status !== 'active') {
      const result = decisionResult(CARD_REFUSED[!card ? 'gone' : (card.status as 'blocked' | 'locked')]);
      if (entry) Object.assign(entry, { result, authorizedBy: req.attempt });
      return { record: null, result: copyResult(result), replayed: false };
    }
    // the PIN was right; a code paid without a PIN (no attempt claimed its session) proves nothing of the PIN
    if (req.via !== 'code' || (entry?.attempt && !entry.codeClaim)) card.pinFailures = 0;
    if (entry?.budgeted) this.#giveBackBudget(entry.session.deviceId, entry.session.merchant);
    if (this.payments.reversedBefore(req.sessionId)) {
      // its reversal came first: nothing is held, and the answer says so
      const result = decisionResult('reversed');
      if (entry) Object.assign(entry, { result, authorizedBy: req.attempt, budgeted: false });
      return { record: null, result, replayed: false };
    }
    const record = this.payments.authorized(req, declineReason({ ...card, enrolled: this.#enrolled(card.token) }, req), card);
    if (entry) Object.assign(entry, { result: ledgerResult(record), authorizedBy: req.attempt, budgeted: false });
    return { record, result: ledgerResult(record), replayed: false };
  }

  async completeEnrolment(sessionId: string, newEnrolment: NewEnrolment, attempt: string, now: number): Promise<EnrolmentCompletion> {
    checkedSessionId(sessionId);
    const { id: enrolmentId, wrappedPan } = checkedNewEnrolment(newEnrolment);
    checkedAttempt(attempt);
    checkedTime(now, 'now');
    const entry = this.#sessions.get(sessionId);
    if (!entry || entry.session.purpose !== ENROLMENT_PURPOSE || entry.usedAt === null) throw new ScanpayError('BAD_ARGUMENT', 'no enrolment PIN attempt claimed this session');
    // Same checks, same order as the Redis script COMPLETE_ENROLMENT.
    if (entry.result) {
      const written = entry.enrolment && this.#enrolments.get(entry.enrolment);
      if (written && entry.authorizedBy === attempt) return { kind: 'enrolled', enrolment: copyEnrolment(written) };
      return { kind: 'settled', result: copyResult(entry.result) };
    }
    const card = this.#cards.get(entry.session.cardToken);
    const active = card?.status === 'active';
    const refused = active && cardPolicy(card!).staticQr === 'refused-when-enrolled' && this.#enrolled(card!.token);
    if (active && !refused && this.#enrolments.has(enrolmentId)) throw new ScanpayError('BAD_ARGUMENT', 'enrolment id exists');
    if (card) this.#settleInFlight(card.token, sessionId);
    this.#forgetPayload(sessionId);
    entry.authorizedBy = attempt;
    if (!card || !active) {
      entry.result = decisionResult(CARD_REFUSED[!card ? 'gone' : (card.status as 'blocked' | 'locked')]);
      return { kind: 'settled', result: copyResult(entry.result) };
    }
    card.pinFailures = 0; // the PIN was right
    card.updatedAt = now;
    if (refused) {
      entry.result = decisionResult('wallet-refused');
      return { kind: 'settled', result: copyResult(entry.result) };
    }
    const enrolment: EnrolmentRecord = { id: enrolmentId, cardToken: card.token, createdAt: now, status: 'active', revokedAt: null, lastCounter: 0, wrappedPan };
    this.#enrolments.set(enrolmentId, enrolment);
    this.#walletsActive.get(card.token)?.add(enrolmentId) ?? this.#walletsActive.set(card.token, new Set([enrolmentId]));
    entry.enrolment = enrolmentId;
    entry.result = decisionResult('enrolled');
    return { kind: 'enrolled', enrolment: copyEnrolment(enrolment) };
  }

  async getEnrolment(id: string): Promise<EnrolmentRecord | null> {
    const enrolment = this.#enrolments.get(checkedEnrolmentId(id));
    return enrolment ? copyEnrolment(enrolment) : null;
  }

  async listEnrolments(cardToken: string): Promise<EnrolmentRecord[]> {
    const token = checkedCardToken(cardToken);
    return [...this.#enrolments.values()].filter((e) => e.cardToken === token).sort(byCreation).map(copyEnrolment);
  }

  async revokeEnrolment(id: string, now: number): Promise<EnrolmentRevocation> {
    const enrolment = this.#enrolments.get(checkedEnrolmentId(id));
    checkedTime(now, 'now');
    if (!enrolment) return 'unknown';
    if (enrolment.status === 'revoked') return 'already-revoked';
    Object.assign(enrolment, { status: 'revoked', revokedAt: now });
    this.#walletsActive.get(enrolment.cardToken)?.delete(id);
    return 'revoked';
  }

  async consumeCode(use: CodeUse, rates: readonly RateTake[] = []): Promise<CodeConsumption> {
    const { enrolmentId, counter, session, claim } = checkedCodeUse(use);
    if (!this.#takeAll(rates)) return { ok: false, reason: 'RATE_LIMITED' };
    if (this.#sessions.get(session.id)) throw new ScanpayError('BAD_ARGUMENT', 'session id exists');
    // Same checks, same order as the Redis script CONSUME_CODE.
    const enrolment = this.#enrolments.get(enrolmentId);
    if (!enrolment || enrolment.cardToken !== session.cardToken) return { ok: false, reason: 'ENROLMENT_UNKNOWN' };
    if (enrolment.status !== 'active') return { ok: false, reason: 'ENROLMENT_REVOKED' };
    const card = this.#cards.get(session.cardToken);
    if (!card) return { ok: false, reason: 'CARD_UNKNOWN' };
    if (card.status !== 'active') return { ok: false, reason: card.status === 'blocked' ? 'CARD_BLOCKED' : 'CARD_LOCKED' };
    if (counter <= enrolment.lastCounter) return { ok: false, reason: 'CODE_USED' };
    enrolment.lastCounter = counter;
    const { payload, ...record } = session;
    this.#sessions.set(session.id, claim === undefined
      ? { session: record, usedAt: null, attempt: null, authorizedBy: null, budgeted: false, result: null, keepUntil: session.expiresAt + EXPIRED_SESSION_RETENTION_MS }
      : { session: record, usedAt: Date.now(), attempt: claim, authorizedBy: null, budgeted: false, result: null, keepUntil: session.expiresAt + USED_SESSION_RETENTION_MS, codeClaim: true });
    this.#payloads.set(session.id, { bytes: payload, keepUntil: payloadDeadline(session) });
    return { ok: true, enrolment: copyEnrolment(enrolment) };
  }

  /** Whether the card has an active enrolment (its static-QR policy may refuse a scan then): the Redis store's active set. */
  #enrolled(cardToken: string): boolean {
    return (this.#walletsActive.get(cardToken)?.size ?? 0) > 0;
  }

  async getLedgerRecord(sessionId: string): Promise<LedgerRecord | null> {
    return this.payments.record(checkedSessionId(sessionId));
  }

  async acceptDeviceToken(deviceId: string, nonce: string, ttlMs: number): Promise<DeviceTokenCheck> {
    checkedDeviceId(deviceId);
    checkedNonce(nonce);
    checkedTime(ttlMs, 'ttlMs');
    if (this.#devices.get(deviceId)?.revokedAt) return 'revoked';
    const key = `${deviceId}:${nonce}`;
    if (this.#nonces.get(key)) return 'replayed';
    this.#nonces.set(key, { keepUntil: Date.now() + ttlMs });
    this.#device(deviceId).lastConnectedAt = Date.now();
    return 'accepted';
  }

  async revokeDevice(deviceId: string, { evenIfUnknown = false }: { evenIfUnknown?: boolean } = {}): Promise<DeviceRevocation> {
    checkedDeviceId(deviceId);
    const known = this.#devices.get(deviceId);
    if (known?.revokedAt) return this.#announceRevocation(deviceId, 'already-revoked'); // announced again: a gateway may have missed it
    if (!known && !evenIfUnknown) return 'unknown';
    this.#device(deviceId).revokedAt = Date.now();
    return this.#announceRevocation(deviceId, 'revoked');
  }

  #announceRevocation(deviceId: string, outcome: DeviceRevocation): DeviceRevocation {
    for (const watcher of [...this.#revocationWatchers]) watcher.revoked(deviceId);
    return outcome;
  }

  async revokedDevices(): Promise<string[]> {
    return [...this.#devices.values()].filter((d) => d.revokedAt !== null).map((d) => d.deviceId).sort();
  }

  /** In-process: the watchers of this instance hear of each revocation before revokeDevice resolves; nothing is ever lost. */
  async watchRevocations(listener: RevocationListener): Promise<RevocationFeed> {
    const watcher = { revoked: (id: string) => listener.revoked(id), resumed: () => listener.resumed() };
    this.#revocationWatchers.add(watcher);
    return { close: async () => void this.#revocationWatchers.delete(watcher) };
  }

  async recordDevice(deviceId: string): Promise<boolean> {
    const record = this.#device(checkedDeviceId(deviceId));
    if (record.provisionedAt !== null) return false;
    record.provisionedAt = Date.now();
    return true;
  }

  async bindDevice(deviceId: string, merchant: string): Promise<DeviceBinding> {
    const record = this.#device(checkedDeviceId(deviceId));
    const m = checkedMerchantId(merchant);
    if (record.merchant !== null) return record.merchant === m ? 'already-bound' : 'bound-elsewhere';
    record.merchant = m;
    return 'bound';
  }

  /** As Redis lists its device index: the devices recorded or revoked, not those that only connected. */
  async getDevice(deviceId: string): Promise<DeviceRecord | null> {
    const record = this.#devices.get(checkedDeviceId(deviceId));
    return record ? { ...record } : null;
  }

  async wrongPinWindow(scope: 'device' | 'merchant', id: string): Promise<{ used: number; endsAt: number } | null> {
    const window = this.#budgets.get(pinBudgetKey(scope, checkedBudgetOwner(scope, id)));
    return window ? { used: window.used, endsAt: window.keepUntil } : null;
  }

  async listDevices(): Promise<DeviceRecord[]> {
    return [...this.#devices.values()]
      .filter((d) => d.provisionedAt !== null || d.revokedAt !== null)
      .map((d) => ({ ...d }))
      .sort((a, b) => (a.deviceId < b.deviceId ? -1 : a.deviceId > b.deviceId ? 1 : 0));
  }

  async rememberResult(deviceId: string, sessionId: string, ttlMs: number): Promise<void> {
    checkedDeviceId(deviceId);
    checkedSessionId(sessionId);
    checkedTime(ttlMs, 'ttlMs');
    const sessions = [sessionId, ...(this.#recent.get(deviceId)?.sessions ?? []).filter((s) => s !== sessionId)].slice(0, RECENT_RESULTS);
    this.#recent.set(deviceId, { sessions, keepUntil: Date.now() + ttlMs });
  }

  async recentResults(deviceId: string): Promise<string[]> {
    return [...(this.#recent.get(checkedDeviceId(deviceId))?.sessions ?? [])];
  }

  /** GCRA, as the Redis script TAKE_RATE: a theoretical arrival time moves on by 1/rate per unit taken. */
  async takeRate(key: string, limit: RateLimit): Promise<boolean> {
    const unit = checkedRate(key, limit);
    return this.#take(unit.key, unit.limit);
  }

  /** A step's rate units, in order: false at the first refused (those before it stay taken, as in Redis). */
  #takeAll(rates: readonly RateTake[]): boolean {
    const units = rates.map((rate) => checkedRate(rate.key, rate.limit));
    return units.every((unit) => this.#take(unit.key, unit.limit));
  }

  #take(name: string, { perSecond, burst }: RateLimit): boolean {
    const now = Date.now();
    const interval = 1000 / perSecond;
    const tat = Math.max(this.#rates.get(name, now)?.tat ?? now, now);
    if (tat - now > interval * (burst - 1)) return false;
    this.#rates.set(name, { tat: tat + interval, keepUntil: tat + interval });
    return true;
  }

  async ping(): Promise<void> {}

  /** Nothing to release: the Maps go when the process does. */
  async close(): Promise<void> {}

  #device(deviceId: string): DeviceRecord {
    let record = this.#devices.get(deviceId);
    if (!record) this.#devices.set(deviceId, (record = { deviceId, provisionedAt: null, revokedAt: null, lastConnectedAt: null, merchant: null }));
    return record;
  }

  /** The answer of an evaluated attempt: the session with its payload, and the card row. */
  #evaluating(entry: StoredSession, card: CardRecord, now: number): PinAttempt {
    return { kind: 'evaluate', session: { ...copySessionRecord(entry.session), payload: new Uint8Array(this.#payload(entry.session.id, now)!) }, card: copyCard(card) };
  }

  #payload(sessionId: string, now: number): Uint8Array | undefined {
    return this.#payloads.get(sessionId, now)?.bytes;
  }

  /** The session can take no more PINs: its card payload goes (wiped here; Redis deletes its key). */
  #forgetPayload(sessionId: string): void {
    this.#payloads.get(sessionId)?.bytes.fill(0);
    this.#payloads.delete(sessionId);
  }

  /**
   * The card's attempts in flight now. One whose takeover time has passed was never settled: it counts as the
   * wrong PIN it may have been (pinFailures + 1), as BEGIN_PIN_ATTEMPT does.
   */
  #attemptsInFlight(card: CardRecord, now: number): number {
    const attempts = this.#inFlight.get(card.token);
    if (!attempts) return 0;
    for (const [sessionId, countsAt] of attempts) {
      if (countsAt > now) continue;
      attempts.delete(sessionId);
      card.pinFailures += 1;
    }
    if (attempts.size === 0) this.#inFlight.delete(card.token);
    return attempts.size;
  }

  /** Takes the session's attempt off the card's in-flight list; false if it was not there (it counted already). */
  #settleInFlight(token: string, sessionId: string): boolean {
    const attempts = this.#inFlight.get(token);
    const was = attempts?.delete(sessionId) ?? false;
    if (attempts?.size === 0) this.#inFlight.delete(token);
    return was;
  }

  #budgetSpent(budget: PinBudget, deviceId: string, merchant: string, now: number): 'DEVICE_PIN_BUDGET' | 'MERCHANT_PIN_BUDGET' | null {
    const used = (key: string) => this.#budgets.get(key, now)?.used ?? 0;
    if (used(pinBudgetKey('device', deviceId)) >= budget.device.max) return 'DEVICE_PIN_BUDGET';
    if (used(pinBudgetKey('merchant', merchant)) >= budget.merchant.max) return 'MERCHANT_PIN_BUDGET';
    return null;
  }

  #takeBudget(budget: PinBudget, deviceId: string, merchant: string, now: number): void {
    const take = (key: string, limit: WrongPinLimit) => {
      const window = this.#budgets.get(key, now);
      if (window) window.used += 1;
      else this.#budgets.set(key, { used: 1, keepUntil: now + limit.windowMs });
    };
    take(pinBudgetKey('device', deviceId), budget.device);
    take(pinBudgetKey('merchant', merchant), budget.merchant);
  }

  #giveBackBudget(deviceId: string, merchant: string): void {
    for (const key of [pinBudgetKey('device', deviceId), pinBudgetKey('merchant', merchant)]) {
      const window = this.#budgets.get(key);
      if (window && window.used > 0) window.used -= 1;
    }
  }

  #claim(entry: StoredSession, attempt: string, now: number): void {
    entry.usedAt = now;
    entry.attempt = attempt;
    entry.keepUntil = entry.session.expiresAt + USED_SESSION_RETENTION_MS;
  }
}
