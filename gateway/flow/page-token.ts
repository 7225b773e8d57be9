/**
 * The auth page URL carries a token that only the scanner that opened the session receives (in its
 * auth-required push): HMAC-SHA256(pageKey, "scanpay/v1/page-token\n" ‖ session id), 64 hex digits. It depends
 * on nothing but what the URL itself carries, so a page request is checked here, in process, before anything
 * is read from the store: a request without the token costs the store nothing. The session id is unique and
 * unguessable, and the token is handed to its scanner alone, so it binds the page to that scanner's session.
 * @example
 *   const url = `${publicUrl}/auth/${session.id}?t=${pageToken(core, pageKey, session.id)}`;
 *   if (!pageTokenMatches(core, pageKey, req.params.session, req.query.get('t'))) return notFound();
 */
import type { CryptoCore } from '../../core/types.ts';

const encoder = new TextEncoder();
const TOKEN = /^[0-9a-f]{64}$/;

export function pageToken(core: CryptoCore, pageKey: Uint8Array, sessionId: string): string {
  return Buffer.from(core.hmacSha256(pageKey, encoder.encode(`scanpay/v1/page-token\n${sessionId}`))).toString('hex');
}

/** Whether `token` is the page token of `sessionId` (compared in constant time; anything not 64 hex digits is not). */
export function pageTokenMatches(core: CryptoCore, pageKey: Uint8Array, sessionId: string, token: unknown): boolean {
  if (typeof token !== 'string' || !TOKEN.test(token)) return false;
  return core.constantTimeEqual(encoder.encode(pageToken(core, pageKey, sessionId)), encoder.encode(token));
}
