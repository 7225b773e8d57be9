/**
 * The store contract (BRIEF §4): what the issuer and the gateway keep, and the atomic operations on it.
 * Two implementations honour it: the embedded in-process store (default, not persistent) and Redis.
 * Every method is atomic on its own: a concurrent caller sees the state before or after, never between.
 */

export type CardStatus = 'active' | 'blocked' | 'locked';

/** One card's row: the issuer's mapping PAN ↔ basic key plus what authorization needs. */
export interface CardRecord {
  pan: string; // 16 ASCII digits, Luhn-valid; the key of the row
  generation: number; // u32: only payloads of this generation are legal
  keyId: number; // issuer key id the current payload was sealed under
  status: CardStatus;
  wrappedBasicKey: Uint8Array; // nonce ‖ ChaCha20-Poly1305(storageKey) of the basic key: never the key in clear
  pvv: Uint8Array; // 32 B PIN verification value
  currency: string; // ISO 4217 alpha code, e.g. "EUR"
  limit: number; // largest single payment, minor units (safe integer ≥ 0)
  balance: number; // funds available, minor units (safe integer ≥ 0)
  pinFailures: number; // consecutive wrong PINs; 3 locks the card
  updatedAt: number; // ms since epoch
}

/** An authentication session (S24): single-use, expiring, bound to one scanner and one payment. */
export interface AuthSession {
  id: string; // 32 hex chars from the CSPRNG (16 bytes): also the payment's idempotency key
  scannerId: string;
  pan: string;
  payload: string; // the card payload text as scanned (ciphertexts only), re-verified at S25
  amount: number; // minor units
  currency: string;
  merchant: string;
  createdAt: number;
  expiresAt: number; // ms since epoch
}

export type SessionClaim =
  | { ok: true; session: AuthSession }
  | { ok: false; reason: 'SESSION_UNKNOWN' | 'SESSION_EXPIRED' | 'SESSION_USED' | 'SESSION_WRONG_SCANNER' };

/** What the ledger keeps of one payment attempt that reached authorization. */
export interface LedgerRecord {
  sessionId: string; // idempotency key
  pan: string;
  merchant: string;
  amount: number;
  currency: string;
  outcome: 'approved' | 'declined';
  reason: string | null; // null when approved; e.g. 'INSUFFICIENT_FUNDS', 'OVER_LIMIT', 'CURRENCY_MISMATCH', 'CARD_BLOCKED', 'CARD_LOCKED', 'CARD_UNKNOWN'
  cryptogram: string; // hex, 32 B transaction cryptogram (DVD-1 step 5)
  balanceAfter: number; // card balance after this record (unchanged when declined)
  at: number; // ms since epoch
}

export interface PaymentRequest {
  sessionId: string;
  pan: string;
  merchant: string;
  amount: number;
  currency: string;
  cryptogram: string;
  at: number;
}

/** A change computed from the current row; returning null leaves the row as it is. */
export type CardMutation = (current: CardRecord) => CardRecord | null;

export interface Store {
  /** Human-readable kind for logs and /readyz: "embedded (in-process, not persistent)" or "redis redis://host:port/db". */
  readonly description: string;
  /** False for the embedded store: everything is lost when the process exits. */
  readonly persistent: boolean;

  /** Inserts a new card; false (and nothing written) when the PAN already exists. */
  insertCard(card: CardRecord): Promise<boolean>;
  getCard(pan: string): Promise<CardRecord | null>;
  /**
   * Compare-and-set: reads the row, applies `mutate`, writes the result only if nobody changed the row
   * in between (retrying `mutate` on a fresh read otherwise). Resolves to the row as stored after the call,
   * or null when the card does not exist. `mutate` must be pure: it may run more than once.
   */
  updateCard(pan: string, mutate: CardMutation): Promise<CardRecord | null>;
  /**
   * S24: stores a new session that expires at session.expiresAt (Redis: key TTL). False if the id exists.
   */
  createSession(session: AuthSession): Promise<boolean>;
  /** Reads a session without using it (the auth page shows it); null when unknown or expired. */
  getSession(id: string): Promise<AuthSession | null>;
  /**
   * S25, atomically: the session exists, has not expired, is unused and belongs to `scannerId`; if so it is
   * marked used and returned. A second claim of the same id is SESSION_USED, forever within its retention.
   */
  claimSession(id: string, scannerId: string, now: number): Promise<SessionClaim>;
  /**
   * Records a wrong PIN for the card, atomically: pinFailures + 1, status → 'locked' when it reaches `lockAt`.
   * Resolves to the failures count after the increment and whether the card is now locked; null for an unknown card.
   */
  recordPinFailure(pan: string, lockAt: number): Promise<{ failures: number; locked: boolean } | null>;
  /** A correct PIN: pinFailures back to 0 (a locked card stays locked). */
  clearPinFailures(pan: string): Promise<void>;
  /**
   * Authorizes exactly once per request.sessionId, atomically: if a ledger record for that id exists it is
   * returned unchanged (a retry never pays twice); otherwise the card must exist, be active, match the
   * currency, amount ≤ limit and ≤ balance → balance −= amount and an 'approved' record; else a 'declined'
   * record with the reason. The record is written in the same atomic step as the balance change.
   */
  authorizePayment(request: PaymentRequest): Promise<{ record: LedgerRecord; replayed: boolean }>;
  getLedgerRecord(sessionId: string): Promise<LedgerRecord | null>;

  /** Number of cards (for /readyz, the demo and tests). */
  countCards(): Promise<number>;

  /** Round trip to the backing store; throws when it is unreachable. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
