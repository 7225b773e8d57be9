/**
 * The Lua of a merchant's journal (event-types.ts EventStore), on the merchant's slot: appending sealed records
 * (only onto the head and open period the sealer computed them from), closing a period, clearing an outbox mark,
 * and the sealer's lease. A journal is a list of records (JSON, as issuer/journal.ts made them), with an index by
 * event id and each payment's sealed count beside it; periods are a hash: `open` (the open period's number),
 * `first:<k>` and `openedAt:<k>` for the open one, `p:<k>` (a closed period as JSON).
 */

type Arg = string | number;

export interface EventScripts {
  /**
   * KEYS: journal, journal index, sealed counts, periods. ARGV: expected length, expected open period, sealedAt, the
   * receipts-due set ('' for none: a cluster's, on another slot), the merchant, then (payment id, n, event id, record JSON)…
   */
  scanpayAppendJournal(journal: string, index: string, sealed: string, periods: string, ...args: Arg[]): Promise<number>;
  scanpayClosePeriod(periods: string, journal: string, at: Arg, zeroHash: Arg, period: Arg): Promise<string>;
  /** KEYS: outbox. ARGV: notAfter, then (payment id, mark)… */
  scanpayClearMarks(outbox: string, notAfter: Arg, ...idsAndMarks: Arg[]): Promise<number>;
  scanpayLease(lease: string, owner: Arg, ttlMs: Arg): Promise<number>;
  scanpayRelease(lease: string, owner: Arg): Promise<number>;
  /** numkeys, then KEYS: (events, entries) of each payment; ARGV: (start, stop) of each payment's events. One Redis only. */
  scanpayEventLists(numberOfKeys: number, ...keysThenRanges: Arg[]): Promise<string[][]>;
}

/**
 * Lua: `command` on `key` with the elements of `list` as its arguments, at most 1000 per call (Lua's unpack has a
 * stack limit), so one append of many records costs a few calls, not a few per record. Chunks of pairs stay whole.
 */
const IN_CHUNKS = `
local function in_chunks(command, key, list)
  for i = 1, #list, 1000 do redis.call(command, key, unpack(list, i, math.min(i + 999, #list))) end
end`;

/**
 * 1 when appended; 0 when the journal's length or open period moved (nothing written); an error when a record's
 * event is not its payment's next unsealed one (a sealer bug: nothing is written either, the checks run first).
 * The payments' sealed counts are read in one HMGET, and the records, the index and the counts written in one
 * call each (IN_CHUNKS): what a record-by-record append would leave. An append of records marks the merchant's
 * receipts due (ARGV[4], event-types.ts receiptsDue).
 */
const APPEND_JOURNAL = `${IN_CHUNKS}
if redis.call('LLEN', KEYS[1]) ~= tonumber(ARGV[1]) then return 0 end
local open = redis.call('HGET', KEYS[4], 'open') or '1'
if open ~= ARGV[2] then return 0 end
local ids, counts = {}, {}
for i = 6, #ARGV, 4 do
  if not counts[ARGV[i]] then
    counts[ARGV[i]] = true
    ids[#ids + 1] = ARGV[i]
  end
end
if #ids > 0 then
  local stored = redis.call('HMGET', KEYS[3], unpack(ids))
  for j, id in ipairs(ids) do counts[id] = tonumber(stored[j] or '0') end
end
for i = 6, #ARGV, 4 do
  local id = ARGV[i]
  local n = counts[id]
  if n + 1 ~= tonumber(ARGV[i + 1]) then return redis.error_reply('journal: event ' .. ARGV[i + 2] .. ' is not its payment\\'s next') end
  counts[id] = n + 1
end
redis.call('HSETNX', KEYS[4], 'openedAt:' .. open, ARGV[3])
if #ids == 0 then return 1 end
local seq = tonumber(ARGV[1])
local records, index, sealed = {}, {}, {}
for i = 6, #ARGV, 4 do
  seq = seq + 1
  records[#records + 1] = ARGV[i + 3]
  index[#index + 1] = ARGV[i + 2]
  index[#index + 1] = string.format('%d', seq)
end
for _, id in ipairs(ids) do
  sealed[#sealed + 1] = id
  sealed[#sealed + 1] = string.format('%d', counts[id])
end
in_chunks('HSET', KEYS[3], sealed)
in_chunks('HSET', KEYS[2], index)
in_chunks('RPUSH', KEYS[1], records)
-- the receipts follow the journal: the merchant's receipt round has work (an undeclared key, on one Redis only)
if ARGV[4] ~= '' then redis.call('SADD', ARGV[4], ARGV[5]) end
return 1`;

/**
 * Period ARGV[3], if open, closed at ARGV[1] (its last record the journal's last), as JSON, and the next one opened;
 * if already closed, as it was closed (a retry after a lost reply closes nothing more); not opened yet: ''.
 */
const CLOSE_PERIOD = `
local done = redis.call('HGET', KEYS[1], 'p:' .. ARGV[3])
if done then return done end
local open = tonumber(redis.call('HGET', KEYS[1], 'open') or '1')
if open ~= tonumber(ARGV[3]) then return '' end
local first = tonumber(redis.call('HGET', KEYS[1], 'first:' .. open) or '1')
local openedAt = tonumber(redis.call('HGET', KEYS[1], 'openedAt:' .. open) or ARGV[1])
local last = redis.call('LLEN', KEYS[2])
local hash = ARGV[2]
if last > 0 then hash = cjson.decode(redis.call('LINDEX', KEYS[2], -1)).hash end
local period = cjson.encode({period = open, firstSeq = first, lastSeq = last, openedAt = openedAt, closedAt = tonumber(ARGV[1]), closingHash = hash})
redis.call('HSET', KEYS[1], 'p:' .. open, period, 'open', open + 1, 'first:' .. (open + 1), last + 1, 'openedAt:' .. (open + 1), ARGV[1])
redis.call('HDEL', KEYS[1], 'first:' .. open, 'openedAt:' .. open)
return period`;

/**
 * Clears each mark (ARGV 2…: payment id, mark) whose score is still that mark and not after ARGV[1] (older than
 * the grace), in one ZMSCORE and one ZREM: how many it cleared.
 */
const CLEAR_MARKS = `
local ids = {}
for i = 2, #ARGV, 2 do ids[#ids + 1] = ARGV[i] end
if #ids == 0 then return 0 end
local scores = redis.call('ZMSCORE', KEYS[1], unpack(ids))
local gone = {}
for j, id in ipairs(ids) do
  local score = scores[j] and tonumber(scores[j])
  if score and score == tonumber(ARGV[2 * j + 1]) and score <= tonumber(ARGV[1]) then gone[#gone + 1] = id end
end
if #gone == 0 then return 0 end
return redis.call('ZREM', KEYS[1], unpack(gone))`;

/** The lease taken (free) or renewed (already ARGV[1]'s) for ARGV[2] ms: 1; another's: 0. */
const LEASE = `
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`;

const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/**
 * Many payments' events and entries: for the k'th payment (KEYS[2k-1] its events, KEYS[2k] its entries), its
 * events from ARGV[2k-1] to ARGV[2k] (LRANGE's 0-based start and stop) and all its entries, {events, entries, …} in
 * the order of KEYS. Its keys are on many slots, so it runs on one Redis only (a cluster reads payment by payment).
 */
const EVENT_LISTS = `
local out = {}
for k = 1, #KEYS / 2 do
  out[2 * k - 1] = redis.call('LRANGE', KEYS[2 * k - 1], ARGV[2 * k - 1], ARGV[2 * k])
  out[2 * k] = redis.call('LRANGE', KEYS[2 * k], 0, -1)
end
return out`;

/** numberOfKeys absent: the caller passes it first (EVENT_LISTS takes two keys per payment read). */
export const EVENT_SCRIPTS: Record<keyof EventScripts, { lua: string; numberOfKeys?: number }> = {
  scanpayAppendJournal: { lua: APPEND_JOURNAL, numberOfKeys: 4 },
  scanpayClosePeriod: { lua: CLOSE_PERIOD, numberOfKeys: 2 },
  scanpayClearMarks: { lua: CLEAR_MARKS, numberOfKeys: 1 },
  scanpayLease: { lua: LEASE, numberOfKeys: 1 },
  scanpayRelease: { lua: RELEASE, numberOfKeys: 1 },
  scanpayEventLists: { lua: EVENT_LISTS },
};
