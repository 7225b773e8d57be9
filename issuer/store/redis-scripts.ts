/**
 * The Redis store's atomic steps as Lua scripts (Redis runs a script to completion before any other command).
 * Every key a script touches is passed in KEYS, never built inside Lua, so the prefix rule and a future
 * Redis Cluster see them. Numbers arrive as decimal strings; Lua's doubles are exact for the safe integers the
 * boundary checks allow, and results are printed with %d (never tostring, which rounds to 14 digits).
 */
import type { Redis } from 'ioredis';

type Arg = string | number;

/** The scripts as methods on the connection (ioredis defineCommand): KEYS first, then ARGV. */
export interface StoreScripts {
  scanpayInsertCard(card: string, cardCount: string, ...fieldValues: Arg[]): Promise<number>;
  scanpayUpdateCard(card: string, expectedFields: Arg, ...expectedThenNew: Arg[]): Promise<number>;
  scanpayCreateSession(session: string, sessionJson: Arg, scannerId: Arg, expiresAt: Arg, keepUntil: Arg): Promise<number>;
  scanpayClaimSession(session: string, scannerId: Arg, now: Arg, usedRetentionMs: Arg): Promise<[string, string?]>;
  scanpayRecordPinFailure(card: string, lockAt: Arg, now: Arg): Promise<[number, number] | null>;
  scanpayClearPinFailures(card: string, now: Arg): Promise<number>;
  scanpayAuthorizePayment(
    ledger: string, card: string, recordHead: Arg, amount: Arg, negatedAmount: Arg, currency: Arg, at: Arg,
  ): Promise<[string, number]>;
}

export type ScriptedRedis = Redis & StoreScripts;

/** 1 if written; 0 (and nothing written) if the card exists. The count moves in the same step, so it stays exact. */
const INSERT_CARD = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
redis.call('INCR', KEYS[2])
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

/** 1 if created; 0 if the id exists. The key lives until keepUntil (expiresAt + the unused retention). */
const CREATE_SESSION = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'session', ARGV[1], 'scannerId', ARGV[2], 'expiresAt', ARGV[3])
redis.call('PEXPIREAT', KEYS[1], ARGV[4])
return 1`;

/**
 * {'OK', sessionJson} or {reason}. Order, as in MemoryStore.claimSession: unknown, used (a replay stays
 * SESSION_USED even once expired), expired, wrong scanner. A wrong scanner does not consume the session.
 */
const CLAIM_SESSION = `
local s = redis.call('HMGET', KEYS[1], 'session', 'scannerId', 'expiresAt', 'usedAt')
if not s[1] then return {'SESSION_UNKNOWN'} end
if s[4] then return {'SESSION_USED'} end
local expiresAt = tonumber(s[3])
if tonumber(ARGV[2]) >= expiresAt then return {'SESSION_EXPIRED'} end
if s[2] ~= ARGV[1] then return {'SESSION_WRONG_SCANNER'} end
redis.call('HSET', KEYS[1], 'usedAt', ARGV[2])
redis.call('PEXPIREAT', KEYS[1], string.format('%d', expiresAt + tonumber(ARGV[3])))
return {'OK', s[1]}`;

/** nil for an unknown card, else {failures, locked}. Only an active card turns locked (a blocked one stays blocked). */
const RECORD_PIN_FAILURE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local failures = redis.call('HINCRBY', KEYS[1], 'pinFailures', 1)
local status = redis.call('HGET', KEYS[1], 'status')
if status == 'active' and failures >= tonumber(ARGV[1]) then status = 'locked' end
redis.call('HSET', KEYS[1], 'status', status, 'updatedAt', ARGV[2])
return {failures, status == 'locked' and 1 or 0}`;

/** Leaves an unknown card absent (a bare HSET would create a partial row) and an unchanged row untouched. */
const CLEAR_PIN_FAILURES = `
local failures = redis.call('HGET', KEYS[1], 'pinFailures')
if failures and failures ~= '0' then
  redis.call('HSET', KEYS[1], 'pinFailures', '0', 'updatedAt', ARGV[1])
end
return 0`;

/**
 * Exactly once per ledger key: {recordJson, 1} if the record exists, else decide (the checks of declineReason
 * in records.ts, in the same order), move the balance if approved, write the record: {recordJson, 0}.
 * ARGV: record head (JSON without '}'), amount, -amount, currency, at.
 */
const AUTHORIZE_PAYMENT = `
local existing = redis.call('GET', KEYS[1])
if existing then return {existing, 1} end
local card = redis.call('HMGET', KEYS[2], 'status', 'currency', 'limit', 'balance')
local amount = tonumber(ARGV[2])
local reason = nil
local balance = 0
if not card[1] then
  reason = 'CARD_UNKNOWN'
else
  balance = tonumber(card[4])
  if card[1] == 'blocked' then reason = 'CARD_BLOCKED'
  elseif card[1] == 'locked' then reason = 'CARD_LOCKED'
  elseif card[2] ~= ARGV[4] then reason = 'CURRENCY_MISMATCH'
  elseif amount > tonumber(card[3]) then reason = 'OVER_LIMIT'
  elseif amount > balance then reason = 'INSUFFICIENT_FUNDS'
  end
end
local decision
if reason then
  decision = ',"outcome":"declined","reason":"' .. reason .. '"'
else
  balance = redis.call('HINCRBY', KEYS[2], 'balance', ARGV[3])
  redis.call('HSET', KEYS[2], 'updatedAt', ARGV[5])
  decision = ',"outcome":"approved","reason":null'
end
local record = ARGV[1] .. decision .. ',"balanceAfter":' .. string.format('%d', balance) .. '}'
redis.call('SET', KEYS[1], record)
return {record, 0}`;

const SCRIPTS: Record<keyof StoreScripts, { lua: string; numberOfKeys: number }> = {
  scanpayInsertCard: { lua: INSERT_CARD, numberOfKeys: 2 },
  scanpayUpdateCard: { lua: UPDATE_CARD, numberOfKeys: 1 },
  scanpayCreateSession: { lua: CREATE_SESSION, numberOfKeys: 1 },
  scanpayClaimSession: { lua: CLAIM_SESSION, numberOfKeys: 1 },
  scanpayRecordPinFailure: { lua: RECORD_PIN_FAILURE, numberOfKeys: 1 },
  scanpayClearPinFailures: { lua: CLEAR_PIN_FAILURES, numberOfKeys: 1 },
  scanpayAuthorizePayment: { lua: AUTHORIZE_PAYMENT, numberOfKeys: 2 },
};

/** Registers the scripts on the connection (EVALSHA, falling back to EVAL once per connection). */
export function withStoreScripts(redis: Redis): ScriptedRedis {
  for (const [name, definition] of Object.entries(SCRIPTS)) redis.defineCommand(name, definition);
  return redis as ScriptedRedis;
}
