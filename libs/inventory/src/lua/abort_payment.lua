-- abort_payment: the wallet did not debit (insufficient funds, an error, or the recovery found
-- no debit): paying -> held while the hold's deadline is ahead (the fan may still pay), or
-- paying -> expired after it, units back once, hold.expired.
--
-- KEYS[1] {d:ID}:o:<orderId>
-- KEYS[2..9] the sale keys (_lib.lua sale_keys): KEYS[2] {d:ID}:drop  KEYS[3] {d:ID}:stock
--   KEYS[4] {d:ID}:fans  KEYS[5] {d:ID}:holds  KEYS[6] {d:ID}:events  KEYS[7] {d:ID}:stats
--   KEYS[8] {d:ID}:wl  KEYS[9] {d:ID}:parked (a fan's order list {d:ID}:fo:<fanId> is derived)
-- ARGV[1] the payingUntil of the attempt being aborted. A `paying` order of ANOTHER attempt is
--         left alone: a slow caller of an old attempt (fenced off in the wallet as declined or
--         voided), or a second run of this same call after a new attempt began, must never
--         abort the attempt that replaced it.
--
-- held past expiresAt -> expired (units back). Any other status: unchanged.
-- Returns {'OK', field, value, ...} (the order after the step)
--       | {'ERR', 'ORDER_PAID', field, value, ...} (a paid order is never undone)
--       | {'ERR', 'NOT_FOUND'}
--       | {'ERR', 'BAD_RECORD'} (the order's hash, or the drop's when a lapsed hold must be
--         released, fails its check; nothing written)
local S = sale_keys(2)
local o = hash_table(KEYS[1])
if o.id == nil then return {'ERR', 'NOT_FOUND'} end
if o.status == 'paid' then return {'ERR', 'ORDER_PAID', unpack(order_reply(o))} end
if not order_ok(o) then return {'ERR', 'BAD_RECORD'} end
local now = now_ms()
local mine = o.status ~= 'paying' or ARGV[1] == o.payingUntil
if is_live(o.status) and mine then
  -- Only a release reads the drop (its units go down the line): check it only then.
  if now >= tonumber(o.expiresAt) and not sale_ok(S) then return {'ERR', 'BAD_RECORD'} end
  if now >= tonumber(o.expiresAt) then
    release(S, KEYS[1], o, 'expired', now)
  elseif o.status == 'paying' then
    redis.call('HSET', KEYS[1], 'status', 'held')
    redis.call('HDEL', KEYS[1], 'payingUntil')
    redis.call('ZADD', S.holds, tonumber(o.expiresAt), o.id)
    o.status = 'held'
    o.payingUntil = nil
  end
end
return {'OK', unpack(order_reply(o))}
