/**
 * Protocol v1.3 `reverse` (docs/protocol.md §4.1): a scanner that lost a payment's answer reverses it by its
 * session id, ISO 8583 0400-style. Only a session this device opened, while the store keeps it (as `status`):
 * another scanner's session, an unknown one, or one past its retention answers SESSION_UNKNOWN, learning nothing.
 * The payment is reversed as its session's merchant through store.payments.reverse, under one opId per session
 * (payment.ts scannerReversalId), so a retry on any gateway replays the first answer; a later reversal by the
 * merchant API answers the same action too (the store keeps the first reversal's action on the payment).
 */
import { requestFingerprint, scannerReversalId } from '../../issuer/payment.ts';
import type { ErrorFrame, ReversalFrame } from '../../protocol/messages.ts';
import type { FlowDeps } from './deps.ts';

const UNKNOWN = 'no such session for this scanner (unknown, expired unused, or past its retention)';

export async function handleReverse(deps: FlowDeps, deviceId: string, sessionId: string, id: string, now = Date.now()): Promise<ReversalFrame | ErrorFrame> {
  const view = await deps.store.getSession(sessionId);
  if (!view || view.session.deviceId !== deviceId) return { v: 1, type: 'error', id, code: 'SESSION_UNKNOWN', message: UNKNOWN };
  const outcome = await deps.store.payments.reverse({
    paymentId: sessionId, merchant: view.session.merchant, opId: scannerReversalId(sessionId),
    fingerprint: requestFingerprint('SCANNER', 'reverse', sessionId), at: now,
  });
  // the session's merchant is its payment's, and the opId is this session's alone: a refusal means the records disagree
  if (!outcome.ok || outcome.action === null) throw new Error(`reversal refused by the store (${outcome.ok ? 'no action' : outcome.refusal})`);
  deps.metrics.operation('reverse', outcome, 'scanner');
  deps.audit.info({ event: 'scanner.reversal', scanner: deviceId, session: sessionId, action: outcome.action, replayed: outcome.replayed }, `reversal: ${outcome.action}`);
  return { v: 1, type: 'reversal', id, session: sessionId, action: outcome.action, replayed: outcome.replayed };
}
