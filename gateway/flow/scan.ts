/**
 * S21–S24: a scanner sends a card payload with a payment request. The card verifier judges it: the open in
 * the crypto engine (which answers with the card token and a check of the basic key), then the card row,
 * judged in the same store step that opens the session, which stores a session only for a legal card. An
 * illegal one gets an error warning with a folded reason code and an audit record (S23); a legal one gets the
 * page URL (S24), and where the holder enters the PIN (its merchant's policy, kept on the session: on a
 * holder-device session the store refuses the scanner's PIN, pin.ts). One store round trip for every payload that
 * has a payload's shape, which also takes the frame's rate unit: a forgery, an unknown card and an authentic but
 * illegal one (stale, re-keyed, blocked) each cost that one step and write nothing, so neither the answer nor its
 * timing tells them apart (docs/security.md). Before any of it, the scan's merchant must be its scanner's (MERCHANT_MISMATCH, from
 * memory). No PAN, basic key or issuer key on this thread. A wallet's one-time code (payload v2) is handed to
 * code-scan.ts after the merchant check: it may be answered by `payment-result` (protocol v1.6).
 */
import { randomBytes } from 'node:crypto';
import { BASIC_KEY_CHECK_SIZE } from '../../issuer/key-ring.ts';
import { maskPan } from '../../issuer/pan.ts';
import { randomHex } from '../../issuer/random-id.ts';
import { newSessionId } from '../../issuer/session-id.ts';
import type { AuthSession, CardClaim } from '../../issuer/store/index.ts';
import { admitPayload, claimOf, openedVerdict, type IllegalReason } from '../../issuer/verifier.ts';
import type { AuthRequiredFrame, ErrorFrame, PaymentResultFrame, ScanFrame } from '../../protocol/messages.ts';
import { handleCodeScan, scannedCode } from './code-scan.ts';
import { DEVICE_REVOKED_MESSAGE, MERCHANT_MISMATCH_MESSAGE, RATE_LIMITED_MESSAGE, type FlowDeps, type FrameRateUnit, type ScannerIdentity } from './deps.ts';
import type { MerchantPolicy } from './merchant-policies.ts';
import { pageToken } from './page-token.ts';
import { scannerCodeForIllegal } from './scanner-codes.ts';

function illegal(deps: FlowDeps, deviceId: string, frame: ScanFrame, reason: IllegalReason): ErrorFrame {
  const code = scannerCodeForIllegal(reason);
  deps.metrics.scan('illegal', code); // the folded code only: a precise reason would enumerate key ids
  deps.audit.warn({ event: 'scan.illegal', scanner: deviceId, reason, told: code, merchant: frame.merchant }, 'illegal card payload');
  return { v: 1, type: 'error', id: frame.id, code, message: code === 'PAYLOAD_UNREADABLE' ? 'the card could not be read; scan again' : 'this card cannot be used' };
}

/**
 * Whether this scanner may take a payment for the merchant its scan names: a bound scanner for its own merchant
 * only; an unbound one for no registered merchant (it would take a real merchant's payments), but for any free-text
 * name the store does not know (the demo's and older integrations' way).
 */
function mayTakeFor(scanner: ScannerIdentity, merchant: string, policy: MerchantPolicy): boolean {
  return scanner.merchant === null ? !policy.registered : scanner.merchant === merchant;
}

function merchantMismatch(deps: FlowDeps, scanner: ScannerIdentity, frame: ScanFrame): ErrorFrame {
  deps.audit.warn({ event: 'scan.merchant-mismatch', scanner: scanner.deviceId, boundTo: scanner.merchant, merchant: frame.merchant }, 'scan for another merchant refused');
  return { v: 1, type: 'error', id: frame.id, code: 'MERCHANT_MISMATCH', message: MERCHANT_MISMATCH_MESSAGE };
}

/**
 * A genuine card (its row judged legal) whose wallet policy refuses its printed QR for this payment: over its
 * static-QR limit, or a wallet is enrolled. Told as it is (the card is the holder's; a forgery never gets here):
 * the holder pays with the wallet's one-time code instead.
 */
function staticQrRefused(deps: FlowDeps, deviceId: string, frame: ScanFrame): ErrorFrame {
  deps.metrics.scan('illegal', 'STATIC_QR_REFUSED');
  deps.audit.info({ event: 'scan.static-qr-refused', scanner: deviceId, merchant: frame.merchant, amount: frame.amount }, 'printed QR refused by the card\'s policy');
  return { v: 1, type: 'error', id: frame.id, code: 'STATIC_QR_REFUSED', message: 'this card\'s printed QR is not accepted for this payment: pay with the wallet\'s one-time code' };
}

function rateLimited(frame: ScanFrame): ErrorFrame {
  return { v: 1, type: 'error', id: frame.id, code: 'RATE_LIMITED', message: RATE_LIMITED_MESSAGE };
}

/**
 * What a payload the engine could not open takes to the store step in place of its card: a card token no card
 * has (fresh random, so the step finds no row and writes nothing) and a random claim. Its step then costs what a
 * genuine card's illegal row costs.
 */
function decoy(): { card: string; last4: string; claim: CardClaim } {
  return { card: randomHex(16), last4: '0000', claim: { basicKeyCheck: randomBytes(BASIC_KEY_CHECK_SIZE), generation: 0, keyId: 0 } };
}

export async function handleScan(deps: FlowDeps, scanner: ScannerIdentity, frame: ScanFrame, unit: FrameRateUnit): Promise<AuthRequiredFrame | PaymentResultFrame | ErrorFrame> {
  const started = performance.now();
  const { deviceId } = scanner;
  try {
    // the scan's merchant is its scanner's: checked first, from memory (the binding read at connection, the
    // merchant's policy kept a few seconds), after the frame's rate unit alone; nothing is opened or stored
    const policy = await deps.merchantPolicies.policy(frame.merchant);
    if (!mayTakeFor(scanner, frame.merchant, policy)) return (await unit.alone()) ? merchantMismatch(deps, scanner, frame) : rateLimited(frame);
    // a wallet's one-time code (payload v2) takes its own path (code-scan.ts); it may pay at once (payment-result)
    const code = scannedCode(frame.payload);
    if (code) return await handleCodeScan(deps, scanner, frame, unit, code, policy);
    const admitted = admitPayload(frame.payload);
    // not even a payload's shape: told apart (PAYLOAD_UNREADABLE), after the frame's rate unit alone
    if (typeof admitted === 'string') return (await unit.alone()) ? illegal(deps, deviceId, frame, admitted) : rateLimited(frame);
    const opening = await deps.engine.openCard(admitted.bytes);
    const failure = openedVerdict(opening);
    const { card, last4, claim } = failure ? decoy() : { card: opening.card!, last4: opening.last4!, claim: claimOf(admitted.payload, opening) };
    const now = Date.now();
    const session: AuthSession = {
      id: newSessionId(card), deviceId, cardToken: card, last4, payload: admitted.bytes,
      amount: frame.amount, currency: frame.currency, merchant: frame.merchant,
      captureMethod: frame.capture ?? policy.captureMethod, holdWindowMs: policy.holdWindowMs,
      ...(policy.pinEntry === 'holder-device' ? { pinEntry: 'holder-device' as const } : {}),
      createdAt: now, expiresAt: now + deps.config.sessionTtlMs,
    };
    // checked again here, after the crypto: a revocation heard meanwhile opens no session
    if (deps.revokedDevices.has(deviceId)) return { v: 1, type: 'error', id: frame.id, code: 'DEVICE_REVOKED', message: DEVICE_REVOKED_MESSAGE };
    const stored = await deps.store.openSession(session, claim, unit.forStep());
    const refusal = stored.ok ? null : stored.reason;
    if (refusal === 'RATE_LIMITED') {
      unit.refusedInStep();
      return rateLimited(frame);
    }
    if (refusal === 'STATIC_QR_REFUSED') return staticQrRefused(deps, deviceId, frame);
    const reason = failure ?? refusal; // a decoy's row is always unknown: the engine's verdict is the one to tell
    if (reason) return illegal(deps, deviceId, frame, reason);
    const maskedPan = maskPan(session.last4);
    deps.metrics.scan('legal');
    deps.audit.debug({ event: 'session.opened', scanner: deviceId, session: session.id, card: maskedPan, amount: session.amount, currency: session.currency, merchant: session.merchant }, 'auth session opened');
    const token = pageToken(deps.core, deps.pageKey, session.id);
    return {
      v: 1, type: 'auth-required', id: frame.id, session: session.id,
      url: `${deps.config.publicUrl}/auth/${session.id}?t=${token}`,
      expiresAt: session.expiresAt, merchant: session.merchant, amount: session.amount, currency: session.currency, maskedPan,
      pinEntry: policy.pinEntry, // holder-device: the scanner shows `url` as a QR code; its `pin` frames are refused
    };
  } finally {
    deps.metrics.stepSeconds('scan', (performance.now() - started) / 1000);
  }
}
