/**
 * The store's boundary checks: every record and key is checked here, once, before either store touches it,
 * so both stores reject the same bad input with the same typed error (BAD_ARGUMENT; BAD_LENGTH for a byte
 * field of the wrong size) and write nothing. Each `checked*`
 * returns a fresh copy of its input (the stored state never aliases a caller's object).
 * Card tokens, session ids, device ids and rate keys become Redis key names, so their shape is strict.
 * Messages name the field, never its value.
 * @example
 *   const card = checkedCard(input);   // a validated copy, or a ScanpayError naming the bad field
 */
import { abytes, aint } from '../../core/bytes.ts';
import { ScanpayError } from '../../core/errors.ts';
import { IDEMPOTENCY_KEY_PATTERN } from '../../protocol/merchant-api.ts';
import { isDeviceId, isMerchant, parseAmount, parseCurrency, parseDeviceId, parseMerchant, parseMinorUnits, parsePinEntry, parseSessionId } from '../../protocol/values.ts';
import { WRAPPED_BASIC_KEY_SIZE, WRAPPED_PAN_SIZE } from '../card-secrets.ts';
import { DECLINE_REASONS, type DeclineReason } from '../payment.ts';
import { BASIC_KEY_CHECK_SIZE } from '../key-ring.ts';
import { PAYLOAD_SIZE } from '../payload.ts';
import { CARD_TOKEN, shardOf } from '../session-id.ts';
import { copyCard, copyEnrolment, copyLedger, copySession, copySessionRecord } from './records.ts';
import { ENROLMENT_DEVICE, ENROLMENT_MERCHANT, ENROLMENT_PURPOSE, STATIC_QR_POLICIES, type CardPolicy, type EnrolmentRecord, type NewEnrolment, type StaticQrPolicy } from './wallet-types.ts';
import type { ApiKeyRecord, MerchantRecord } from './merchant-types.ts';
import { WEBHOOK_ENDPOINT_ID_PATTERN, type SealedSecret, type WebhookEndpoint } from './webhook-types.ts';
import type { CaptureMethod, ListQuery, OperationRequest } from './payment-types.ts';
import { EVENT_TYPES, type EventType, type JournalRecord, type Period } from './event-types.ts';
import { RECEIPT_KINDS, type ReceiptKind } from '../../core/receipt.ts';
import type { StoredReceipt } from './receipt-types.ts';
import { DEFAULT_TAKEOVER_MS, type CodeUse, type AuthSession, type CardClaim, type CardRecord, type CardStatus, type LedgerRecord, type PaymentRequest, type PinPolicy, type RateLimit, type SessionRecord, type WrongPinLimit } from './types.ts';

const U16 = 0xffff;
const U32 = 0xffff_ffff;
const PVV_SIZE = 32;
/** Longest free-text field (payload, scanner id): bounds what one record can cost in memory. */
const MAX_TEXT = 4096;
const LAST4 = /^[0-9]{4}$/; // the PAN's last 4 digits (not a PIN)
const ATTEMPT = /^[0-9a-f]{16,64}$/;
const NONCE = /^[0-9a-f]{32}$/;
const RATE_KEY = /^[A-Za-z0-9:._-]{1,160}$/;
const CRYPTOGRAM = /^[0-9a-f]{64}$/;
const STATUSES: readonly CardStatus[] = ['active', 'blocked', 'locked'];
const ENROLMENT_ID = /^[0-9a-f]{32}$/;
/** A one-time code's bytes (payload v2, WALLET-CONTRACT: version, enrolment id, time step, counter, MAC). */
export const CODE_SIZE = 41;

function bad(detail: string): ScanpayError {
  return new ScanpayError('BAD_ARGUMENT', detail);
}

function record(value: unknown, name: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null) throw bad(`${name} must be an object`);
  return value as Record<string, unknown>;
}

function matching(value: unknown, name: string, pattern: RegExp, shape: string): string {
  if (typeof value !== 'string' || !pattern.test(value)) throw bad(`${name} must be ${shape}`);
  return value;
}

function text(value: unknown, name: string, min = 1): string {
  if (typeof value !== 'string' || value.length < min || value.length > MAX_TEXT) {
    throw bad(`${name} must be a string of ${min} to ${MAX_TEXT} characters`);
  }
  return value;
}

/** Timestamps and counts: Redis scripts compute in doubles, exact only for safe integers. */
function whole(value: unknown, name: string): number {
  return aint(value, name, 0, Number.MAX_SAFE_INTEGER);
}

export function checkedCardToken(token: unknown): string {
  return matching(token, 'card token', CARD_TOKEN, '32 lowercase hex characters');
}

export function checkedSessionId(id: unknown): string {
  return parseSessionId(id);
}

export function checkedTime(value: unknown, name: string): number {
  return whole(value, name);
}

export function checkedLockAt(lockAt: unknown): number {
  return aint(lockAt, 'lockAt', 1, U32);
}

export function checkedAttempt(attempt: unknown): string {
  return matching(attempt, 'attempt', ATTEMPT, '16 to 64 lowercase hex characters');
}

function checkedWrongPinLimit(input: unknown, name: string): WrongPinLimit {
  const l = record(input, name);
  return { max: aint(l.max, `${name}.max`, 1, 1e6), windowMs: aint(l.windowMs, `${name}.windowMs`, 1, 30 * 86_400_000) };
}

export function checkedPolicy(input: unknown): PinPolicy {
  const p = record(input, 'PIN policy');
  const takeoverMs = p.takeoverMs === undefined ? DEFAULT_TAKEOVER_MS : aint(p.takeoverMs, 'takeoverMs', 1, 86_400_000);
  const policy: PinPolicy = { lockAt: checkedLockAt(p.lockAt), paceMs: aint(p.paceMs, 'paceMs', 0, 86_400_000), takeoverMs };
  if (p.from !== undefined && p.from !== 'scanner' && p.from !== 'page') throw bad('from must be scanner or page');
  policy.from = p.from ?? 'scanner';
  if (p.purpose !== undefined && p.purpose !== 'payment' && p.purpose !== ENROLMENT_PURPOSE) throw bad(`purpose must be payment or ${ENROLMENT_PURPOSE}`);
  policy.purpose = p.purpose ?? 'payment';
  if (p.budget !== undefined) {
    const b = record(p.budget, 'PIN budget');
    policy.budget = { device: checkedWrongPinLimit(b.device, 'budget.device'), merchant: checkedWrongPinLimit(b.merchant, 'budget.merchant') };
  }
  return policy;
}

/** Whose wrong-PIN budget: a device id, or a merchant id. */
export function checkedBudgetOwner(scope: 'device' | 'merchant', id: unknown): string {
  return scope === 'device' ? checkedDeviceId(id) : parseMerchant(id);
}

/** What a scan claims about its card row (card-legality.ts): the basic key's check and the header's values. */
export function checkedClaim(input: unknown): CardClaim {
  const c = record(input, 'card claim');
  return {
    basicKeyCheck: new Uint8Array(abytes(c.basicKeyCheck, 'basicKeyCheck', BASIC_KEY_CHECK_SIZE)),
    generation: aint(c.generation, 'generation', 0, U32),
    keyId: aint(c.keyId, 'keyId', 0, U16),
  };
}

/** Whether a value read back (e.g. a revocation message) is a device id the store would have taken. */
export { isDeviceId, isMerchant };

export function checkedDeviceId(id: unknown): string {
  return parseDeviceId(id);
}

export function checkedNonce(nonce: unknown): string {
  return matching(nonce, 'nonce', NONCE, '32 lowercase hex characters');
}

export function checkedRate(key: unknown, input: unknown): { key: string; limit: RateLimit } {
  const l = record(input, 'rate limit');
  const perSecond = l.perSecond;
  if (typeof perSecond !== 'number' || !(perSecond > 0) || perSecond > 1e6) throw bad('perSecond must be a number in (0, 1e6]');
  return { key: matching(key, 'rate key', RATE_KEY, '1 to 160 of [A-Za-z0-9:._-]'), limit: { perSecond, burst: aint(l.burst, 'burst', 1, 1e6) } };
}

export function checkedCard(input: unknown): CardRecord {
  const c = record(input, 'card');
  checkedCardToken(c.token);
  matching(c.last4, 'last4', LAST4, '4 digits');
  aint(c.generation, 'generation', 0, U32);
  aint(c.keyId, 'keyId', 0, U16);
  if (!STATUSES.includes(c.status as CardStatus)) throw bad(`status must be one of ${STATUSES.join(', ')}`);
  abytes(c.wrappedBasicKey, 'wrappedBasicKey', WRAPPED_BASIC_KEY_SIZE);
  abytes(c.pvv, 'pvv', PVV_SIZE);
  abytes(c.basicKeyCheck, 'basicKeyCheck', BASIC_KEY_CHECK_SIZE);
  parseCurrency(c.currency);
  parseMinorUnits(c.limit, 'limit');
  parseMinorUnits(c.balance, 'balance');
  whole(c.pinFailures, 'pinFailures');
  whole(c.pinPaceUntil, 'pinPaceUntil');
  whole(c.updatedAt, 'updatedAt');
  checkedCardPolicyFields(c);
  return copyCard(c as unknown as CardRecord);
}

/** The card row's wallet policy: absent altogether (its defaults), or all three fields valid. */
function checkedCardPolicyFields(c: Record<string, unknown>): void {
  if (c.staticQr === undefined && c.staticQrLimit === undefined && c.codeNoPinLimit === undefined) return;
  checkedCardPolicy({ staticQr: c.staticQr, staticQrLimit: c.staticQrLimit, codeNoPinLimit: c.codeNoPinLimit });
}

/** A card's wallet policy (wallet-types.ts CardPolicy): a known static-QR policy, and two amounts in minor units ≥ 0. */
export function checkedCardPolicy(input: unknown): CardPolicy {
  const p = record(input, 'card policy');
  if (!STATIC_QR_POLICIES.includes(p.staticQr as StaticQrPolicy)) throw bad(`staticQr must be one of ${STATIC_QR_POLICIES.join(', ')}`);
  return {
    staticQr: p.staticQr as StaticQrPolicy,
    staticQrLimit: parseMinorUnits(p.staticQrLimit, 'staticQrLimit'),
    codeNoPinLimit: parseMinorUnits(p.codeNoPinLimit, 'codeNoPinLimit'),
  };
}

/** An enrolment id: 32 lowercase hex (16 bytes from the CSPRNG); it becomes part of a Redis key name. */
export function checkedEnrolmentId(id: unknown): string {
  return matching(id, 'enrolment id', ENROLMENT_ID, '32 lowercase hex characters');
}

/** A one-time code's counter: u32, and above 0 (an enrolment starts at 0: its first code carries 1). */
export function checkedCounter(counter: unknown): number {
  return aint(counter, 'counter', 1, U32);
}

/** A code's use (consumeCode): a code session on the enrolment's card, the counter from the code. */
export function checkedCodeUse(input: unknown): CodeUse {
  const u = record(input, 'code use');
  const session = checkedSession(u.session);
  if (session.via !== 'code') throw bad('a code\'s session is via code');
  return { enrolmentId: checkedEnrolmentId(u.enrolmentId), counter: checkedCounter(u.counter), session, ...(u.claim === undefined ? {} : { claim: checkedAttempt(u.claim) }) };
}

/** An enrolment as read back: its fields' shapes, a revoked one with its time. */
export function checkedEnrolment(input: unknown): EnrolmentRecord {
  const e = record(input, 'enrolment');
  const status = e.status;
  if (status !== 'active' && status !== 'revoked') throw bad('status must be active or revoked');
  const revokedAt = status === 'revoked' ? whole(e.revokedAt, 'revokedAt') : null;
  if (status === 'active' && e.revokedAt !== null && e.revokedAt !== undefined) throw bad('an active enrolment has no revokedAt');
  return copyEnrolment({
    id: checkedEnrolmentId(e.id), cardToken: checkedCardToken(e.cardToken), createdAt: whole(e.createdAt, 'createdAt'), status, revokedAt,
    lastCounter: aint(e.lastCounter, 'lastCounter', 0, U32), wrappedPan: abytes(e.wrappedPan, 'wrappedPan', WRAPPED_PAN_SIZE) as Uint8Array,
  });
}

/** A new enrolment's id and wrapped PAN (completeEnrolment). */
export function checkedNewEnrolment(input: unknown): NewEnrolment {
  const e = record(input, 'enrolment');
  return { id: checkedEnrolmentId(e.id), wrappedPan: new Uint8Array(abytes(e.wrappedPan, 'wrappedPan', WRAPPED_PAN_SIZE)) };
}

/** What an updateCard mutation returned: a valid row for the same card (the token is the row's key). */
export function checkedMutation(next: unknown, token: string): CardRecord {
  const card = checkedCard(next);
  if (card.token !== token || card.last4 !== (next as CardRecord).last4) throw bad('a card update must not change the token');
  return card;
}

/** Card and session (and so ledger) keys must share a shard: one Redis Cluster slot per payment. */
function sameShard(sessionId: string, token: string): void {
  if (shardOf(sessionId) !== shardOf(token)) throw bad('session id must start with its card token\'s shard (keys.ts newSessionId)');
}

/** A session's payload: the card payload's 112 bytes (v1), or a code session's CODE_SIZE (v2). */
export function checkedPayload(payload: unknown, via?: 'code'): Uint8Array {
  const size = via === 'code' ? CODE_SIZE : PAYLOAD_SIZE;
  if (!(payload instanceof Uint8Array) || payload.length !== size) throw bad(`payload must be ${via === 'code' ? 'the code\'s' : 'the card payload\'s'} ${size} bytes`);
  return new Uint8Array(payload);
}

/** A session's fields but its payload. */
export function checkedSessionRecord(input: unknown): SessionRecord {
  const s = record(input, 'session');
  checkedSessionId(s.id);
  checkedDeviceId(s.deviceId);
  sameShard(s.id as string, checkedCardToken(s.cardToken));
  matching(s.last4, 'last4', LAST4, '4 digits');
  if (s.purpose !== undefined && s.purpose !== ENROLMENT_PURPOSE) throw bad(`purpose must be ${ENROLMENT_PURPOSE} or absent`);
  if (s.via !== undefined && s.via !== 'code') throw bad('via must be code or absent');
  if (s.purpose === ENROLMENT_PURPOSE) {
    // an enrolment moves no money: amount 0, on the wallet's own scanner and merchant names, never a code's session
    if (s.amount !== 0 || s.deviceId !== ENROLMENT_DEVICE || s.merchant !== ENROLMENT_MERCHANT || s.via !== undefined) {
      throw bad(`an enrolment session has amount 0, scanner ${ENROLMENT_DEVICE} and merchant ${ENROLMENT_MERCHANT}`);
    }
  } else parseAmount(s.amount);
  parseCurrency(s.currency);
  parseMerchant(s.merchant);
  checkedCaptureMethod(s.captureMethod);
  aint(s.holdWindowMs, 'holdWindowMs', 1, MAX_HOLD_WINDOW_MS);
  if (s.pinEntry !== undefined) parsePinEntry(s.pinEntry);
  const createdAt = whole(s.createdAt, 'createdAt');
  if (whole(s.expiresAt, 'expiresAt') < createdAt) throw bad('expiresAt must not precede createdAt');
  return copySessionRecord(s as unknown as SessionRecord);
}

export function checkedSession(input: unknown): AuthSession {
  const s = record(input, 'session');
  checkedPayload(s.payload, s.via === 'code' ? 'code' : undefined);
  return copySession({ ...checkedSessionRecord(s), payload: s.payload as Uint8Array });
}

/** The longest hold window a merchant may ask for: 30 days (a card's funds are not held longer). */
export const MAX_HOLD_WINDOW_MS = 30 * 86_400_000;

export function checkedCaptureMethod(value: unknown): CaptureMethod {
  if (value !== 'automatic' && value !== 'manual') throw bad('captureMethod must be automatic or manual');
  return value;
}

/** What a payment request and its ledger record share: the payment itself, shard rule included. */
type RequestHalf = Pick<PaymentRequest, 'sessionId' | 'cardToken' | 'last4' | 'merchant' | 'amount' | 'currency' | 'cryptogram' | 'at'>;

export function checkedRequestHalf(input: unknown, name = 'payment request'): RequestHalf {
  const r = record(input, name);
  const sessionId = checkedSessionId(r.sessionId);
  const card = checkedCardToken(r.cardToken);
  sameShard(sessionId, card);
  return {
    sessionId,
    cardToken: card,
    last4: matching(r.last4, 'last4', LAST4, '4 digits'),
    merchant: parseMerchant(r.merchant),
    amount: parseAmount(r.amount),
    currency: parseCurrency(r.currency),
    cryptogram: matching(r.cryptogram, 'cryptogram', CRYPTOGRAM, '64 lowercase hex characters'),
    at: whole(r.at, 'at'),
  };
}

export function checkedPaymentRequest(input: unknown): PaymentRequest {
  const r = record(input, 'payment request');
  return {
    ...checkedRequestHalf(r),
    captureMethod: checkedCaptureMethod(r.captureMethod),
    holdWindowMs: aint(r.holdWindowMs, 'holdWindowMs', 1, MAX_HOLD_WINDOW_MS),
    attempt: checkedAttempt(r.attempt),
    ...(r.via === undefined ? {} : { via: r.via === 'code' ? 'code' : (() => { throw bad('via must be code or absent'); })() }),
  };
}

const OUTCOMES = ['approved', 'declined'] as const;

/** A ledger record's decision half: an approved record without a reason, a declined one with a known reason. */
export function checkedDecision(outcome: unknown, reason: unknown, balanceAfter: unknown): void {
  if (!OUTCOMES.includes(outcome as (typeof OUTCOMES)[number])) throw bad('outcome must be approved or declined');
  if (outcome === 'approved' ? reason !== null : !DECLINE_REASONS.includes(reason as DeclineReason)) throw bad('reason does not match the outcome');
  parseMinorUnits(balanceAfter, 'balanceAfter');
}

/** A ledger record as read back: every field of the right type, an approved record without a reason. */
export function checkedLedger(input: unknown): LedgerRecord {
  const r = record(input, 'ledger record');
  const request = checkedRequestHalf(r, 'ledger record');
  checkedDecision(r.outcome, r.reason, r.balanceAfter);
  return copyLedger({ ...request, outcome: r.outcome, reason: r.reason, balanceAfter: r.balanceAfter } as LedgerRecord);
}

// ── after the payment ───────────────────────────────────────────────────────────────────────────────────────
const OP_ID = /^[0-9a-f]{32}$/;
const FINGERPRINT = /^[0-9a-f]{64}$/;
const REFUND_ID = /^re_[0-9a-f]{32}$/;
/** An Idempotency-Key: 1 to 255 printable ASCII characters (Stripe's limit), no spaces around (the merchant API's rule). */
const IDEMPOTENCY_KEY = new RegExp(IDEMPOTENCY_KEY_PATTERN);
const MAX_REASON = 500;

/** A payment's id: the session id a scanner saw. */
export function checkedPaymentId(id: unknown): string {
  return parseSessionId(id, 'payment id');
}

/** An operation on a payment: its id, whose it must be, its opId on the payment's shard, what the request asked, when. */
export function checkedOperation(input: unknown): OperationRequest {
  const r = record(input, 'operation');
  const paymentId = checkedPaymentId(r.paymentId);
  const opId = matching(r.opId, 'opId', OP_ID, '32 lowercase hex characters');
  if (shardOf(opId) !== shardOf(paymentId)) throw bad('opId must start with its payment\'s shard (payment.ts operationId)');
  return {
    paymentId, merchant: parseMerchant(r.merchant), opId,
    fingerprint: matching(r.fingerprint, 'fingerprint', FINGERPRINT, '64 lowercase hex characters'), at: whole(r.at, 'at'),
  };
}

export function checkedRefundReason(reason: unknown): string | null {
  if (reason === null || reason === undefined) return null;
  if (typeof reason !== 'string' || reason.length > MAX_REASON || /[\u0000-\u001f\u007f]/.test(reason)) {
    throw bad(`reason must be at most ${MAX_REASON} characters, without control characters`);
  }
  return reason;
}

export function checkedListQuery(input: unknown): ListQuery {
  const q = record(input, 'list query');
  const query: ListQuery = { limit: aint(q.limit, 'limit', 1, 100) };
  if (q.startingAfter !== undefined) {
    if (typeof q.startingAfter !== 'string' || !(OP_ID.test(q.startingAfter) || REFUND_ID.test(q.startingAfter))) throw bad('starting_after must be a payment or refund id');
    query.startingAfter = q.startingAfter;
  }
  if (q.createdGte !== undefined) query.createdGte = whole(q.createdGte, 'created_gte');
  if (q.createdLt !== undefined) query.createdLt = whole(q.createdLt, 'created_lt');
  return query;
}

/** An Idempotency-Key claim: the store's name for it (per merchant), the request's fingerprint, and how long it is kept. */
export function checkedIdempotency(merchant: unknown, key: unknown, fingerprint: unknown, ttlMs: unknown): { name: string; fingerprint: string; ttlMs: number } {
  const m = parseMerchant(merchant);
  const k = matching(key, 'Idempotency-Key', IDEMPOTENCY_KEY, '1 to 255 printable ASCII characters');
  const f = matching(fingerprint, 'fingerprint', FINGERPRINT, '64 lowercase hex characters');
  return { name: `${m}\n${k}`, fingerprint: f, ttlMs: aint(ttlMs, 'ttlMs', 1, 7 * 86_400_000) };
}

// ── merchants ───────────────────────────────────────────────────────────────────────────────────────────────
const API_KEY_ID = /^[0-9a-f]{16}$/;
const HASH = /^[0-9a-f]{64}$/;
const RECEIPT_TEXT = /^spr1\.[A-Za-z0-9_-]{200,300}$/;
const MAX_NAME = 200;

export function checkedMerchantId(id: unknown): string {
  return parseMerchant(id, 'merchant id');
}

export function checkedApiKeyId(id: unknown): string {
  return matching(id, 'API key id', API_KEY_ID, '16 lowercase hex characters');
}

export function checkedMerchantRecord(input: unknown): MerchantRecord {
  const m = record(input, 'merchant');
  if (typeof m.name !== 'string' || m.name.length > MAX_NAME || /[\u0000-\u001f\u007f]/.test(m.name)) throw bad(`name must be at most ${MAX_NAME} characters, without control characters`);
  return {
    id: checkedMerchantId(m.id), name: m.name, captureMethod: checkedCaptureMethod(m.captureMethod),
    holdWindowMs: aint(m.holdWindowMs, 'holdWindowMs', 1, MAX_HOLD_WINDOW_MS),
    ...(m.pinEntry === undefined ? {} : { pinEntry: parsePinEntry(m.pinEntry) }),
    createdAt: whole(m.createdAt, 'createdAt'),
  };
}

/** An API key's record; with `merchant`, it must be that merchant's. */
export function checkedApiKeyRecord(input: unknown, merchant?: string): ApiKeyRecord {
  const k = record(input, 'API key');
  const key: ApiKeyRecord = {
    keyId: checkedApiKeyId(k.keyId), merchant: checkedMerchantId(k.merchant), hash: matching(k.hash, 'hash', HASH, '64 lowercase hex characters'),
    createdAt: whole(k.createdAt, 'createdAt'), expiresAt: k.expiresAt === null ? null : whole(k.expiresAt, 'expiresAt'),
  };
  if (merchant !== undefined && key.merchant !== merchant) throw bad('the key must be its merchant\'s');
  return key;
}

// ── events and the journal ───────────────────────────────────────────────────────────────────────────────────
const EVENT_ID = /^ev_[0-9a-f]{32}_[1-9][0-9]{0,5}$/;

export function checkedEventId(id: unknown): string {
  return matching(id, 'event id', EVENT_ID, 'ev_, 32 lowercase hex characters, _ and a number from 1');
}

/** A journal record as a sealer made it (issuer/journal.ts): its fields' shapes (its hashes are checked by `journal verify`). */
export function checkedJournalRecord(input: unknown): JournalRecord {
  const r = record(input, 'journal record');
  return {
    seq: aint(r.seq, 'seq', 1, Number.MAX_SAFE_INTEGER), eventId: checkedEventId(r.eventId),
    type: EVENT_TYPES.includes(r.type as EventType) ? r.type as EventType : (() => { throw bad(`type must be one of ${EVENT_TYPES.join(', ')}`); })(),
    paymentId: checkedPaymentId(r.paymentId), period: aint(r.period, 'period', 1, Number.MAX_SAFE_INTEGER),
    eventHash: matching(r.eventHash, 'eventHash', HASH, '64 lowercase hex characters'),
    prevHash: matching(r.prevHash, 'prevHash', HASH, '64 lowercase hex characters'),
    hash: matching(r.hash, 'hash', HASH, '64 lowercase hex characters'), sealedAt: whole(r.sealedAt, 'sealedAt'),
  };
}

/** A period's number: 1, 2, … */
/** The first of a payment's events to read (1-based). */
export function checkedEventFrom(input: unknown): number {
  return aint(input, 'from', 1, Number.MAX_SAFE_INTEGER);
}

export function checkedPeriodNumber(input: unknown): number {
  return aint(input, 'period', 1, Number.MAX_SAFE_INTEGER);
}

export function checkedPeriod(input: unknown): Period {
  const p = record(input, 'period');
  const nullable = <T>(v: unknown, check: (v: unknown) => T): T | null => (v === null || v === undefined ? null : check(v));
  return {
    period: aint(p.period, 'period', 1, Number.MAX_SAFE_INTEGER), firstSeq: aint(p.firstSeq, 'firstSeq', 1, Number.MAX_SAFE_INTEGER),
    lastSeq: nullable(p.lastSeq, (v) => aint(v, 'lastSeq', 0, Number.MAX_SAFE_INTEGER)), openedAt: whole(p.openedAt, 'openedAt'),
    closedAt: nullable(p.closedAt, (v) => whole(v, 'closedAt')), closingHash: nullable(p.closingHash, (v) => matching(v, 'closingHash', HASH, '64 lowercase hex characters')),
  };
}

// ── webhooks ────────────────────────────────────────────────────────────────────────────────────────────────
const ENDPOINT_ID = new RegExp(WEBHOOK_ENDPOINT_ID_PATTERN);
/** base64url of nonce ‖ ciphertext ‖ tag (gateway/webhooks/secrets.ts): bounded. */
const SEALED = /^[A-Za-z0-9_-]{16,256}$/;
/** The longest endpoint URL kept. */
export const MAX_WEBHOOK_URL = 2048;
/** An owner of a lease or a claim: a gateway's id. */
const OWNER = /^[A-Za-z0-9:._-]{1,128}$/;

export function checkedEndpointId(id: unknown): string {
  return matching(id, 'webhook endpoint id', ENDPOINT_ID, 'we_ and 32 lowercase hex characters');
}

export function checkedOwner(owner: unknown): string {
  return matching(owner, 'owner', OWNER, '1 to 128 letters, digits or : . _ -');
}

function checkedSealedSecret(input: unknown): SealedSecret {
  const s = record(input, 'secret');
  return { sealed: matching(s.sealed, 'sealed secret', SEALED, 'base64url, 16 to 256 characters'), expiresAt: s.expiresAt === null ? null : whole(s.expiresAt, 'expiresAt') };
}

/** An endpoint as the store keeps it: its URL's shape only (the gateway checks where it points), 1 or 2 sealed secrets. */
export function checkedWebhookEndpoint(input: unknown): WebhookEndpoint {
  const e = record(input, 'webhook endpoint');
  if (typeof e.url !== 'string' || e.url.length > MAX_WEBHOOK_URL || !/^https?:\/\/[\x21-\x7e]+$/.test(e.url)) {
    throw bad(`url must be an http(s) URL of at most ${MAX_WEBHOOK_URL} printable ASCII characters`);
  }
  if (!Array.isArray(e.secrets) || e.secrets.length < 1 || e.secrets.length > 2) throw bad('secrets must be 1 or 2 sealed secrets');
  return {
    id: checkedEndpointId(e.id), merchant: checkedMerchantId(e.merchant), url: e.url, createdAt: whole(e.createdAt, 'createdAt'),
    secrets: e.secrets.map(checkedSealedSecret),
  };
}

export function checkedStoredReceipt(input: unknown): StoredReceipt {
  const r = record(input, 'receipt');
  return {
    seq: aint(r.seq, 'seq', 1, Number.MAX_SAFE_INTEGER), paymentId: checkedPaymentId(r.paymentId), eventId: checkedEventId(r.eventId),
    kind: RECEIPT_KINDS.includes(r.kind as ReceiptKind) ? r.kind as ReceiptKind : (() => { throw bad(`kind must be one of ${RECEIPT_KINDS.join(', ')}`); })(),
    text: matching(r.text, 'text', RECEIPT_TEXT, 'a receipt text form (spr1.…)'),
    hash: matching(r.hash, 'hash', HASH, '64 lowercase hex characters'),
  };
}
