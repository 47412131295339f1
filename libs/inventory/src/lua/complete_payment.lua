-- complete_payment: the wallet debited the order: paying -> paid, order.paid. Idempotent: an
-- order already paid answers OK again (a retried completion, or a second run of the same
-- call, changes nothing). A held order before its deadline may be completed directly
-- (held -> paid).
-- Called after a debit, so it completes even past expiresAt: the fence (`paying`) kept every
-- sweeper and cancel away, so the units are still this order's.
--
-- KEYS[1] {d:ID}:o:<orderId>   KEYS[2] {d:ID}:stock   KEYS[3] {d:ID}:fans
-- KEYS[4] {d:ID}:holds         KEYS[5] {d:ID}:events  KEYS[6] {d:ID}:stats
--
-- Returns {'OK', field, value, ...}
--       | {'ERR', 'HOLD_EXPIRED' | 'ORDER_CANCELLED', field, value, ...} (never debit those)
--       | {'ERR', 'NOT_FOUND'}
--       | {'ERR', 'BAD_RECORD'} (the order's hash fails its check; nothing written)
local o = hash_table(KEYS[1])
if o.id == nil then return {'ERR', 'NOT_FOUND'} end
if o.status == 'paid' then return {'OK', unpack(order_reply(o))} end
if not order_ok(o) then return {'ERR', 'BAD_RECORD'} end
local now = now_ms()
if o.status == 'held' and now >= tonumber(o.expiresAt) then
  release(KEYS, o, o.id, 'expired', now)
end
if o.status == 'paying' or o.status == 'held' then
  local q = tonumber(o.quantity)
  local amount = tonumber(o.amountMinor)
  -- The revenue counter first: it is the one write that could fail (HINCRBY past int64, which
  -- the border's priceMinor x quantity bound rules out), and failing as the first write, it
  -- leaves nothing half-done.
  redis.call('HINCRBY', KEYS[6], 'revenueMinor', amount)
  redis.call('HINCRBY', KEYS[6], 'held', -q)
  redis.call('HINCRBY', KEYS[6], 'paid', q)
  redis.call('HSET', KEYS[1], 'status', 'paid', 'paidAt', now)
  redis.call('HDEL', KEYS[1], 'payingUntil')
  redis.call('ZREM', KEYS[4], o.id)
  emit(KEYS[5], 'order.paid', now, {
    'dropId', o.dropId, 'orderId', o.id, 'fanId', o.fanId, 'quantity', q,
    'amountMinor', amount,
  })
  o.status = 'paid'
  o.paidAt = tostring(now)
  o.payingUntil = nil
  return {'OK', unpack(order_reply(o))}
end
local code = 'HOLD_EXPIRED'
if o.status == 'cancelled' then code = 'ORDER_CANCELLED' end
return {'ERR', code, unpack(order_reply(o))}
