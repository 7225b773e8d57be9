/**
 * S22's judgement of a card row: what an opened payload claims about its card (the basic key's check, the
 * generation and key id in its header) against the row as stored, and the card's status. One set of rules
 * for the verifier (verifier.ts), the embedded store's openSession and the Redis script OPEN_SESSION
 * (redis-scripts.ts), which states the same checks in the same order in Lua: a scan's session is written only
 * for a legal card, in the same step that reads the row, so an authentic but illegal payload costs what a
 * forgery costs (one store step, nothing written).
 */
import { timingSafeEqual } from 'node:crypto';
import type { CardClaim, CardRecord, RowVerdict } from './store/types.ts';

/** The payload's generation and key against the card row, then the card's status. */
export function currentVerdict(claim: Pick<CardClaim, 'generation' | 'keyId'>, card: CardRecord): RowVerdict | null {
  if (claim.generation !== card.generation || claim.keyId !== card.keyId) return 'GENERATION_STALE';
  if (card.status === 'blocked') return 'CARD_BLOCKED';
  if (card.status === 'locked') return 'CARD_LOCKED';
  return null;
}

/** The row exists, its basic-key check equals the claimed one (constant time), then currentVerdict. */
export function judgeCardRow(claim: CardClaim, card: CardRecord | null): RowVerdict | null {
  if (!card) return 'CARD_UNKNOWN';
  const claimed = claim.basicKeyCheck;
  if (claimed.length !== card.basicKeyCheck.length || !timingSafeEqual(claimed, card.basicKeyCheck)) return 'BASIC_KEY_MISMATCH';
  return currentVerdict(claim, card);
}
