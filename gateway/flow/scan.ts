/**
 * S21–S24: a scanner sends a card payload with a payment request. The payload is judged (decrypt +
 * verify in the worker pool, then the card row); an illegal one gets an error warning with a folded
 * reason code and an audit record (S23); a legal one opens an auth session and gets the page URL (S24).
 */
import { randomBytes } from 'node:crypto';
import { judgePayloads } from '../../issuer/legality.ts';
import { maskPan } from '../../issuer/pan.ts';
import type { AuthSession } from '../../issuer/store/types.ts';
import type { AuthRequiredFrame, ErrorFrame, ScanFrame } from '../../protocol/messages.ts';
import type { FlowDeps } from './deps.ts';
import { pageToken } from './page-token.ts';
import { scannerCodeForIllegal } from './scanner-codes.ts';

export async function handleScan(deps: FlowDeps, scannerId: string, frame: ScanFrame): Promise<AuthRequiredFrame | ErrorFrame> {
  const started = performance.now();
  try {
    const [verdict] = await judgePayloads(
      { core: deps.core, keyRing: deps.keyRing, store: deps.store, openPayloads: (inputs) => Promise.all(inputs.map((i) => deps.engine.open(i))) },
      [frame.payload],
    );
    if (!verdict.legal) {
      const code = scannerCodeForIllegal(verdict.reason);
      deps.metrics.scan('illegal', verdict.reason);
      deps.audit.warn({ event: 'scan.illegal', scanner: scannerId, reason: verdict.reason, told: code, merchant: frame.merchant }, 'illegal card payload');
      return { v: 1, type: 'error', id: frame.id, code, message: code === 'PAYLOAD_UNREADABLE' ? 'the card could not be read; scan again' : 'this card cannot be used' };
    }

    const now = Date.now();
    const session: AuthSession = {
      id: randomBytes(16).toString('hex'),
      scannerId,
      pan: verdict.card.pan,
      payload: frame.payload,
      amount: frame.amount,
      currency: frame.currency,
      merchant: frame.merchant,
      createdAt: now,
      expiresAt: now + deps.config.sessionTtlMs,
    };
    if (!(await deps.store.createSession(session))) throw new Error('session id collision'); // 128 random bits: never
    const maskedPan = maskPan(session.pan);
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
