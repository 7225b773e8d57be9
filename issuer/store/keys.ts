/**
 * Where each record lives, for both stores, and the shard rule that keeps one payment on one Redis Cluster
 * slot. A card token is 32 hex digits; its first 4 are the card's shard. A session id starts with its card's
 * shard, so the card, the session and the ledger record of one payment share the hash tag `{shard}`, and each
 * atomic step (a Lua script over those keys) runs on one slot. Device keys share a `{device id}` tag.
 * The revocations channel has a fixed tag of its own: on a cluster every revocation goes to one shard (SPUBLISH).
 * The shard tells whoever holds a session id 16 bits of the card token: not the PAN, and 65,536 cards share each.
 */
import { ScanpayError } from '../../core/errors.ts';
import { randomHex } from '../random-id.ts';

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

/** Which wrong-PIN budget (types.ts PinBudget) a count belongs to. */
export type PinBudgetScope = 'device' | 'merchant';

const PIN_BUDGET = 'pin-budget:';

/** A wrong-PIN budget's name: its key in the embedded store, and (prefixed) in Redis. */
export function pinBudgetKey(scope: PinBudgetScope, id: string): string {
  return `${PIN_BUDGET}${scope}:${id}`;
}

export interface KeyLayout {
  card(token: string): string;
  /** A card key without its token: the PIN scripts append the token they read from the session. */
  cardKeyPrefix(sessionId: string): string;
  cardCount: string;
  session(id: string): string;
  /** A session's card payload, kept while the session can take a PIN. */
  sessionPayload(id: string): string;
  ledger(sessionId: string): string;
  device(deviceId: string): string;
  deviceIndex: string;
  deviceRecent(deviceId: string): string;
  deviceNonce(deviceId: string, nonce: string): string;
  /** A set of every revoked device id: what the gateways load their revoked set from, and refresh it from. */
  revokedDevices: string;
  /** The pub/sub channel revokeDevice announces each revocation on (the message: the device id). */
  revocations: string;
  rate(key: string): string;
  pinBudget(scope: PinBudgetScope, id: string): string;
  /** The wrong-PIN budgets' common prefix: the PIN scripts append `device:<id>` or `merchant:<id>`. */
  pinBudgetPrefix: string;
}

export function keyLayout(prefix: string): KeyLayout {
  return {
    card: (token) => `${prefix}{${shardOf(token)}}:card:${token}`,
    cardKeyPrefix: (sessionId) => `${prefix}{${shardOf(sessionId)}}:card:`,
    cardCount: `${prefix}cards`,
    session: (id) => `${prefix}{${shardOf(id)}}:session:${id}`,
    sessionPayload: (id) => `${prefix}{${shardOf(id)}}:payload:${id}`,
    ledger: (sessionId) => `${prefix}{${shardOf(sessionId)}}:ledger:${sessionId}`,
    device: (deviceId) => `${prefix}{dev:${deviceId}}:device`,
    deviceIndex: `${prefix}devices`,
    deviceRecent: (deviceId) => `${prefix}{dev:${deviceId}}:recent`,
    deviceNonce: (deviceId, nonce) => `${prefix}{dev:${deviceId}}:nonce:${nonce}`,
    revokedDevices: `${prefix}revoked-devices`,
    revocations: `${prefix}{revocations}`,
    rate: (key) => `${prefix}rate:${key}`,
    pinBudget: (scope, id) => `${prefix}${pinBudgetKey(scope, id)}`,
    pinBudgetPrefix: `${prefix}${PIN_BUDGET}`,
  };
}
