-- draw_winners: one step of a draw: a run of the winners (the shuffle's first `winners` ranks)
-- each get a 1-unit hold with a full holdSeconds to pay, in rank order, each with its number in
-- the allocation log. The hold's id is the drop id and the rank ('-w' + 15 digits), so a step
-- run again can never make a second hold for one winner. Idempotent like draw_waitlist
-- (`winApplied` counts the winners done). Waits while the sale is paused (PAUSED: nothing
-- written; a hold's clock must not run during a pause) and needs the whole line built first.
--
-- KEYS[1..8] the sale keys (_lib.lua sale_keys): KEYS[1] {d:ID}:drop  KEYS[2] {d:ID}:stock
--   KEYS[3] {d:ID}:fans  KEYS[4] {d:ID}:holds  KEYS[5] {d:ID}:events  KEYS[6] {d:ID}:stats
--   KEYS[7] {d:ID}:wl  KEYS[8] {d:ID}:parked (a fan's order list {d:ID}:fo:<fanId> is derived)
-- KEYS[9] {d:ID}:draw
-- ARGV[1] fromRank (the rank of ARGV[2])   ARGV[2..] fan ids, in rank order
--
-- Returns {'OK', winApplied} | {'PAUSED'}
--       | {'ERR', 'NOT_COMMITTED' | 'GAP' | 'DRAWN' | 'LINE_NOT_BUILT' | 'CANCELLED' | 'NO_STOCK'}
--       | {'ERR', 'BAD_RECORD'} (the drop's hash fails _lib sale_ok; nothing written)
local S = sale_keys(1)
local c = redis.call('HMGET', KEYS[9], 'seedCommitment', 'winners', 'winApplied', 'drawnAt',
  'entrants', 'waitApplied')
if not c[1] then return {'ERR', 'NOT_COMMITTED'} end
if c[4] then return {'ERR', 'DRAWN'} end
local winners, applied = tonumber(c[2]), tonumber(c[3])
if tonumber(c[6]) < tonumber(c[5]) - winners then return {'ERR', 'LINE_NOT_BUILT'} end
local f = redis.call('HMGET', S.drop, 'id', 'paused', 'cancelled', 'holdSeconds', 'priceMinor',
  'currency', 'shareDiscountMinor', 'referralRewardMinor')
if f[3] == '1' then return {'ERR', 'CANCELLED'} end
if f[2] == '1' then return {'PAUSED'} end
if not sale_ok(S) then return {'ERR', 'BAD_RECORD'} end
local from = tonumber(ARGV[1])
if from > applied then return {'ERR', 'GAP'} end
local first = applied - from + 2 -- the ARGV index of the first winner not yet done
local last = math.min(#ARGV, winners - from + 1)
if last < first then return {'OK', applied} end
-- Checked before the first write: a step either places all its winners or nothing.
if tonumber(redis.call('GET', S.stock) or '0') < last - first + 1 then
  return {'ERR', 'NO_STOCK'}
end
local now = now_ms()
local expires_at = now + tonumber(f[4]) * 1000
local placed = 0
for i = first, last do
  local rank = from + i - 2
  local fan = ARGV[i]
  local seq = next_allocation_seq(S.stats)
  local order_id = f[1] .. '-w' .. string.format('%015d', rank)
  local remaining = redis.call('DECRBY', S.stock, 1)
  -- A winner who shared the drop pays the discounted price (_lib.lua unit_price); a referred
  -- winner's order owes their referrer the reward (_lib.lua referral).
  local amount, discount = unit_price(tonumber(f[5]), f[7], S.sharers, fan)
  redis.call('HSET', S.order_prefix .. order_id, 'id', order_id, 'dropId', f[1], 'fanId', fan,
    'quantity', 1, 'amountMinor', string.format('%d', amount),
    'unitPriceMinor', string.format('%d', amount), 'discountMinor', string.format('%d', discount),
    'currency', f[6], 'status', 'held', 'createdAt', now, 'expiresAt', expires_at,
    unpack(referral(f[8], S.referrers, fan)))
  redis.call('ZADD', S.holds, expires_at, order_id)
  redis.call('HINCRBY', S.fans, fan, 1)
  add_fan_order(S, fan, order_id)
  redis.call('HINCRBY', S.stats, 'held', 1)
  redis.call('HINCRBY', S.stats, 'winners', 1)
  redis.call('HSETNX', S.stats, 'firstSaleAt', now)
  if remaining == 0 then redis.call('HSETNX', S.stats, 'soldOutAt', now) end
  announce_standing(f[1], fan)
  emit(S.events, 'draw.won', now, {'dropId', f[1], 'orderId', order_id, 'fanId', fan,
    'quantity', 1, 'amountMinor', amount, 'discountMinor', discount_field(discount),
    'expiresAt', expires_at, 'seq', seq, 'rank', rank, 'remaining', remaining})
  placed = placed + 1
end
redis.call('HSET', KEYS[9], 'winApplied', applied + placed)
return {'OK', applied + placed}
