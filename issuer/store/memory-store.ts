/**
 * The embedded store (BRIEF §4): the store contract in plain Maps, for `npm start` on a machine without Redis.
 * Atomicity comes from JavaScript running one thing at a time: no method awaits between reading and writing
 * its state, so each read-modify-write completes before any other caller runs. Records are copied on the way
 * in and out, so no caller can reach the stored state. Nothing survives the process.
 * @example
 *   const store = new MemoryStore();
 *   await store.insertCard(card);
 */
import { copyCard, copyLedger, copySession, declineReason, ledgerRecord } from './records.ts';
import { EXPIRED_SESSION_RETENTION_MS, USED_SESSION_RETENTION_MS } from './session-retention.ts';
import type { AuthSession, CardMutation, CardRecord, LedgerRecord, PaymentRequest, SessionClaim, Store } from './types.ts';
import {
  checkedCard, checkedLockAt, checkedMutation, checkedPan, checkedPaymentRequest, checkedScannerId, checkedSession,
  checkedSessionId, checkedTime,
} from './validate.ts';

/** How often, at most, the session map is swept of forgotten entries (a sweep walks the whole map). */
const SESSION_SWEEP_INTERVAL_MS = 1_000;

interface StoredSession {
  session: AuthSession;
  used: boolean;
  /** Wall-clock ms at which the entry is forgotten (the Redis key's PEXPIREAT). */
  keepUntil: number;
}

export class MemoryStore implements Store {
  readonly description = 'embedded (in-process, not persistent: everything is lost when this process exits)';
  readonly persistent = false;

  readonly #cards = new Map<string, CardRecord>();
  readonly #sessions = new Map<string, StoredSession>();
  readonly #ledger = new Map<string, LedgerRecord>();
  #nextSweep = 0;

  async insertCard(card: CardRecord): Promise<boolean> {
    const row = checkedCard(card);
    if (this.#cards.has(row.pan)) return false;
    this.#cards.set(row.pan, row);
    return true;
  }

  async getCard(pan: string): Promise<CardRecord | null> {
    const row = this.#cards.get(checkedPan(pan));
    return row ? copyCard(row) : null;
  }

  async updateCard(pan: string, mutate: CardMutation): Promise<CardRecord | null> {
    const current = this.#cards.get(checkedPan(pan));
    if (!current) return null;
    const next = mutate(copyCard(current));
    if (next === null) return copyCard(current);
    const row = checkedMutation(next, pan);
    this.#cards.set(pan, row);
    return copyCard(row);
  }

  async createSession(session: AuthSession): Promise<boolean> {
    const s = checkedSession(session);
    if (this.#remembered(s.id)) return false;
    this.#sessions.set(s.id, { session: s, used: false, keepUntil: s.expiresAt + EXPIRED_SESSION_RETENTION_MS });
    return true;
  }

  async getSession(id: string): Promise<AuthSession | null> {
    const entry = this.#remembered(checkedSessionId(id));
    if (!entry || Date.now() >= entry.session.expiresAt) return null;
    return copySession(entry.session);
  }

  async claimSession(id: string, scannerId: string, now: number): Promise<SessionClaim> {
    checkedScannerId(scannerId);
    checkedTime(now, 'now');
    const entry = this.#remembered(checkedSessionId(id));
    // Same checks, same order as the Redis script CLAIM_SESSION.
    if (!entry) return { ok: false, reason: 'SESSION_UNKNOWN' };
    if (entry.used) return { ok: false, reason: 'SESSION_USED' };
    if (now >= entry.session.expiresAt) return { ok: false, reason: 'SESSION_EXPIRED' };
    if (entry.session.scannerId !== scannerId) return { ok: false, reason: 'SESSION_WRONG_SCANNER' };
    entry.used = true;
    entry.keepUntil = entry.session.expiresAt + USED_SESSION_RETENTION_MS;
    return { ok: true, session: copySession(entry.session) };
  }

  async recordPinFailure(pan: string, lockAt: number): Promise<{ failures: number; locked: boolean } | null> {
    checkedLockAt(lockAt);
    const card = this.#cards.get(checkedPan(pan));
    if (!card) return null;
    card.pinFailures += 1;
    // Only an active card turns 'locked': a blocked card stays blocked (the issuer's decision outranks a PIN lock).
    if (card.status === 'active' && card.pinFailures >= lockAt) card.status = 'locked';
    card.updatedAt = Date.now();
    return { failures: card.pinFailures, locked: card.status === 'locked' };
  }

  async clearPinFailures(pan: string): Promise<void> {
    const card = this.#cards.get(checkedPan(pan));
    if (!card || card.pinFailures === 0) return;
    card.pinFailures = 0;
    card.updatedAt = Date.now();
  }

  async authorizePayment(request: PaymentRequest): Promise<{ record: LedgerRecord; replayed: boolean }> {
    const req = checkedPaymentRequest(request);
    const existing = this.#ledger.get(req.sessionId);
    if (existing) return { record: copyLedger(existing), replayed: true };
    const card = this.#cards.get(req.pan);
    const reason = declineReason(card, req);
    if (card && !reason) {
      card.balance -= req.amount;
      card.updatedAt = req.at;
    }
    const record = ledgerRecord(req, reason, card?.balance ?? 0);
    this.#ledger.set(req.sessionId, record);
    return { record: copyLedger(record), replayed: false };
  }

  async getLedgerRecord(sessionId: string): Promise<LedgerRecord | null> {
    const record = this.#ledger.get(checkedSessionId(sessionId));
    return record ? copyLedger(record) : null;
  }

  async countCards(): Promise<number> {
    return this.#cards.size;
  }

  async ping(): Promise<void> {}

  /** Nothing to release: the Maps go when the process does. */
  async close(): Promise<void> {}

  /** The session entry unless it is past retention; sweeps forgotten entries at most once per interval. */
  #remembered(id: string): StoredSession | undefined {
    const now = Date.now();
    if (now >= this.#nextSweep) {
      this.#nextSweep = now + SESSION_SWEEP_INTERVAL_MS;
      for (const [key, entry] of this.#sessions) if (entry.keepUntil <= now) this.#sessions.delete(key);
    }
    const entry = this.#sessions.get(id);
    if (entry && entry.keepUntil <= now) {
      this.#sessions.delete(id);
      return undefined;
    }
    return entry;
  }
}
