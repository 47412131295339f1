-- complete_refund: the wallet has moved the money back: refunding -> refunded, order.refunded,
-- and the unit freed the one way a unit is freed (_lib.lua hand_down): to the next fan in line,
-- parked while paused, or to stock (after saleEndsAt, or nobody waiting). The fan's units go
-- down by the order's quantity, so they may buy again. Idempotent: a refunded order answers OK.
--
-- KEYS[1] {d:ID}:o:<orderId>
-- KEYS[2..9] the sale keys (_lib.lua sale_keys): KEYS[2] {d:ID}:drop  KEYS[3] {d:ID}:stock
--   KEYS[4] {d:ID}:fans  KEYS[5] {d:ID}:holds  KEYS[6] {d:ID}:events  KEYS[7] {d:ID}:stats
--   KEYS[8] {d:ID}:wl  KEYS[9] {d:ID}:parked
-- KEYS[10] {d:ID}:refunding   zset, the refunds under way
--
-- Stats: paid - quantity, refunded + quantity, revenueMinor - amountMinor, discountsMinor -
-- discountMinor, referralRewardsMinor - rewardMinor: paid, revenue and rewards are net of refunds.
-- Safe to run twice (a second run finds `refunded`) and never half-way: the order and the drop
-- fields the pass-down computes with are checked before the first write.
-- Returns {'OK', revived (1: the drop was retired, see revive()), field, value, ...}
--       | {'ERR', 'ORDER_NOT_PAID', field, value, ...}
--       | {'ERR', 'NOT_FOUND'}
--       | {'ERR', 'BAD_RECORD'} (the order's or the drop's hash fails its check; nothing written)
local S = sale_keys(2)
local o = hash_table(KEYS[1])
if o.id == nil then return {'ERR', 'NOT_FOUND'} end
if o.status == 'refunded' then return {'OK', 0, unpack(order_reply(o))} end
if o.status ~= 'refunding' then return {'ERR', 'ORDER_NOT_PAID', unpack(order_reply(o))} end
if not order_ok(o) or not sale_ok(S) then return {'ERR', 'BAD_RECORD'} end
local q = tonumber(o.quantity)
local amount = tonumber(o.amountMinor)
local discount = int_in(o.discountMinor or '0', 0, amount) or 0
local now = now_ms()
redis.call('HSET', KEYS[1], 'status', 'refunded', 'refundedAt', now)
redis.call('HDEL', KEYS[1], 'refundingSince')
redis.call('ZREM', KEYS[10], o.id)
redis.call('HINCRBY', S.fans, o.fanId, -q)
redis.call('HINCRBY', S.stats, 'paid', -q)
redis.call('HINCRBY', S.stats, 'refunded', q)
redis.call('HINCRBY', S.stats, 'revenueMinor', -amount)
if discount > 0 then redis.call('HINCRBY', S.stats, 'discountsMinor', -discount) end
-- The wallet's refund reversed the referral reward (as far as the referrer's balance went).
if o.rewardMinor then
  redis.call('HINCRBY', S.stats, 'referralRewardsMinor', -tonumber(o.rewardMinor))
end
local passed = hand_down(S, q, o.id, now)
local remaining = tonumber(redis.call('GET', S.stock) or '0')
emit(S.events, 'order.refunded', now, {
  'dropId', o.dropId, 'orderId', o.id, 'fanId', o.fanId, 'quantity', q, 'amountMinor', amount,
  'reason', o.refundReason or '', 'remaining', remaining,
  'rewardMinor', reward_fields(o)[4],
})
for _, e in ipairs(passed) do e[2][#e[2] + 1] = 'remaining'; e[2][#e[2] + 1] = remaining end
emit_all(S.events, now, passed)
announce_standing(o.dropId, o.fanId)
o.status = 'refunded'
o.refundedAt = tostring(now)
o.refundingSince = nil
return {'OK', revive(S.drop), unpack(order_reply(o))}
