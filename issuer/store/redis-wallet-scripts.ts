/**
 * The Lua of the wallet's atomic steps (wallet-types.ts WalletStore), each on its card's slot: the enrolment hash,
 * the card's enrolment index and active set share the card's hash tag with the card and the session (keys.ts).
 * Answers are raw; redis-wallet.ts turns them into records. Same checks, same order as MemoryStore's methods.
 */
import { rateUnitsFirst } from './redis-rate-lua.ts';
import { IN_FLIGHT } from './redis-in-flight.ts';
import { SESSION_KIND_LUA } from './redis-codec.ts';

type Arg = string | number;

export interface WalletScripts {
  scanpayCompleteEnrolment(
    session: string, payloadKey: string, card: string, enrolment: string, cardEnrolments: string, walletsActive: string,
    attempt: Arg, now: Arg, enrolmentId: Arg, cardToken: Arg, gone: Arg, blocked: Arg, locked: Arg, wrappedPan: Arg,
  ): Promise<(string | null)[]>;
  scanpayRevokeEnrolment(enrolment: string, walletsActive: string, now: Arg, enrolmentId: Arg): Promise<string>;
  scanpayConsumeCode(
    enrolment: string, card: string, session: string, payloadKey: string,
    cardToken: Arg, counter: Arg, sessionJson: Arg, deviceId: Arg, expiresAt: Arg, keepUntil: Arg, merchant: Arg, payload: Arg, payloadUntil: Arg,
    claim: Arg, now: Arg, purpose: Arg, pinEntry: Arg, ...rateUnits: Arg[]
  ): Promise<(string | null)[]>;
}

/** The enrolment hash at `key`: its fields as the answers carry them (redis-codec.ts ENROLMENT_FIELDS). */
function enrolmentRow(key: string): string {
  return `redis.call('HMGET', ${key}, 'id', 'cardToken', 'createdAt', 'status', 'revokedAt', 'lastCounter', 'wrappedPan')`;
}

/**
 * An enrolment's verified PIN. {'UNCLAIMED'}: no enrolment attempt claimed the session (nothing written). A decided
 * session: the same call re-sent gets {'ENROLLED', row…}, any other {'SETTLED', decision}. Else the attempt leaves
 * the card's in-flight list and the payload goes; a card no longer active settles it (gone/blocked/locked); else
 * pinFailures → 0, and a card whose policy is 'refused-when-enrolled' with an active enrolment settles it
 * 'wallet-refused'; else {'EXISTS'} for an id taken (nothing written), or the enrolment is written (active, counter
 * 0, in the card's index and active set) and the session decided 'enrolled'.
 * KEYS: session, payload, card, enrolment, card's enrolments, card's active set. ARGV: attempt, now, enrolment id,
 * card token, the gone/blocked/locked decisions, the wrapped PAN (base64).
 */
const COMPLETE_ENROLMENT = `${IN_FLIGHT}${SESSION_KIND_LUA}
local s = redis.call('HMGET', KEYS[1], 'session', 'usedAt', 'result', 'authorizedBy', 'enrolment', 'cardToken', 'purpose')
if not s[1] or not s[2] or s[6] ~= ARGV[4] or session_kind(s[1], s[7]) ~= 'wallet-enrolment' then return {'UNCLAIMED'} end
if s[3] then
  if s[4] == ARGV[1] and s[5] == ARGV[3] then return {'ENROLLED', unpack(${enrolmentRow('KEYS[4]')})} end
  return {'SETTLED', s[3]}
end
local c = redis.call('HMGET', KEYS[3], 'status', 'pinInFlight', 'staticQr')
local flights = in_flight(c[2], -1, KEYS[1])
local decided = nil
if c[1] ~= 'active' then
  decided = ARGV[5]
  if c[1] == 'blocked' then decided = ARGV[6] elseif c[1] == 'locked' then decided = ARGV[7] end
  if c[1] then redis.call('HSET', KEYS[3], 'pinInFlight', flights) end
else
  if c[3] == 'refused-when-enrolled' and redis.call('SCARD', KEYS[6]) > 0 then decided = 'wallet-refused'
  elseif redis.call('EXISTS', KEYS[4]) == 1 then return {'EXISTS'} end
  redis.call('HSET', KEYS[3], 'pinInFlight', flights, 'pinFailures', '0', 'updatedAt', ARGV[2])
end
redis.call('DEL', KEYS[2])
if decided then
  redis.call('HSET', KEYS[1], 'result', decided, 'authorizedBy', ARGV[1])
  return {'SETTLED', decided}
end
redis.call('HSET', KEYS[4], 'id', ARGV[3], 'cardToken', ARGV[4], 'createdAt', ARGV[2], 'status', 'active', 'lastCounter', '0', 'wrappedPan', ARGV[8])
redis.call('ZADD', KEYS[5], ARGV[2], ARGV[3])
redis.call('SADD', KEYS[6], ARGV[3])
redis.call('HSET', KEYS[1], 'result', 'enrolled', 'authorizedBy', ARGV[1], 'enrolment', ARGV[3])
return {'ENROLLED', unpack(${enrolmentRow('KEYS[4]')})}`;

/** 'unknown' (no such enrolment: nothing written), 'already-revoked', or 'revoked' (and out of the card's active set). KEYS: enrolment, active set. ARGV: now, id. */
const REVOKE_ENROLMENT = `
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return 'unknown' end
if status == 'revoked' then return 'already-revoked' end
redis.call('HSET', KEYS[1], 'status', 'revoked', 'revokedAt', ARGV[1])
redis.call('SREM', KEYS[2], ARGV[2])
return 'revoked'`;

/**
 * A verified code's use, after its rate units: {'EXISTS'} for a session id taken; {'ENROLMENT_UNKNOWN'} (none, or
 * another card's), {'ENROLMENT_REVOKED'}, {'CARD_UNKNOWN'}, {'CARD_BLOCKED'}, {'CARD_LOCKED'}, {'CODE_USED'}
 * (counter not above the last accepted): nothing written. Else lastCounter := counter and the session is stored as
 * OPEN_SESSION stores one → {'OK', enrolment row…} (the row read once, before, with the new lastCounter).
 * KEYS: enrolment, card, session, payload. ARGV: card token, counter, session JSON, deviceId, expiresAt, keepUntil,
 * merchant, payload (base64), payloadUntil, the claim ('' none: the session stays open for a PIN; else stored
 * claimed by it, `codeClaim` 1), now, the session's purpose and PIN entry (redis-codec.ts sessionKind), then the
 * rate units.
 */
const CONSUME_CODE = `${rateUnitsFirst(14, "{'RATE_LIMITED'}")}
if redis.call('EXISTS', KEYS[3]) == 1 then return {'EXISTS'} end
local e = ${enrolmentRow('KEYS[1]')}
if not e[2] or e[2] ~= ARGV[1] then return {'ENROLMENT_UNKNOWN'} end
if e[4] ~= 'active' then return {'ENROLMENT_REVOKED'} end
local status = redis.call('HGET', KEYS[2], 'status')
if not status then return {'CARD_UNKNOWN'} end
if status == 'blocked' then return {'CARD_BLOCKED'} end
if status ~= 'active' then return {'CARD_LOCKED'} end
if tonumber(ARGV[2]) <= tonumber(e[6]) then return {'CODE_USED'} end
redis.call('HSET', KEYS[1], 'lastCounter', ARGV[2])
e[6] = ARGV[2]
local session = {'session', ARGV[3], 'deviceId', ARGV[4], 'cardToken', ARGV[1], 'expiresAt', ARGV[5], 'merchant', ARGV[7], 'purpose', ARGV[12], 'pinEntry', ARGV[13]}
if ARGV[10] ~= '' then
  for _, v in ipairs({'usedAt', ARGV[11], 'attempt', ARGV[10], 'budgeted', '0', 'codeClaim', '1'}) do session[#session + 1] = v end
end
redis.call('HSET', KEYS[3], unpack(session))
redis.call('PEXPIREAT', KEYS[3], ARGV[6])
redis.call('SET', KEYS[4], ARGV[8], 'PXAT', ARGV[9])
return {'OK', unpack(e)}`;

export const WALLET_SCRIPTS: Record<keyof WalletScripts, { lua: string; numberOfKeys: number }> = {
  scanpayCompleteEnrolment: { lua: COMPLETE_ENROLMENT, numberOfKeys: 6 },
  scanpayRevokeEnrolment: { lua: REVOKE_ENROLMENT, numberOfKeys: 2 },
  scanpayConsumeCode: { lua: CONSUME_CODE, numberOfKeys: 4 },
};
