/**
 * S25 and after: the holder's PIN, entered on the auth page or sent by the scanner. One store step claims
 * the session, reads the card and counts the attempt *before* it is verified (an EMV PIN try counter), so
 * at most `pinLockAt` wrong PINs are ever evaluated per card, whatever the concurrency, entry point or number
 * of gateways. The PIN is then checked in the worker pool as part of the whole DVD-1 record (decrypt, verify,
 * derive, PVV, cryptogram); a right one goes to the issuer's atomic, idempotent authorization, which also
 * resets the count. Once a card is locked every answer is the same, right PIN or wrong: CARD_LOCKED,
 * attemptsLeft 0, no receipt. Each session takes one attempt; a repeated submission gets its stored result.
 * A session whose PIN is entered on the holder's device (its merchant's policy) takes it from the page only: the
 * attempt's store step refuses a scanner's before anything is counted (PIN_ENTRY_HOLDER_DEVICE).
 */
import { isScanpayError } from '../../core/errors.ts';
import { maskPan } from '../../issuer/pan.ts';
import { randomHex } from '../../issuer/random-id.ts';
import type { AuthSession, CardRecord, PinAttempt, PinResult } from '../../issuer/store/index.ts';
import { CARD_STATUS } from '../../issuer/card-engine.ts';
import { admitForPin, pinVerdict } from '../../issuer/verifier.ts';
import type { ErrorFrame, PaymentResultFrame, ScannerCode } from '../../protocol/messages.ts';
import { isPin } from '../../protocol/values.ts';
import { DEVICE_REVOKED_MESSAGE, RATE_LIMITED_MESSAGE, type FlowDeps, type FrameRateUnit } from './deps.ts';
import { receiptFor } from './receipt.ts';

const REPLAY_WAIT_MS = 2_000; // how long a duplicate waits for an attempt another gateway is still completing
const REPLAY_POLL_MS = 50;
/** Settling an evaluated attempt is idempotent (same attempt id), so a store blip is retried before giving up. */
const SETTLE_RETRIES_MS = [100, 300, 1_000];

/** Runs an idempotent store step, retrying STORE_UNAVAILABLE a few times: an attempt left pending helps nobody. */
export async function settling<T>(step: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await step();
    } catch (e) {
      if (i >= SETTLE_RETRIES_MS.length || !isScanpayError(e, 'STORE_UNAVAILABLE')) throw e;
      await new Promise((resolve) => setTimeout(resolve, SETTLE_RETRIES_MS[i]));
    }
  }
}

export type PinOutcome = PaymentResultFrame | ErrorFrame;

function error(id: string | null, code: ScannerCode, message: string): ErrorFrame {
  return { v: 1, type: 'error', id, code, message };
}

/** A PIN result as the scanner sees it; the receipt comes from the ledger record, when there is one. */
async function resultFrame(deps: FlowDeps, id: string | null, sessionId: string, result: PinResult, replayed: boolean): Promise<PaymentResultFrame> {
  const record = result.ledger ? await deps.store.getLedgerRecord(sessionId) : null;
  return {
    v: 1, type: 'payment-result', id, session: sessionId, outcome: result.outcome, reason: result.reason,
    ...(result.attemptsLeft === undefined ? {} : { attemptsLeft: result.attemptsLeft }),
    replayed, receipt: record ? receiptFor(deps.core, record) : null,
  };
}

/** A settled session's outcome as the page shows it (and a replay sends it). */
export function sessionOutcome(deps: FlowDeps, sessionId: string, result: PinResult): Promise<PaymentResultFrame> {
  return resultFrame(deps, null, sessionId, result, true);
}

const REFUSALS: Record<Extract<PinAttempt, { kind: 'refused' }>['reason'], [ScannerCode, string]> = {
  SESSION_UNKNOWN: ['SESSION_UNKNOWN', 'this session cannot take a PIN; scan the card again'],
  SESSION_EXPIRED: ['SESSION_EXPIRED', 'this session has expired; scan the card again'],
  SESSION_WRONG_SCANNER: ['SESSION_WRONG_SCANNER', 'this session belongs to another scanner'],
  PIN_PACED: ['RATE_LIMITED', 'this card takes one PIN attempt at a time; send the PIN again shortly'],
  RATE_LIMITED: ['RATE_LIMITED', RATE_LIMITED_MESSAGE],
  DEVICE_PIN_BUDGET: ['PIN_LIMIT', 'this scanner has had too many wrong PINs lately; its PINs are refused for a while'],
  MERCHANT_PIN_BUDGET: ['PIN_LIMIT', 'this merchant\'s scanners have had too many wrong PINs lately; PINs are refused for a while'],
  PIN_ENTRY_HOLDER_DEVICE: ['PIN_ENTRY_HOLDER_DEVICE', 'the holder enters the PIN on their own phone: show the auth-required url as a QR code; a PIN sent here is refused'],
};

/**
 * A submission for a used session: its stored result again (only the owning scanner gets this far). While
 * the first attempt is still running it waits: in this process for its answer, elsewhere by re-reading.
 */
async function replay(deps: FlowDeps, deviceId: string, used: Extract<PinAttempt, { kind: 'used' }>, id: string | null): Promise<PinOutcome> {
  const sessionId = used.session.id;
  let result = used.result;
  const running = deps.pinsInFlight.get(sessionId);
  if (!result && running?.deviceId === deviceId) {
    const first = await running.outcome;
    if (first.type === 'payment-result') return { ...first, id, replayed: true };
    result = (await deps.store.getSession(sessionId))?.result ?? null;
  }
  for (let waited = 0; !result && waited < REPLAY_WAIT_MS; waited += REPLAY_POLL_MS) {
    await new Promise((resolve) => setTimeout(resolve, REPLAY_POLL_MS));
    result = (await deps.store.getSession(sessionId))?.result ?? null;
  }
  return result ? resultFrame(deps, id, sessionId, result, true) : error(id, 'BUSY', 'this PIN is still being processed; send it again to read the outcome');
}

/**
 * A PIN from the scanner (with its frame's rate unit) or from the page (with the page's units: its client
 * address's and its session's), taken in the attempt's store step. `from` says which: a session whose PIN is
 * entered on the holder's device refuses a scanner's in that step (PIN_ENTRY_HOLDER_DEVICE), nothing counted.
 */
export async function handlePin(
  deps: FlowDeps, deviceId: string, sessionId: string, pin: string, id: string | null, unit?: FrameRateUnit, from: 'scanner' | 'page' = 'scanner',
): Promise<PinOutcome> {
  const started = performance.now();
  let settle: ((outcome: PinOutcome) => void) | undefined;
  try {
    if (!isPin(pin)) {
      if (unit && !(await unit.alone())) return error(id, 'RATE_LIMITED', RATE_LIMITED_MESSAGE);
      deps.metrics.pinAttempt('rejected');
      return error(id, 'BAD_FRAME', 'the PIN is 4 digits');
    }
    // the session's device, as this gateway knows it right before the attempt is counted (socket and page alike)
    if (deps.revokedDevices.has(deviceId)) {
      deps.metrics.pinAttempt('rejected');
      deps.audit.warn({ event: 'pin.refused', scanner: deviceId, session: sessionId, reason: 'DEVICE_REVOKED' }, 'PIN for a session of a revoked device');
      return error(id, 'DEVICE_REVOKED', DEVICE_REVOKED_MESSAGE);
    }
    const attempt = randomHex(16);
    const policy = { lockAt: deps.config.pinLockAt, paceMs: deps.config.pinPaceMs, budget: deps.config.pinBudget, from };
    const begun = await deps.store.beginPinAttempt(sessionId, deviceId, attempt, Date.now(), policy, unit?.forStep());
    switch (begun.kind) {
      case 'refused': {
        // the device's frame budget: told as the hub tells it, no PIN metric, no audit line per flooded frame
        if (begun.reason === 'RATE_LIMITED') {
          unit?.refusedInStep();
          return error(id, 'RATE_LIMITED', RATE_LIMITED_MESSAGE);
        }
        if (begun.reason === 'DEVICE_PIN_BUDGET' || begun.reason === 'MERCHANT_PIN_BUDGET') deps.metrics.pinBudgetSpent(begun.reason === 'DEVICE_PIN_BUDGET' ? 'device' : 'merchant');
        const unusable = ['SESSION_UNKNOWN', 'SESSION_EXPIRED', 'SESSION_WRONG_SCANNER', 'PIN_ENTRY_HOLDER_DEVICE'].includes(begun.reason);
        deps.metrics.pinAttempt(unusable ? 'rejected' : 'refused');
        deps.audit.warn({ event: 'pin.refused', scanner: deviceId, session: sessionId, reason: begun.reason }, 'PIN for an unusable session');
        const [code, message] = REFUSALS[begun.reason];
        return error(id, code, message);
      }
      case 'used':
        return await replay(deps, deviceId, begun, id);
      case 'decided':
        deps.metrics.pinAttempt('refused');
        deps.metrics.payment('declined', begun.result.reason);
        deps.audit.warn({ event: 'pin.refused', scanner: deviceId, session: sessionId, card: maskPan(begun.session.last4), reason: begun.result.reason }, 'PIN not evaluated: the card takes no PIN');
        return await resultFrame(deps, id, sessionId, begun.result, false);
      case 'evaluate': {
        // this attempt owns the session now: duplicates in this process wait for its answer (replay above)
        deps.pinsInFlight.set(sessionId, { deviceId, outcome: new Promise<PinOutcome>((resolve) => (settle = resolve)) });
        const outcome = await evaluate(deps, deviceId, begun.session, begun.card, pin, attempt, id);
        settle!(outcome);
        return outcome;
      }
      default:
        throw new Error(`unknown PIN attempt kind ${(begun as { kind: string }).kind}`);
    }
  } catch (e) {
    settle?.(error(id, 'INTERNAL', 'the payment could not be completed'));
    throw e;
  } finally {
    if (settle) deps.pinsInFlight.delete(sessionId);
    deps.metrics.stepSeconds('pin', (performance.now() - started) / 1000);
  }
}

/** DVD-1 for a counted attempt, then the verdict: wrong, invalid, or authorization. */
async function evaluate(deps: FlowDeps, deviceId: string, session: AuthSession, card: CardRecord, pin: string, attempt: string, id: string | null): Promise<PinOutcome> {
  const { pinLockAt } = deps.config;
  const card4 = maskPan(card.last4);
  if (session.via === 'code') return evaluateWithCode(deps, deviceId, session, card, pin, attempt, id);
  const admitted = admitForPin(session.payload, card);
  if (typeof admitted === 'string') {
    deps.metrics.pinAttempt('refused');
    deps.audit.warn({ event: 'pin.card-invalid', scanner: deviceId, session: session.id, card: card4, reason: admitted }, 'card no longer legal at PIN time');
    return resultFrame(deps, id, session.id, await settling(() => deps.store.settleFailedPin(session.id, 'invalid', pinLockAt, Date.now())), false);
  }
  // the engine unwraps the stored basic key and runs DVD-1 where the keys are: only ciphertexts and rows go there
  const checked = await deps.engine.checkPin({
    payload: session.payload, card: card.token, wrappedBasicKey: card.wrappedBasicKey, pvv: card.pvv,
    pin, sessionId: session.id, merchant: session.merchant, amount: session.amount,
  });
  const failed = pinVerdict(checked);
  if (failed) {
    const wrong = failed === 'wrong';
    deps.metrics.pinAttempt(failed);
    const result = await settling(() => deps.store.settleFailedPin(session.id, failed, pinLockAt, Date.now()));
    deps.metrics.payment('declined', result.reason);
    deps.audit.warn({ event: wrong ? 'pin.wrong' : 'pin.card-invalid', scanner: deviceId, session: session.id, card: card4, status: checked.status, told: result.reason }, wrong ? 'wrong PIN' : 'card failed DVD-1 at PIN time');
    return resultFrame(deps, id, session.id, result, false);
  }

  deps.metrics.pinAttempt('correct');
  const request = {
    sessionId: session.id, cardToken: card.token, last4: card.last4, merchant: session.merchant, amount: session.amount,
    currency: session.currency, cryptogram: Buffer.from(checked.cryptogram!).toString('hex'), at: Date.now(), attempt,
    captureMethod: session.captureMethod, holdWindowMs: session.holdWindowMs,
  };
  const authorization = await settling(() => deps.store.authorizePayment(request));
  const { result, record: ledger, replayed } = authorization;
  deps.metrics.payment(result.outcome, result.reason);
  deps.audit.info({ event: 'payment', scanner: deviceId, session: session.id, card: card4, outcome: result.outcome, reason: result.reason, amount: session.amount, currency: session.currency, replayed }, `payment ${result.outcome}`);
  return {
    v: 1, type: 'payment-result', id, session: session.id, outcome: result.outcome, reason: result.reason,
    ...(result.attemptsLeft === undefined ? {} : { attemptsLeft: result.attemptsLeft }),
    replayed, receipt: ledger ? receiptFor(deps.core, ledger) : null,
  };
}

/**
 * A code session's PIN (taken on the holder's phone: the amount was above the card's codeNoPinLimit): the DVD-1 code
 * record again, with the PIN, against the enrolment's wrapped PAN; then the verdict as for a printed card's.
 */
async function evaluateWithCode(deps: FlowDeps, deviceId: string, session: AuthSession, card: CardRecord, pin: string, attempt: string, id: string | null): Promise<PinOutcome> {
  const { pinLockAt } = deps.config;
  const enrolment = await deps.store.getEnrolment(Buffer.from(session.payload.subarray(1, 17)).toString('hex'));
  const checked = enrolment && enrolment.cardToken === card.token
    ? await deps.engine.checkCode({
      code: session.payload, card: card.token, wrappedBasicKey: card.wrappedBasicKey, pvv: card.pvv, wrappedPan: enrolment.wrappedPan, pin,
      sessionId: session.id, merchant: session.merchant, amount: session.amount,
    })
    : { ok: false, status: CARD_STATUS.CODE_MAC, cryptogram: null };
  const failed = pinVerdict({ status: checked.status, cryptogram: checked.cryptogram });
  if (failed || !checked.cryptogram) {
    const verdict = failed ?? 'invalid';
    deps.metrics.pinAttempt(verdict);
    const result = await settling(() => deps.store.settleFailedPin(session.id, verdict, pinLockAt, Date.now()));
    deps.metrics.payment('declined', result.reason);
    deps.audit.warn({ event: verdict === 'wrong' ? 'pin.wrong' : 'pin.card-invalid', scanner: deviceId, session: session.id, card: maskPan(card.last4), via: 'code', told: result.reason }, 'PIN of a code payment refused');
    return resultFrame(deps, id, session.id, result, false);
  }
  deps.metrics.pinAttempt('correct');
  const { result, record, replayed } = await settling(() => deps.store.authorizePayment({
    sessionId: session.id, cardToken: card.token, last4: card.last4, merchant: session.merchant, amount: session.amount, currency: session.currency,
    cryptogram: Buffer.from(checked.cryptogram!).toString('hex'), at: Date.now(), attempt, captureMethod: session.captureMethod, holdWindowMs: session.holdWindowMs,
    via: 'code',
  }));
  deps.metrics.payment(result.outcome, result.reason);
  deps.audit.info({ event: 'payment', scanner: deviceId, session: session.id, card: maskPan(card.last4), outcome: result.outcome, reason: result.reason, via: 'code', replayed }, `payment ${result.outcome}`);
  return {
    v: 1, type: 'payment-result', id, session: session.id, outcome: result.outcome, reason: result.reason,
    ...(result.attemptsLeft === undefined ? {} : { attemptsLeft: result.attemptsLeft }), replayed, receipt: record ? receiptFor(deps.core, record) : null,
  };
}
