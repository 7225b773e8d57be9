/**
 * S21–S24: a scanner sends a card payload with a payment request. The card verifier judges it (the open in
 * the crypto engine, which answers with the card token and a check of the basic key, then the card row,
 * read in the same store step that opens the session); an illegal one gets an error warning with a folded
 * reason code and an audit record (S23); a legal one keeps its session and gets the page URL (S24). One
 * store round trip for a scan, which also takes the frame's rate unit; no PAN, basic key or issuer key on
 * this thread.
 */
import { maskPan } from '../../issuer/pan.ts';
import { newSessionId } from '../../issuer/store/keys.ts';
import type { AuthSession } from '../../issuer/store/types.ts';
import { admitPayload, judgeCard, openedVerdict, type IllegalReason } from '../../issuer/verifier.ts';
import type { AuthRequiredFrame, ErrorFrame, ScanFrame } from '../../protocol/messages.ts';
import { RATE_LIMITED_MESSAGE, type FlowDeps, type FrameRateUnit } from './deps.ts';
import { pageToken } from './page-token.ts';
import { scannerCodeForIllegal } from './scanner-codes.ts';

function illegal(deps: FlowDeps, scannerId: string, frame: ScanFrame, reason: IllegalReason): ErrorFrame {
  const code = scannerCodeForIllegal(reason);
  deps.metrics.scan('illegal', code); // the folded code only: a precise reason would enumerate key ids
  deps.audit.warn({ event: 'scan.illegal', scanner: scannerId, reason, told: code, merchant: frame.merchant }, 'illegal card payload');
  return { v: 1, type: 'error', id: frame.id, code, message: code === 'PAYLOAD_UNREADABLE' ? 'the card could not be read; scan again' : 'this card cannot be used' };
}

function rateLimited(frame: ScanFrame): ErrorFrame {
  return { v: 1, type: 'error', id: frame.id, code: 'RATE_LIMITED', message: RATE_LIMITED_MESSAGE };
}

/** Judged illegal before the store step: the frame's rate unit on its own first, so a flood of illegal scans is limited too. */
async function illegalBeforeStore(deps: FlowDeps, scannerId: string, frame: ScanFrame, unit: FrameRateUnit, reason: IllegalReason): Promise<ErrorFrame> {
  return (await unit.alone()) ? illegal(deps, scannerId, frame, reason) : rateLimited(frame);
}

export async function handleScan(deps: FlowDeps, scannerId: string, frame: ScanFrame, unit: FrameRateUnit): Promise<AuthRequiredFrame | ErrorFrame> {
  const started = performance.now();
  try {
    const admitted = admitPayload(frame.payload);
    if (typeof admitted === 'string') return await illegalBeforeStore(deps, scannerId, frame, unit, admitted);
    const opening = await deps.engine.openCard(admitted.bytes);
    const failure = openedVerdict(opening);
    if (failure) return await illegalBeforeStore(deps, scannerId, frame, unit, failure);
    const card = opening.card!;
    const now = Date.now();
    const session: AuthSession = {
      id: newSessionId(card), scannerId, card, last4: opening.last4!, payload: admitted.bytes,
      amount: frame.amount, currency: frame.currency, merchant: frame.merchant,
      createdAt: now, expiresAt: now + deps.config.sessionTtlMs,
    };
    const stored = await deps.store.openSession(session, unit.forStep());
    if (!stored.ok) return stored.reason === 'RATE_LIMITED' ? rateLimited(frame) : illegal(deps, scannerId, frame, stored.reason);
    const reason = judgeCard(admitted.payload, opening, stored.card);
    if (reason) {
      await deps.store.discardSession(session.id);
      return illegal(deps, scannerId, frame, reason);
    }
    const maskedPan = maskPan(session.last4);
    deps.metrics.scan('legal');
    deps.audit.debug({ event: 'session.opened', scanner: scannerId, session: session.id, card: maskedPan, amount: session.amount, currency: session.currency, merchant: session.merchant }, 'auth session opened');
    const token = pageToken(deps.core, deps.pageKey, session.id, scannerId);
    return {
      v: 1, type: 'auth-required', id: frame.id, session: session.id,
      url: `${deps.config.publicUrl}/auth/${session.id}?t=${token}`,
      expiresAt: session.expiresAt, merchant: session.merchant, amount: session.amount, currency: session.currency, maskedPan,
    };
  } finally {
    deps.metrics.stepSeconds('scan', (performance.now() - started) / 1000);
  }
}
