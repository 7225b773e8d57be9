/** The Lua of the shared rate limits (GCRA), for TAKE_RATE and the steps that take a frame's rate units first. */

/**
 * GCRA on the server's clock (gateways' clocks may differ), as a Lua function that TAKE_RATE and the scripts
 * taking a frame's rate unit (OPEN_SESSION, BEGIN_PIN_ATTEMPT, CONSUME_CODE) start with: the theoretical arrival time moves
 * on by one interval per unit taken; a unit is refused while it is more than (burst − 1) intervals ahead.
 * The key lives until just past its arrival time, so a missing key is a full limit: the unit is taken (a burst
 * ≥ 1 always has one) and the key written by one SET … NX GET. On a key that is there, that SET writes nothing
 * and answers the arrival time, which is judged and, for a unit taken, moved on by a second SET.
 */
export const GCRA = `
local function take_rate(key, interval, burst)
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
  local nextTat = now + interval
  local kept = redis.call('SET', key, string.format('%.3f', nextTat), 'PX', string.format('%d', math.ceil(nextTat - now) + 1), 'NX', 'GET')
  if not kept then return true end
  local tat = tonumber(kept)
  if tat < now then tat = now end
  if tat - now > interval * (burst - 1) then return false end
  nextTat = tat + interval
  redis.call('SET', key, string.format('%.3f', nextTat), 'PX', string.format('%d', math.ceil(nextTat - now) + 1))
  return true
end`;

/**
 * The step's rate units before it looks at anything (ARGV[n]: how many; then for each the limit's key, interval
 * ms and burst), in order: one refused, the step answers `refused` and reads or writes nothing more (units taken
 * before it stay taken, as separate takeRate calls would). The limits' keys are not in KEYS: they have no hash tag
 * of the step's keys, which one Redis does not mind; on a cluster the store takes them before and passes none.
 */
export function rateUnitsFirst(n: number, refused: string): string {
  return `${GCRA}
for i = 0, tonumber(ARGV[${n}]) - 1 do
  local at = ${n + 1} + 3 * i
  if not take_rate(ARGV[at], tonumber(ARGV[at + 1]), tonumber(ARGV[at + 2])) then return ${refused} end
end`;
}
