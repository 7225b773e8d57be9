/**
 * The Lua of webhook endpoints and deliveries (webhook-types.ts WebhookStore), every key on the merchant's slot:
 * endpoints (hash id → JSON), cursors (hash id → journal seq queued through), due (sorted set `endpoint|event` →
 * due at, or leased until), claims (hash `endpoint|event` → `attempts|token`), counts (hash: delivered, failed).
 * A delivery waits while its payment's event before it is due for the same endpoint (it is moved just after it),
 * and the event after it is made due when it ends: in order per payment, other payments unaffected.
 */

type Arg = string | number;

export interface WebhookScripts {
  /** KEYS: endpoints, cursors, journal. ARGV: id, JSON, max per merchant. 1 added, 0 not (full, or the id exists). */
  scanpayAddEndpoint(endpoints: string, cursors: string, journal: string, id: Arg, json: Arg, max: Arg): Promise<number>;
  /** KEYS: endpoints. ARGV: id, expected JSON, new JSON. 1 replaced, 0 it changed (or is gone). */
  scanpayReplaceEndpoint(endpoints: string, id: Arg, expected: Arg, json: Arg): Promise<number>;
  /** KEYS: cursors, due, journal. ARGV: now, max per endpoint. How many queued. */
  scanpayFanOut(cursors: string, due: string, journal: string, now: Arg, max: Arg): Promise<number>;
  /** KEYS: endpoints, due, claims. ARGV: owner, now, lease ms, max, scan. Flat: endpoint JSON, event id, attempt, token, … */
  scanpayClaimDeliveries(endpoints: string, due: string, claims: string, owner: Arg, now: Arg, leaseMs: Arg, max: Arg, scan: Arg): Promise<string[]>;
  /** KEYS: due, claims, counts. ARGV: member, token, now, retry at (-1: done, counted as `outcome`), outcome. 1 held, 0 not. */
  scanpayEndDelivery(due: string, claims: string, counts: string, member: Arg, token: Arg, now: Arg, retryAt: Arg, outcome: Arg): Promise<number>;
  /** KEYS: endpoints, due, claims. ARGV: event id, now. How many endpoints it was queued for. */
  scanpayRedeliver(endpoints: string, due: string, claims: string, eventId: Arg, now: Arg): Promise<number>;
}

const ADD_ENDPOINT = `
if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], redis.call('LLEN', KEYS[3]))
return 1`;

const REPLACE_ENDPOINT = `
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1`;

const FAN_OUT = `
local now, max, queued = tonumber(ARGV[1]), tonumber(ARGV[2]), 0
local cursors = redis.call('HGETALL', KEYS[1])
for i = 1, #cursors, 2 do
  local id, cursor = cursors[i], tonumber(cursors[i + 1])
  local records = redis.call('LRANGE', KEYS[3], cursor, cursor + max - 1)
  for _, text in ipairs(records) do
    redis.call('ZADD', KEYS[2], 'NX', now, id .. '|' .. cjson.decode(text).eventId)
  end
  if #records > 0 then redis.call('HSET', KEYS[1], id, cursor + #records) end
  queued = queued + #records
end
return queued`;

const CLAIM = `
local owner, now, lease, max = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, tonumber(ARGV[5]))
local out, n = {}, 0
for _, member in ipairs(due) do
  if n >= max then break end
  local id, pid, k = string.match(member, '^(we_%x+)|ev_(%x+)_(%d+)$')
  local endpoint = id and redis.call('HGET', KEYS[1], id)
  if not endpoint then
    redis.call('ZREM', KEYS[2], member)
    redis.call('HDEL', KEYS[3], member)
  else
    local waitFor = false
    if tonumber(k) > 1 then waitFor = redis.call('ZSCORE', KEYS[2], id .. '|ev_' .. pid .. '_' .. (tonumber(k) - 1)) end
    if waitFor then
      redis.call('ZADD', KEYS[2], math.max(tonumber(waitFor) + 1, now + 1), member)
    else
      local claim = redis.call('HGET', KEYS[3], member)
      local attempts = 1
      if claim then attempts = tonumber(string.match(claim, '^(%d+)|')) + 1 end
      local token = owner .. ':' .. now .. ':' .. attempts
      redis.call('HSET', KEYS[3], member, attempts .. '|' .. token)
      redis.call('ZADD', KEYS[2], now + lease, member)
      n = n + 1
      out[#out + 1] = endpoint
      out[#out + 1] = string.sub(member, #id + 2)
      out[#out + 1] = tostring(attempts)
      out[#out + 1] = token
    end
  end
end
return out`;

const END_DELIVERY = `
local claim = redis.call('HGET', KEYS[2], ARGV[1])
if not claim or string.sub(claim, string.find(claim, '|', 1, true) + 1) ~= ARGV[2] then return 0 end
if tonumber(ARGV[4]) >= 0 then
  redis.call('ZADD', KEYS[1], tonumber(ARGV[4]), ARGV[1])
  return 1
end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('HINCRBY', KEYS[3], ARGV[5], 1)
local prefix, k = string.match(ARGV[1], '^(.*_)(%d+)$')
local after = prefix .. (tonumber(k) + 1)
if redis.call('ZSCORE', KEYS[1], after) then redis.call('ZADD', KEYS[1], tonumber(ARGV[3]), after) end
return 1`;

const REDELIVER = `
local ids = redis.call('HKEYS', KEYS[1])
for _, id in ipairs(ids) do
  local member = id .. '|' .. ARGV[1]
  redis.call('ZADD', KEYS[2], tonumber(ARGV[2]), member)
  redis.call('HSET', KEYS[3], member, '0|')
end
return #ids`;

export const WEBHOOK_SCRIPTS: Record<keyof WebhookScripts, { lua: string; numberOfKeys: number }> = {
  scanpayAddEndpoint: { lua: ADD_ENDPOINT, numberOfKeys: 3 },
  scanpayReplaceEndpoint: { lua: REPLACE_ENDPOINT, numberOfKeys: 1 },
  scanpayFanOut: { lua: FAN_OUT, numberOfKeys: 3 },
  scanpayClaimDeliveries: { lua: CLAIM, numberOfKeys: 3 },
  scanpayEndDelivery: { lua: END_DELIVERY, numberOfKeys: 3 },
  scanpayRedeliver: { lua: REDELIVER, numberOfKeys: 3 },
};
