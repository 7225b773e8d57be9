/**
 * The auth page URL carries a token only the scanner that opened the session received (in its
 * auth-required push): HMAC(pageKey, "scanpay/v1/page\n" ‖ session ‖ "\n" ‖ scannerId). A PIN posted with
 * it counts as coming from that scanner; without it the page is not even shown.
 */
import type { CryptoCore } from '../../core/types.ts';

const encoder = new TextEncoder();

export function pageToken(core: CryptoCore, pageKey: Uint8Array, sessionId: string, scannerId: string): string {
  return Buffer.from(core.hmacSha256(pageKey, encoder.encode(`scanpay/v1/page\n${sessionId}\n${scannerId}`))).toString('hex');
}

export function pageTokenMatches(core: CryptoCore, pageKey: Uint8Array, sessionId: string, scannerId: string, token: unknown): boolean {
  if (typeof token !== 'string' || !/^[0-9a-f]{64}$/.test(token)) return false;
  return core.constantTimeEqual(
    encoder.encode(pageToken(core, pageKey, sessionId, scannerId)),
    encoder.encode(token),
  );
}
