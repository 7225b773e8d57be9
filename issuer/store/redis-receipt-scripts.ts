/**
 * The Lua of a merchant's receipt chain (receipt-types.ts ReceiptStore), on the merchant's slot: a list of
 * receipts (JSON), a hash of each payment's receipt seqs, and a hash holding the chain's journal cursor.
 * The signer's lease is the events' lease script (redis-event-scripts.ts) on a key of its own.
 */

type Arg = string | number;

export interface ReceiptScripts {
  /** KEYS: receipts, by-payment, head. ARGV: expected length, expected cursor, new cursor, then (payment id, receipt JSON)… */
  scanpayAppendReceipts(receipts: string, byPayment: string, head: string, ...args: Arg[]): Promise<number>;
}

/**
 * 1 when appended; 0 when the chain's length or cursor moved (nothing written). The payments' receipt seqs are
 * read in one HMGET and the receipts and seqs written in one call each: what a receipt-by-receipt append would leave.
 */
const APPEND_RECEIPTS = `
if redis.call('LLEN', KEYS[1]) ~= tonumber(ARGV[1]) then return 0 end
if tonumber(redis.call('HGET', KEYS[3], 'journalSeq') or '0') ~= tonumber(ARGV[2]) then return 0 end
local ids, seqs = {}, {}
for i = 4, #ARGV, 2 do
  if seqs[ARGV[i]] == nil then
    seqs[ARGV[i]] = false
    ids[#ids + 1] = ARGV[i]
  end
end
if #ids > 0 then
  local stored = redis.call('HMGET', KEYS[2], unpack(ids))
  for j, id in ipairs(ids) do seqs[id] = stored[j] end
  local seq = tonumber(ARGV[1])
  local texts, byPayment = {}, {}
  for i = 4, #ARGV, 2 do
    seq = seq + 1
    texts[#texts + 1] = ARGV[i + 1]
    local id = ARGV[i]
    if seqs[id] then seqs[id] = seqs[id] .. ',' .. string.format('%d', seq) else seqs[id] = string.format('%d', seq) end
  end
  for _, id in ipairs(ids) do
    byPayment[#byPayment + 1] = id
    byPayment[#byPayment + 1] = seqs[id]
  end
  for i = 1, #texts, 1000 do redis.call('RPUSH', KEYS[1], unpack(texts, i, math.min(i + 999, #texts))) end
  for i = 1, #byPayment, 1000 do redis.call('HSET', KEYS[2], unpack(byPayment, i, math.min(i + 999, #byPayment))) end
end
redis.call('HSET', KEYS[3], 'journalSeq', ARGV[3])
return 1`;

export const RECEIPT_SCRIPTS: Record<keyof ReceiptScripts, { lua: string; numberOfKeys: number }> = {
  scanpayAppendReceipts: { lua: APPEND_RECEIPTS, numberOfKeys: 3 },
};
