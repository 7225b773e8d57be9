/**
 * S21–S24: a scanner sends a card payload with a payment request. The card verifier judges it (the open in
 * the worker pool, then the card row, read in the same store step that opens the session); an illegal one
 * gets an error warning with a folded reason code and an audit record (S23); a legal one keeps its session
 * and gets the page URL (S24). One store round trip for a legal scan.
 */
import { maskPan } from '../../issuer/pan.ts';
import { newSessionId } from '../../issuer/store/keys.ts';
import type { AuthSession } from '../../issuer/store/types.ts';
import { admitPayload, judgeCard, openedVerdict, type IllegalReason } from '../../issuer/verifier.ts';
import type { AuthRequiredFrame, ErrorFrame, ScanFrame } from '../../protocol/messages.ts';
import type { FlowDeps } from './deps.ts';
import { pageToken } from './page-token.ts';
import { scannerCodeForIllegal } from './scanner-codes.ts';

const decoder = new TextDecoder();

function illegal(deps: FlowDeps, scannerId: string, frame: ScanFrame, reason: IllegalReason): ErrorFrame {
  const code = scannerCodeForIllegal(reason);
  deps.metrics.scan('illegal', code); // the folded code only: a precise reason would enumerate key ids
  deps.audit.warn({ event: 'scan.illegal', scanner: scannerId, reason, told: code, merchant: frame.merchant }, 'illegal card payload');
  return { v: 1, type: 'error', id: frame.id, code, message: code === 'PAYLOAD_UNREADABLE' ? 'the card could not be read; scan again' : 'this card cannot be used' };
}

export async function handleScan(deps: FlowDeps, scannerId: string, frame: ScanFrame): Promise<AuthRequiredFrame | ErrorFrame> {
  const started = performance.now();
  try {
    const admitted = admitPayload(deps.keyRing, frame.payload);
    if (typeof admitted === 'string') return illegal(deps, scannerId, frame, admitted);
    const opened = await deps.engine.open(admitted.open);
    try {
      const failure = openedVerdict(admitted, opened);
      if (failure) return illegal(deps, scannerId, frame, failure);
      const pan = decoder.decode(opened.pan!);
      const card = deps.keyRing.cardToken(pan);
      const now = Date.now();
      const session: AuthSession = {
        id: newSessionId(card), scannerId, card, last4: pan.slice(-4), payload: frame.payload,
        amount: frame.amount, currency: frame.currency, merchant: frame.merchant,
        createdAt: now, expiresAt: now + deps.config.sessionTtlMs,
      };
      const stored = await deps.store.openSession(session);
      if (!stored.ok) return illegal(deps, scannerId, frame, stored.reason);
      const reason = judgeCard(deps.core, deps.keyRing, admitted.payload, stored.card, opened.basicKey!);
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
      opened.basicKey?.fill(0);
      opened.pan?.fill(0);
    }
  } finally {
    deps.metrics.stepSeconds('scan', (performance.now() - started) / 1000);
  }
}
