/**
 * How long the store remembers what it no longer needs to act on, in both stores (Redis enforces it with
 * PEXPIREAT / PX). Sessions: how long a session is remembered after it expires (both stores; Redis enforces it with PEXPIREAT).
 * A session is refused from expiresAt on; keeping it a while longer only changes which refusal a late
 * caller gets, and forgetting it bounds memory. Past retention a claim is SESSION_UNKNOWN: still refused,
 * and a payment stays exactly-once regardless, because the ledger is keyed by the session id and kept for good.
 */
import { DEFAULT_TAKEOVER_MS } from './types.ts';

/** An unused session lingers this long past expiresAt, so a late claim reads SESSION_EXPIRED, not SESSION_UNKNOWN. */
export const EXPIRED_SESSION_RETENTION_MS = 10 * 60_000;

/**
 * A used session lingers this long past expiresAt, so a repeated PIN for it is answered with its stored result
 * (the payment's outcome again, never a second attempt), and a scanner's status query finds it.
 */
export const USED_SESSION_RETENTION_MS = 24 * 60 * 60_000;

/**
 * A session's card payload is kept only while the session can take a PIN: until it is decided, or until this
 * deadline (its expiry plus the default takeover time, so the claiming call re-sent after a lost reply can still
 * be answered). Then both stores forget it (Redis: the payload key's PEXPIREAT).
 */
export function payloadDeadline(session: { expiresAt: number }): number {
  return session.expiresAt + DEFAULT_TAKEOVER_MS;
}

/** How long an operation's answer is kept for its opId, and a merchant's Idempotency-Key claim (docs/merchant-api.md). */
export const OPERATION_RETENTION_MS = 24 * 60 * 60_000;

/** How long an API key is remembered after its end, so a request with it still reads as expired, not unknown. */
export const EXPIRED_KEY_RETENTION_MS = 24 * 60 * 60_000;

/**
 * On a cluster, how long an outbox mark is kept after its last write (event-types.ts): a step that marked its
 * payment and then ran (the mark is written before the step) is read by a sealer within this, or marks again after
 * it. Far above the store's command deadline.
 */
export const MARK_GRACE_MS = 60_000;
