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
-- cancel or a payment abort that comes later (or a second run of this same call) finds the
-- order no longer live and does nothing.
-- `paying` orders are never expired here (the wallet may be debiting them): past payingUntil
-- they are reported as stale for the payment recovery to resolve, and looked at again later.
-- A `paid`, `expired` or `cancelled` order left in the zset is only removed from it.
-- An order whose hash fails its check (_lib order_ok) is not touched, reported, and looked at
-- again later like a stale payment, so one bad record never stops the drop's sweep.
--
-- Returns {expiredOrders, unitsReturned, scanned, staleCount, staleOrderId..., badOrderId...}
local batch = tonumber(ARGV[1])
local recheck = tonumber(ARGV[3])
local now = now_ms()
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, batch)
local expired, units, stale, bad = 0, 0, {}, {}
for _, id in ipairs(due) do
  local okey = ARGV[2] .. id
  local o = hash_table(okey)
  if is_live(o.status) and not order_ok(o) then
    bad[#bad + 1] = id
    redis.call('ZADD', KEYS[1], now + recheck, id)
  elseif o.status == 'held' then
    release({okey, KEYS[2], KEYS[3], KEYS[1], KEYS[4], KEYS[5]}, o, id, 'expired', now)
    expired = expired + 1
    units = units + tonumber(o.quantity)
  elseif o.status == 'paying' then
    local until_ms = tonumber(o.payingUntil or '0') or 0
    if until_ms > now then
      redis.call('ZADD', KEYS[1], until_ms, id)
    else
      stale[#stale + 1] = id
      redis.call('ZADD', KEYS[1], now + recheck, id)
    end
  else
    redis.call('ZREM', KEYS[1], id)
  end
end
local reply = {expired, units, #due, #stale}
for _, id in ipairs(stale) do reply[#reply + 1] = id end
for _, id in ipairs(bad) do reply[#reply + 1] = id end
return reply
