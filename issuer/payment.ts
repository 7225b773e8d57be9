/**
 * A payment's decisions, stated once: why a payment with a verified PIN is declined (DECLINE_RULES, in the
 * order they run), what a decided PIN attempt answers, the ledger record of an authorization, and what may be
 * done with a payment after it (OPERATION_FROM: which statuses capture, void, refund and expiry take). The
 * embedded store calls these functions; the Redis scripts (store/redis-scripts.ts) run the rules as Lua
 * generated from the same table and record only raw decisions (Decision, below), which this module alone turns
 * into results and records. So a reason, an answer or a rule's order cannot differ between the two stores.
 * @example
 *   const reason = declineReason(card, request);              // null: approve
 *   const result = decisionResult('wrong:2');                 // PIN_WRONG, attemptsLeft 2
 */
import { createHash } from 'node:crypto';
import { DECLINE_CODES, type DeclineCode } from '../protocol/messages.ts';
import { randomHex } from './random-id.ts';
import { shardOf } from './session-id.ts';
import type { OperationRefusal, PaymentStatus } from './store/payment-types.ts';
import type { CardRecord, LedgerRecord, PaymentRequest, PinResult } from './store/types.ts';
import { STATIC_QR_REFUSES_LUA, cardPolicy, staticQrRefuses } from './store/wallet-types.ts';

/** Why a payment with a verified PIN was declined; null in a record means approved. */
export type DeclineReason = DeclineCode;

/** What the rules read of the card: its row's terms and wallet policy, and whether it has an active enrolment. */
export type DeclineCard = Pick<CardRecord, 'currency' | 'limit' | 'balance' | 'staticQr' | 'staticQrLimit'> & { enrolled: boolean };
export type DeclineRequest = Pick<PaymentRequest, 'currency' | 'amount' | 'via'>;

interface DeclineRule {
  /** Whether it declines, in TypeScript (the embedded store)… */
  declines(card: DeclineCard, request: DeclineRequest): boolean;
  /**
   * …and the same test in Lua, over locals `card` {currency, limit, balance, staticQr, staticQrLimit, enrolled}
   * and `request` {currency, amount, viaCode}, with static_qr_refuses (wallet-types.ts) in scope.
   */
  lua: string;
}

/** Each decline reason's rule (every one of DECLINE_CODES has one: the type says so). */
const DECLINE_RULE: Readonly<Record<DeclineReason, DeclineRule>> = {
  // the printed QR under the card's wallet policy (checked at the scan too, and again here: it may change meanwhile)
  STATIC_QR_REFUSED: {
    declines: (card, request) => request.via !== 'code' && staticQrRefuses(cardPolicy(card), request.amount, card.enrolled),
    lua: 'not request.viaCode and static_qr_refuses(card.staticQr, card.staticQrLimit, request.amount, card.enrolled)',
  },
  CURRENCY_MISMATCH: { declines: (card, request) => card.currency !== request.currency, lua: 'card.currency ~= request.currency' },
  OVER_LIMIT: { declines: (card, request) => request.amount > card.limit, lua: 'request.amount > card.limit' },
  INSUFFICIENT_FUNDS: { declines: (card, request) => request.amount > card.balance, lua: 'request.amount > card.balance' },
};

export const DECLINE_REASONS: readonly DeclineReason[] = DECLINE_CODES;

/** The decline rules, in the order they run (DECLINE_CODES'): the first that declines gives the reason. */
export const DECLINE_RULES: readonly (DeclineRule & { reason: DeclineReason })[] = DECLINE_CODES.map((reason) => ({ reason, ...DECLINE_RULE[reason] }));

/** The decision authorizePayment makes for an active card (null: approve). */
export function declineReason(card: DeclineCard, request: DeclineRequest): DeclineReason | null {
  return DECLINE_RULES.find((rule) => rule.declines(card, request))?.reason ?? null;
}

/** Lua setting the local `reason` (nil: approve) from `card` and `request` (DECLINE_RULES, in order). */
export function declineReasonLua(): string {
  const branches = DECLINE_RULES.map((rule, i) => `${i === 0 ? 'if' : 'elseif'} ${rule.lua} then reason = '${rule.reason}'`);
  return `${STATIC_QR_REFUSES_LUA}\nlocal reason = nil\n${branches.join('\n')}\nend`;
}

/**
 * What a store step records of a decided PIN attempt, raw: the card was gone, blocked or locked (no
 * evaluation, or the attempt locked it); a wrong PIN with the tries left; or the authorization's outcome
 * (approved, or declined with its DeclineReason); or reversed (a reversal came before the authorization: nothing
 * is held); or, for a wallet enrolment's session, enrolled (its PIN was right and the enrolment written) or
 * wallet-refused (its PIN was right, but the card's policy refuses another wallet: STATIC_QR_REFUSED). Redis keeps
 * this string on the session; decisionResult makes the answer from it.
 */
export type Decision = 'gone' | 'blocked' | 'locked' | `wrong:${number}` | 'approved' | `declined:${DeclineReason}` | 'reversed' | 'enrolled' | 'wallet-refused';

/** The decisions a card that takes no PIN gives, as the scripts write them. */
export const CARD_REFUSED = { gone: 'gone', blocked: 'blocked', locked: 'locked' } as const satisfies Record<string, Decision>;

/**
 * The answer for a decided attempt. A locked card reads exactly as the wrong PIN that locked it (attemptsLeft
 * 0), so a right PIN after the lock tells nothing. Throws RangeError for a string that is no Decision.
 */
export function decisionResult(decision: string): PinResult {
  if (decision === 'locked') return { outcome: 'declined', reason: 'CARD_LOCKED', attemptsLeft: 0, ledger: false };
  if (decision === 'blocked') return { outcome: 'declined', reason: 'CARD_BLOCKED', ledger: false };
  if (decision === 'gone') return { outcome: 'declined', reason: 'CARD_INVALID', ledger: false };
  if (decision === 'approved') return { outcome: 'approved', reason: null, ledger: true };
  if (decision === 'reversed') return { outcome: 'declined', reason: 'REVERSED', ledger: false };
  if (decision === 'enrolled') return { outcome: 'approved', reason: null, ledger: false };
  if (decision === 'wallet-refused') return { outcome: 'declined', reason: 'STATIC_QR_REFUSED', ledger: false };
  const wrong = /^wrong:([0-9]{1,10})$/.exec(decision);
  if (wrong && Number(wrong[1]) > 0) return { outcome: 'declined', reason: 'PIN_WRONG', attemptsLeft: Number(wrong[1]), ledger: false };
  const declined = /^declined:([A-Z_]+)$/.exec(decision);
  if (declined && DECLINE_REASONS.includes(declined[1] as DeclineReason)) return { outcome: 'declined', reason: declined[1]!, ledger: true };
  throw new RangeError('not a PIN attempt decision');
}

/** A wrong PIN: locked once the count reaches lockAt, else the tries left. */
export function wrongPinDecision(failures: number, lockAt: number): Decision {
  return failures >= lockAt ? 'locked' : `wrong:${lockAt - failures}`;
}

/** An authorization's decision from its decline reason. */
export function authorizationDecision(reason: DeclineReason | null): Decision {
  return reason ? `declined:${reason}` : 'approved';
}

/** The ledger record of an authorization: the request, and what was decided. */
export function ledgerRecord(request: Pick<PaymentRequest, 'sessionId' | 'cardToken' | 'last4' | 'merchant' | 'amount' | 'currency' | 'cryptogram' | 'at'>, reason: DeclineReason | null, balanceAfter: number): LedgerRecord {
  const { sessionId, cardToken, last4, merchant, amount, currency, cryptogram, at } = request;
  return { sessionId, cardToken, last4, merchant, amount, currency, outcome: reason ? 'declined' : 'approved', reason, cryptogram, balanceAfter, at };
}

export function ledgerResult(record: LedgerRecord): PinResult {
  return decisionResult(authorizationDecision(record.reason as DeclineReason | null));
}

// ── after the payment (docs/ledger.md) ──────────────────────────────────────────────────────────────────────

/** An operation on a payment after its authorization, and the statuses it takes (any other refuses it, nothing changed). */
export const OPERATION_FROM = {
  capture: ['authorized'],
  void: ['authorized'],
  refund: ['captured', 'partially_refunded'],
  expire: ['authorized'],
} as const satisfies Record<string, readonly PaymentStatus[]>;

export type PaymentOperation = keyof typeof OPERATION_FROM;

/** Why an operation is refused when the payment's status does not take it. */
export const OPERATION_REFUSAL = {
  capture: 'PAYMENT_NOT_CAPTURABLE', void: 'PAYMENT_NOT_VOIDABLE', refund: 'PAYMENT_NOT_REFUNDABLE', expire: 'PAYMENT_NOT_VOIDABLE',
} as const satisfies Record<PaymentOperation, OperationRefusal>;

export function takes(operation: PaymentOperation, status: PaymentStatus): boolean {
  return (OPERATION_FROM[operation] as readonly PaymentStatus[]).includes(status);
}

/** Lua: a table of the statuses `operation` takes, for `takes[status]` (OPERATION_FROM). */
export function takesLua(operation: PaymentOperation): string {
  return `{ ${OPERATION_FROM[operation].map((status) => `${status} = true`).join(', ')} }`;
}

/** A captured payment's status once `refunded` of `captured` is refunded. */
export function refundedStatus(captured: number, refunded: number): PaymentStatus {
  return refunded >= captured ? 'refunded' : refunded > 0 ? 'partially_refunded' : 'captured';
}

/** The same rule in Lua: `refunded_status(captured, refunded)`. */
export const REFUNDED_STATUS_LUA = `
local function refunded_status(captured, refunded)
  if refunded >= captured then return 'refunded' elseif refunded > 0 then return 'partially_refunded' else return 'captured' end
end`;

/** How long an authorization not captured holds its amount before it is released by itself (manual capture). */
export const DEFAULT_HOLD_WINDOW_MS = 7 * 24 * 60 * 60_000;

/** An operation id: on the payment's shard (its keys' hash tag), then 28 hex digits, random or from an Idempotency-Key. */
export function operationId(paymentId: string, merchant: string, idempotencyKey: string | null): string {
  const rest = idempotencyKey === null
    ? randomHex(14)
    : createHash('sha256').update(`scanpay/v1/operation\n${merchant}\n${idempotencyKey}`).digest('hex').slice(0, 28);
  return shardOf(paymentId) + rest;
}

/**
 * A scanner's reversal of one of its sessions (protocol `reverse`): one opId per session, so every retry of it, on
 * any gateway, replays the first answer. Its own hash domain: no merchant's Idempotency-Key gives the same opId.
 */
export function scannerReversalId(sessionId: string): string {
  return shardOf(sessionId) + createHash('sha256').update(`scanpay/v1/scanner-reversal\n${sessionId}`).digest('hex').slice(0, 28);
}

/** A refund's id, from the operation that made it: `re_` ‖ its opId (so the refund is on its payment's shard). */
export function refundIdOf(opId: string): string {
  return `re_${opId}`;
}

/** The operation id inside a refund id, or null for a string that is no refund id. */
export function opIdOfRefund(refundId: string): string | null {
  return /^re_[0-9a-f]{32}$/.test(refundId) ? refundId.slice(3) : null;
}

/** What a request asked, for telling an Idempotency-Key reused with another request: SHA-256 of method, path and body. */
export function requestFingerprint(method: string, path: string, body: string): string {
  return createHash('sha256').update(`${method}\n${path}\n${body}`).digest('hex');
}
