-- begin_refund: a brand or an operator refunds a paid order: paid -> refunding, the fence
-- before the wallet moves the money back (apps/wallet/PAYMENTS.md "Refunds"). While
-- `refunding`, no other transition touches the order (each checks its own statuses: held,
-- paying), and its unit stays counted as paid until complete_refund frees it. A refund once
-- begun goes forward (the wallet's refund is unique per order, so the refund recovery may
-- always ask it again and complete) unless the wallet declines it: the brand's revenue cannot
-- pay it; then abort_refund puts the order back to paid. refundingSince names the attempt for
-- the wallet (a new refund after an abort is a later attempt).
--
-- KEYS[1] {d:ID}:o:<orderId>   KEYS[2] {d:ID}:refunding  zset, orderId -> when the refund began
-- KEYS[3] {d:ID}:drop  (a refund is new work on a drop that may be retired: revive() it, so the
--         worker's refund recovery, which walks the active drops, sees the refund)
-- KEYS[4] {d:ID}:events  order.refunding, so that order persistence stores the refund under way
--         (sales.orders `refunding`, refundingSince): a drop Redis loses comes back with it
-- ARGV[1] reason (1..200 chars, checked by the caller)
--
-- paid -> refunding (refundReason, refundingSince, order.refunding), OK. refunding -> REFUNDING (join the refund
-- under way); refunded -> REFUNDED (a repeat: nothing moves); any other status ->
-- ORDER_NOT_PAID (nothing written); no such order -> NOT_FOUND.
--
-- Safe to run twice: a second run finds `refunding` and joins.
-- Returns {'OK' | 'REFUNDING' | 'REFUNDED', revived (1: the drop was retired), field, value, ...}
--       | {'ERR', 'ORDER_NOT_PAID', field, value, ...} | {'ERR', 'NOT_FOUND'}
local o = hash_table(KEYS[1])
if o.id == nil then return {'ERR', 'NOT_FOUND'} end
if o.status == 'refunding' then return {'REFUNDING', revive(KEYS[3]), unpack(order_reply(o))} end
if o.status == 'refunded' then return {'REFUNDED', 0, unpack(order_reply(o))} end
if o.status ~= 'paid' then return {'ERR', 'ORDER_NOT_PAID', unpack(order_reply(o))} end
local now = now_ms()
redis.call('HSET', KEYS[1], 'status', 'refunding', 'refundReason', ARGV[1],
  'refundingSince', now)
redis.call('ZADD', KEYS[2], now, o.id)
emit(KEYS[4], 'order.refunding', now, {
  'dropId', o.dropId, 'orderId', o.id, 'fanId', o.fanId, 'attempt', now,
})
o.status = 'refunding'
o.refundReason = ARGV[1]
o.refundingSince = tostring(now)
return {'OK', revive(KEYS[3]), unpack(order_reply(o))}
