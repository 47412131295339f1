-- settle_failed_group: the wallet refunded grouped members of a `failing` group from the drop's
-- escrow: each becomes `refunded` (order.refunded, reason 'group failed'), its unit freed the one
-- way a unit is freed (_lib.lua hand_down: to the next fan in line, where a passed-down unit
-- starts a new group, parked while paused, or to stock). When no member is left held, paying or
-- grouped, the group is `failed` and group.failed is written, once. Safe to run twice: an order
-- already refunded is skipped, a failed group answers OK.
--
-- KEYS[1] {d:ID}:g:<groupId>   KEYS[2] {d:ID}:gm:<groupId>
-- KEYS[3..10] the sale keys (_lib.lua sale_keys): KEYS[3] {d:ID}:drop  KEYS[4] {d:ID}:stock
--   KEYS[5] {d:ID}:fans  KEYS[6] {d:ID}:holds  KEYS[7] {d:ID}:events  KEYS[8] {d:ID}:stats
--   KEYS[9] {d:ID}:wl  KEYS[10] {d:ID}:parked
-- ARGV the member orders the wallet refunded (others of ARGV are ignored: not this group's, or
--   not grouped)
--
-- Stats: grouped - q, refunded + q, escrowMinor - amount; groupsFailed + 1 at the end.
-- Returns {'OK', 'failed' | 'failing', refunded now}
--       | {'ERR', 'NOT_FOUND'} | {'ERR', 'NOT_FAILING', status}
--       | {'ERR', 'BAD_RECORD'} (nothing written)
local S = sale_keys(3)
local g = hash_table(KEYS[1])
if g.id == nil then return {'ERR', 'NOT_FOUND'} end
if g.status == 'failed' then return {'OK', 'failed', 0} end
if g.status ~= 'failing' then return {'ERR', 'NOT_FAILING', g.status} end
if not sale_ok(S) then return {'ERR', 'BAD_RECORD'} end
local todo = {}
for _, id in ipairs(ARGV) do
  if redis.call('SISMEMBER', KEYS[2], id) == 1 then
    local o = hash_table(S.order_prefix .. id)
    if not order_ok(o) then return {'ERR', 'BAD_RECORD'} end
    if o.status == 'grouped' then todo[#todo + 1] = o end
  end
end
local now = now_ms()
for _, o in ipairs(todo) do
  local q = tonumber(o.quantity)
  local amount = tonumber(o.amountMinor)
  redis.call('HSET', S.order_prefix .. o.id, 'status', 'refunded', 'refundedAt', now,
    'refundReason', 'group failed')
  redis.call('HINCRBY', S.fans, o.fanId, -q)
  redis.call('HINCRBY', S.stats, 'grouped', -q)
  redis.call('HINCRBY', S.stats, 'refunded', q)
  redis.call('HINCRBY', S.stats, 'escrowMinor', -amount)
  redis.call('HINCRBY', S.group_prefix .. g.id, 'members', -1)
  local passed = hand_down(S, q, o.id, now)
  local remaining = tonumber(redis.call('GET', S.stock) or '0')
  emit(S.events, 'order.refunded', now, {
    'dropId', o.dropId, 'orderId', o.id, 'fanId', o.fanId, 'quantity', q, 'amountMinor', amount,
    'reason', 'group failed', 'remaining', remaining, 'escrowMinor', amount,
  })
  for _, e in ipairs(passed) do e[2][#e[2] + 1] = 'remaining'; e[2][#e[2] + 1] = remaining end
  emit_all(S.events, now, passed)
  announce_standing(o.dropId, o.fanId)
end
-- Done when no member can still move money or hold a unit.
for _, id in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  local st = redis.call('HGET', S.order_prefix .. id, 'status')
  if st == 'held' or st == 'paying' or st == 'grouped' then return {'OK', 'failing', #todo} end
end
local refunded_total = 0
local paid_members = 0
for _, id in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  local f = redis.call('HMGET', S.order_prefix .. id, 'status', 'amountMinor')
  if f[1] == 'refunded' then
    paid_members = paid_members + 1
    refunded_total = refunded_total + tonumber(f[2])
  end
end
redis.call('HSET', KEYS[1], 'status', 'failed', 'failedAt', now)
redis.call('ZREM', S.groups, g.id)
redis.call('HINCRBY', S.stats, 'groupsFailed', 1)
emit(S.events, 'group.failed', now, {
  'dropId', g.dropId, 'groupId', g.id, 'size', tonumber(g.size), 'paidMembers', paid_members,
  'refundedMinor', refunded_total,
})
return {'OK', 'failed', #todo}
