/**
 * The Lua of money after the payment (payment-types.ts PaymentStore), beside the PIN scripts (redis-scripts.ts):
 * each operation is one script over the payment's keys, which share its card's hash tag with the card itself, so
 * the balance, the entries and the event they make move in one atomic step on one Redis Cluster slot. The rules
 * come from payment.ts (OPERATION_FROM as `takes` tables, the refunded status), the answers are raw (a status, an
 * action, the payment's and refund's fields as Redis holds them); TypeScript (redis-payment-codec.ts) makes the
 * records from them.
 *
 * A payment hash holds its authorization record (`head`: the request half as JSON, `decision`, `balanceAfter`),
 * its state (`status`, `captured`, `refunded`, `holdExpiresAt`, `reversal`, `updatedAt`, `seq`, `refunds`,
 * `events`, `eventSeq`) and what the operations need of the request (`merchant`, `cardToken`, `last4`,
 * `currency`, `amount`, `captureMethod`, `createdAt`). An entry is one list element
 * `type|amount|balanceChange|balanceAfter|cause|refundId|at`; an event one list element, a JSON array
 * `[type, action, at, payment fields, refund fields or false, first entry seq, last entry seq]` (event-types.ts).
 * An operation's answer is kept on its own key (`op:<opId>`, 24 h) with the request's fingerprint.
 */
import { REFUNDED_STATUS_LUA, takesLua } from '../payment.ts';

type Arg = string | number;

/** The answer an operation script returns: replayed (1) or not, its result ('ok' or a refusal), action, payment and refund fields (JSON arrays). */
export type OperationReply = [replayed: number, result: string, action: string, payment: string, refund: string];

/** The keys every operation script starts with (OPERATION); a script's own keys follow them. */
export type OperationKeys = [payment: string, entries: string, op: string, events: string];
/** The arguments every operation script starts with; a script's own arguments follow them. */
export type OperationArgv = [merchant: Arg, fingerprint: Arg, at: Arg, cardKeyPrefix: Arg, retentionMs: Arg, opId: Arg, outbox: Arg, eventMerchants: Arg];

export interface PaymentScripts {
  scanpayCapture(...args: [...OperationKeys, ...OperationArgv, amount: Arg]): Promise<OperationReply>;
  scanpayVoid(...args: [...OperationKeys, ...OperationArgv]): Promise<OperationReply>;
  scanpayRefund(...args: [...OperationKeys, refund: string, ...OperationArgv, amount: Arg, reason: Arg, refundId: Arg, refundIndex: Arg]): Promise<OperationReply>;
  scanpayReverse(...args: [...OperationKeys, refund: string, session: string, ...OperationArgv, refundId: Arg, refundIndex: Arg, paymentId: Arg]): Promise<OperationReply>;
  scanpayExpireHold(payment: string, entries: string, events: string, now: Arg, cardKeyPrefix: Arg, outbox: Arg, eventMerchants: Arg): Promise<number>;
  scanpayClaimIdempotency(claim: string, fingerprint: Arg, ttlMs: Arg): Promise<'new' | 'same' | 'different'>;
  scanpayMark(outbox: string, paymentId: Arg, at: Arg): Promise<number>;
}

/** Lua: marks a payment in its merchant's outbox, at `at` or just after its last mark (each mark moves the score). */
const MARK_LUA = `
local function mark(outboxKey, paymentId, at)
  local s = tonumber(at)
  local old = redis.call('ZSCORE', outboxKey, paymentId)
  if old and tonumber(old) >= s then s = tonumber(old) + 1 end
  redis.call('ZADD', outboxKey, s, paymentId)
  return s
end`;

/**
 * Lua: `fmt` (a whole number without rounding: never tostring), `entry_text` (an entries list element),
 * `add_entry`, which moves the card's balance, and
 * `add_event`, the event of the step that made the entries since the last event (event-types.ts), with the
 * payment (and refund) as the step left them; on one Redis it also marks the payment in its merchant's outbox
 * (outboxKey ''  on a cluster: the store marks it around the step; eventMerchantsKey '' there, and once the store
 * knows the set holds the merchant).
 */
export const ENTRY = `${MARK_LUA}
local function fmt(n) return string.format('%d', n) end
local function entry_text(kind, amount, change, after, cause, refundId, at)
  return kind .. '|' .. fmt(amount) .. '|' .. fmt(change) .. '|' .. fmt(after) .. '|' .. cause .. '|' .. (refundId or '') .. '|' .. at
end
local function add_entry(paymentKey, entriesKey, cardKey, kind, amount, change, cause, refundId, at)
  local after = redis.call('HINCRBY', cardKey, 'balance', change)
  redis.call('HINCRBY', paymentKey, 'seq', 1)
  redis.call('RPUSH', entriesKey, entry_text(kind, amount, change, after, cause, refundId, at))
  return after
end
local function add_event(paymentKey, eventsKey, outboxKey, eventMerchantsKey, paymentId, merchant, kind, action, refundKey, at)
  local seqs = redis.call('HMGET', paymentKey, 'seq', 'eventSeq')
  local last = tonumber(seqs[1] or '0')
  local first = tonumber(seqs[2] or '0') + 1
  redis.call('HINCRBY', paymentKey, 'events', 1)
  redis.call('HSET', paymentKey, 'eventSeq', fmt(last))
  local refund = false
  if refundKey then refund = redis.call('HGETALL', refundKey) end
  redis.call('RPUSH', eventsKey, cjson.encode({kind, action, at, redis.call('HGETALL', paymentKey), refund, first, last}))
  if outboxKey ~= '' then mark(outboxKey, paymentId, at) end
  if eventMerchantsKey ~= '' then redis.call('SADD', eventMerchantsKey, merchant) end
end`;

/**
 * Lua every operation starts with. KEYS: 1 payment, 2 entries, 3 op, 4 events. ARGV: 1 merchant, 2 fingerprint,
 * 3 at, 4 the card key prefix, 5 how long the answer is kept, 6 opId, 7 the merchant's outbox and 8 the event
 * merchants' set ('' on a cluster; the set '' too once the store knows it holds the merchant). `finish` keeps and returns the answer; an opId answered before answers the
 * same (another fingerprint under it: IDEMPOTENCY_KEY_REUSED, nothing kept); `event` adds the step's event.
 */
const OPERATION = `${ENTRY}
local p
local function event(kind, action, refundKey)
  add_event(KEYS[1], KEYS[4], ARGV[7], ARGV[8], p[11], ARGV[1], kind, action, refundKey, ARGV[3])
end
local function finish(result, action, refundKey, replayed)
  local payment = ''
  if result == 'ok' then payment = cjson.encode(redis.call('HGETALL', KEYS[1])) end
  local refund = ''
  if refundKey then refund = cjson.encode(redis.call('HGETALL', refundKey)) end
  redis.call('HSET', KEYS[3], 'fingerprint', ARGV[2], 'result', result, 'action', action, 'payment', payment, 'refund', refund)
  redis.call('PEXPIRE', KEYS[3], ARGV[5])
  return {replayed and 1 or 0, result, action, payment, refund}
end
local kept = redis.call('HMGET', KEYS[3], 'fingerprint', 'result', 'action', 'payment', 'refund')
if kept[1] then
  if kept[1] ~= ARGV[2] then return {1, 'IDEMPOTENCY_KEY_REUSED', '', '', ''} end
  return {1, kept[2], kept[3], kept[4], kept[5]}
end
p = redis.call('HMGET', KEYS[1], 'head', 'merchant', 'status', 'cardToken', 'amount', 'captured', 'refunded', 'currency', 'reversal', 'refunds', 'id')`;

/** The payment exists (authorized once: it has its record), is the merchant's, and `operation` takes its status. */
function owned(operation: 'capture' | 'void' | 'refund', refusal: string): string {
  return `
if not p[1] or p[2] ~= ARGV[1] then return finish('PAYMENT_NOT_FOUND', '') end
if not (${takesLua(operation)})[p[3]] then return finish('${refusal}', '') end
local cardKey = ARGV[4] .. p[4]`;
}

/** Lua: a refund of `amount` (KEYS[refundKeyAt]), its entry, the payment's refunded total and status, and the merchant's index. */
const REFUND_OF = `${REFUNDED_STATUS_LUA}
local function refund_of(refundKey, cardKey, amount, reason, refundId, refundIndex)
  add_entry(KEYS[1], KEYS[2], cardKey, 'refund', amount, amount, ARGV[6], refundId, ARGV[3])
  local refunded = tonumber(p[7]) + amount
  local refunds = refundId
  if p[10] and p[10] ~= '' then refunds = p[10] .. ',' .. refundId end
  redis.call('HSET', refundKey, 'id', refundId, 'paymentId', p[11], 'merchant', p[2], 'amount', fmt(amount), 'currency', p[8], 'reason', reason, 'createdAt', ARGV[3])
  redis.call('HSET', KEYS[1], 'refunded', fmt(refunded), 'status', refunded_status(tonumber(p[6]), refunded), 'updatedAt', ARGV[3], 'refunds', refunds)
  if refundIndex ~= '' then redis.call('ZADD', refundIndex, ARGV[3], refundId) end
end`;

/** ARGV 9: the amount to capture ('' for all of it); the rest of the authorization is released. */
const CAPTURE = `${OPERATION}${owned('capture', 'PAYMENT_NOT_CAPTURABLE')}
local amount = tonumber(p[5])
local capture = amount
if ARGV[9] ~= '' then capture = tonumber(ARGV[9]) end
if capture > amount then return finish('AMOUNT_TOO_LARGE', '') end
add_entry(KEYS[1], KEYS[2], cardKey, 'capture', capture, 0, ARGV[6], nil, ARGV[3])
if capture < amount then add_entry(KEYS[1], KEYS[2], cardKey, 'release', amount - capture, amount - capture, ARGV[6], nil, ARGV[3]) end
redis.call('HSET', KEYS[1], 'status', 'captured', 'captured', fmt(capture), 'holdExpiresAt', '', 'updatedAt', ARGV[3])
event('payment.captured', false)
return finish('ok', '')`;

const VOID = `${OPERATION}${owned('void', 'PAYMENT_NOT_VOIDABLE')}
local amount = tonumber(p[5])
add_entry(KEYS[1], KEYS[2], cardKey, 'void', amount, amount, ARGV[6], nil, ARGV[3])
redis.call('HSET', KEYS[1], 'status', 'voided', 'holdExpiresAt', '', 'updatedAt', ARGV[3])
event('payment.voided', false)
return finish('ok', '')`;

/** KEYS 5: the refund. ARGV 9 amount, 10 reason, 11 refund id, 12 the merchant's refund index ('' on a cluster: written before). */
const REFUND = `${OPERATION}${REFUND_OF}${owned('refund', 'PAYMENT_NOT_REFUNDABLE')}
local amount = tonumber(ARGV[9])
if amount > tonumber(p[6]) - tonumber(p[7]) then return finish('AMOUNT_TOO_LARGE', '') end
refund_of(KEYS[5], cardKey, amount, ARGV[10], ARGV[11], ARGV[12])
event('refund.created', false, KEYS[5])
return finish('ok', '', KEYS[5])`;

/**
 * KEYS 5: the refund it may make, 6: the session. ARGV 9 refund id, 10 the merchant's refund index, 11 the payment id.
 * The first reversal's action is kept on the payment (`reversal`); a later one answers it again, replayed, and
 * changes nothing. A session of the merchant's without a payment yet is reversed before its authorization: a
 * tombstone payment (status reversed, no record, no event: nothing happened to money) that AUTHORIZE_PAYMENT then finds.
 */
const REVERSE = `${OPERATION}${REFUND_OF}
if not p[3] then
  if redis.call('HGET', KEYS[6], 'merchant') ~= ARGV[1] then return finish('PAYMENT_NOT_FOUND', '') end
  redis.call('HSET', KEYS[1], 'id', ARGV[11], 'status', 'reversed', 'merchant', ARGV[1], 'reversal', 'none', 'createdAt', ARGV[3], 'updatedAt', ARGV[3])
  return finish('ok', 'none')
end
if p[2] ~= ARGV[1] then return finish('PAYMENT_NOT_FOUND', '') end
if p[9] and p[9] ~= '' then return finish('ok', p[9], nil, true) end
local cardKey = ARGV[4] .. p[4]
local action = 'none'
local refundKey = nil
if (${takesLua('void')})[p[3]] then
  add_entry(KEYS[1], KEYS[2], cardKey, 'void', tonumber(p[5]), tonumber(p[5]), ARGV[6], nil, ARGV[3])
  redis.call('HSET', KEYS[1], 'status', 'voided', 'holdExpiresAt', '')
  action = 'voided'
elseif (${takesLua('refund')})[p[3]] then
  refund_of(KEYS[5], cardKey, tonumber(p[6]) - tonumber(p[7]), 'reversal', ARGV[9], ARGV[10])
  refundKey = KEYS[5]
  action = 'refunded'
end
redis.call('HSET', KEYS[1], 'reversal', action, 'updatedAt', ARGV[3])
event('payment.reversed', action, refundKey)
return finish('ok', action, refundKey)`;

/**
 * KEYS: payment, entries, events. ARGV: now, the card key prefix, the merchant's outbox and the event merchants'
 * set ('' on a cluster). 1 when it released the hold, 0 when there was none to release.
 */
const EXPIRE_HOLD = `${ENTRY}
local p = redis.call('HMGET', KEYS[1], 'status', 'cardToken', 'amount', 'holdExpiresAt', 'merchant', 'id')
if not (${takesLua('expire')})[p[1]] or not p[4] or p[4] == '' or tonumber(p[4]) > tonumber(ARGV[1]) then return 0 end
add_entry(KEYS[1], KEYS[2], ARGV[2] .. p[2], 'expiry', tonumber(p[3]), tonumber(p[3]), 'expiry', nil, ARGV[1])
redis.call('HSET', KEYS[1], 'status', 'expired', 'holdExpiresAt', '', 'updatedAt', ARGV[1])
add_event(KEYS[1], KEYS[3], ARGV[3], ARGV[4], p[6], p[5], 'payment.expired', false, nil, ARGV[1])
return 1`;

/** KEYS: a merchant's outbox. ARGV: payment id, at. A cluster's mark around a step (MARK_LUA); answers the score. */
const MARK = `${MARK_LUA}
return mark(KEYS[1], ARGV[1], ARGV[2])`;

/** 'new' (claimed for ARGV[1] now, kept ARGV[2] ms), 'same' (claimed for it before), 'different'. */
const CLAIM_IDEMPOTENCY = `
local claimed = redis.call('GET', KEYS[1])
if claimed then
  if claimed == ARGV[1] then return 'same' end
  return 'different'
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 'new'`;

export const PAYMENT_SCRIPTS: Record<keyof PaymentScripts, { lua: string; numberOfKeys: number }> = {
  scanpayCapture: { lua: CAPTURE, numberOfKeys: 4 },
  scanpayVoid: { lua: VOID, numberOfKeys: 4 },
  scanpayRefund: { lua: REFUND, numberOfKeys: 5 },
  scanpayReverse: { lua: REVERSE, numberOfKeys: 6 },
  scanpayExpireHold: { lua: EXPIRE_HOLD, numberOfKeys: 3 },
  scanpayClaimIdempotency: { lua: CLAIM_IDEMPOTENCY, numberOfKeys: 1 },
  scanpayMark: { lua: MARK, numberOfKeys: 1 },
};
