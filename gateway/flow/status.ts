/**
 * Protocol v1.1 `status`: where one of this scanner's sessions stands — open (takes a PIN until
 * expiresAt), pending (an attempt is being decided) or done, with its result and receipt. It reads only, so
 * a scanner that reconnected can learn a page payment's outcome without sending a PIN. Another scanner's
 * session reads as unknown: status says nothing about sessions a scanner did not open.
 */
import type { ErrorFrame, PaymentResultFrame, SessionStatusFrame } from '../../protocol/messages.ts';
import type { FlowDeps } from './deps.ts';
import { sessionOutcome } from './pin.ts';

export async function handleStatus(deps: FlowDeps, deviceId: string, sessionId: string, id: string): Promise<SessionStatusFrame | ErrorFrame> {
  const view = await deps.store.getSession(sessionId);
  if (!view || view.session.deviceId !== deviceId) {
    return { v: 1, type: 'error', id, code: 'SESSION_UNKNOWN', message: 'no such session for this scanner (unknown, expired unused, or past its retention)' };
  }
  let result: SessionStatusFrame['result'] = null;
  if (view.state === 'done') {
    const { outcome, reason, attemptsLeft, receipt } = await sessionOutcome(deps, sessionId, view.result!);
    result = { outcome, reason, ...(attemptsLeft === undefined ? {} : { attemptsLeft }), receipt };
  }
  return { v: 1, type: 'session-status', id, session: sessionId, state: view.state, expiresAt: view.session.expiresAt, result };
}

/** How long a page-decided result is kept for a re-push when its scanner reconnects. */
export const REPUSH_WINDOW_MS = 10 * 60_000;

/** Notes a result the page decided (pushed to the scanner's connections, which may all be gone). */
export function rememberPageResult(deps: FlowDeps, deviceId: string, sessionId: string): Promise<void> {
  return deps.store.rememberResult(deviceId, sessionId, REPUSH_WINDOW_MS);
}

/** The page-decided results of this scanner's recent sessions, as pushes (id null, replayed: true), oldest first. */
export async function recentPageResults(deps: FlowDeps, deviceId: string): Promise<PaymentResultFrame[]> {
  const frames: PaymentResultFrame[] = [];
  for (const sessionId of (await deps.store.recentResults(deviceId)).reverse()) {
    const view = await deps.store.getSession(sessionId);
    if (view?.state === 'done' && view.session.deviceId === deviceId) frames.push(await sessionOutcome(deps, sessionId, view.result!));
  }
  return frames;
}
