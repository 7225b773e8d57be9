/**
 * The Redis store's atomic steps as Lua scripts (Redis runs a script to completion before any other command).
 * Keys come in KEYS. Two exceptions: a frame's rate units on one Redis (rateUnitsFirst), and the card a session
 * belongs to, which the PIN scripts read from the session and address as ARGV[1] (the card key prefix) ‖
 * token: it carries the session's own hash tag
 * (keys.ts), so it is on the same Redis Cluster slot. Redis 7.0 in cluster mode runs such an undeclared key
 * when it is on the script's slot, with or without a `#!lua` shebang; off the slot, a shebang script fails
 * ("do not hash to the same slot") and a plain one reads only this node (checked on a real cluster; the
 * store contract runs every script there). Numbers arrive as decimal strings; Lua's doubles are
 * exact for the safe integers the boundary checks allow, and results are printed with %d (never tostring,
 * which rounds to 14 digits). Scripts record raw decisions (payment.ts Decision), which only TypeScript turns into
 * results and records.
 */
import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { declineReasonLua } from '../payment.ts';
import { EVENT_SCRIPTS, type EventScripts } from './redis-event-scripts.ts';
import { RECEIPT_SCRIPTS, type ReceiptScripts } from './redis-receipt-scripts.ts';
import { WEBHOOK_SCRIPTS, type WebhookScripts } from './redis-webhook-scripts.ts';
import { ENTRY, PAYMENT_SCRIPTS, type PaymentScripts } from './redis-payment-scripts.ts';
import { CARD_FIELDS, SESSION_KIND_LUA } from './redis-codec.ts';
import { IN_FLIGHT } from './redis-in-flight.ts';
import { GCRA, rateUnitsFirst } from './redis-rate-lua.ts';
import { STATIC_QR_REFUSES_LUA } from './wallet-types.ts';
import { WALLET_SCRIPTS, type WalletScripts } from './redis-wallet-scripts.ts';

type Arg = string | number;
/** The rate units a script takes first: how many, then each limit's full key, interval ms and burst. */
export type RateUnitArgs = [count: number, ...keyIntervalBurst: (string | number)[]];
/**
 * The wrong-PIN budgets for BEGIN_PIN_ATTEMPT (types.ts PinBudget): the budgets' key prefix ('' for none: no
 * budget, or the store took them before, on a cluster), each budget's max and window, and what the store found
 * before the script (a cluster's): '' nothing, 'taken' both units taken, 'device' or 'merchant' that budget
 * spent (nothing taken), which the script answers only where an attempt would be evaluated.
 */
export type PinBudgetBefore = [
  prefix: string, deviceMax: number, merchantMax: number, deviceWindowMs: number, merchantWindowMs: number, before: '' | 'taken' | 'device' | 'merchant',
];

/** The scripts as methods on the connection (withStoreScripts): KEYS first, then ARGV. */
export interface StoreScripts {
  scanpayInsertCard(card: string, ...fieldValues: Arg[]): Promise<number>;
  scanpayUpdateCard(card: string, expectedFields: Arg, ...expectedThenNew: Arg[]): Promise<number>;
  scanpayOpenSession(
    card: string, session: string, payloadKey: string, walletsActive: string, sessionJson: Arg, deviceId: Arg, token: Arg, expiresAt: Arg, keepUntil: Arg, merchant: Arg,
    payload: Arg, payloadUntil: Arg, claimedBasicKeyCheck: Arg, claimedGeneration: Arg, claimedKeyId: Arg, amount: Arg, via: Arg, purpose: Arg, pinEntry: Arg,
    ...rateUnits: RateUnitArgs
  ): Promise<[string]>;
  scanpayBeginPinAttempt(
    session: string, payloadKey: string, cardKeyPrefix: Arg, deviceId: Arg, attempt: Arg, now: Arg, lockAt: Arg, paceMs: Arg,
    usedRetentionMs: Arg, gone: Arg, blocked: Arg, locked: Arg, takeoverMs: Arg, ...budgetFromUnits: [...PinBudgetBefore, from: 'scanner' | 'page', purpose: 'payment' | 'wallet-enrolment', ...RateUnitArgs]
  ): Promise<[string, string?, (string | string[] | null)?, string?, number?]>;
  scanpaySettleFailedPin(session: string, payloadKey: string, cardKeyPrefix: Arg, verdict: Arg, lockAt: Arg, now: Arg, gone: Arg, blocked: Arg, locked: Arg): Promise<string>;
  scanpayAuthorizePayment(
    payment: string, card: string, session: string, payloadKey: string, entries: string, events: string, walletsActive: string,
    recordHead: Arg, amount: Arg, currency: Arg, at: Arg, attempt: Arg, gone: Arg, blocked: Arg, locked: Arg, budgetPrefix: Arg,
    captureMethod: Arg, holdExpiresAt: Arg, paymentId: Arg, merchant: Arg, cardToken: Arg, last4: Arg, paymentIndex: Arg, holds: Arg,
    outbox: Arg, eventMerchants: Arg, via: Arg,
  ): Promise<[kind: 'LEDGER' | 'SETTLED' | 'REFUSED' | 'WRITTEN', replayed: number, decision: string, balanceAfter?: string, head?: string | null, budgetedBy?: string | null]>;
  scanpayGiveBackPinBudget(budget: string): Promise<number>;
  scanpayTakePinBudget(budget: string, max: Arg, windowMs: Arg): Promise<number>;
  scanpayAcceptDeviceToken(device: string, nonce: string, ttlMs: Arg, now: Arg): Promise<string>;
  scanpayRevokeDevice(device: string, now: Arg, evenIfUnknown: Arg): Promise<string>;
  scanpayTakeRate(rate: string, intervalMs: Arg, burst: Arg): Promise<number>;
  scanpayRememberResult(recent: string, sessionId: Arg, ttlMs: Arg, keep: Arg): Promise<number>;
}

/** Every script of the store, as methods (withStoreScripts). */
export type AllScripts = StoreScripts & PaymentScripts & EventScripts & ReceiptScripts & WebhookScripts & WalletScripts;
export type ScriptedRedis = (Redis | Cluster) & AllScripts;


/**
 * Lua: equality of two secret-derived strings (a basic key's check) without an early exit on the first
 * difference, as timingSafeEqual compares them in card-legality.ts.
 */
const SAME_SECRET = `
local function same_secret(a, b)
  if not a or #a ~= #b then return false end
  local x, y, bor, bxor = {string.byte(a, 1, -1)}, {string.byte(b, 1, -1)}, bit.bor, bit.bxor
  local diff = 0
  for i = 1, #x do diff = bor(diff, bxor(x[i], y[i])) end
  return diff == 0
end`;


/**
 * Lua: a wrong-PIN budget's unit taken if one is left (true when taken) and given back (a correct PIN). The key
 * holds 1 + the units taken in its window: it is created (and its window of windowMs started) with the first unit,
 * and a unit given back leaves it at 1 or more, so a window keeps its end until it expires, however its units come
 * and go (as MemoryStore's), and a payment's take and give-back are one command each. A key at 1 or less after a
 * give-back was re-created by that DECR (its window expired meanwhile): deleted.
 */
const PIN_BUDGET = `
local function take_budget(key, max, windowMs)
  local held = redis.call('INCR', key)
  if held == 1 then
    redis.call('PEXPIRE', key, windowMs)
    held = redis.call('INCR', key)
  end
  if held - 1 > tonumber(max) then
    redis.call('DECR', key)
    return false
  end
  return true
end
local function give_back_budget(key)
  if redis.call('DECR', key) < 1 then redis.call('DEL', key) end
end`;

/** A Lua expression: the card at `key` as its CARD_FIELDS values (all nil for no card), what cardFromValues reads. */
function cardRow(key: string): string {
  return cardRowWith(key);
}

/** cardRow with more fields after CARD_FIELDS (at CARD_FIELDS.length + 1 …), in one HMGET. */
function cardRowWith(key: string, ...more: string[]): string {
  return `redis.call('HMGET', ${key}, ${[...CARD_FIELDS, ...more].map((field) => `'${field}'`).join(', ')})`;
}

/** A CARD_FIELDS field's place in a cardRow (Lua counts from 1). */
function cardField(field: (typeof CARD_FIELDS)[number]): number {
  return CARD_FIELDS.indexOf(field) + 1;
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
 * {'OK'} with the session stored (kept until keepUntil) and its payload (kept until payloadUntil), only for a card
 * row that is legal for the claim; else nothing is written and the answer is the row's verdict, in the order of
 * card-legality.ts judgeCardRow: {'CARD_UNKNOWN'}, {'BASIC_KEY_MISMATCH'}, {'GENERATION_STALE'}, {'CARD_BLOCKED'},
 * {'CARD_LOCKED'}. {'EXISTS'} for another session under its id, {'RATE_LIMITED'} (nothing read or written). The
 * same session again while unused is judged again and stored again (a re-send after a lost reply), not EXISTS.
 * ARGV: session JSON, deviceId, token, expiresAt, keepUntil, merchant, payload (base64), payloadUntil, the claimed
 * basic-key check (base64, as the card row holds it), generation and key id, the amount, via ('code' or ''), the
 * session's purpose and PIN entry (redis-codec.ts sessionKind: kept as fields of its own); then the rate units
 * (rateUnitsFirst). Last of the row's checks, {'STATIC_QR_REFUSED'}: the card's wallet policy refuses
 * a scan of its printed QR (wallet-types.ts staticQrRefuses; KEYS[4], the card's active enrolments, read only
 * under 'refused-when-enrolled').
 */
const OPEN_SESSION = `${rateUnitsFirst(16, "{'RATE_LIMITED'}")}${SAME_SECRET}${STATIC_QR_REFUSES_LUA}
-- a stored session hash always has 'session' (written with it here; the other scripts add fields only to one that has it)
local kept = redis.call('HMGET', KEYS[2], 'session', 'usedAt')
if (kept[1] or kept[2]) and (kept[1] ~= ARGV[1] or kept[2]) then return {'EXISTS'} end
local c = redis.call('HMGET', KEYS[1], 'status', 'generation', 'keyId', 'basicKeyCheck', 'staticQr', 'staticQrLimit')
if not c[1] then return {'CARD_UNKNOWN'} end
if not same_secret(c[4], ARGV[9]) then return {'BASIC_KEY_MISMATCH'} end
if c[2] ~= ARGV[10] or c[3] ~= ARGV[11] then return {'GENERATION_STALE'} end
if c[1] == 'blocked' then return {'CARD_BLOCKED'} end
if c[1] == 'locked' then return {'CARD_LOCKED'} end
if ARGV[13] ~= 'code' and static_qr_refuses(c[5], c[6], tonumber(ARGV[12]), c[5] == 'refused-when-enrolled' and redis.call('SCARD', KEYS[4]) > 0) then
  return {'STATIC_QR_REFUSED'}
end
redis.call('HSET', KEYS[2], 'session', ARGV[1], 'deviceId', ARGV[2], 'cardToken', ARGV[3], 'expiresAt', ARGV[4], 'merchant', ARGV[6],
  'purpose', ARGV[14], 'pinEntry', ARGV[15])
redis.call('PEXPIREAT', KEYS[2], ARGV[5])
redis.call('SET', KEYS[3], ARGV[7], 'PXAT', ARGV[8])
return {'OK'}`;

/**
 * One PIN attempt's claim, count and card read. Order, as in MemoryStore.beginPinAttempt: unknown session,
 * another scanner's (unless the scanner id is '': the page, which holds the session's page token), used (a re-send of the claiming call gets EVALUATE again, while its payload is kept; others
 * the stored result; a pending one older than takeoverMs is claimed again), expired; then the card: attempts in
 * flight past their time count as wrong PINs; gone, blocked, locked or out of attempts → DECIDED; paced, or as
 * many attempts in flight as it has tries left → PIN_PACED; then the wrong-PIN budgets (DEVICE_PIN_BUDGET,
 * MERCHANT_PIN_BUDGET: nothing else written); else the attempt goes in flight on the card before the PIN is
 * verified → {'EVALUATE', session JSON, card (cardRow), payload, fresh (1, or 0 for a re-send)}.
 * Right after the scanner check, a scanner's PIN (ARGV[18] 'scanner') for a session whose PIN is entered on the
 * holder's device (its pinEntry) → PIN_ENTRY_HOLDER_DEVICE, nothing written.
 * Right after the session is found, one of another purpose than ARGV[19] ('payment' or 'wallet-enrolment')
 * → SESSION_UNKNOWN, as if there were none. Purpose and pinEntry: the session hash's fields (SESSION_KIND_LUA).
 * Before all of it, the frame's rate unit: refused → RATE_LIMITED, nothing else looked at.
 * ARGV: cardKeyPrefix, deviceId, attempt, now, lockAt, paceMs, usedRetentionMs, the gone/blocked/locked codes,
 * takeoverMs, then the budgets (PinBudgetBefore), where the PIN was entered ('scanner' or 'page'), the purpose and
 * the rate units (rateUnitsFirst).
 */
const BEGIN_PIN_ATTEMPT = `${rateUnitsFirst(20, "{'RATE_LIMITED'}")}${IN_FLIGHT}${PIN_BUDGET}${SESSION_KIND_LUA}
local s = redis.call('HMGET', KEYS[1], 'session', 'deviceId', 'cardToken', 'expiresAt', 'usedAt', 'attempt', 'result', 'merchant', 'purpose', 'pinEntry')
if not s[1] then return {'SESSION_UNKNOWN'} end
local purpose, pinEntry = session_kind(s[1], s[9], s[10])
if purpose ~= ARGV[19] then return {'SESSION_UNKNOWN'} end
if ARGV[2] ~= '' and s[2] ~= ARGV[2] then return {'SESSION_WRONG_SCANNER'} end
if ARGV[18] == 'scanner' and pinEntry == 'holder-device' then return {'PIN_ENTRY_HOLDER_DEVICE'} end
local cardKey = ARGV[1] .. s[3]
local now = tonumber(ARGV[4])
if s[5] then
  if s[7] then return {'USED', s[1], s[7]} end
  if s[6] == ARGV[3] and redis.call('EXISTS', cardKey) == 1 then
    local payload = redis.call('GET', KEYS[2])
    if payload then return {'EVALUATE', s[1], ${cardRow('cardKey')}, payload, 0} end
  end
  if now - tonumber(s[5]) < tonumber(ARGV[11]) then return {'USED', s[1], false} end
  -- nobody finished that attempt (its gateway died or lost the store): this one takes over, counted anew
end
local expiresAt = tonumber(s[4])
if now >= expiresAt then return {'SESSION_EXPIRED'} end
-- the whole row once: what the attempt judges, and (patched with what it writes) what EVALUATE answers
local row = ${cardRowWith('cardKey', 'pinInFlight')}
local c = { row[${cardField('status')}], row[${cardField('pinFailures')}], row[${cardField('pinPaceUntil')}], row[${CARD_FIELDS.length + 1}] }
row[${CARD_FIELDS.length + 1}] = nil
local lockAt = tonumber(ARGV[5])
local decided = nil
local flights, live, expired = in_flight(c[4], now, nil)
local failures = tonumber(c[2] or '0') + expired
if not c[1] then decided = ARGV[8]
else
  if expired > 0 then
    redis.call('HSET', cardKey, 'pinFailures', string.format('%d', failures), 'pinInFlight', flights)
    row[${cardField('pinFailures')}] = string.format('%d', failures)
  end
  if c[1] == 'blocked' then decided = ARGV[9]
  elseif c[1] == 'locked' or failures >= lockAt then decided = ARGV[10]
  elseif now < tonumber(c[3]) or failures + live >= lockAt then return {'PIN_PACED'}
  end
end
local budgeted = ARGV[17] == 'taken'
if not decided and ARGV[17] == 'device' then return {'DEVICE_PIN_BUDGET'} end
if not decided and ARGV[17] == 'merchant' then return {'MERCHANT_PIN_BUDGET'} end
if not decided and ARGV[12] ~= '' then
  local device, merchant = ARGV[12] .. 'device:' .. s[2], ARGV[12] .. 'merchant:' .. s[8]
  if not take_budget(device, ARGV[13], ARGV[15]) then return {'DEVICE_PIN_BUDGET'} end
  if not take_budget(merchant, ARGV[14], ARGV[16]) then
    give_back_budget(device)
    return {'MERCHANT_PIN_BUDGET'}
  end
  budgeted = true
end
if decided then
  redis.call('HSET', KEYS[1], 'usedAt', ARGV[4], 'attempt', ARGV[3], 'budgeted', '0', 'result', decided)
else
  redis.call('HSET', KEYS[1], 'usedAt', ARGV[4], 'attempt', ARGV[3], 'budgeted', budgeted and '1' or '0')
end
redis.call('PEXPIREAT', KEYS[1], string.format('%d', expiresAt + tonumber(ARGV[7])))
if decided then
  redis.call('DEL', KEYS[2])
  return {'DECIDED', s[1], decided}
end
local entry = KEYS[1] .. '@' .. string.format('%d', now + tonumber(ARGV[11]))
if flights ~= '' then entry = flights .. ';' .. entry end
local paceUntil = string.format('%d', now + tonumber(ARGV[6]))
redis.call('HSET', cardKey, 'pinInFlight', entry, 'pinPaceUntil', paceUntil, 'updatedAt', ARGV[4])
row[${cardField('pinPaceUntil')}] = paceUntil
row[${cardField('updatedAt')}] = ARGV[4]
return {'EVALUATE', s[1], row, redis.call('GET', KEYS[2]), 1}`;

/**
 * An evaluated attempt that does not pay; returns the decision it stored (payment.ts Decision). A settled session
 * keeps its decision. The attempt leaves the card's in-flight list and counts as a wrong PIN (unless it already
 * counted, its time having passed); 'invalid' counts too. The session's payload is forgotten.
 * ARGV: cardKeyPrefix, verdict ('wrong' | 'invalid'), lockAt, now, then the gone/blocked/locked decisions.
 */
const SETTLE_FAILED_PIN = `${IN_FLIGHT}
local s = redis.call('HMGET', KEYS[1], 'cardToken', 'result')
if s[2] then return s[2] end
local cardKey = s[1] and (ARGV[1] .. s[1])
local c = cardKey and redis.call('HMGET', cardKey, 'status', 'pinFailures', 'pinInFlight') or {}
local status = c[1]
local result
if status then
  local flights, _, _, counted = in_flight(c[3], -1, KEYS[1])
  local failures = tonumber(c[2])
  if counted then failures = failures + 1 end
  if ARGV[2] == 'wrong' and status == 'active' and failures >= tonumber(ARGV[3]) then status = 'locked' end
  redis.call('HSET', cardKey, 'pinFailures', string.format('%d', failures), 'pinInFlight', flights, 'status', status, 'updatedAt', ARGV[4])
  if ARGV[2] == 'invalid' then result = ARGV[5]
  elseif status == 'blocked' then result = ARGV[6]
  elseif status == 'locked' then result = ARGV[7]
  else result = 'wrong:' .. string.format('%d', tonumber(ARGV[3]) - failures) end
else
  result = ARGV[5]
end
if s[1] then redis.call('HSET', KEYS[1], 'result', result) end
redis.call('DEL', KEYS[2])
return result`;

/**
 * Exactly once per payment key. Answers {kind, replayed, decision, balanceAfter, head, budgetedBy}, decisions as
 * payment.ts Decision: 'LEDGER' when the payment's record exists (its decision, balance after and request head;
 * replayed 0 only when this same call wrote it: a re-send after a lost reply); 'SETTLED' when the session was
 * decided without a record, or a reversal came first (decision 'reversed': nothing is held); 'REFUSED' for a card
 * no longer active (no record; the session settled as a wrong PIN on that card would be); else 'WRITTEN':
 * pinFailures → 0, the decline rules of payment.ts DECLINE_RULES (the same table, as Lua), and the payment
 * (redis-payment-scripts.ts): its record and state and, when approved, its authorization entry holding the
 * amount on the card (and, for automatic capture, its capture entry; for manual capture, its place in the holds
 * to expire); the merchant's index; the wrong-PIN budget units the attempt took given back, and budgetedBy: on a
 * cluster (budgetPrefix '': the budgets are on other slots) the scanner whose units the caller gives back itself.
 * Either way the attempt leaves the card's in-flight list and the session's payload is forgotten.
 * The payment's event (payment.approved or payment.declined) is written with it (event-types.ts).
 * KEYS: payment, card, session, payload, entries, events, the card's active enrolments (read by the static-QR rule
 * under 'refused-when-enrolled'). ARGV: 1 record head (the request half, JSON), 2 amount,
 * 3 currency, 4 at, 5 attempt, 6-8 the gone/blocked/locked decisions, 9 the budgets' key prefix ('' for none
 * here), 10 captureMethod, 11 holdExpiresAt, 12 payment id, 13 merchant, 14 card token, 15 last4, 16 the
 * merchant's payment index, 17 the holds to expire, 18 the merchant's outbox and 19 the event merchants' set
 * ('' on a cluster: the store writes them around the script; the set '' too once the store knows it holds the
 * merchant), 20 via ('code' or '': PaymentRequest.via).
 */
const AUTHORIZE_PAYMENT = `${IN_FLIGHT}${PIN_BUDGET}${ENTRY}
local auth = redis.call('HMGET', KEYS[3], 'authorizedBy', 'result', 'budgeted', 'deviceId', 'merchant', 'attempt', 'codeClaim')
local replayed = 1
if auth[1] == ARGV[5] then replayed = 0 end
local existing = redis.call('HMGET', KEYS[1], 'decision', 'balanceAfter', 'head', 'status')
if existing[1] then return {'LEDGER', replayed, existing[1], existing[2], existing[3]} end
if auth[2] then return {'SETTLED', replayed, auth[2]} end
local c = redis.call('HMGET', KEYS[2], 'status', 'currency', 'limit', 'balance', 'pinInFlight', 'staticQr', 'staticQrLimit')
local sessionKept = auth[4] ~= false
redis.call('DEL', KEYS[4])
local flights = in_flight(c[5], -1, KEYS[3])
if existing[4] == 'reversed' or c[1] ~= 'active' then
  if c[1] then redis.call('HSET', KEYS[2], 'pinInFlight', flights) end
  if existing[4] == 'reversed' then
    if sessionKept then redis.call('HSET', KEYS[3], 'result', 'reversed', 'authorizedBy', ARGV[5], 'budgeted', '0') end
    return {'SETTLED', 0, 'reversed'}
  end
  local result = ARGV[6]
  if c[1] == 'blocked' then result = ARGV[7] elseif c[1] == 'locked' then result = ARGV[8] end
  if sessionKept then redis.call('HSET', KEYS[3], 'result', result, 'authorizedBy', ARGV[5]) end
  return {'REFUSED', 0, result}
end
local budgetedBy = false
if auth[3] == '1' then
  if ARGV[9] ~= '' then
    give_back_budget(ARGV[9] .. 'device:' .. auth[4])
    give_back_budget(ARGV[9] .. 'merchant:' .. auth[5])
  else budgetedBy = auth[4] end
end
local card = { currency = c[2], limit = tonumber(c[3]), balance = tonumber(c[4]), staticQr = c[6], staticQrLimit = c[7],
  enrolled = c[6] == 'refused-when-enrolled' and redis.call('SCARD', KEYS[7]) > 0 }
local request = { currency = ARGV[3], amount = tonumber(ARGV[2]), viaCode = ARGV[20] == 'code' }
-- a code paid without a PIN (its session claimed by the code, or by no attempt) leaves the wrong-PIN count as it is
local failures = {'pinFailures', '0'}
if request.viaCode and (not auth[6] or auth[7] == '1') then failures = {} end
${declineReasonLua()}
-- The payment is new here (no record; a reversal's tombstone answered above), so each key is written once, with
-- what add_entry and add_event would leave (redis-payment-scripts.ts): the card (its in-flight list, pinFailures
-- 0 and, when approved, the balance less the amount), the entries, the payment hash and its one event.
local decision, status, captured, holdExpiresAt = 'approved', 'declined', '0', ''
local balance = card.balance
local entries = {}
if reason then
  decision = 'declined:' .. reason
else
  balance = card.balance - request.amount
  entries[1] = entry_text('authorization', request.amount, -request.amount, balance, ARGV[12], nil, ARGV[4])
  if ARGV[10] == 'automatic' then
    entries[2] = entry_text('capture', request.amount, 0, balance, ARGV[12], nil, ARGV[4])
    status, captured = 'captured', ARGV[2]
  else
    status, holdExpiresAt = 'authorized', ARGV[11]
    if ARGV[17] ~= '' then redis.call('ZADD', ARGV[17], ARGV[11], ARGV[12]) end
  end
end
if reason then redis.call('HSET', KEYS[2], 'pinInFlight', flights, 'updatedAt', ARGV[4], unpack(failures))
else redis.call('HSET', KEYS[2], 'pinInFlight', flights, 'updatedAt', ARGV[4], 'balance', fmt(balance), unpack(failures)) end
if #entries > 0 then redis.call('RPUSH', KEYS[5], unpack(entries)) end
local balanceAfter = fmt(balance)
local seq = fmt(#entries)
local payment = {'id', ARGV[12], 'merchant', ARGV[13], 'cardToken', ARGV[14], 'last4', ARGV[15], 'currency', ARGV[3], 'amount', ARGV[2],
  'captureMethod', ARGV[10], 'captured', captured, 'refunded', '0', 'holdExpiresAt', holdExpiresAt, 'reversal', '', 'seq', seq,
  'createdAt', ARGV[4], 'updatedAt', ARGV[4], 'status', status, 'head', ARGV[1], 'decision', decision, 'balanceAfter', balanceAfter,
  'events', '1', 'eventSeq', seq}
redis.call('HSET', KEYS[1], unpack(payment))
if ARGV[16] ~= '' then redis.call('ZADD', ARGV[16], ARGV[4], ARGV[12]) end
local kind = 'payment.approved'
if reason then kind = 'payment.declined' end
redis.call('RPUSH', KEYS[6], cjson.encode({kind, false, ARGV[4], payment, false, 1, #entries}))
-- the payment's first event: it has no mark yet, so this one is at ARGV[4] (what MARK_LUA's mark would give)
if ARGV[18] ~= '' then redis.call('ZADD', ARGV[18], ARGV[4], ARGV[12]) end
if ARGV[19] ~= '' then redis.call('SADD', ARGV[19], ARGV[13]) end
if sessionKept then redis.call('HSET', KEYS[3], 'result', decision, 'authorizedBy', ARGV[5], 'budgeted', '0') end
return {'WRITTEN', 0, decision, balanceAfter, false, budgetedBy}`;

/** A wrong-PIN budget unit given back (a correct PIN, on a cluster: the budget is on its own slot). */
const GIVE_BACK_PIN_BUDGET = `${PIN_BUDGET}
give_back_budget(KEYS[1])
return 1`;

/** A wrong-PIN budget unit taken when one is left (a cluster's PIN attempt, before its script): 1 taken, 0 spent. */
const TAKE_PIN_BUDGET = `${PIN_BUDGET}
if take_budget(KEYS[1], ARGV[1], ARGV[2]) then return 1 end
return 0`;

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

/** A session decided on the page, first in the device's recent list (each once, at most ARGV[3]), kept ARGV[2] ms. */
const REMEMBER_RESULT = `
redis.call('LREM', KEYS[1], 0, ARGV[1])
redis.call('LPUSH', KEYS[1], ARGV[1])
redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[3]) - 1)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`;

/** 1 taken, 0 refused. */
const TAKE_RATE = `${GCRA}
if take_rate(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2])) then return 1 end
return 0`;

const SCRIPTS: Record<keyof StoreScripts, { lua: string; numberOfKeys: number }> = {
  scanpayInsertCard: { lua: INSERT_CARD, numberOfKeys: 1 },
  scanpayUpdateCard: { lua: UPDATE_CARD, numberOfKeys: 1 },
  scanpayOpenSession: { lua: OPEN_SESSION, numberOfKeys: 4 },
  scanpayBeginPinAttempt: { lua: BEGIN_PIN_ATTEMPT, numberOfKeys: 2 },
  scanpaySettleFailedPin: { lua: SETTLE_FAILED_PIN, numberOfKeys: 2 },
  scanpayAuthorizePayment: { lua: AUTHORIZE_PAYMENT, numberOfKeys: 7 },
  scanpayGiveBackPinBudget: { lua: GIVE_BACK_PIN_BUDGET, numberOfKeys: 1 },
  scanpayTakePinBudget: { lua: TAKE_PIN_BUDGET, numberOfKeys: 1 },
  scanpayAcceptDeviceToken: { lua: ACCEPT_DEVICE_TOKEN, numberOfKeys: 2 },
  scanpayRevokeDevice: { lua: REVOKE_DEVICE, numberOfKeys: 1 },
  scanpayTakeRate: { lua: TAKE_RATE, numberOfKeys: 1 },
  scanpayRememberResult: { lua: REMEMBER_RESULT, numberOfKeys: 1 },
};

const ALL_SCRIPTS: Readonly<Record<keyof AllScripts, { lua: string; numberOfKeys?: number }>> = {
  ...SCRIPTS, ...PAYMENT_SCRIPTS, ...EVENT_SCRIPTS, ...RECEIPT_SCRIPTS, ...WEBHOOK_SCRIPTS, ...WALLET_SCRIPTS,
};

/** A script as the store sends it: its text, its SHA1 (what EVALSHA names) and how many of its arguments are keys. */
export interface StoreScript {
  lua: string;
  sha: string;
  /** null: the caller passes the count first (scanpayEventLists). */
  numberOfKeys: number | null;
}

/** Every script of the store by its method name (what withStoreScripts gives a connection; the benchmarks name EVALSHAs by it). */
export const STORE_SCRIPTS: Readonly<Record<keyof AllScripts, StoreScript>> = Object.fromEntries(Object.entries(ALL_SCRIPTS).map(
  ([name, { lua, numberOfKeys }]) => [name, { lua, sha: createHash('sha1').update(lua).digest('hex'), numberOfKeys: numberOfKeys ?? null }],
)) as Record<keyof AllScripts, StoreScript>;

/** What EVAL and EVALSHA take after the script: the key count, then the keys, then ARGV. */
export function scriptArgs(script: StoreScript, args: readonly unknown[]): [count: number, ...keysThenArgv: Arg[]] {
  return (script.numberOfKeys === null ? args : [script.numberOfKeys, ...args]) as [number, ...Arg[]];
}

/** The server has not run this script since its start (or a failover, or SCRIPT FLUSH): it did not run now either. */
export function isNoScript(e: unknown): boolean {
  return e instanceof Error && e.message.startsWith('NOSCRIPT');
}

/** EVALSHA; on NOSCRIPT the script's text once with EVAL, which runs it and loads it for the server's next EVALSHA. */
function runScript(redis: Redis | Cluster, script: StoreScript, args: readonly unknown[]): Promise<unknown> {
  const sent = scriptArgs(script, args);
  return redis.evalsha(script.sha, ...sent).catch((e: unknown) => {
    if (!isNoScript(e)) throw e;
    return redis.eval(script.lua, ...sent);
  });
}

/**
 * Gives the connection or cluster the scripts as methods, each an EVALSHA with an EVAL after a NOSCRIPT. Not
 * ioredis's defineCommand: every pipeline ioredis opens (one per auto-pipelined batch, every multi()) copies each
 * defined command onto itself, a cost per pipeline that grows with the number of scripts, and below the peak a
 * payment's commands go out in about one pipeline (docs/performance.md).
 */
export function withStoreScripts(redis: Redis | Cluster): ScriptedRedis {
  for (const [name, script] of Object.entries(STORE_SCRIPTS)) {
    Object.defineProperty(redis, name, { value: (...args: unknown[]) => runScript(redis, script, args), configurable: true });
  }
  return redis as ScriptedRedis;
}
