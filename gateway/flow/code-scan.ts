/**
 * A one-time code (card payload v2, a browser wallet's: docs/security.md §10) scanned at a scanner. Accepted iff
 * (WALLET-CONTRACT) it parses; its step is within one of the gateway's (30 s either side); its enrolment and card
 * exist; its MAC verifies in the workers (the DVD-1 code record: the wallet key derived from the stored basic key);
 * and, in one store step after the MAC (a forged code cannot burn the counter), the enrolment is active, the card
 * active and the counter above the last accepted one, raised in that step, which opens the payment session too
 * (Store.consumeCode). Up to the card's codeNoPinLimit the code stands in for the PIN: the session is stored
 * claimed by the code and paid at once with the record's cryptogram; above it the session takes the PIN on the
 * holder's phone (pinEntry 'holder-device': the scanner shows the page URL, pin.ts checks the PIN with the code).
 * Either way the scanner gets `auth-required` with pinEntry 'holder-device' (it takes no PIN) and the result is
 * pushed. Every refusal reads CARD_INVALID (the precise reason in the audit log), but a blocked or locked card,
 * told as for a printed card; an unknown enrolment costs the workers what a known one does (a decoy record).
 */
import { randomBytes } from 'node:crypto';
import { CODE_SKEW_STEPS, codeTimeStep, type OneTimeCode } from '../../core/one-time-code.ts';
import { WRAPPED_BASIC_KEY_SIZE, WRAPPED_PAN_SIZE } from '../../issuer/card-secrets.ts';
import { maskPan } from '../../issuer/pan.ts';
import { randomHex } from '../../issuer/random-id.ts';
import { newSessionId } from '../../issuer/session-id.ts';
import type { AuthSession } from '../../issuer/store/index.ts';
import { cardPolicy } from '../../issuer/store/wallet-types.ts';
import type { AuthRequiredFrame, ErrorFrame, PaymentResultFrame, ScanFrame } from '../../protocol/messages.ts';
import { DEVICE_REVOKED_MESSAGE, RATE_LIMITED_MESSAGE, type FlowDeps, type FrameRateUnit, type ScannerIdentity } from './deps.ts';
import type { MerchantPolicy } from './merchant-policies.ts';
import { pageToken } from './page-token.ts';
import { receiptFor } from './receipt.ts';
import { rememberPageResult } from './status.ts';

const REFUSED_MESSAGE = 'this code cannot be used; show a new one';

function refused(deps: FlowDeps, scanner: ScannerIdentity, frame: ScanFrame, reason: string, code: 'CARD_INVALID' | 'CARD_BLOCKED' | 'CARD_LOCKED' = 'CARD_INVALID'): ErrorFrame {
  deps.metrics.scan('illegal', code);
  deps.audit.warn({ event: 'code.refused', scanner: scanner.deviceId, reason, told: code, merchant: frame.merchant }, 'one-time code refused');
  return { v: 1, type: 'error', id: frame.id, code, message: code === 'CARD_INVALID' ? REFUSED_MESSAGE : code === 'CARD_BLOCKED' ? 'this card is blocked' : 'this card is locked' };
}

export async function handleCodeScan(
  deps: FlowDeps, scanner: ScannerIdentity, frame: ScanFrame, unit: FrameRateUnit, policy: MerchantPolicy, bytes: Uint8Array, code: OneTimeCode,
): Promise<AuthRequiredFrame | ErrorFrame> {
  const limited = (): ErrorFrame => ({ v: 1, type: 'error', id: frame.id, code: 'RATE_LIMITED', message: RATE_LIMITED_MESSAGE });
  if (Math.abs(code.step - codeTimeStep(Date.now())) > CODE_SKEW_STEPS) return (await unit.alone()) ? refused(deps, scanner, frame, 'CODE_OUTSIDE_WINDOW') : limited();
  const enrolmentId = Buffer.from(code.enrolmentId).toString('hex');
  const enrolment = await deps.store.getEnrolment(enrolmentId);
  const card = enrolment ? await deps.store.getCard(enrolment.cardToken) : null;
  const token = card?.token ?? randomHex(16);
  const sessionId = newSessionId(token);
  const withoutPin = card !== null && frame.amount <= cardPolicy(card).codeNoPinLimit;
  // the MAC in the workers; an unknown enrolment or card takes a decoy row there (it fails, at the same cost)
  const checked = await deps.engine.checkCode({
    code: bytes, card: token, wrappedBasicKey: card?.wrappedBasicKey ?? randomBytes(WRAPPED_BASIC_KEY_SIZE), pvv: card?.pvv ?? randomBytes(32),
    wrappedPan: enrolment?.wrappedPan ?? randomBytes(WRAPPED_PAN_SIZE), pin: null, sessionId, merchant: frame.merchant, amount: frame.amount,
  });
  if (!enrolment || !card || !checked.ok || !checked.cryptogram) {
    return (await unit.alone()) ? refused(deps, scanner, frame, !enrolment || !card ? 'ENROLMENT_UNKNOWN' : `CODE_STATUS_${checked.status}`) : limited();
  }
  const now = Date.now();
  const session: AuthSession = {
    id: sessionId, deviceId: scanner.deviceId, cardToken: card.token, last4: card.last4, payload: bytes, amount: frame.amount, currency: frame.currency,
    merchant: frame.merchant, captureMethod: frame.capture ?? policy.captureMethod, holdWindowMs: policy.holdWindowMs, pinEntry: 'holder-device', via: 'code',
    createdAt: now, expiresAt: now + deps.config.sessionTtlMs,
  };
  // checked again here, after the crypto: a revocation heard meanwhile opens no session (as scan.ts)
  if (deps.revokedDevices.has(scanner.deviceId)) return { v: 1, type: 'error', id: frame.id, code: 'DEVICE_REVOKED', message: DEVICE_REVOKED_MESSAGE };
  const claim = withoutPin ? randomHex(16) : undefined;
  const consumed = await deps.store.consumeCode({ enrolmentId, counter: code.counter, session, ...(claim ? { claim } : {}) }, unit.forStep());
  if (!consumed.ok) {
    if (consumed.reason === 'RATE_LIMITED') {
      unit.refusedInStep();
      return limited();
    }
    const told = consumed.reason === 'CARD_BLOCKED' || consumed.reason === 'CARD_LOCKED' ? consumed.reason : 'CARD_INVALID';
    return refused(deps, scanner, frame, consumed.reason, told);
  }
  deps.metrics.scan('legal');
  const maskedPan = maskPan(card.last4);
  deps.audit.info({ event: 'code.accepted', scanner: scanner.deviceId, session: sessionId, card: maskedPan, enrolment: enrolmentId, withoutPin }, 'one-time code accepted');
  const auth: AuthRequiredFrame = {
    v: 1, type: 'auth-required', id: frame.id, session: sessionId, url: `${deps.config.publicUrl}/auth/${sessionId}?t=${pageToken(deps.core, deps.pageKey, sessionId)}`,
    expiresAt: session.expiresAt, merchant: session.merchant, amount: session.amount, currency: session.currency, maskedPan, pinEntry: 'holder-device',
  };
  if (claim) await payAtOnce(deps, session, card.last4, Buffer.from(checked.cryptogram).toString('hex'), claim);
  return auth;
}

/** The code stood in for the PIN: authorized now (exactly once, by its session id), the result pushed to the scanner. */
async function payAtOnce(deps: FlowDeps, session: AuthSession, last4: string, cryptogram: string, attempt: string): Promise<void> {
  const { result, record } = await deps.store.authorizePayment({
    sessionId: session.id, cardToken: session.cardToken, last4, merchant: session.merchant, amount: session.amount, currency: session.currency,
    cryptogram, at: Date.now(), attempt, captureMethod: session.captureMethod, holdWindowMs: session.holdWindowMs, via: 'code',
  });
  deps.metrics.payment(result.outcome, result.reason);
  deps.audit.info({ event: 'payment', scanner: session.deviceId, session: session.id, card: maskPan(last4), outcome: result.outcome, reason: result.reason, amount: session.amount, currency: session.currency, via: 'code' }, `payment ${result.outcome}`);
  const pushed: PaymentResultFrame = {
    v: 1, type: 'payment-result', id: null, session: session.id, outcome: result.outcome, reason: result.reason, replayed: false,
    receipt: record ? receiptFor(deps.core, record) : null,
  };
  // after the auth-required this scan answers (the SDK keeps a result that arrives first, too); again on reconnect
  setImmediate(() => deps.notify(session.deviceId, pushed));
  await rememberPageResult(deps, session.deviceId, session.id).catch(() => {});
}
