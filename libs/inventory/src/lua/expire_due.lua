-- expire_due: the sweeper's step for one drop: held orders past their deadline -> expired,
-- units back to stock, hold.expired each. A bounded batch per call (the caller loops while
-- the batch was full), so one call never blocks Redis for long.
--
-- KEYS[1] {d:ID}:holds   KEYS[2] {d:ID}:stock   KEYS[3] {d:ID}:fans
-- KEYS[4] {d:ID}:events  KEYS[5] {d:ID}:stats
-- ARGV[1] batch size   ARGV[2] order key prefix '{d:ID}:o:' (order keys share the drop's slot)
-- ARGV[3] how long to wait before looking again at a `paying` order past payingUntil (ms)
--
-- The status check inside `release` is what makes a release happen once: a second sweeper, a
-- cancel or a payment abort that comes later finds the order no longer live and does nothing.
-- `paying` orders are never expired here (the wallet may be debiting them): past payingUntil
-- they are reported as stale for the payment recovery to resolve, and looked at again later.
-- A `paid`, `expired` or `cancelled` order left in the zset is only removed from it.
--
-- Returns {expiredOrders, unitsReturned, scanned, staleOrderId, ...}
local batch = tonumber(ARGV[1])
local now = now_ms()
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, batch)
local expired, units, stale = 0, 0, {}
for _, id in ipairs(due) do
  local okey = ARGV[2] .. id
  local o = hash_table(okey)
  if o.status == 'held' then
    release({okey, KEYS[2], KEYS[3], KEYS[1], KEYS[4], KEYS[5]}, o, id, 'expired', now)
    expired = expired + 1
    units = units + tonumber(o.quantity)
  elseif o.status == 'paying' then
    local until_ms = tonumber(o.payingUntil or '0')
    if until_ms > now then
      redis.call('ZADD', KEYS[1], until_ms, id)
    else
      stale[#stale + 1] = id
      redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), id)
    end
  else
    redis.call('ZREM', KEYS[1], id)
  end
end
local reply = {expired, units, #due}
for _, id in ipairs(stale) do reply[#reply + 1] = id end
return reply
