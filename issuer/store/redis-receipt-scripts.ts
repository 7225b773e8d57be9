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

/** 1 when appended; 0 when the chain's length or cursor moved (nothing written). */
const APPEND_RECEIPTS = `
if redis.call('LLEN', KEYS[1]) ~= tonumber(ARGV[1]) then return 0 end
if tonumber(redis.call('HGET', KEYS[3], 'journalSeq') or '0') ~= tonumber(ARGV[2]) then return 0 end
local seq = tonumber(ARGV[1])
for i = 4, #ARGV, 2 do
  seq = seq + 1
  redis.call('RPUSH', KEYS[1], ARGV[i + 1])
  local seqs = redis.call('HGET', KEYS[2], ARGV[i])
  if seqs then seqs = seqs .. ',' .. string.format('%d', seq) else seqs = string.format('%d', seq) end
  redis.call('HSET', KEYS[2], ARGV[i], seqs)
end
redis.call('HSET', KEYS[3], 'journalSeq', ARGV[3])
return 1`;

export const RECEIPT_SCRIPTS: Record<keyof ReceiptScripts, { lua: string; numberOfKeys: number }> = {
  scanpayAppendReceipts: { lua: APPEND_RECEIPTS, numberOfKeys: 3 },
};
