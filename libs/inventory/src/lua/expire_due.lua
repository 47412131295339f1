-- expire_due: the sweeper's step for one drop: held orders past their deadline -> expired,
-- their units released (to the waitlist first, see _lib.lua hand_down), hold.expired each. A
-- bounded batch per call (the caller loops while the batch was full), so one call never blocks
-- Redis for long.
--
-- KEYS[1..8] the sale keys (_lib.lua sale_keys): KEYS[1] {d:ID}:drop  KEYS[2] {d:ID}:stock
--   KEYS[3] {d:ID}:fans  KEYS[4] {d:ID}:holds  KEYS[5] {d:ID}:events  KEYS[6] {d:ID}:stats
--   KEYS[7] {d:ID}:wl  KEYS[8] {d:ID}:parked (a fan's order list {d:ID}:fo:<fanId> is derived)
-- ARGV[1] batch size
-- ARGV[2] how long to wait before looking again at a `paying` order past payingUntil (ms)
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
-- A drop whose own fields fail their check (_lib sale_ok: what the pass-down reads) is treated
-- the same way for every held order due: none is released, all are reported as bad.
--
-- Returns {expiredOrders, unitsReturned, scanned, staleCount, staleOrderId..., badOrderId...}
--   unitsReturned: units released (to the waitlist, stock or the parked list)
local S = sale_keys(1)
local batch = tonumber(ARGV[1])
local recheck = tonumber(ARGV[2])
local now = now_ms()
local due = redis.call('ZRANGEBYSCORE', S.holds, '-inf', now, 'LIMIT', 0, batch)
local expired, units, stale, bad = 0, 0, {}, {}
local sale_good = sale_ok(S)
for _, id in ipairs(due) do
  local okey = S.order_prefix .. id
  local o = hash_table(okey)
  if (is_live(o.status) and not order_ok(o)) or (o.status == 'held' and not sale_good) then
    bad[#bad + 1] = id
    redis.call('ZADD', S.holds, now + recheck, id)
  elseif o.status == 'held' then
    release(S, okey, o, 'expired', now)
    expired = expired + 1
    units = units + tonumber(o.quantity)
  elseif o.status == 'paying' then
    local until_ms = tonumber(o.payingUntil or '0') or 0
    if until_ms > now then
      redis.call('ZADD', S.holds, until_ms, id)
    else
      stale[#stale + 1] = id
      redis.call('ZADD', S.holds, now + recheck, id)
    end
  else
    redis.call('ZREM', S.holds, id)
  end
end
local reply = {expired, units, #due, #stale}
for _, id in ipairs(stale) do reply[#reply + 1] = id end
for _, id in ipairs(bad) do reply[#reply + 1] = id end
return reply
