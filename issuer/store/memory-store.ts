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
import {
  copyCard, copyLedger, copyResult, copySession, sameSession, declineReason, ledgerRecord, ledgerResult, refusedCardResult, wrongPinResult,
} from './records.ts';
import { ExpiringMap } from './expiring-map.ts';
import { EXPIRED_SESSION_RETENTION_MS, USED_SESSION_RETENTION_MS } from './session-retention.ts';
import type {
  AuthSession, Authorization, CardMutation, CardRecord, DeviceRecord, DeviceRevocation, DeviceTokenCheck, LedgerRecord, OpenedSession, PaymentRequest,
  PinAttempt, PinPolicy, PinResult, RateLimit, RateTake, SessionView, Store,
} from './types.ts';
import { RECENT_RESULTS } from './types.ts';
import {
  checkedAttempt, checkedCard, checkedCardToken, checkedDeviceId, checkedLockAt, checkedMutation, checkedNonce,
  checkedPaymentRequest, checkedPolicy, checkedRate, checkedScannerId, checkedSession, checkedSessionId, checkedTime,
} from './validate.ts';

interface StoredSession {
  session: AuthSession;
  usedAt: number | null;
  attempt: string | null; // the beginPinAttempt call that claimed it
  authorizedBy: string | null; // the authorizePayment call that wrote its ledger record
  result: PinResult | null;
  /** Wall-clock ms at which the entry is forgotten (the Redis key's PEXPIREAT). */
  keepUntil: number;
}

export class MemoryStore implements Store {
  readonly description = 'embedded (in-process, not persistent: everything is lost when this process exits)';
  readonly persistent = false;

  readonly #cards = new Map<string, CardRecord>();
  readonly #sessions = new ExpiringMap<StoredSession>();
  readonly #ledger = new Map<string, LedgerRecord>();
  readonly #nonces = new ExpiringMap<{ keepUntil: number }>();
  readonly #devices = new Map<string, DeviceRecord>();
  readonly #recent = new ExpiringMap<{ keepUntil: number; sessions: string[] }>();
  readonly #rates = new ExpiringMap<{ keepUntil: number; tat: number }>();

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

  async openSession(session: AuthSession, rate?: RateTake): Promise<OpenedSession> {
    const s = checkedSession(session);
    const unit = rate && checkedRate(rate.key, rate.limit);
    if (unit && !this.#take(unit.key, unit.limit)) return { ok: false, reason: 'RATE_LIMITED' };
    const kept = this.#sessions.get(s.id);
    // the same session again while unused is a re-send, answered as the first; anything else under its id is refused
    if (kept && (kept.usedAt !== null || !sameSession(kept.session, s))) throw new ScanpayError('BAD_ARGUMENT', 'session id exists');
    const card = this.#cards.get(s.card);
    if (!card) return { ok: false, reason: 'CARD_UNKNOWN' };
    if (kept) return { ok: true, card: copyCard(card) };
    this.#sessions.set(s.id, { session: s, usedAt: null, attempt: null, authorizedBy: null, result: null, keepUntil: s.expiresAt + EXPIRED_SESSION_RETENTION_MS });
    return { ok: true, card: copyCard(card) };
  }

  async discardSession(id: string): Promise<void> {
    this.#sessions.delete(checkedSessionId(id));
  }

  async getSession(id: string): Promise<SessionView | null> {
    const entry = this.#sessions.get(checkedSessionId(id));
    if (!entry) return null;
    if (entry.usedAt === null) return Date.now() < entry.session.expiresAt ? { session: copySession(entry.session), state: 'open', result: null } : null;
    return { session: copySession(entry.session), state: entry.result ? 'done' : 'pending', result: entry.result && copyResult(entry.result) };
  }

  async beginPinAttempt(id: string, scannerId: string, attempt: string, now: number, policy: PinPolicy, rate?: RateTake): Promise<PinAttempt> {
    checkedSessionId(id);
    checkedScannerId(scannerId);
    checkedAttempt(attempt);
    checkedTime(now, 'now');
    const { lockAt, paceMs, takeoverMs } = checkedPolicy(policy);
    const unit = rate && checkedRate(rate.key, rate.limit);
    if (unit && !this.#take(unit.key, unit.limit)) return { kind: 'refused', reason: 'RATE_LIMITED' };
    const entry = this.#sessions.get(id);
    // Same checks, same order as the Redis script BEGIN_PIN_ATTEMPT.
    if (!entry) return { kind: 'refused', reason: 'SESSION_UNKNOWN' };
    if (entry.session.scannerId !== scannerId) return { kind: 'refused', reason: 'SESSION_WRONG_SCANNER' };
    const card = this.#cards.get(entry.session.card);
    if (entry.usedAt !== null) {
      if (entry.result) return { kind: 'used', session: copySession(entry.session), state: 'done', result: copyResult(entry.result) };
      // the same call re-sent (its reply was lost): the same answer, counted once
      if (entry.attempt === attempt && card) return { kind: 'evaluate', session: copySession(entry.session), card: copyCard(card) };
      if (now - entry.usedAt < takeoverMs!) return { kind: 'used', session: copySession(entry.session), state: 'pending', result: null };
      // else: nobody finished that attempt (its gateway died or lost the store); this one takes over, counted anew
    }
    if (now >= entry.session.expiresAt) return { kind: 'refused', reason: 'SESSION_EXPIRED' };
    const refusal = !card ? 'gone' : card.status === 'blocked' ? 'blocked' : card.status === 'locked' || card.pinFailures >= lockAt ? 'locked' : null;
    if (!refusal && now < card!.pinPaceUntil) return { kind: 'refused', reason: 'PIN_PACED' };
    this.#claim(entry, attempt, now);
    if (refusal) {
      entry.result = refusedCardResult(refusal);
      return { kind: 'decided', session: copySession(entry.session), result: copyResult(entry.result) };
    }
    card!.pinFailures += 1; // counted before it is verified, like an EMV PIN try counter
    card!.pinPaceUntil = now + paceMs;
    card!.updatedAt = now;
    return { kind: 'evaluate', session: copySession(entry.session), card: copyCard(card!) };
  }

  async settleFailedPin(sessionId: string, verdict: 'wrong' | 'invalid', lockAt: number, now: number): Promise<PinResult> {
    checkedSessionId(sessionId);
    checkedLockAt(lockAt);
    checkedTime(now, 'now');
    if (verdict !== 'wrong' && verdict !== 'invalid') throw new ScanpayError('BAD_ARGUMENT', 'verdict must be wrong or invalid');
    const entry = this.#sessions.get(sessionId);
    if (entry?.result) return copyResult(entry.result); // settled already: one outcome per session
    const card = entry && this.#cards.get(entry.session.card);
    let result: PinResult;
    if (verdict === 'invalid' || !card) result = refusedCardResult('gone');
    else if (card.status === 'blocked') result = refusedCardResult('blocked');
    else {
      // Only an active card turns 'locked': a blocked card stays blocked (the issuer's decision outranks a PIN lock).
      if (card.pinFailures >= lockAt && card.status === 'active') {
        card.status = 'locked';
        card.updatedAt = now;
      }
      result = card.status === 'locked' ? refusedCardResult('locked') : wrongPinResult(card.pinFailures, lockAt);
    }
    if (entry) entry.result = result;
    return copyResult(result);
  }

  async authorizePayment(request: PaymentRequest): Promise<Authorization> {
    const req = checkedPaymentRequest(request);
    const entry = this.#sessions.get(req.sessionId);
    const existing = this.#ledger.get(req.sessionId);
    if (existing) return { record: copyLedger(existing), result: ledgerResult(existing), replayed: entry?.authorizedBy !== req.attempt };
    if (entry?.result && !entry.result.ledger) return { record: null, result: copyResult(entry.result), replayed: entry.authorizedBy !== req.attempt };
    const card = this.#cards.get(req.card);
    if (!card || card.status !== 'active') {
      const result = refusedCardResult(!card ? 'gone' : (card.status as 'blocked' | 'locked'));
      if (entry) Object.assign(entry, { result, authorizedBy: req.attempt });
      return { record: null, result: copyResult(result), replayed: false };
    }
    card.pinFailures = 0; // the PIN was right
    const reason = declineReason(card, req);
    if (!reason) card.balance -= req.amount;
    card.updatedAt = req.at;
    const record = ledgerRecord(req, reason, card.balance);
    this.#ledger.set(req.sessionId, record);
    if (entry) Object.assign(entry, { result: ledgerResult(record), authorizedBy: req.attempt });
    return { record: copyLedger(record), result: ledgerResult(record), replayed: false };
  }

  async getLedgerRecord(sessionId: string): Promise<LedgerRecord | null> {
    const record = this.#ledger.get(checkedSessionId(sessionId));
    return record ? copyLedger(record) : null;
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
    if (known?.revokedAt) return 'already-revoked';
    if (!known && !evenIfUnknown) return 'unknown';
    this.#device(deviceId).revokedAt = Date.now();
    return 'revoked';
  }

  async recordDevice(deviceId: string): Promise<boolean> {
    const record = this.#device(checkedDeviceId(deviceId));
    if (record.provisionedAt !== null) return false;
    record.provisionedAt = Date.now();
    return true;
  }

  /** As Redis lists its device index: the devices recorded or revoked, not those that only connected. */
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
    if (!record) this.#devices.set(deviceId, (record = { deviceId, provisionedAt: null, revokedAt: null, lastConnectedAt: null }));
    return record;
  }

  #claim(entry: StoredSession, attempt: string, now: number): void {
    entry.usedAt = now;
    entry.attempt = attempt;
    entry.keepUntil = entry.session.expiresAt + USED_SESSION_RETENTION_MS;
  }
}
