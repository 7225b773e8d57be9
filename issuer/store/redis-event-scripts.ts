/**
 * The Lua of a merchant's journal (event-types.ts EventStore), on the merchant's slot: appending sealed records
 * (only onto the head and open period the sealer computed them from), closing a period, clearing an outbox mark,
 * and the sealer's lease. A journal is a list of records (JSON, as issuer/journal.ts made them), with an index by
 * event id and each payment's sealed count beside it; periods are a hash: `open` (the open period's number),
 * `first:<k>` and `openedAt:<k>` for the open one, `p:<k>` (a closed period as JSON).
 */

type Arg = string | number;

export interface EventScripts {
  /** KEYS: journal, journal index, sealed counts, periods. ARGV: expected length, expected open period, sealedAt, then (payment id, n, event id, record JSON)… */
  scanpayAppendJournal(journal: string, index: string, sealed: string, periods: string, ...args: Arg[]): Promise<number>;
  scanpayClosePeriod(periods: string, journal: string, at: Arg, zeroHash: Arg, period: Arg): Promise<string>;
  scanpayClearMark(outbox: string, paymentId: Arg, mark: Arg, notAfter: Arg): Promise<number>;
  scanpayLease(lease: string, owner: Arg, ttlMs: Arg): Promise<number>;
  scanpayRelease(lease: string, owner: Arg): Promise<number>;
}

/**
 * 1 when appended; 0 when the journal's length or open period moved (nothing written); an error when a record's
 * event is not its payment's next unsealed one (a sealer bug: nothing is written either, the checks run first).
 */
const APPEND_JOURNAL = `
if redis.call('LLEN', KEYS[1]) ~= tonumber(ARGV[1]) then return 0 end
local open = redis.call('HGET', KEYS[4], 'open') or '1'
if open ~= ARGV[2] then return 0 end
local counts = {}
for i = 4, #ARGV, 4 do
  local id = ARGV[i]
  local n = counts[id] or tonumber(redis.call('HGET', KEYS[3], id) or '0')
  if n + 1 ~= tonumber(ARGV[i + 1]) then return redis.error_reply('journal: event ' .. ARGV[i + 2] .. ' is not its payment\\'s next') end
  counts[id] = n + 1
end
redis.call('HSETNX', KEYS[4], 'openedAt:' .. open, ARGV[3])
local seq = tonumber(ARGV[1])
for i = 4, #ARGV, 4 do
  seq = seq + 1
  redis.call('HSET', KEYS[3], ARGV[i], ARGV[i + 1])
  redis.call('HSET', KEYS[2], ARGV[i + 2], seq)
  redis.call('RPUSH', KEYS[1], ARGV[i + 3])
end
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

/** Clears the mark if its score is still ARGV[2] and not after ARGV[3] (older than the grace): 1, else 0. */
const CLEAR_MARK = `
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score or tonumber(score) ~= tonumber(ARGV[2]) or tonumber(score) > tonumber(ARGV[3]) then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
return 1`;

/** The lease taken (free) or renewed (already ARGV[1]'s) for ARGV[2] ms: 1; another's: 0. */
const LEASE = `
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`;

const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

export const EVENT_SCRIPTS: Record<keyof EventScripts, { lua: string; numberOfKeys: number }> = {
  scanpayAppendJournal: { lua: APPEND_JOURNAL, numberOfKeys: 4 },
  scanpayClosePeriod: { lua: CLOSE_PERIOD, numberOfKeys: 2 },
  scanpayClearMark: { lua: CLEAR_MARK, numberOfKeys: 1 },
  scanpayLease: { lua: LEASE, numberOfKeys: 1 },
  scanpayRelease: { lua: RELEASE, numberOfKeys: 1 },
};
