-- cancel_order: the fan cancels a held order; its units are released at once.
--
-- KEYS[1] {d:ID}:o:<orderId>
-- KEYS[2..9] the sale keys (_lib.lua sale_keys): KEYS[2] {d:ID}:drop  KEYS[3] {d:ID}:stock
--   KEYS[4] {d:ID}:fans  KEYS[5] {d:ID}:holds  KEYS[6] {d:ID}:events  KEYS[7] {d:ID}:stats
--   KEYS[8] {d:ID}:wl  KEYS[9] {d:ID}:parked (a fan's order list {d:ID}:fo:<fanId> is derived)
-- ARGV[1] fanId of the caller ('' = any caller, for internal use)
--
-- held (before expiresAt) -> cancelled, units released (to the waitlist first, see _lib.lua
-- hand_down), hold.cancelled.
-- held past expiresAt (the sweeper has not run yet) -> expired, units back, hold.expired, and
-- the answer HOLD_EXPIRED: the deadline is the script's clock, not the sweeper's schedule.
-- cancelled again: the order (idempotent; so is a second run of the same call). paying:
-- PAYMENT_IN_PROGRESS. paid or grouped: ORDER_PAID. Another fan's order: NOT_FOUND (it is not theirs to
-- see).
--
-- Returns {'OK', field, value, ...} | {'ERR', code, field, value, ...} | {'ERR', 'NOT_FOUND'}
--       | {'ERR', 'BAD_RECORD'} (the order's or the drop's hash fails its check; nothing written)
local S = sale_keys(2)
local o = hash_table(KEYS[1])
if o.id == nil or (ARGV[1] ~= '' and o.fanId ~= ARGV[1]) then return {'ERR', 'NOT_FOUND'} end
if not order_ok(o) or not sale_ok(S) then return {'ERR', 'BAD_RECORD'} end
local now = now_ms()
if o.status == 'held' then
  if now >= tonumber(o.expiresAt) then
    release(S, KEYS[1], o, 'expired', now)
    return {'ERR', 'HOLD_EXPIRED', unpack(order_reply(o))}
  end
  release(S, KEYS[1], o, 'cancelled', now)
  return {'OK', unpack(order_reply(o))}
end
if o.status == 'cancelled' then return {'OK', unpack(order_reply(o))} end
local code = 'HOLD_EXPIRED'
if o.status == 'paying' then code = 'PAYMENT_IN_PROGRESS' end
-- A grouped order's money is in escrow: only its group's completion or failure moves it.
if o.status == 'paid' or o.status == 'grouped' then code = 'ORDER_PAID' end
return {'ERR', code, unpack(order_reply(o))}
