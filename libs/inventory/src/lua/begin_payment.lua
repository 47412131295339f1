-- begin_payment: the wallet fences a held order before debiting: held -> paying.
-- While `paying`, no sweeper, cancel or second payment can take the order; the wallet then
-- calls complete_payment (debited) or abort_payment (not debited).
--
-- KEYS[1] {d:ID}:o:<orderId>
-- KEYS[2..9] the sale keys (_lib.lua sale_keys): KEYS[2] {d:ID}:drop  KEYS[3] {d:ID}:stock
--   KEYS[4] {d:ID}:fans  KEYS[5] {d:ID}:holds  KEYS[6] {d:ID}:events  KEYS[7] {d:ID}:stats
--   KEYS[8] {d:ID}:wl  KEYS[9] {d:ID}:parked (a fan's order list {d:ID}:fo:<fanId> is derived)
-- KEYS[10] {d:ID}:idem         the drop's Idempotency-Keys (see grab.lua)
-- ARGV[1] fanId of the payer ('' = any)   ARGV[2] how long the fence lasts (ms)
-- ARGV[3] the payment's Idempotency-Key ('' when none)
--
-- The key is checked first, in this same atomic step: bound to this order ('pay|<orderId>')
-- it goes on; bound to anything else (another order, or a grab: another route) the answer is
-- IDEMPOTENCY_KEY_REUSED and nothing changes; unbound, it is bound to this order.
-- held, before expiresAt -> paying, payingUntil = max(now + ARGV[2], lastAttempt + 1), kept as
--   lastAttempt too (payingUntil names the attempt); the holds zset then waits for
--   payingUntil (the sweeper reports it as stale after that; it never expires it).
--   order.paying {attempt = payingUntil}: order persistence stores the attempt, so a drop
--   Redis loses comes back `paying` with THIS attempt (restore_orders), the one the wallet may
--   have debited or may still debit, and the recovery settles that one (PAYMENTS.md).
-- held past expiresAt -> expired now, units back: HOLD_EXPIRED (nothing may be charged).
-- paying -> PAYMENT_IN_PROGRESS; paid or grouped (in a group's escrow) -> ORDER_PAID; cancelled -> ORDER_CANCELLED;
-- expired -> HOLD_EXPIRED. Another fan's order or none: NOT_FOUND.
-- Run twice with the same arguments, the second run meets `paying` (PAYMENT_IN_PROGRESS with
-- the order): the caller joins that attempt (apps/api PaymentsService), nothing is fenced twice.
--
-- Returns {'OK', field, value, ...} | {'ERR', code, field, value, ...} | {'ERR', 'NOT_FOUND'}
--       | {'ERR', 'IDEMPOTENCY_KEY_REUSED'} | {'ERR', 'BAD_RECORD'} (nothing written)
local S = sale_keys(2)
local o = hash_table(KEYS[1])
if o.id == nil or (ARGV[1] ~= '' and o.fanId ~= ARGV[1]) then return {'ERR', 'NOT_FOUND'} end
local ttl = int_in(ARGV[2], 1, 86400000)
if not order_ok(o) or not sale_ok(S) or ttl == nil then return {'ERR', 'BAD_RECORD'} end

if ARGV[3] ~= '' then
  local field = idem_field(o.fanId, ARGV[3])
  local bound = redis.call('HGET', KEYS[10], field)
  if bound and bound ~= 'pay|' .. o.id then return {'ERR', 'IDEMPOTENCY_KEY_REUSED'} end
  if not bound then redis.call('HSET', KEYS[10], field, 'pay|' .. o.id) end
end

local now = now_ms()
if o.status == 'held' then
  if now >= tonumber(o.expiresAt) then
    release(S, KEYS[1], o, 'expired', now)
    return {'ERR', 'HOLD_EXPIRED', unpack(order_reply(o))}
  end
  -- payingUntil is also the attempt's id (the wallet fences per order and attempt), so it must
  -- differ from every earlier attempt's, even two begins in one millisecond: `lastAttempt`
  -- keeps the last one given, and a new attempt is always later.
  local until_ms = now + ttl
  local last = tonumber(o.lastAttempt or '0') or 0
  if until_ms <= last then until_ms = last + 1 end
  redis.call('HSET', KEYS[1], 'status', 'paying', 'payingUntil', until_ms, 'lastAttempt', until_ms)
  redis.call('ZADD', S.holds, until_ms, o.id)
  emit(S.events, 'order.paying', now, {
    'dropId', o.dropId, 'orderId', o.id, 'fanId', o.fanId, 'attempt', until_ms,
  })
  o.status = 'paying'
  o.payingUntil = tostring(until_ms)
  o.lastAttempt = tostring(until_ms)
  return {'OK', unpack(order_reply(o))}
end
local codes = {
  paying = 'PAYMENT_IN_PROGRESS', paid = 'ORDER_PAID', grouped = 'ORDER_PAID',
  cancelled = 'ORDER_CANCELLED',
  expired = 'HOLD_EXPIRED',
}
return {'ERR', codes[o.status] or 'HOLD_EXPIRED', unpack(order_reply(o))}
