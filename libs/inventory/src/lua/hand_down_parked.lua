-- hand_down_parked: after a pause, hands the parked units down (units released while the sale
-- was paused wait in `{d:ID}:parked`, one entry per unit naming the order it came from): each
-- to the next eligible fan in line, or to stock (_lib.lua hand_down). Bounded: at most ARGV[1]
-- units per call; the caller loops while some are left. While still paused it moves nothing.
-- Run by the API right after a resume, and by the lifecycle scheduler for any drop with parked
-- units (a resume whose caller died, a sale that ended while paused).
--
-- KEYS[1..8] the sale keys (_lib.lua sale_keys): KEYS[1] {d:ID}:drop  KEYS[2] {d:ID}:stock
--   KEYS[3] {d:ID}:fans  KEYS[4] {d:ID}:holds  KEYS[5] {d:ID}:events  KEYS[6] {d:ID}:stats
--   KEYS[7] {d:ID}:wl  KEYS[8] {d:ID}:parked (a fan's order list {d:ID}:fo:<fanId> is derived)
-- ARGV[1] most units to hand down in this call
--
-- Emits hold.backfilled per unit passed to a fan; a unit back to stock has no event of its own
-- (its release was announced when it was parked) except `units.unparked` with the count.
-- Returns {handedToFans, toStock, stillParked}
--       | {'ERR', 'BAD_RECORD'} (the drop's hash fails _lib sale_ok; nothing written)
local S = sale_keys(1)
local d = redis.call('HMGET', S.drop, 'id', 'paused')
if not d[1] then return {0, 0, 0} end
if d[2] == '1' then return {0, 0, redis.call('LLEN', S.parked)} end
if not sale_ok(S) then return {'ERR', 'BAD_RECORD'} end
local now = now_ms()
local fans, to_stock = 0, 0
for _ = 1, tonumber(ARGV[1]) do
  local from_id = redis.call('LPOP', S.parked)
  if not from_id then break end
  -- Not paused (checked above), so the unit goes to a fan (one event) or to stock (none).
  local passed = hand_down(S, 1, from_id, now)
  to_stock = to_stock + 1 - #passed
  local remaining = tonumber(redis.call('GET', S.stock) or '0')
  for _, e in ipairs(passed) do e[2][#e[2] + 1] = 'remaining'; e[2][#e[2] + 1] = remaining end
  emit_all(S.events, now, passed)
  fans = fans + #passed
end
if to_stock > 0 then
  emit(S.events, 'units.unparked', now, {'dropId', d[1], 'quantity', to_stock,
    'remaining', tonumber(redis.call('GET', S.stock) or '0')})
end
return {fans, to_stock, redis.call('LLEN', S.parked)}
