/**
 * S25 and after: the holder's PIN, entered on the auth page or sent by the scanner, is checked in the
 * worker pool as part of the whole DVD-1 record (decrypt, verify, derive, PVV, cryptogram); a wrong PIN
 * counts against the card (locked at 3, across sessions); a right one goes to the issuer's atomic,
 * idempotent authorization, whose ledger record carries the cryptogram. Each session takes one attempt.
 */
import { DVD1_STATUS, type Dvd1Record } from '../../core/types.ts';
import { unwrapBasicKey } from '../../issuer/card-secrets.ts';
import { maskPan } from '../../issuer/pan.ts';
import { parsePayload, payloadFromText } from '../../issuer/payload.ts';
import type { DeclineReason } from '../../issuer/store/index.ts';
import type { AuthSession, CardRecord } from '../../issuer/store/types.ts';
import type { ErrorFrame, PaymentResultFrame, ScannerCode } from '../../protocol/messages.ts';
import type { FlowDeps } from './deps.ts';
import { receiptFor } from './receipt.ts';
import { scannerCodeForDecline } from './scanner-codes.ts';

const MERCHANT_BYTES = 16;

export type PinOutcome = PaymentResultFrame | ErrorFrame;

function merchantBytes(merchant: string): Uint8Array {
  const out = new Uint8Array(MERCHANT_BYTES); // ASCII id, zero-padded (the protocol caps it at 16)
  out.set(new TextEncoder().encode(merchant).subarray(0, MERCHANT_BYTES));
  return out;
}

function declined(id: string | null, session: string, reason: ScannerCode, attemptsLeft?: number): PaymentResultFrame {
  return { v: 1, type: 'payment-result', id, session, outcome: 'declined', reason, ...(attemptsLeft === undefined ? {} : { attemptsLeft }), replayed: false, receipt: null };
}

const LEDGER_WAIT_MS = 2_000; // how long a duplicate waits for another process's attempt to reach the ledger
const LEDGER_POLL_MS = 50;

/**
 * A second submission for a used session: the first attempt's answer again. In this process, it waits
 * for the attempt still running; otherwise it reads the ledger, waiting briefly for an attempt another
 * gateway is still completing. Only the scanner that owns the session ever sees the result.
 */
async function replay(deps: FlowDeps, scannerId: string, sessionId: string, id: string | null): Promise<PinOutcome> {
  const used: PinOutcome = { v: 1, type: 'error', id, code: 'SESSION_USED', message: 'this session has been used; scan the card again' };
  const running = deps.pinsInFlight.get(sessionId);
  if (running && running.scannerId === scannerId) {
    const first = (await running.outcome) as PinOutcome;
    return first.type === 'payment-result' ? { ...first, id, replayed: true } : used;
  }
  const session = await deps.store.getSession(sessionId);
  if (!session || session.scannerId !== scannerId) return used;
  let record = await deps.store.getLedgerRecord(sessionId);
  for (let waited = 0; !record && waited < LEDGER_WAIT_MS; waited += LEDGER_POLL_MS) {
    await new Promise((resolve) => setTimeout(resolve, LEDGER_POLL_MS));
    record = await deps.store.getLedgerRecord(sessionId);
  }
  if (!record) return used;
  return {
    v: 1, type: 'payment-result', id, session: sessionId, outcome: record.outcome,
    reason: record.reason === null ? null : scannerCodeForDecline(record.reason as DeclineReason), replayed: true, receipt: receiptFor(deps.core, record),
  };
}

/** The DVD-1 record for this session's payload, the card's row and the entered PIN. */
function dvd1RecordFor(deps: FlowDeps, session: AuthSession, card: CardRecord, pin: string): Dvd1Record | null {
  let payload;
  try {
    payload = parsePayload(payloadFromText(session.payload));
  } catch {
    return null;
  }
  if (payload.generation !== card.generation || payload.keyId !== card.keyId) return null; // re-issued since the scan
  let kek: Uint8Array;
  try {
    kek = deps.keyRing.keyForOpening(payload.keyId);
  } catch {
    return null; // retired since the scan
  }
  return {
    kek, ...payload.fields,
    storedBasicKey: unwrapBasicKey(deps.core, deps.keyRing.storageKey, card.pan, card.wrappedBasicKey),
    storedPvv: card.pvv,
    pin: new TextEncoder().encode(pin),
    sid: Buffer.from(session.id, 'hex'),
    merchant: merchantBytes(session.merchant),
    amount: BigInt(session.amount),
  };
}

export async function handlePin(deps: FlowDeps, scannerId: string, sessionId: string, pin: string, id: string | null): Promise<PinOutcome> {
  const started = performance.now();
  let settle: ((outcome: PinOutcome) => void) | undefined;
  try {
    if (!/^[0-9]{4}$/.test(pin)) {
      deps.metrics.pinAttempt('rejected');
      return { v: 1, type: 'error', id, code: 'BAD_FRAME', message: 'the PIN is 4 digits' };
    }
    const claim = await deps.store.claimSession(sessionId, scannerId, Date.now());
    if (!claim.ok) {
      deps.metrics.pinAttempt('rejected');
      if (claim.reason === 'SESSION_USED') return await replay(deps, scannerId, sessionId, id);
      deps.audit.warn({ event: 'pin.rejected', scanner: scannerId, session: sessionId, reason: claim.reason }, 'PIN for an unusable session');
      return { v: 1, type: 'error', id, code: claim.reason, message: 'this session cannot take a PIN; scan the card again' };
    }
    const session = claim.session;
    // this attempt owns the session now: duplicates arriving meanwhile wait for its answer (replay above)
    deps.pinsInFlight.set(sessionId, { scannerId, outcome: new Promise<PinOutcome>((resolve) => (settle = resolve)) });
    const outcome = await decide(deps, scannerId, session, pin, id);
    settle!(outcome);
    return outcome;
  } catch (e) {
    settle?.({ v: 1, type: 'error', id, code: 'INTERNAL', message: 'the payment could not be completed' });
    throw e;
  } finally {
    if (settle) deps.pinsInFlight.delete(sessionId);
    deps.metrics.stepSeconds('pin', (performance.now() - started) / 1000);
  }
}

/** S25 for a claimed session: the card row, DVD-1 in the pool, the PIN verdict, then authorization. */
async function decide(deps: FlowDeps, scannerId: string, session: AuthSession, pin: string, id: string | null): Promise<PinOutcome> {
  const sessionId = session.id;
  const card = await deps.store.getCard(session.pan);
  if (!card) return declined(id, sessionId, 'CARD_INVALID');
  if (card.status !== 'active') return declined(id, sessionId, card.status === 'locked' ? 'CARD_LOCKED' : 'CARD_BLOCKED');

  const record = dvd1RecordFor(deps, session, card, pin);
  if (!record) return declined(id, sessionId, 'CARD_INVALID');
  let result;
  try {
    result = await deps.engine.dvd1(record);
  } finally {
    record.storedBasicKey.fill(0);
    record.pin.fill(0);
  }
  const card4 = maskPan(card.pan);

  if (result.status === DVD1_STATUS.PVV) {
    deps.metrics.pinAttempt('wrong');
    const failure = await deps.store.recordPinFailure(card.pan, deps.config.pinLockAt);
    const locked = failure?.locked ?? false;
    deps.audit.warn({ event: 'pin.wrong', scanner: scannerId, session: sessionId, card: card4, failures: failure?.failures, locked }, 'wrong PIN');
    deps.metrics.payment('declined', locked ? 'CARD_LOCKED' : 'PIN_WRONG');
    return locked
      ? declined(id, sessionId, 'CARD_LOCKED', 0)
      : declined(id, sessionId, 'PIN_WRONG', Math.max(0, deps.config.pinLockAt - (failure?.failures ?? 0)));
  }
  if (!result.ok) {
    deps.audit.warn({ event: 'pin.card-invalid', scanner: scannerId, session: sessionId, card: card4, status: result.status }, 'card failed DVD-1 at PIN time');
    deps.metrics.payment('declined', 'CARD_INVALID');
    return declined(id, sessionId, 'CARD_INVALID');
  }

  deps.metrics.pinAttempt('correct');
  if (card.pinFailures > 0) await deps.store.clearPinFailures(card.pan);
  const { record: ledger, replayed } = await deps.store.authorizePayment({
    sessionId, pan: card.pan, merchant: session.merchant, amount: session.amount, currency: session.currency,
    cryptogram: Buffer.from(result.cryptogram).toString('hex'), at: Date.now(),
  });
  const reason = ledger.reason === null ? null : scannerCodeForDecline(ledger.reason as DeclineReason);
  deps.metrics.payment(ledger.outcome, reason);
  deps.audit.info({ event: 'payment', scanner: scannerId, session: sessionId, card: card4, outcome: ledger.outcome, reason, amount: ledger.amount, currency: ledger.currency, replayed }, 'payment authorized');
  return { v: 1, type: 'payment-result', id, session: sessionId, outcome: ledger.outcome, reason, replayed, receipt: receiptFor(deps.core, ledger) };
}
