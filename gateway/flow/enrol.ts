/**
 * A wallet enrolment (issue 26; docs/security.md "The wallet"): the holder's phone scans or pastes the printed
 * card's QR (payload v1) and enters the PIN, and receives a wallet key, once. Two steps, each the payment's own:
 *   1. start: the payload is judged exactly as a scanner's scan is (scan.ts: admit, open in the engine, a decoy for
 *      one that does not open, the card row judged in the store step that opens the session, the card's static-QR
 *      policy too), and the session opened is one of purpose 'wallet-enrolment' (amount 0, no merchant money).
 *   2. PIN: the same beginPinAttempt as a payment's, so the attempt is counted before it is checked and the card's
 *      lock is the same (3 wrong PINs over payments and enrolments together); the worker checks the PIN and derives
 *      the wallet key from the stored basic key and a fresh enrolment id; on a right PIN completeEnrolment decides
 *      the session once and writes the enrolment. The key goes to this caller only; the issuer never stores it.
 * Answers are folded as a scanner's are (no oracle): an unreadable text, or a card that is not legal, say so
 * without saying why.
 */
import { randomBytes } from 'node:crypto';
import { BASIC_KEY_CHECK_SIZE } from '../../issuer/key-ring.ts';
import { maskPan } from '../../issuer/pan.ts';
import { randomHex } from '../../issuer/random-id.ts';
import { newSessionId } from '../../issuer/session-id.ts';
import type { AuthSession, CardClaim, RateTake } from '../../issuer/store/index.ts';
import { ENROLMENT_DEVICE, ENROLMENT_MERCHANT, ENROLMENT_PURPOSE } from '../../issuer/store/wallet-types.ts';
import { admitForPin, admitPayload, claimOf, openedVerdict, pinVerdict } from '../../issuer/verifier.ts';
import type { ScannerCode } from '../../protocol/messages.ts';
import { isPin } from '../../protocol/values.ts';
import type { FlowDeps } from './deps.ts';
import { scannerCodeForIllegal } from './scanner-codes.ts';

const encoder = new TextEncoder();
const TOKEN = /^[0-9a-f]{64}$/;

/** The enrolment's page token: as the auth page's (page-token.ts), in a domain of its own, so neither opens the other. */
export function enrolmentToken(deps: Pick<FlowDeps, 'core' | 'pageKey'>, sessionId: string): string {
  return Buffer.from(deps.core.hmacSha256(deps.pageKey, encoder.encode(`scanpay/v2/wallet-enrolment\n${sessionId}`))).toString('hex');
}

export function enrolmentTokenMatches(deps: Pick<FlowDeps, 'core' | 'pageKey'>, sessionId: string, token: unknown): boolean {
  if (typeof token !== 'string' || !TOKEN.test(token)) return false;
  return deps.core.constantTimeEqual(encoder.encode(enrolmentToken(deps, sessionId)), encoder.encode(token));
}

export type EnrolmentStart =
  | { ok: true; session: string; token: string; maskedPan: string; expiresAt: number }
  | { ok: false; code: ScannerCode };

export type EnrolmentPin =
  | { ok: true; enrolmentId: string; walletKey: Uint8Array; maskedPan: string }
  | { ok: false; code: ScannerCode; attemptsLeft?: number };

/** Step 1, with the caller's rate units (its address's) taken in the store step that opens the session. */
export async function startEnrolment(deps: FlowDeps, scanned: string, rates: RateTake[], alone: () => Promise<boolean>): Promise<EnrolmentStart> {
  const admitted = admitPayload(scanned);
  if (typeof admitted === 'string') return (await alone()) ? { ok: false, code: scannerCodeForIllegal(admitted) } : { ok: false, code: 'RATE_LIMITED' };
  const opening = await deps.engine.openCard(admitted.bytes);
  const failure = openedVerdict(opening);
  // a payload that does not open takes a decoy to the store step: its cost is a genuine illegal card's (scan.ts)
  const { card, last4, claim }: { card: string; last4: string; claim: CardClaim } = failure
    ? { card: randomHex(16), last4: '0000', claim: { basicKeyCheck: randomBytes(BASIC_KEY_CHECK_SIZE), generation: 0, keyId: 0 } }
    : { card: opening.card!, last4: opening.last4!, claim: claimOf(admitted.payload, opening) };
  const now = Date.now();
  const session: AuthSession = {
    id: newSessionId(card), deviceId: ENROLMENT_DEVICE, cardToken: card, last4, payload: admitted.bytes, amount: 0, currency: 'XXX',
    merchant: ENROLMENT_MERCHANT, captureMethod: 'automatic', holdWindowMs: 1, purpose: ENROLMENT_PURPOSE,
    createdAt: now, expiresAt: now + deps.config.sessionTtlMs,
  };
  const opened = await deps.store.openSession(session, claim, rates);
  const refusal = opened.ok ? null : opened.reason;
  if (refusal === 'RATE_LIMITED') return { ok: false, code: 'RATE_LIMITED' };
  if (refusal === 'STATIC_QR_REFUSED') return { ok: false, code: 'STATIC_QR_REFUSED' };
  const reason = failure ?? refusal;
  if (reason) {
    deps.audit.warn({ event: 'wallet.enrol-illegal', reason }, 'wallet enrolment: illegal card payload');
    return { ok: false, code: scannerCodeForIllegal(reason) };
  }
  deps.audit.info({ event: 'wallet.enrol-started', session: session.id, card: maskPan(last4) }, 'wallet enrolment started');
  return { ok: true, session: session.id, token: enrolmentToken(deps, session.id), maskedPan: maskPan(last4), expiresAt: session.expiresAt };
}

/**
 * Step 2: the PIN of an enrolment session whose token the caller holds (checked before this), with its rate units
 * (the address's and the session's) taken in the attempt's store step.
 */
export async function submitEnrolmentPin(deps: FlowDeps, sessionId: string, pin: string, rates: RateTake[]): Promise<EnrolmentPin> {
  if (!isPin(pin)) return { ok: false, code: 'BAD_FRAME' };
  const attempt = randomHex(16);
  const policy = { lockAt: deps.config.pinLockAt, paceMs: deps.config.pinPaceMs, from: 'page' as const, purpose: 'wallet-enrolment' as const };
  const begun = await deps.store.beginPinAttempt(sessionId, null, attempt, Date.now(), policy, rates);
  if (begun.kind === 'refused') {
    const code: ScannerCode = begun.reason === 'SESSION_EXPIRED' ? 'SESSION_EXPIRED' : begun.reason === 'SESSION_UNKNOWN' ? 'SESSION_UNKNOWN' : 'RATE_LIMITED';
    return { ok: false, code };
  }
  if (begun.kind === 'used') return { ok: false, code: 'SESSION_USED' };
  if (begun.kind === 'decided') return { ok: false, code: begun.result.reason as ScannerCode, ...attemptsLeft(begun.result.attemptsLeft) };
  const { session, card } = begun;
  const card4 = maskPan(card.last4);
  const settleFailed = async (verdict: 'wrong' | 'invalid'): Promise<EnrolmentPin> => {
    const result = await deps.store.settleFailedPin(session.id, verdict, deps.config.pinLockAt, Date.now());
    deps.metrics.pinAttempt(verdict);
    deps.audit.warn({ event: 'wallet.enrol-pin', session: session.id, card: card4, told: result.reason }, verdict === 'wrong' ? 'wallet enrolment: wrong PIN' : 'wallet enrolment: card invalid at PIN time');
    return { ok: false, code: result.reason as ScannerCode, ...attemptsLeft(result.attemptsLeft) };
  };
  if (typeof admitForPin(session.payload, card) === 'string') return settleFailed('invalid');
  const enrolmentId = randomBytes(16).toString('hex');
  // the worker checks the PIN as a payment's and, only when it is right, derives the wallet key and wraps the PAN
  const checked = await deps.engine.checkEnrolment({
    payload: session.payload, card: card.token, wrappedBasicKey: card.wrappedBasicKey, pvv: card.pvv, pin, enrolmentId,
  });
  const failed = pinVerdict({ status: checked.status, cryptogram: null });
  if (failed || !checked.ok || !checked.walletKey || !checked.wrappedPan) {
    checked.walletKey?.fill(0);
    return settleFailed(failed ?? 'invalid');
  }
  deps.metrics.pinAttempt('correct');
  const done = await deps.store.completeEnrolment(session.id, { id: enrolmentId, wrappedPan: checked.wrappedPan }, attempt, Date.now());
  if (done.kind !== 'enrolled') {
    checked.walletKey.fill(0);
    return { ok: false, code: done.result.reason as ScannerCode };
  }
  deps.audit.info({ event: 'wallet.enrolled', enrolment: enrolmentId, card: card4 }, 'wallet enrolled');
  return { ok: true, enrolmentId, walletKey: checked.walletKey, maskedPan: card4 };
}

const attemptsLeft = (left: number | undefined) => (left === undefined ? {} : { attemptsLeft: left });
