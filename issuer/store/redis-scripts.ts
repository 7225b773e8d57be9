/**
 * The Redis store's atomic steps as Lua scripts (Redis runs a script to completion before any other command).
 * Keys come in KEYS. Two exceptions: a frame's rate unit on one Redis (rateUnitFirst), and the card a session
 * belongs to, which the PIN scripts read from the session and address as ARGV[1] (the card key prefix) ‖
 * token: it carries the session's own hash tag
 * (keys.ts), so it is on the same Redis Cluster slot. Redis 7.0 in cluster mode runs such an undeclared key
 * when it is on the script's slot, with or without a `#!lua` shebang; off the slot, a shebang script fails
 * ("do not hash to the same slot") and a plain one reads only this node (checked on a real cluster; the
 * store contract runs every script there). Numbers arrive as decimal strings; Lua's doubles are
 * exact for the safe integers the boundary checks allow, and results are printed with %d (never tostring,
 * which rounds to 14 digits). PIN results are the short codes of redis-codec.ts encodeResult.
 */
import type { Cluster, Redis } from 'ioredis';
import { CARD_FIELDS } from './redis-codec.ts';

type Arg = string | number;
/** A rate unit for a script that takes one first: the limit's full key ('' for none), interval ms, burst. */
export type RateUnitArgs = [key: string, intervalMs: number, burst: number];

/** The scripts as methods on the connection (ioredis defineCommand): KEYS first, then ARGV. */
export interface StoreScripts {
  scanpayInsertCard(card: string, ...fieldValues: Arg[]): Promise<number>;
  scanpayUpdateCard(card: string, expectedFields: Arg, ...expectedThenNew: Arg[]): Promise<number>;
  scanpayOpenSession(card: string, session: string, sessionJson: Arg, scannerId: Arg, token: Arg, expiresAt: Arg, keepUntil: Arg, ...rateUnit: RateUnitArgs): Promise<[string, string[]?]>;
  scanpayBeginPinAttempt(
    session: string, cardKeyPrefix: Arg, scannerId: Arg, attempt: Arg, now: Arg, lockAt: Arg, paceMs: Arg, usedRetentionMs: Arg,
    gone: Arg, blocked: Arg, locked: Arg, takeoverMs: Arg, ...rateUnit: RateUnitArgs
  ): Promise<[string, string?, (string | string[] | null)?]>;
  scanpaySettleFailedPin(session: string, cardKeyPrefix: Arg, verdict: Arg, lockAt: Arg, now: Arg, gone: Arg, blocked: Arg, locked: Arg): Promise<string>;
  scanpayAuthorizePayment(
    ledger: string, card: string, session: string,
    recordHead: Arg, amount: Arg, negatedAmount: Arg, currency: Arg, at: Arg, attempt: Arg, gone: Arg, blocked: Arg, locked: Arg,
  ): Promise<[string | null, number, string | null, string?]>;
  scanpayAcceptDeviceToken(device: string, nonce: string, ttlMs: Arg, now: Arg): Promise<string>;
  scanpayRevokeDevice(device: string, now: Arg, evenIfUnknown: Arg): Promise<string>;
  scanpayTakeRate(rate: string, intervalMs: Arg, burst: Arg): Promise<number>;
}

export type ScriptedRedis = (Redis | Cluster) & StoreScripts;

/**
 * GCRA on the server's clock (gateways' clocks may differ), as a Lua function that TAKE_RATE and the scripts
 * taking a frame's rate unit (OPEN_SESSION, BEGIN_PIN_ATTEMPT) start with: the theoretical arrival time moves
 * on by one interval per unit taken; a unit is refused while it is more than (burst − 1) intervals ahead.
 */
const GCRA = `
local function take_rate(key, interval, burst)
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
  local tat = tonumber(redis.call('GET', key) or '0')
  if tat < now then tat = now end
  if tat - now > interval * (burst - 1) then return false end
  local nextTat = tat + interval
  redis.call('SET', key, string.format('%.3f', nextTat), 'PX', math.ceil(nextTat - now) + 1)
  return true
end`;

/**
 * A frame's rate unit before the step looks at anything (ARGV[n], ARGV[n + 1], ARGV[n + 2]: the limit's key,
 * interval ms, burst; an empty key: none, the store took it before, or the caller has none). The limit's key
 * is not in KEYS: it has no hash tag of the step's keys, which one Redis does not mind; on a cluster the
 * store passes none (redis-store.ts).
 */
function rateUnitFirst(n: number, refused: string): string {
  return `${GCRA}
if ARGV[${n}] ~= '' and not take_rate(ARGV[${n}], tonumber(ARGV[${n + 1}]), tonumber(ARGV[${n + 2}])) then return ${refused} end`;
}

/** A Lua expression: the card at `key` as its CARD_FIELDS values (all nil for no card), what cardFromValues reads. */
function cardRow(key: string): string {
  return `redis.call('HMGET', ${key}, ${CARD_FIELDS.map((field) => `'${field}'`).join(', ')})`;
}

/** 1 if written; 0 (and nothing written) if the card exists. */
const INSERT_CARD = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1`;

/**
 * Compare-and-set of a whole card row: ARGV = n, the n field/value pairs the caller read, then the new pairs.
 * Writes only if the row still holds exactly what was read. -1: no such card; 0: changed meanwhile; 1: written.
 * (Not WATCH/MULTI: WATCH belongs to a connection, and this store shares one connection among all callers.)
 */
const UPDATE_CARD = `
local row = redis.call('HGETALL', KEYS[1])
if #row == 0 then return -1 end
local n = tonumber(ARGV[1])
if #row ~= 2 * n then return 0 end
local current = {}
for i = 1, #row, 2 do current[row[i]] = row[i + 1] end
for i = 2, 2 * n, 2 do
  if current[ARGV[i]] ~= ARGV[i + 1] then return 0 end
end
redis.call('HSET', KEYS[1], unpack(ARGV, 2 * n + 2))
return 1`;

/**
 * {'OK', card (cardRow)} with the session stored (kept until keepUntil), {'CARD_UNKNOWN'}, {'EXISTS'}, or
 * {'RATE_LIMITED'} (nothing read or written). The same session again while unused is OK (a re-send after a
 * lost reply, e.g. across a Redis restart), not EXISTS. ARGV: session JSON, scannerId, token, expiresAt,
 * keepUntil, then the rate unit (rateUnitFirst).
 */
const OPEN_SESSION = `${rateUnitFirst(6, "{'RATE_LIMITED'}")}
if redis.call('EXISTS', KEYS[2]) == 1 then
  local kept = redis.call('HMGET', KEYS[2], 'session', 'usedAt')
  if kept[1] ~= ARGV[1] or kept[2] then return {'EXISTS'} end
end
local row = ${cardRow('KEYS[1]')}
if not row[1] then return {'CARD_UNKNOWN'} end
redis.call('HSET', KEYS[2], 'session', ARGV[1], 'scannerId', ARGV[2], 'card', ARGV[3], 'expiresAt', ARGV[4])
redis.call('PEXPIREAT', KEYS[2], ARGV[5])
return {'OK', row}`;

/**
 * One PIN attempt's claim, count and card read. Order, as in MemoryStore.beginPinAttempt: unknown session,
 * another scanner's, used (a re-send of the claiming call gets EVALUATE again; others the stored result),
 * a pending one older than takeoverMs is claimed again), expired; then the card: gone, blocked, locked or out
 * of attempts → DECIDED; paced → PIN_PACED (nothing written); else pinFailures + 1 before the PIN is
 * verified → EVALUATE with the card (cardRow).
 * Before all of it, the frame's rate unit: refused → RATE_LIMITED, nothing else looked at.
 * ARGV: cardKeyPrefix, scannerId, attempt, now, lockAt, paceMs, usedRetentionMs, the gone/blocked/locked codes, takeoverMs,
 * then the rate unit (rateUnitFirst).
 */
const BEGIN_PIN_ATTEMPT = `${rateUnitFirst(12, "{'RATE_LIMITED'}")}
local s = redis.call('HMGET', KEYS[1], 'session', 'scannerId', 'card', 'expiresAt', 'usedAt', 'attempt', 'result')
if not s[1] then return {'SESSION_UNKNOWN'} end
if s[2] ~= ARGV[2] then return {'SESSION_WRONG_SCANNER'} end
local cardKey = ARGV[1] .. s[3]
if s[5] then
  if s[7] then return {'USED', s[1], s[7]} end
  if s[6] == ARGV[3] and redis.call('EXISTS', cardKey) == 1 then
    return {'EVALUATE', s[1], ${cardRow('cardKey')}}
  end
  if tonumber(ARGV[4]) - tonumber(s[5]) < tonumber(ARGV[11]) then return {'USED', s[1], false} end
  -- nobody finished that attempt (its gateway died or lost the store): this one takes over, counted anew
end
local now = tonumber(ARGV[4])
local expiresAt = tonumber(s[4])
if now >= expiresAt then return {'SESSION_EXPIRED'} end
local c = redis.call('HMGET', cardKey, 'status', 'pinFailures', 'pinPaceUntil')
local decided = nil
if not c[1] then decided = ARGV[8]
elseif c[1] == 'blocked' then decided = ARGV[9]
elseif c[1] == 'locked' or tonumber(c[2]) >= tonumber(ARGV[5]) then decided = ARGV[10]
end
if not decided and now < tonumber(c[3]) then return {'PIN_PACED'} end
redis.call('HSET', KEYS[1], 'usedAt', ARGV[4], 'attempt', ARGV[3])
redis.call('PEXPIREAT', KEYS[1], string.format('%d', expiresAt + tonumber(ARGV[7])))
if decided then
  redis.call('HSET', KEYS[1], 'result', decided)
  return {'DECIDED', s[1], decided}
end
redis.call('HINCRBY', cardKey, 'pinFailures', 1)
redis.call('HSET', cardKey, 'pinPaceUntil', string.format('%d', now + tonumber(ARGV[6])), 'updatedAt', ARGV[4])
return {'EVALUATE', s[1], ${cardRow('cardKey')}}`;

/**
 * An evaluated attempt that does not pay; returns the stored result code. A settled session keeps its result.
 * ARGV: cardKeyPrefix, verdict ('wrong' | 'invalid'), lockAt, now, then the gone/blocked/locked codes.
 */
const SETTLE_FAILED_PIN = `
local s = redis.call('HMGET', KEYS[1], 'card', 'result')
if s[2] then return s[2] end
local cardKey = s[1] and (ARGV[1] .. s[1])
local status = cardKey and redis.call('HGET', cardKey, 'status')
local result
if ARGV[2] == 'invalid' or not status then result = ARGV[5]
elseif status == 'blocked' then result = ARGV[6]
else
  local failures = tonumber(redis.call('HGET', cardKey, 'pinFailures'))
  local lockAt = tonumber(ARGV[3])
  if status == 'active' and failures >= lockAt then
    redis.call('HSET', cardKey, 'status', 'locked', 'updatedAt', ARGV[4])
    status = 'locked'
  end
  if status == 'locked' then result = ARGV[7]
  else result = '0|declined|PIN_WRONG|' .. string.format('%d', lockAt - failures) end
end
if s[1] then redis.call('HSET', KEYS[1], 'result', result) end
return result`;

/**
 * Exactly once per ledger key: {recordJson, replayed, nil} if the record exists (replayed = 0 only when this
 * same call wrote it: a re-send after a lost reply); {nil, replayed, code} if the session was settled without
 * a ledger record; for a card no longer active {nil, 0, code} and no record; else pinFailures → 0, the checks
 * of declineReason in records.ts in the same order, the balance moved if approved, the record written, and
 * {nil, 0, code, balanceAfter}: the caller knows the rest of the record it just had written.
 * ARGV: record head (JSON without '}'), amount, -amount, currency, at, attempt, then the gone/blocked/locked codes.
 */
const AUTHORIZE_PAYMENT = `
local auth = redis.call('HMGET', KEYS[3], 'authorizedBy', 'result')
local replayed = 1
if auth[1] == ARGV[6] then replayed = 0 end
local existing = redis.call('GET', KEYS[1])
if existing then return {existing, replayed, false} end
if auth[2] and string.sub(auth[2], 1, 1) == '0' then return {false, replayed, auth[2]} end
local card = redis.call('HMGET', KEYS[2], 'status', 'currency', 'limit', 'balance')
local sessionKept = redis.call('EXISTS', KEYS[3]) == 1
if card[1] ~= 'active' then
  local result = ARGV[7]
  if card[1] == 'blocked' then result = ARGV[8] elseif card[1] == 'locked' then result = ARGV[9] end
  if sessionKept then redis.call('HSET', KEYS[3], 'result', result, 'authorizedBy', ARGV[6]) end
  return {false, 0, result}
end
redis.call('HSET', KEYS[2], 'pinFailures', '0', 'updatedAt', ARGV[5])
local amount = tonumber(ARGV[2])
local balance = tonumber(card[4])
local reason = nil
if card[2] ~= ARGV[4] then reason = 'CURRENCY_MISMATCH'
elseif amount > tonumber(card[3]) then reason = 'OVER_LIMIT'
elseif amount > balance then reason = 'INSUFFICIENT_FUNDS'
end
local decision
local code
if reason then
  decision = ',"outcome":"declined","reason":"' .. reason .. '"'
  code = '1|declined|' .. reason .. '|'
else
  balance = redis.call('HINCRBY', KEYS[2], 'balance', ARGV[3])
  decision = ',"outcome":"approved","reason":null'
  code = '1|approved||'
end
local balanceAfter = string.format('%d', balance)
redis.call('SET', KEYS[1], ARGV[1] .. decision .. ',"balanceAfter":' .. balanceAfter .. '}')
if sessionKept then redis.call('HSET', KEYS[3], 'result', code, 'authorizedBy', ARGV[6]) end
return {false, 0, code, balanceAfter}`;

/** 'revoked', 'accepted' (the nonce is now remembered for ttlMs, and ARGV[2] is the device's connectedAt) or 'replayed'. */
const ACCEPT_DEVICE_TOKEN = `
if redis.call('HEXISTS', KEYS[1], 'revokedAt') == 1 then return 'revoked' end
if redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[1]) then
  redis.call('HSET', KEYS[1], 'connectedAt', ARGV[2])
  return 'accepted'
end
return 'replayed'`;

/**
 * 'already-revoked', 'unknown' (the device hash does not exist: never recorded, revoked or connected; nothing
 * written unless ARGV[2] is '1') or 'revoked' (revokedAt = ARGV[1]).
 */
const REVOKE_DEVICE = `
if redis.call('HEXISTS', KEYS[1], 'revokedAt') == 1 then return 'already-revoked' end
if ARGV[2] ~= '1' and redis.call('EXISTS', KEYS[1]) == 0 then return 'unknown' end
redis.call('HSET', KEYS[1], 'revokedAt', ARGV[1])
return 'revoked'`;

/** 1 taken, 0 refused. */
const TAKE_RATE = `${GCRA}
if take_rate(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2])) then return 1 end
return 0`;

const SCRIPTS: Record<keyof StoreScripts, { lua: string; numberOfKeys: number }> = {
  scanpayInsertCard: { lua: INSERT_CARD, numberOfKeys: 1 },
  scanpayUpdateCard: { lua: UPDATE_CARD, numberOfKeys: 1 },
  scanpayOpenSession: { lua: OPEN_SESSION, numberOfKeys: 2 },
  scanpayBeginPinAttempt: { lua: BEGIN_PIN_ATTEMPT, numberOfKeys: 1 },
  scanpaySettleFailedPin: { lua: SETTLE_FAILED_PIN, numberOfKeys: 1 },
  scanpayAuthorizePayment: { lua: AUTHORIZE_PAYMENT, numberOfKeys: 3 },
  scanpayAcceptDeviceToken: { lua: ACCEPT_DEVICE_TOKEN, numberOfKeys: 2 },
  scanpayRevokeDevice: { lua: REVOKE_DEVICE, numberOfKeys: 1 },
  scanpayTakeRate: { lua: TAKE_RATE, numberOfKeys: 1 },
};

/** Registers the scripts on the connection or cluster (EVALSHA, falling back to EVAL once per node connection). */
export function withStoreScripts(redis: Redis | Cluster): ScriptedRedis {
  for (const [name, definition] of Object.entries(SCRIPTS)) redis.defineCommand(name, definition);
  return redis as ScriptedRedis;
}
