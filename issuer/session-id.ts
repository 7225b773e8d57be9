/**
 * Session ids and card shards: the rule that keeps one payment on one Redis Cluster slot. A card token is 32
 * hex digits (a keyed hash of the PAN: key-ring.ts); its first 4 are the card's shard. A session id (the rule
 * for its shape is protocol/values.ts SESSION_ID_PATTERN) starts with its card's shard, so the card, the
 * session and the ledger record of one payment share a hash tag (store/keys.ts). The shard tells whoever holds
 * a session id 16 bits of the card token: not the PAN, and 65,536 cards share each value.
 * @example
 *   const id = newSessionId(cardToken);       // shardOf(id) === shardOf(cardToken)
 */
import { ScanpayError } from '../core/errors.ts';
import { randomHex } from './random-id.ts';

export const CARD_TOKEN = /^[0-9a-f]{32}$/;
const SHARD_HEX = 4;

export function shardOf(tokenOrSessionId: string): string {
  return tokenOrSessionId.slice(0, SHARD_HEX);
}

/** A fresh session id on the card's shard: 4 hex from the token, 112 bits from the CSPRNG. */
export function newSessionId(cardToken: string): string {
  if (!CARD_TOKEN.test(cardToken)) throw new ScanpayError('BAD_ARGUMENT', 'card token must be 32 lowercase hex characters');
  return shardOf(cardToken) + randomHex(14);
}
