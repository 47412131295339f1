-- abort_refund: the wallet declined this refund attempt (the brand's whole revenue cannot pay
-- it; apps/wallet/PAYMENTS.md "A refund the brand cannot pay"): refunding -> paid, as if the
-- refund had never begun. complete_refund never ran for it, so the stats, the fan's units, the
-- unit itself stay as they are: only begin_refund's own writes are taken back, and the step is
-- announced (order.refund_declined).
--
-- KEYS[1] {d:ID}:o:<orderId>   KEYS[2] {d:ID}:refunding  zset of the refunds under way
-- KEYS[3] {d:ID}:events  order.refund_declined, so that order persistence stores the order
--         paid again (sales.orders)
-- ARGV[1] the attempt the wallet declined: the refundingSince begin_refund gave it.
--
-- Only while the order is `refunding` with THAT refundingSince: the wallet records a declined
-- attempt and answers `declined` to every later call of it, so once declined no caller of the
-- attempt can still pay the fan. Any other state is left as it is: refunded (another attempt's
-- refund went through), paid (an abort already ran: the API's caller and the refund recovery
-- both abort), or refunding by a newer attempt (a later refund that the wallet has not judged).
-- Safe to run twice: the second run finds `paid` (or a newer attempt) and changes nothing.
-- Returns {'OK', aborted (1: this run put the order back to paid, 0: nothing changed),
--          field, value, ...} | {'ERR', 'NOT_FOUND'}
local o = hash_table(KEYS[1])
if o.id == nil then return {'ERR', 'NOT_FOUND'} end
if o.status ~= 'refunding' or o.refundingSince ~= ARGV[1] then
  return {'OK', 0, unpack(order_reply(o))}
end
redis.call('HSET', KEYS[1], 'status', 'paid')
redis.call('HDEL', KEYS[1], 'refundingSince', 'refundReason')
redis.call('ZREM', KEYS[2], o.id)
emit(KEYS[3], 'order.refund_declined', now_ms(), {
  'dropId', o.dropId, 'orderId', o.id, 'fanId', o.fanId, 'attempt', tonumber(ARGV[1]),
})
o.status = 'paid'
o.refundingSince = nil
o.refundReason = nil
return {'OK', 1, unpack(order_reply(o))}
