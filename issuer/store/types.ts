/**
 * The store contract (BRIEF §4): what the issuer and the gateway keep, and the atomic steps on it.
 * Two implementations honour it: the embedded in-process store (default, not persistent) and Redis.
 * Every method is atomic on its own: a concurrent caller sees the state before or after, never between.
 *
 * No PAN is kept (PCI DSS 3.5.1): a card is keyed by its card token, a keyed hash of the PAN
 * (IssuerKeyRing.cardToken), and cards, sessions and ledger records hold the token and the last 4 digits.
 * Every key of one payment (card, session, ledger) shares the card token's shard (its first 4 hex
 * digits, also the first 4 of the session id), so each step runs on one Redis Cluster slot (keys.ts).
 */

import type { ErrorCode } from '../../core/errors.ts';
import type { EventStore } from './event-types.ts';
import type { ReceiptStore } from './receipt-types.ts';
import type { MerchantStore } from './merchant-types.ts';
import type { CaptureMethod, PaymentStore } from './payment-types.ts';
import type { WebhookStore } from './webhook-types.ts';
import type { CodeRefusal, EnrolmentRecord, EnrolmentRevocation, NewEnrolment, StaticQrPolicy } from './wallet-types.ts';

export type CardStatus = 'active' | 'blocked' | 'locked';

/** One card's row: what authorization and PIN verification need, and nothing that reveals the PAN. */
export interface CardRecord {
  token: string; // 32 hex: the card token, the key of the row
  last4: string; // the PAN's last 4 digits: the one part of it that may be shown
  generation: number; // u32: only payloads of this generation are legal
  keyId: number; // issuer key id the current payload was sealed under
  status: CardStatus;
  wrappedBasicKey: Uint8Array; // nonce ‖ ChaCha20-Poly1305(storageKey) of the basic key: never the key in clear
  /** 16 B keyed check of the basic key (IssuerKeyRing.basicKeyCheck): lets S22 compare without unwrapping. */
  basicKeyCheck: Uint8Array;
  pvv: Uint8Array; // 32 B PIN verification value
  currency: string; // ISO 4217 alpha code, e.g. "EUR"
  limit: number; // largest single payment, minor units (safe integer ≥ 0)
  balance: number; // funds available, minor units (safe integer ≥ 0)
  pinFailures: number; // wrong PINs since the last correct one (an attempt never settled counts once its takeover time passes)
  pinPaceUntil: number; // ms since epoch: no PIN attempt on this card is evaluated before then
  updatedAt: number; // ms since epoch
  /**
   * The wallet policy (wallet-types.ts CardPolicy; `scanpay card policy`). Absent on a row that never had one:
   * 'allowed', 0 and 0 (cardPolicy fills them in). Set together.
   */
  staticQr?: StaticQrPolicy;
  staticQrLimit?: number;
  codeNoPinLimit?: number;
}

/** An authentication session (S24): single-use, expiring, bound to one scanner and one payment. */
export interface AuthSession {
  id: string; // 32 hex: the card token's shard (4) ‖ 28 from the CSPRNG; also the payment's idempotency key
  deviceId: string;
  cardToken: string;
  last4: string;
  /**
   * The card payload's 112 bytes as scanned (header and ciphertexts only, already base45-decoded), re-verified
   * at S25. Kept only while the session can take a PIN: forgotten once it is decided, or at expiresAt.
   */
  payload: Uint8Array;
  amount: number; // minor units
  currency: string;
  merchant: string;
  /** How the payment is captured once authorized (the scan's choice, else its merchant's), and how long a manual hold lasts (ms). */
  captureMethod: CaptureMethod;
  holdWindowMs: number;
  /**
   * `holder-device`: the PIN is taken on the holder's own phone only (its merchant's policy at the scan): a PIN
   * from the scanner is refused (beginPinAttempt, PIN_ENTRY_HOLDER_DEVICE). Absent: `scanner`, as before.
   */
  pinEntry?: 'holder-device';
  /**
   * 'wallet-enrolment': the PIN attempt of a wallet enrolment (amount 0, merchant and scanner ENROLMENT_*): only an
   * attempt with PinPolicy.purpose 'wallet-enrolment' claims it, and it ends in completeEnrolment, never in a
   * payment. Absent: a payment's session.
   */
  purpose?: 'wallet-enrolment';
  /**
   * 'code': a payment session opened by a one-time code (consumeCode); its payload is the code's 41 bytes. Absent:
   * opened by a scan of the printed card (payload v1, 112 bytes), which the card's static-QR policy judges.
   */
  via?: 'code';
  createdAt: number;
  expiresAt: number; // ms since epoch
}

/** What a scan asserts about its card row, from the payload the crypto engine opened (card-legality.ts judges it). */
export interface CardClaim {
  basicKeyCheck: Uint8Array; // IssuerKeyRing.basicKeyCheck of the decrypted basic key
  generation: number; // from the payload header
  keyId: number; // from the payload header
}

/** Why a card row makes a scan illegal (card-legality.ts judgeCardRow), in the order the checks run. */
export type RowVerdict = Extract<ErrorCode, 'CARD_UNKNOWN' | 'BASIC_KEY_MISMATCH' | 'GENERATION_STALE' | 'CARD_BLOCKED' | 'CARD_LOCKED'>;

/** A session as it is kept once the PIN step no longer needs the card's payload (the page, replays, status). */
export type SessionRecord = Omit<AuthSession, 'payload'>;

/** How a PIN attempt ended. Kept on the session, so a repeated submission gets the same answer. */
export interface PinResult {
  outcome: 'approved' | 'declined';
  /** Scanner code when declined: PIN_WRONG, CARD_LOCKED, CARD_BLOCKED, CARD_INVALID or a ledger decline reason. */
  reason: string | null;
  /** Wrong PINs left before the card locks; only on PIN_WRONG and CARD_LOCKED. */
  attemptsLeft?: number;
  /** True when authorization ran: the ledger record under the session id holds the payment (and the receipt's MAC key). */
  ledger: boolean;
}

export type SessionState = 'open' | 'pending' | 'done';

/** A session as the page and a replay see it: open (takes a PIN), pending (an attempt is running) or done. */
export interface SessionView {
  session: SessionRecord;
  state: SessionState;
  result: PinResult | null; // set once state is 'done'
}

/**
 * RATE_LIMITED: the frame's rate unit (RateTake) was refused, before anything else was looked at.
 * PIN_PACED: the card takes no attempt now (its pace, or as many attempts in flight as it has tries left).
 * DEVICE_PIN_BUDGET / MERCHANT_PIN_BUDGET: the scanner's, or its merchant's, wrong-PIN budget is spent (PinBudget).
 * PIN_ENTRY_HOLDER_DEVICE: a scanner's PIN for a session whose PIN is entered on the holder's device (PinPolicy.from).
 */
export type SessionRefusal =
  | 'SESSION_UNKNOWN' | 'SESSION_EXPIRED' | 'SESSION_WRONG_SCANNER' | 'PIN_PACED' | 'RATE_LIMITED' | 'DEVICE_PIN_BUDGET' | 'MERCHANT_PIN_BUDGET'
  | 'PIN_ENTRY_HOLDER_DEVICE';

/** What beginPinAttempt decided, in one atomic step with the claim of the session and the read of the card. */
export type PinAttempt =
  /** Counted against the card before verification; the caller verifies the PIN and settles the session. */
  | { kind: 'evaluate'; session: AuthSession; card: CardRecord }
  /** Nothing changed (PIN_PACED: the card takes no attempt yet; RATE_LIMITED: the rate unit was refused). */
  | { kind: 'refused'; reason: SessionRefusal }
  /** The session is done without evaluating the PIN (card locked, blocked or gone); the result is stored. */
  | { kind: 'decided'; session: SessionRecord; result: PinResult }
  /** The session was claimed before: the stored state, for a replay (result null while pending). */
  | { kind: 'used'; session: SessionRecord; state: 'pending' | 'done'; result: PinResult | null };

/**
 * Wrong PINs a scanner, or all the scanners of one merchant, may have evaluated across every card within a
 * window: a photographed card locks only itself, but a scanner with a pile of photos could lock (or guess at)
 * many. Each evaluated attempt takes a unit from both budgets before it is verified, and a correct PIN gives
 * them back, so only wrong (or never settled) attempts stay counted. Once either is spent, that scanner's (or
 * merchant's) PINs are refused until its window ends. The window starts at the first unit taken in it.
 */
export interface PinBudget {
  device: WrongPinLimit;
  merchant: WrongPinLimit;
}

export interface WrongPinLimit {
  max: number; // wrong PINs within a window
  windowMs: number;
}

/**
 * A scanner may have 10 wrong PINs evaluated in an hour, across every card, and all scanners of a merchant 100:
 * room for holders' slips at a busy till, while a scanner holding photos of cards can lock about 3 of them an hour
 * instead of about 3 a second (docs/security.md, "A photographed card").
 */
export const DEFAULT_PIN_BUDGET: PinBudget = { device: { max: 10, windowMs: 3_600_000 }, merchant: { max: 100, windowMs: 3_600_000 } };

export interface PinPolicy {
  lockAt: number; // wrong PINs that lock the card (3); attempts in flight count against what is left
  paceMs: number; // least time between two evaluated attempts on one card (0: no pacing)
  budget?: PinBudget; // none: no per-scanner or per-merchant limit
  /**
   * A claimed attempt still undecided after this long (its gateway died, or lost the store) may be taken
   * over by a new attempt, counted anew; default DEFAULT_TAKEOVER_MS. Longer than any live attempt takes.
   */
  takeoverMs?: number;
  /**
   * Where the PIN was entered: `scanner` (a `pin` frame, the default) or `page` (the holder's authentication page).
   * A session whose PIN belongs on the holder's device (AuthSession.pinEntry) refuses a scanner's PIN with
   * PIN_ENTRY_HOLDER_DEVICE right after the scanner check: nothing is claimed, counted or budgeted.
   */
  from?: 'scanner' | 'page';
  /**
   * The session purpose this attempt is for: 'payment' (default) or 'wallet-enrolment'. A session of the other
   * purpose is refused as SESSION_UNKNOWN right after the scanner check, nothing claimed or counted.
   */
  purpose?: 'payment' | 'wallet-enrolment';
}

export const DEFAULT_TAKEOVER_MS = 10_000;

/** How many page-decided sessions per device are kept for a re-push on reconnect. */
export const RECENT_RESULTS = 20;

/** What the ledger keeps of one payment that reached authorization with a verified PIN. */
export interface LedgerRecord {
  sessionId: string; // idempotency key
  cardToken: string;
  last4: string;
  merchant: string;
  amount: number;
  currency: string;
  outcome: 'approved' | 'declined';
  reason: string | null; // null when approved; else 'INSUFFICIENT_FUNDS', 'OVER_LIMIT' or 'CURRENCY_MISMATCH'
  cryptogram: string; // hex, 32 B transaction cryptogram (DVD-1 step 5)
  balanceAfter: number; // card balance after this record (unchanged when declined)
  at: number; // ms since epoch
}

export interface PaymentRequest {
  sessionId: string;
  cardToken: string;
  last4: string;
  merchant: string;
  amount: number;
  currency: string;
  cryptogram: string;
  at: number;
  /** Captured in the authorization's step (automatic), or held until its merchant captures it (manual). */
  captureMethod: CaptureMethod;
  /** A manual capture's hold is released by itself this long after the authorization (ms). */
  holdWindowMs: number;
  /** Random per call: a re-send of the same call (a client retry after a lost reply) is not reported as a replay. */
  attempt: string;
  /**
   * 'code': paid on a verified one-time code: the static-QR rule does not apply, and unless a PIN attempt claimed
   * its session (the PIN taken on the phone) the card's wrong-PIN count stays as it is. Absent: a PIN was verified
   * on a scan of the printed card.
   */
  via?: 'code';
}

export type Authorization =
  /** The PIN was right on an active card: a ledger record, new or replayed. */
  | { record: LedgerRecord; result: PinResult; replayed: boolean }
  /** The card was locked, blocked or gone by then: no ledger record, and the answer a wrong PIN would get. */
  | { record: null; result: PinResult; replayed: boolean };

/**
 * ok: the card row is legal for the claim and the session is stored. Else nothing was written: RATE_LIMITED (the
 * rate unit was refused and nothing was read), the card row's verdict (card-legality.ts judgeCardRow), or
 * STATIC_QR_REFUSED: the card's static-QR policy refuses this scan (wallet-types.ts staticQrRefuses).
 */
export type OpenedSession = { ok: true } | { ok: false; reason: RowVerdict | 'RATE_LIMITED' | 'STATIC_QR_REFUSED' };

export type DeviceTokenCheck = 'accepted' | 'replayed' | 'revoked';

/**
 * What revokeDevice did: 'revoked' now, 'already-revoked' (nothing changed), or 'unknown': the store has never
 * heard of the device (never recorded, revoked or connected) and nothing was written.
 */
export type DeviceRevocation = 'revoked' | 'already-revoked' | 'unknown';

/** A scanner the store lists: provisioned through the CLI (recorded), revoked, or both. */
export interface DeviceRecord {
  deviceId: string;
  provisionedAt: number | null; // ms since epoch
  revokedAt: number | null;
  /** When a token of the device was last accepted (a connection opened), on any gateway sharing the store. */
  lastConnectedAt: number | null;
  /** The merchant the device takes payments for (bindDevice); null: unbound (it may name no registered merchant). */
  merchant: string | null;
}

/**
 * What bindDevice did: 'bound' now, 'already-bound' to this merchant (nothing changed), or 'bound-elsewhere': the
 * device is bound to another merchant and nothing was written (a binding is never moved: a gateway keeps a
 * connection's merchant for the connection's life).
 */
export type DeviceBinding = 'bound' | 'already-bound' | 'bound-elsewhere';

/**
 * What Store.watchRevocations tells its watcher. Called on the store's own turn: each must return at once and
 * never throw (the gateway's watcher closes sockets and records the id).
 */
export interface RevocationListener {
  /** A device was revoked through any handle on this store (another gateway, the CLI); may come again for one already revoked. */
  revoked(deviceId: string): void;
  /**
   * The feed was cut and is listening again (Redis: its subscriber reconnected): a revocation made while it was
   * cut was not delivered, so read revokedDevices() again now.
   */
  resumed(): void;
}

/** A watch on the revocations (Store.watchRevocations); close() stops it. */
export interface RevocationFeed {
  close(): Promise<void>;
}

export interface RateLimit {
  perSecond: number; // sustained rate
  burst: number; // most that may pass at once
}

/**
 * One unit of the limit named `key`, taken inside a store step (openSession, beginPinAttempt) before the step
 * looks at anything: refused, the step answers RATE_LIMITED and changes nothing; taken, it counts as takeRate
 * would. On one Redis or the embedded store this is the same atomic step, so a scanner's frame (or a page POST,
 * with its address's and its session's units) that reaches the store costs one round trip, not two or three; on
 * a Redis Cluster the limits' keys are on other slots and the store takes them with takeRate first.
 */
export interface RateTake {
  key: string;
  limit: RateLimit;
}

// ── the wallet (wallet-types.ts holds its records and policy) ──────────────────────────────────────────────────

/**
 * What completeEnrolment did. enrolled: the row is written (replayed: a re-send of the call that wrote it answers
 * the same row with replayed false; another call on a settled session gets `settled`). settled: the session was
 * decided before (its result), or is decided now without an enrolment: the card is no longer active (as
 * authorizePayment declines it) or its policy refuses another wallet (STATIC_QR_REFUSED).
 */
export type EnrolmentCompletion =
  | { kind: 'enrolled'; enrolment: EnrolmentRecord }
  | { kind: 'settled'; result: PinResult };

/** One use of a verified one-time code: its enrolment and counter, and the payment session it opens. */
export interface CodeUse {
  enrolmentId: string;
  counter: number; // u32 from the code
  /** On the enrolment's card (its cardToken), via 'code'. */
  session: AuthSession;
  /**
   * The code stands in for the PIN: the session is stored already claimed by this attempt id (pending, as a PIN
   * attempt leaves one), for the authorizePayment that follows at once; it takes no PIN, and the payment leaves the
   * card's wrong-PIN count as it is. Absent: the session is open and takes the PIN (on the holder's phone).
   */
  claim?: string;
}

export type CodeConsumption = { ok: true; enrolment: EnrolmentRecord } | { ok: false; reason: CodeRefusal };

/** The wallet's steps on the store (part of Store). */
export interface WalletStore {
  /**
   * An enrolment's PIN was verified (its attempt claimed by beginPinAttempt with purpose 'wallet-enrolment'): in one
   * step, the session is decided once (a re-send of the same `attempt` gets the same enrolment), the attempt leaves
   * the card's in-flight list, the card's failures reset as a correct PIN's do, and the enrolment is inserted
   * active with counter 0. A card no longer active, or whose policy is 'refused-when-enrolled' and has an active
   * enrolment, settles the session without one.
   */
  completeEnrolment(sessionId: string, enrolment: NewEnrolment, attempt: string, now: number): Promise<EnrolmentCompletion>;
  getEnrolment(id: string): Promise<EnrolmentRecord | null>;
  /** A card's enrolments, oldest first (revoked ones too). */
  listEnrolments(cardToken: string): Promise<EnrolmentRecord[]>;
  /** Permanent; the first revocation time is kept. */
  revokeEnrolment(id: string, now: number): Promise<EnrolmentRevocation>;
  /**
   * The contract's one atomic step for a code whose MAC verified: the enrolment is the session's card's and
   * active, the card is active, counter > lastCounter; then lastCounter := counter and the session is stored (as
   * openSession stores one). Else nothing changes and the reason is typed. With `rates`, their units are taken
   * first. BAD_ARGUMENT if the session id exists.
   */
  consumeCode(use: CodeUse, rates?: readonly RateTake[]): Promise<CodeConsumption>;
}

/** A change computed from the current row; returning null leaves the row as it is. */
export type CardMutation = (current: CardRecord) => CardRecord | null;

export interface Store extends WalletStore {
  /** Human-readable kind for logs and /readyz: "embedded (in-process, not persistent)" or "redis redis://host:port/db". */
  readonly description: string;
  /** False for the embedded store: everything is lost when the process exits. */
  readonly persistent: boolean;
  /** Payments after the payment: capture, void, refund, reversal, hold expiry, the ledger's entries (payment-types.ts). */
  readonly payments: PaymentStore;
  /** Merchants and their API keys (merchant-types.ts). */
  readonly merchants: MerchantStore;
  /** Every change to a payment as an event, and merchants' journals of them (event-types.ts). */
  readonly events: EventStore;
  /** Merchants' chains of signed receipts (receipt-types.ts). */
  readonly receipts: ReceiptStore;
  /** Merchants' webhook endpoints and the deliveries of their journals' events (webhook-types.ts). */
  readonly webhooks: WebhookStore;

  /** Inserts a new card; false (and nothing written) when the token exists. */
  insertCard(card: CardRecord): Promise<boolean>;
  getCard(token: string): Promise<CardRecord | null>;
  /**
   * Compare-and-set: reads the row, applies `mutate`, writes the result only if nobody changed the row
   * in between (retrying `mutate` on a fresh read otherwise). Resolves to the row as stored after the call,
   * or null when the card does not exist. `mutate` must be pure: it may run more than once.
   */
  updateCard(token: string, mutate: CardMutation): Promise<CardRecord | null>;
  /** Number of cards (for /readyz, the demo and tests). */
  countCards(): Promise<number>;

  /**
   * S22/S24 in one step: reads the card `session.card`, judges it against what the scan claims (judgeCardRow)
   * and, only if it is legal, stores the session (which expires at session.expiresAt) and its payload (kept
   * until the session is decided or expires). BAD_ARGUMENT if the id exists or does not carry the card's shard.
   * With `rates`, their units are taken first, in order.
   */
  openSession(session: AuthSession, claim: CardClaim, rates?: readonly RateTake[]): Promise<OpenedSession>;
  /** A session for the page: an open one until it expires, a used one until its retention ends; else null. */
  getSession(id: string): Promise<SessionView | null>;

  /**
   * S25, atomically: checks the session (known, unexpired, this scanner's), then the card; a card that is
   * locked, blocked, gone or out of attempts decides the session (CARD_LOCKED etc.) without an evaluation;
   * a paced card, or one with as many attempts in flight as it has tries left, refuses (PIN_PACED); then the
   * wrong-PIN budgets (policy.budget; refused: nothing changes); otherwise counts the attempt as in flight on
   * the card before it is verified (an EMV PIN try counter: it counts as wrong until it is settled), marks the
   * session pending and returns it, with its payload, and the card row. `attempt` (random per call) makes a
   * re-sent call idempotent. An attempt not settled within policy.takeoverMs counts as a wrong PIN, and its
   * session is claimed again by the next attempt (counted anew). `deviceId` null: the session's own scanner
   * (the page, which holds the session's page token, makes no claim of its own). With `rates`, their units are
   * taken first, in order (one refused: RATE_LIMITED, nothing else looked at).
   */
  beginPinAttempt(id: string, deviceId: string | null, attempt: string, now: number, policy: PinPolicy, rates?: readonly RateTake[]): Promise<PinAttempt>;
  /**
   * Settles an evaluated attempt that does not pay: 'wrong' (the PIN was wrong: the card locks once its
   * count reaches lockAt) or 'invalid' (the card failed verification; counted as a wrong PIN too). Stores and
   * returns the result, and forgets the session's payload.
   */
  settleFailedPin(sessionId: string, verdict: 'wrong' | 'invalid', lockAt: number, now: number): Promise<PinResult>;
  /**
   * Authorizes exactly once per request.sessionId, atomically with the correct PIN's effect on the card:
   * if a ledger record for the id exists it is returned (a retry never pays twice); a card that is not
   * active (locked meanwhile, blocked, gone) is declined with no ledger record, as a wrong PIN would be;
   * otherwise pinFailures → 0, the currency, limit and balance are checked, the balance moves if approved,
   * and the record is written, and the wrong-PIN budget units its attempt took are given back. The session (if
   * still kept) is settled with the result, and its payload forgotten.
   */
  authorizePayment(request: PaymentRequest): Promise<Authorization>;
  getLedgerRecord(sessionId: string): Promise<LedgerRecord | null>;

  /**
   * A scanner token's nonce is good once: 'replayed' if seen before within ttlMs, 'revoked' if the device is.
   * 'accepted' also notes the time as the device's lastConnectedAt, in the same step.
   */
  acceptDeviceToken(deviceId: string, nonce: string, ttlMs: number): Promise<DeviceTokenCheck>;
  /**
   * Refuses every later connection of the device (tokens are checked at each upgrade), in one step with the
   * check that the store knows it (recorded, revoked or connected once): an unknown device — a typo, or one
   * provisioned without a record that never connected — is 'unknown' and nothing is written, unless
   * `evenIfUnknown`. The first revocation time is kept. Revocation is permanent. Then, revoked or already
   * revoked, it is announced to every watcher on the store (watchRevocations), so gateways close the device's
   * open sockets (again on a repeat: a gateway may have missed the first).
   */
  revokeDevice(deviceId: string, options?: { evenIfUnknown?: boolean }): Promise<DeviceRevocation>;
  /** Every revoked device's id, sorted. */
  revokedDevices(): Promise<string[]>;
  /**
   * Delivers every revocation made through any handle on this store from now on (MemoryStore: in this process;
   * Redis: pub/sub, on one more connection that this opens). Resolves once listening: a caller that then reads
   * revokedDevices() misses nothing. A push can still be lost while the feed is cut; `resumed` says when to read again.
   */
  watchRevocations(listener: RevocationListener): Promise<RevocationFeed>;
  /** Records that a device was provisioned (the first time is kept; false then); devices need no record to connect. */
  recordDevice(deviceId: string): Promise<boolean>;
  /**
   * Binds a device to the merchant it takes payments for (a scan naming another merchant is refused at the gateway),
   * once: the first binding is kept (DeviceBinding). Does not check that the merchant exists (the caller does) and
   * does not record the device (recordDevice does).
   */
  bindDevice(deviceId: string, merchant: string): Promise<DeviceBinding>;
  /** Every device recorded or revoked through the store, by id (a device that only connected is not listed). */
  listDevices(): Promise<DeviceRecord[]>;
  /** One device as the store knows it (recorded, revoked or connected once), or null. */
  getDevice(deviceId: string): Promise<DeviceRecord | null>;
  /** The current window of a wrong-PIN budget (PinBudget): units counted in it and when it ends; null: none open. */
  wrongPinWindow(scope: 'device' | 'merchant', id: string): Promise<{ used: number; endsAt: number } | null>;
  /** Remembers, for ttlMs, that a session of this device was decided off its connection (the page): re-pushed on reconnect. */
  rememberResult(deviceId: string, sessionId: string, ttlMs: number): Promise<void>;
  /** The sessions rememberResult kept for the device, newest first (at most RECENT_RESULTS). */
  recentResults(deviceId: string): Promise<string[]>;
  /** Takes one unit from the limit named `key` (GCRA); false when it is exhausted. Shared by every gateway. */
  takeRate(key: string, limit: RateLimit): Promise<boolean>;

  /** Round trip to the backing store; throws when it is unreachable. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
