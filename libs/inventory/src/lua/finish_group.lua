-- finish_group: a group in `completing` (complete_payment fenced it: every seat paid into the
-- drop's escrow before the deadline) whose escrow the wallet has released to the brand's
-- revenue: every grouped member becomes paid at once (order.paid each, as a normal payment's),
-- the group `complete`, group.completed once. Safe to run twice: a complete group answers OK.
--
-- KEYS[1] {d:ID}:g:<groupId>   KEYS[2] {d:ID}:gm:<groupId>
-- KEYS[3..10] the sale keys (_lib.lua sale_keys): KEYS[3] {d:ID}:drop  KEYS[4] {d:ID}:stock
--   KEYS[5] {d:ID}:fans  KEYS[6] {d:ID}:holds  KEYS[7] {d:ID}:events  KEYS[8] {d:ID}:stats
--   KEYS[9] {d:ID}:wl  KEYS[10] {d:ID}:parked
--
-- Stats: grouped - q, paid + q, escrowMinor - amount, revenueMinor + amount, discountsMinor and
-- referralRewardsMinor as complete_payment's (the wallet paid the rewards with the release),
-- groupsCompleted + 1.
-- Returns {'OK', groupId}
--       | {'ERR', 'NOT_FOUND'} | {'ERR', 'NOT_COMPLETING', status}
--       | {'ERR', 'BAD_RECORD'} (a member's hash fails its check; nothing written)
local S = sale_keys(3)
local g = hash_table(KEYS[1])
if g.id == nil then return {'ERR', 'NOT_FOUND'} end
if g.status == 'complete' then return {'OK', g.id} end
if g.status ~= 'completing' then return {'ERR', 'NOT_COMPLETING', g.status} end
local members = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  local o = hash_table(S.order_prefix .. id)
  if not order_ok(o) then return {'ERR', 'BAD_RECORD'} end
  if o.status == 'grouped' then members[#members + 1] = o end
end
local now = now_ms()
local total = 0
for _, o in ipairs(members) do
  local q = tonumber(o.quantity)
  local amount = tonumber(o.amountMinor)
  total = total + amount
  redis.call('HINCRBY', S.stats, 'revenueMinor', amount)
  redis.call('HINCRBY', S.stats, 'escrowMinor', -amount)
  redis.call('HINCRBY', S.stats, 'grouped', -q)
  redis.call('HINCRBY', S.stats, 'paid', q)
  redis.call('HSET', S.order_prefix .. o.id, 'status', 'paid', 'paidAt', now)
  local discount = int_in(o.discountMinor or '0', 0, amount) or 0
  if discount > 0 then redis.call('HINCRBY', S.stats, 'discountsMinor', discount) end
  if o.rewardMinor then
    redis.call('HINCRBY', S.stats, 'referralRewardsMinor', tonumber(o.rewardMinor))
  end
  local r = reward_fields(o)
  emit(S.events, 'order.paid', now, {
    'dropId', o.dropId, 'orderId', o.id, 'fanId', o.fanId, 'quantity', q,
    'amountMinor', amount, 'discountMinor', discount_field(discount), r[1], r[2], r[3], r[4],
    'escrowMinor', amount,
  })
  announce_standing(o.dropId, o.fanId)
end
redis.call('HSET', KEYS[1], 'status', 'complete', 'completedAt', now)
redis.call('ZREM', S.groups, g.id)
redis.call('HINCRBY', S.stats, 'groupsCompleted', 1)
emit(S.events, 'group.completed', now, {
  'dropId', g.dropId, 'groupId', g.id, 'size', tonumber(g.size), 'members', #members,
  'amountMinor', total,
})
return {'OK', g.id}
