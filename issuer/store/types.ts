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
  /** Number of cards (for /readyz, the demo and tests). */
  countCards(): Promise<number>;

  /** Round trip to the backing store; throws when it is unreachable. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
