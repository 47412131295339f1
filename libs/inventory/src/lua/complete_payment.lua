-- complete_payment: the wallet debited the order: paying -> paid, order.paid. Idempotent: an
-- order already paid answers OK again (a retried completion, or a second run of the same
-- call, changes nothing). A held order before its deadline may be completed directly
-- (held -> paid).
-- Called after a debit, so it completes even past expiresAt: the fence (`paying`) kept every
-- sweeper and cancel away, so the units are still this order's.
--
-- KEYS[1] {d:ID}:o:<orderId>
-- KEYS[2..9] the sale keys (_lib.lua sale_keys): KEYS[2] {d:ID}:drop  KEYS[3] {d:ID}:stock
--   KEYS[4] {d:ID}:fans  KEYS[5] {d:ID}:holds  KEYS[6] {d:ID}:events  KEYS[7] {d:ID}:stats
--   KEYS[8] {d:ID}:wl  KEYS[9] {d:ID}:parked (a fan's order list {d:ID}:fo:<fanId> is derived)
--
-- Group buy: a member's order (`groupId`) was debited into the drop's escrow, so it becomes
-- `grouped`, not paid (stats grouped + q, escrowMinor + amount, order.grouped), and its group's
-- paidMembers + 1. The payment that brings paidMembers to the group's size while the group is
-- open and before its deadline moves the group to `completing`: THE FENCE against the failure
-- (fail_group.lua moves only an open group). The caller then releases the escrow and runs
-- finish_group.lua, which makes every member paid at once. An order already grouped answers OK.
--
-- Stats: revenueMinor + amount, discountsMinor + discount, referralRewardsMinor + the order's
-- referral reward (paid out with the debit).
-- Returns {'OK', field, value, ...}
--       | {'ERR', 'HOLD_EXPIRED' | 'ORDER_CANCELLED', field, value, ...} (never debit those)
--       | {'ERR', 'NOT_FOUND'}
--       | {'ERR', 'BAD_RECORD'} (the order's hash, or the drop's when a lapsed hold must be
--         released, fails its check; nothing written)
local S = sale_keys(2)
local o = hash_table(KEYS[1])
if o.id == nil then return {'ERR', 'NOT_FOUND'} end
if o.status == 'paid' or o.status == 'grouped' then return {'OK', unpack(order_reply(o))} end
if not order_ok(o) then return {'ERR', 'BAD_RECORD'} end
local now = now_ms()
-- Only a release reads the drop (its units go down the line): check it only then.
local lapsed = o.status == 'held' and now >= tonumber(o.expiresAt)
if lapsed and not sale_ok(S) then return {'ERR', 'BAD_RECORD'} end
if lapsed then
  release(S, KEYS[1], o, 'expired', now)
end
if (o.status == 'paying' or o.status == 'held') and o.groupId then
  local q = tonumber(o.quantity)
  local amount = tonumber(o.amountMinor)
  local group_key = S.group_prefix .. o.groupId
  local g = redis.call('HMGET', group_key, 'status', 'size', 'expiresAt')
  redis.call('HINCRBY', S.stats, 'escrowMinor', amount)
  redis.call('HINCRBY', S.stats, 'held', -q)
  redis.call('HINCRBY', S.stats, 'grouped', q)
  redis.call('HSET', KEYS[1], 'status', 'grouped', 'groupedAt', now)
  redis.call('HDEL', KEYS[1], 'payingUntil')
  redis.call('ZREM', S.holds, o.id)
  local paid_members = redis.call('HINCRBY', group_key, 'paidMembers', 1)
  emit(S.events, 'order.grouped', now, {
    'dropId', o.dropId, 'orderId', o.id, 'fanId', o.fanId, 'quantity', q,
    'amountMinor', amount, 'groupId', o.groupId, 'paidMembers', paid_members,
  })
  if g[1] == 'open' and paid_members >= (tonumber(g[2]) or 0) and now < (tonumber(g[3]) or 0) then
    redis.call('HSET', group_key, 'status', 'completing', 'completingAt', now)
    -- Due for the group sweeper a little later: the payer finishes it at once; should it die,
    -- the sweeper does (finish_group and the wallet's release are idempotent).
    redis.call('ZADD', S.groups, now + GROUP_RECOVERY_GRACE_MS, o.groupId)
  end
  o.status = 'grouped'
  o.groupedAt = tostring(now)
  o.payingUntil = nil
  return {'OK', unpack(order_reply(o))}
end
if o.status == 'paying' or o.status == 'held' then
  local q = tonumber(o.quantity)
  local amount = tonumber(o.amountMinor)
  -- The revenue counter first: it is the one write that could fail (HINCRBY past int64, which
  -- the border's priceMinor x quantity bound rules out), and failing as the first write, it
  -- leaves nothing half-done.
  redis.call('HINCRBY', S.stats, 'revenueMinor', amount)
  redis.call('HINCRBY', S.stats, 'held', -q)
  redis.call('HINCRBY', S.stats, 'paid', q)
  redis.call('HSET', KEYS[1], 'status', 'paid', 'paidAt', now)
  redis.call('HDEL', KEYS[1], 'payingUntil')
  redis.call('ZREM', S.holds, o.id)
  local discount = int_in(o.discountMinor or '0', 0, amount) or 0
  if discount > 0 then redis.call('HINCRBY', S.stats, 'discountsMinor', discount) end
  -- The wallet paid the referral reward in the payment's own transaction (PAYMENTS.md
  -- "Referral rewards"): counted here, once, with the payment.
  if o.rewardMinor then
    redis.call('HINCRBY', S.stats, 'referralRewardsMinor', tonumber(o.rewardMinor))
  end
  local r = reward_fields(o)
  emit(S.events, 'order.paid', now, {
    'dropId', o.dropId, 'orderId', o.id, 'fanId', o.fanId, 'quantity', q,
    'amountMinor', amount, 'discountMinor', discount_field(discount), r[1], r[2], r[3], r[4],
  })
  o.status = 'paid'
  o.paidAt = tostring(now)
  o.payingUntil = nil
  return {'OK', unpack(order_reply(o))}
end
local code = 'HOLD_EXPIRED'
if o.status == 'cancelled' then code = 'ORDER_CANCELLED' end
return {'ERR', code, unpack(order_reply(o))}
