/**
 * Protocol v1.1 `status`: where one of this scanner's sessions stands — open (takes a PIN until
 * expiresAt), pending (an attempt is being decided) or done, with its result and receipt. It reads only, so
 * a scanner that reconnected can learn a page payment's outcome without sending a PIN. Another scanner's
 * session reads as unknown: status says nothing about sessions a scanner did not open.
 */
import type { ErrorFrame, SessionStatusFrame } from '../../protocol/messages.ts';
import type { FlowDeps } from './deps.ts';
import { sessionOutcome } from './pin.ts';

export async function handleStatus(deps: FlowDeps, scannerId: string, sessionId: string, id: string): Promise<SessionStatusFrame | ErrorFrame> {
  const view = await deps.store.getSession(sessionId);
  if (!view || view.session.scannerId !== scannerId) {
    return { v: 1, type: 'error', id, code: 'SESSION_UNKNOWN', message: 'no such session for this scanner (unknown, expired unused, or past its retention)' };
  }
  let result: SessionStatusFrame['result'] = null;
  if (view.state === 'done') {
    const { outcome, reason, attemptsLeft, receipt } = await sessionOutcome(deps, sessionId, view.result!);
    result = { outcome, reason, ...(attemptsLeft === undefined ? {} : { attemptsLeft }), receipt };
  }
  return { v: 1, type: 'session-status', id, session: sessionId, state: view.state, expiresAt: view.session.expiresAt, result };
}
