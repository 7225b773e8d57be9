/**
 * What a scanner is told. Legality reasons are folded so that a scan is no oracle: forged, unknown,
 * stale and mismatched cards all read CARD_INVALID; the precise reason goes to the audit log only.
 */
import type { IllegalReason } from '../../issuer/verifier.ts';
import type { ScannerCode } from '../../protocol/messages.ts';

export function scannerCodeForIllegal(reason: IllegalReason): ScannerCode {
  switch (reason) {
    case 'PAYLOAD_TOO_LARGE':
    case 'PAYLOAD_MALFORMED':
      return 'PAYLOAD_UNREADABLE';
    case 'CARD_BLOCKED':
      return 'CARD_BLOCKED';
    case 'CARD_LOCKED':
      return 'CARD_LOCKED';
    default:
      return 'CARD_INVALID';
  }
}
