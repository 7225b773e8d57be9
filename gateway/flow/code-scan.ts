/**
 * A one-time code (card payload v2, core/one-time-code.ts; WALLET-CONTRACT) scanned at a scanner: the wallet's
 * proof of an enrolled phone stands in for the printed card. In order, each step before the one that changes
 * anything:
 *   1. the window (codeInWindow: one 30 s step of skew either side), from memory: out of it, CODE_STALE, and no
 *      store step is run (the frame's rate unit alone);
 *   2. the enrolment and its card, read (getEnrolment, getCard);
 *   3. the MAC, verified in the worker pool (engine.checkCode, the DVD-1 code record) BEFORE the counter is
 *      touched, so a forged code never burns it;
 *   4. consumeCode, the one atomic step: counter > the enrolment's last, enrolment and card active; it raises the
 *      mark and opens the payment session (via 'code', pinEntry 'holder-device': no scanner ever sends its PIN),
 *      with the frame's rate unit, as openSession does for a printed card; paid at once, the session is stored
 *      already claimed by the payment's attempt id (CodeUse.claim), so no PIN can take it meanwhile.
 * Then, by the card's policy (codeNoPinLimit): at or under it the code stands in for the PIN and the payment is
 * authorized at once (via 'code', with the code record's cryptogram), the scan answered by `payment-result`
 * (protocol v1.6); above it the scan is answered by `auth-required` with pinEntry `holder-device`, and the PIN
 * taken on the holder's phone goes through handlePin, which checks a via-'code' session's PIN with the code (pin.ts).
 * An unknown enrolment, a revoked one and a forged MAC are told alike (CARD_INVALID, one message), each after a
 * code check in the pool (a decoy for the first two), so neither the answer nor the work tells them apart; a used
 * or out-of-window code is CODE_STALE ("show a fresh code"). Audit lines carry the enrolment id's first 8 hex digits
 * and the masked PAN, never the code text or its MAC.
 */
import { randomBytes } from 'node:crypto';
import { CODE_TEXT_LENGTH, CODE_VERSION, codeInWindow, type OneTimeCode } from '../../core/one-time-code.ts';
import { CARD_STATUS, type CodeChecked } from '../../issuer/card-engine.ts';
import { WRAPPED_BASIC_KEY_SIZE, WRAPPED_PAN_SIZE } from '../../issuer/card-secrets.ts';
import { maskPan } from '../../issuer/pan.ts';
import { scannedPayload } from '../../issuer/payload.ts';
import { randomHex } from '../../issuer/random-id.ts';
import { newSessionId } from '../../issuer/session-id.ts';
import type { AuthSession, CardRecord, PaymentRequest } from '../../issuer/store/index.ts';
import { cardPolicy, type CodeRefusal, type EnrolmentRecord } from '../../issuer/store/wallet-types.ts';
import type { AuthRequiredFrame, ErrorFrame, PaymentResultFrame, ScanFrame, ScannerCode } from '../../protocol/messages.ts';
import { DEVICE_REVOKED_MESSAGE, RATE_LIMITED_MESSAGE, type FlowDeps, type FrameRateUnit, type ScannerIdentity } from './deps.ts';
import type { MerchantPolicy } from './merchant-policies.ts';
import { pageToken } from './page-token.ts';
import { receiptFor } from './receipt.ts';
import { rememberPageResult } from './status.ts';
import { settling } from './pin.ts';

/** A scanned code: its 41 bytes and fields. */
export interface ScannedCode {
  bytes: Uint8Array;
  code: OneTimeCode;
}

/**
 * The scan's payload as a one-time code, or null for anything else (a v1 payload, or text that is neither: the
 * printed card's path answers it, PAYLOAD_UNREADABLE included). Only 62-character text is looked at.
 */
export function scannedCode(text: string): ScannedCode | null {
  if (text.length !== CODE_TEXT_LENGTH) return null;
  try {
    const scanned = scannedPayload(text);
    return scanned.version === CODE_VERSION ? { bytes: scanned.bytes, code: scanned.code } : null;
  } catch {
    return null;
  }
}

const MESSAGES = {
  CARD_INVALID: 'this card cannot be used',
  CODE_STALE: 'this code was used or is out of date: show a fresh code',
  CARD_BLOCKED: 'this card cannot be used',
  CARD_LOCKED: 'this card cannot be used',
} as const satisfies Partial<Record<ScannerCode, string>>;

type CodeTold = keyof typeof MESSAGES;

/** What each refusal of consumeCode tells the scanner: enrolment and card gone read as a forgery does. */
const TOLD: Record<Exclude<CodeRefusal, 'RATE_LIMITED'>, CodeTold> = {
  ENROLMENT_UNKNOWN: 'CARD_INVALID', ENROLMENT_REVOKED: 'CARD_INVALID', CARD_UNKNOWN: 'CARD_INVALID',
  CARD_BLOCKED: 'CARD_BLOCKED', CARD_LOCKED: 'CARD_LOCKED', CODE_USED: 'CODE_STALE',
};

/** The enrolment id as audit lines show it: its first 8 hex digits (enough to find the row, not the code). */
const enrolmentTag = (id: string): string => `${id.slice(0, 8)}…`;

function refused(deps: FlowDeps, deviceId: string, frame: ScanFrame, told: CodeTold, reason: string, enrolment: string): ErrorFrame {
  deps.metrics.scan('illegal', told);
  deps.audit.warn({ event: 'code.refused', scanner: deviceId, enrolment, reason, told, merchant: frame.merchant }, 'one-time code refused');
  return { v: 1, type: 'error', id: frame.id, code: told, message: MESSAGES[told] };
}

const rateLimited = (frame: ScanFrame): ErrorFrame => ({ v: 1, type: 'error', id: frame.id, code: 'RATE_LIMITED', message: RATE_LIMITED_MESSAGE });

/** A code check's rows for an enrolment that is not there (unknown or revoked): random, so the pool's check fails as a forgery's does. */
function decoyRows(): { card: CardRecord['token']; wrappedBasicKey: Uint8Array; pvv: Uint8Array; wrappedPan: Uint8Array } {
  return { card: randomHex(16), wrappedBasicKey: randomBytes(WRAPPED_BASIC_KEY_SIZE), pvv: randomBytes(32), wrappedPan: randomBytes(WRAPPED_PAN_SIZE) };
}

/** The code's verdict from the pool: passes (null), or why not for the audit log (the scanner hears CARD_INVALID either way). */
function codeVerdict(checked: CodeChecked): string | null {
  if (checked.ok && checked.status === 0 && checked.cryptogram) return null;
  return checked.status & CARD_STATUS.CODE_MAC ? 'CODE_MAC' : `STATUS_${checked.status}`;
}

/**
 * S21–S24 for a one-time code (the module comment gives the order). `policy` is the scan's merchant's, already
 * found to be this scanner's (scan.ts); the answer is `payment-result` (paid at once), `auth-required`
 * (holder-device PIN) or `error`.
 */
export async function handleCodeScan(
  deps: FlowDeps, scanner: ScannerIdentity, frame: ScanFrame, unit: FrameRateUnit, scanned: ScannedCode, policy: MerchantPolicy,
): Promise<AuthRequiredFrame | PaymentResultFrame | ErrorFrame> {
  const { deviceId } = scanner;
  const { code, bytes } = scanned;
  const enrolmentId = Buffer.from(code.enrolmentId).toString('hex');
  const tag = enrolmentTag(enrolmentId);
  // 1. the window, from memory: nothing read or written but the frame's rate unit
  if (!codeInWindow(code.step, Date.now())) return (await unit.alone()) ? refused(deps, deviceId, frame, 'CODE_STALE', 'CODE_OUT_OF_WINDOW', tag) : rateLimited(frame);
  // 2. the rows the code check needs; an enrolment that is not there (or revoked) takes a decoy to the pool
  // (a card row is read either way, a random token's for an unknown enrolment: each path costs the same two reads)
  const enrolment: EnrolmentRecord | null = await deps.store.getEnrolment(enrolmentId);
  const card = await deps.store.getCard(enrolment?.cardToken ?? randomHex(16));
  const usable = enrolment !== null && enrolment.status === 'active' && card !== null && card.token === enrolment.cardToken;
  const rows = usable ? { card: card.token, wrappedBasicKey: card.wrappedBasicKey, pvv: card.pvv, wrappedPan: enrolment.wrappedPan } : decoyRows();
  const sessionId = newSessionId(rows.card);
  // 3. the MAC in the pool, before the counter is touched (pin null: the cryptogram is this payment's if it pays at once)
  const checked = await deps.engine.checkCode({ code: bytes, ...rows, pin: null, sessionId, merchant: frame.merchant, amount: frame.amount });
  const failure = usable ? codeVerdict(checked) : (enrolment === null ? 'ENROLMENT_UNKNOWN' : enrolment.status !== 'active' ? 'ENROLMENT_REVOKED' : 'CARD_UNKNOWN');
  if (failure) {
    checked.cryptogram?.fill(0);
    return (await unit.alone()) ? refused(deps, deviceId, frame, 'CARD_INVALID', failure, tag) : rateLimited(frame);
  }
  const noPin = frame.amount <= cardPolicy(card!).codeNoPinLimit;
  const now = Date.now();
  const session: AuthSession = {
    id: sessionId, deviceId, cardToken: card!.token, last4: card!.last4, payload: bytes,
    amount: frame.amount, currency: frame.currency, merchant: frame.merchant,
    captureMethod: frame.capture ?? policy.captureMethod, holdWindowMs: policy.holdWindowMs,
    pinEntry: 'holder-device', via: 'code', // a code's session never takes a scanner's PIN, whatever the merchant's policy
    createdAt: now, expiresAt: now + deps.config.sessionTtlMs,
  };
  // checked again here, after the crypto: a revocation heard meanwhile opens no session and burns no counter
  if (deps.revokedDevices.has(deviceId)) return { v: 1, type: 'error', id: frame.id, code: 'DEVICE_REVOKED', message: DEVICE_REVOKED_MESSAGE };
  // 4. the one atomic step: counter, enrolment, card, and the session
  // paid at once: the session is stored claimed by this attempt id (pending), so no PIN, page or scanner, can take it
  const claim = noPin ? randomHex(16) : undefined;
  const consumed = await deps.store.consumeCode({ enrolmentId, counter: code.counter, session, ...(claim ? { claim } : {}) }, unit.forStep());
  if (!consumed.ok) {
    checked.cryptogram?.fill(0);
    if (consumed.reason === 'RATE_LIMITED') {
      unit.refusedInStep();
      return rateLimited(frame);
    }
    return refused(deps, deviceId, frame, TOLD[consumed.reason], consumed.reason, tag);
  }
  deps.metrics.scan('legal');
  const maskedPan = maskPan(card!.last4);
  deps.audit.debug({ event: 'code.used', scanner: deviceId, session: session.id, enrolment: tag, card: maskedPan, amount: session.amount, currency: session.currency, merchant: session.merchant, noPin }, 'one-time code used: session opened');
  if (claim) return payNow(deps, frame, session, checked.cryptogram!, claim);
  checked.cryptogram?.fill(0);
  const token = pageToken(deps.core, deps.pageKey, session.id);
  return {
    v: 1, type: 'auth-required', id: frame.id, session: session.id,
    url: `${deps.config.publicUrl}/auth/${session.id}?t=${token}`,
    expiresAt: session.expiresAt, merchant: session.merchant, amount: session.amount, currency: session.currency, maskedPan,
    pinEntry: 'holder-device',
  };
}

/** The code stands in for the PIN: its record's cryptogram goes to the authorization (via 'code', the claim's attempt id). */
async function payNow(deps: FlowDeps, frame: ScanFrame, session: AuthSession, cryptogram: Uint8Array, attempt: string): Promise<PaymentResultFrame> {
  const request: PaymentRequest = {
    sessionId: session.id, cardToken: session.cardToken, last4: session.last4, merchant: session.merchant, amount: session.amount,
    currency: session.currency, cryptogram: Buffer.from(cryptogram).toString('hex'), at: Date.now(), attempt,
    captureMethod: session.captureMethod, holdWindowMs: session.holdWindowMs, via: 'code',
  };
  cryptogram.fill(0);
  const { result, record, replayed } = await settling(() => deps.store.authorizePayment(request));
  deps.metrics.payment(result.outcome, result.reason);
  deps.audit.info({ event: 'payment', via: 'code', scanner: session.deviceId, session: session.id, card: maskPan(session.last4), outcome: result.outcome, reason: result.reason, amount: session.amount, currency: session.currency, replayed }, `payment ${result.outcome}`);
  // the scan moved money: should its answer be lost with the connection (the code is used then, a re-sent scan gets
  // CODE_STALE), the result is pushed again when the scanner reconnects, as a page-decided one is (status.ts)
  await rememberPageResult(deps, session.deviceId, session.id).catch((e: unknown) => {
    deps.audit.warn({ event: 'code.remember-failed', scanner: session.deviceId, session: session.id, error: (e as Error).message }, 'a code payment\'s result is not kept for a re-push');
  });
  return {
    v: 1, type: 'payment-result', id: frame.id, session: session.id, outcome: result.outcome, reason: result.reason,
    ...(result.attemptsLeft === undefined ? {} : { attemptsLeft: result.attemptsLeft }),
    replayed, receipt: record ? receiptFor(deps.core, record) : null,
  };
}
