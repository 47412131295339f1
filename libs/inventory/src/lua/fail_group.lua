-- fail_group: the group sweeper's step for a group at or past its deadline. An `open` group
-- moves to `failing` (THE FENCE: complete_payment completes only an open group, before the
-- deadline, so a group fails or completes, never both) and its unpaid holds expire at once,
-- their units down the line or back to stock (_lib.lua release). A `failing` group is
-- answered again (a second run, or a later pass of the sweeper after a crash), with nothing
-- new written. A member `paying` at that moment is left to its payment: debited, it becomes
-- grouped (complete_payment) and is refunded by a later pass; not debited, it expires.
--
-- KEYS[1] {d:ID}:g:<groupId>   KEYS[2] {d:ID}:gm:<groupId>
-- KEYS[3..10] the sale keys (_lib.lua sale_keys): KEYS[3] {d:ID}:drop  KEYS[4] {d:ID}:stock
--   KEYS[5] {d:ID}:fans  KEYS[6] {d:ID}:holds  KEYS[7] {d:ID}:events  KEYS[8] {d:ID}:stats
--   KEYS[9] {d:ID}:wl  KEYS[10] {d:ID}:parked
--
-- Returns {'FAILING', paying, orderId...}: the grouped members to refund (their money is in
--           escrow) and how many members are still paying
--       | {'OPEN'} (before the deadline: nothing written) | {'DONE', status} (completing,
--         complete or failed: nothing to fail)
--       | {'ERR', 'NOT_FOUND'} | {'ERR', 'BAD_RECORD'} (nothing written)
local S = sale_keys(3)
local g = hash_table(KEYS[1])
if g.id == nil then return {'ERR', 'NOT_FOUND'} end
if g.status ~= 'open' and g.status ~= 'failing' then return {'DONE', g.status} end
local now = now_ms()
local expires_at = int_in(g.expiresAt, 0, MAX_TIME_MS)
if expires_at == nil then return {'ERR', 'BAD_RECORD'} end
if g.status == 'open' and now < expires_at then return {'OPEN'} end
local members = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  local o = hash_table(S.order_prefix .. id)
  if not order_ok(o) then return {'ERR', 'BAD_RECORD'} end
  members[#members + 1] = o
end
if g.status == 'open' and not sale_ok(S) then return {'ERR', 'BAD_RECORD'} end
if g.status == 'open' then
  redis.call('HSET', KEYS[1], 'status', 'failing', 'failingAt', now)
  for _, o in ipairs(members) do
    if o.status == 'held' then release(S, S.order_prefix .. o.id, o, 'expired', now) end
  end
end
local grouped = {}
local paying = 0
for _, o in ipairs(members) do
  if o.status == 'grouped' then grouped[#grouped + 1] = o.id end
  if o.status == 'paying' then paying = paying + 1 end
end
return {'FAILING', paying, unpack(grouped)}
