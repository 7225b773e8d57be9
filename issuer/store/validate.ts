/**
 * The store's boundary checks: every record and key is checked here, once, before either store touches it,
 * so both stores reject the same bad input with the same typed error (BAD_ARGUMENT; BAD_LENGTH for a byte
 * field of the wrong size) and write nothing. Each `checked*`
 * returns a fresh copy of its input (the stored state never aliases a caller's object).
 * PANs and session ids become Redis key names, so their shape is strict. Messages name the field, never its value.
 * @example
 *   const card = checkedCard(input);   // a validated copy, or a ScanpayError naming the bad field
 */
import { abytes, aint } from '../../core/bytes.ts';
import { ScanpayError } from '../../core/errors.ts';
import { WRAPPED_BASIC_KEY_SIZE } from '../card-secrets.ts';
import { isPanShaped } from '../pan.ts';
import { copyCard, copySession } from './records.ts';
import type { AuthSession, CardRecord, CardStatus, PaymentRequest } from './types.ts';

const U16 = 0xffff;
const U32 = 0xffff_ffff;
const PVV_SIZE = 32;
/** Longest free-text field (payload, merchant, scanner id): bounds what one record can cost in memory. */
const MAX_TEXT = 4096;
const SESSION_ID = /^[0-9a-f]{32}$/;
const CURRENCY = /^[A-Z]{3}$/;
const CRYPTOGRAM = /^[0-9a-f]{64}$/;
const STATUSES: readonly CardStatus[] = ['active', 'blocked', 'locked'];

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

/** Minor units and timestamps: Redis scripts compute in doubles, exact only for safe integers. */
function whole(value: unknown, name: string): number {
  return aint(value, name, 0, Number.MAX_SAFE_INTEGER);
}

export function checkedPan(pan: unknown): string {
  if (!isPanShaped(pan)) throw bad('pan must be 16 ASCII digits');
  return pan;
}

export function checkedSessionId(id: unknown): string {
  return matching(id, 'session id', SESSION_ID, '32 lowercase hex characters');
}

export function checkedScannerId(id: unknown): string {
  return text(id, 'scanner id');
}

export function checkedTime(value: unknown, name: string): number {
  return whole(value, name);
}

export function checkedLockAt(lockAt: unknown): number {
  return aint(lockAt, 'lockAt', 1, U32);
}

export function checkedCard(input: unknown): CardRecord {
  const c = record(input, 'card');
  checkedPan(c.pan);
  aint(c.generation, 'generation', 0, U32);
  aint(c.keyId, 'keyId', 0, U16);
  if (!STATUSES.includes(c.status as CardStatus)) throw bad(`status must be one of ${STATUSES.join(', ')}`);
  abytes(c.wrappedBasicKey, 'wrappedBasicKey', WRAPPED_BASIC_KEY_SIZE);
  abytes(c.pvv, 'pvv', PVV_SIZE);
  matching(c.currency, 'currency', CURRENCY, 'an ISO 4217 alpha code');
  whole(c.limit, 'limit');
  whole(c.balance, 'balance');
  whole(c.pinFailures, 'pinFailures');
  whole(c.updatedAt, 'updatedAt');
  return copyCard(c as unknown as CardRecord);
}

/** What an updateCard mutation returned: a valid row for the same PAN (the PAN is the row's key). */
export function checkedMutation(next: unknown, pan: string): CardRecord {
  const card = checkedCard(next);
  if (card.pan !== pan) throw bad('a card update must not change the pan');
  return card;
}

export function checkedSession(input: unknown): AuthSession {
  const s = record(input, 'session');
  checkedSessionId(s.id);
  checkedScannerId(s.scannerId);
  checkedPan(s.pan);
  text(s.payload, 'payload');
  whole(s.amount, 'amount');
  matching(s.currency, 'currency', CURRENCY, 'an ISO 4217 alpha code');
  text(s.merchant, 'merchant');
  const createdAt = whole(s.createdAt, 'createdAt');
  if (whole(s.expiresAt, 'expiresAt') < createdAt) throw bad('expiresAt must not precede createdAt');
  return copySession(s as unknown as AuthSession);
}

export function checkedPaymentRequest(input: unknown): PaymentRequest {
  const r = record(input, 'payment request');
  return {
    sessionId: checkedSessionId(r.sessionId),
    pan: checkedPan(r.pan),
    merchant: text(r.merchant, 'merchant'),
    amount: whole(r.amount, 'amount'),
    currency: matching(r.currency, 'currency', CURRENCY, 'an ISO 4217 alpha code'),
    cryptogram: matching(r.cryptogram, 'cryptogram', CRYPTOGRAM, '64 lowercase hex characters'),
    at: whole(r.at, 'at'),
  };
}
