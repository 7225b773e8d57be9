/** The Lua of a card's PIN attempts in flight, shared by the PIN scripts (redis-scripts.ts) and the enrolment's (redis-wallet-scripts.ts). */

/**
 * Lua: a card's PIN attempts in flight, the card field 'pinInFlight': `<session key>@<counts-at ms>` entries
 * joined by ';' (at most lockAt of them). Returns the entries still in flight at `now` without `drop` (the
 * attempt being settled), how many they are, how many passed their time (each counts as a wrong PIN), and
 * whether `drop` was there. MemoryStore keeps the same list in a Map.
 */
export const IN_FLIGHT = `
local function in_flight(list, now, drop)
  local kept, expired, dropped = {}, 0, false
  for entry in string.gmatch(list or '', '[^;]+') do
    local key, at = string.match(entry, '^(.*)@(%d+)$')
    if key == drop then dropped = true
    elseif tonumber(at) <= now then expired = expired + 1
    else kept[#kept + 1] = entry end
  end
  return table.concat(kept, ';'), #kept, expired, dropped
end`;
