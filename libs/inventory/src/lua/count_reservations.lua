-- count_reservations: announces the drop's reservations made since the last count as ONE
-- reservation.counted event, and clears the count, in one atomic step.
-- reserve.lua writes no event for a reservation without a referrer: in the same script that
-- stores the reservation it adds 1 to the drop's `resPending` counter, so the count is exactly as
-- durable as the reservation itself (one script, one AOF write). This script moves whatever is
-- pending into the drop's event stream. Any process may run it at any time, as often as it
-- likes: each reservation is announced exactly once, inside the one count that takes it.
-- In the phone's wave that is 1.3 M reservations announced in a few hundred events, instead of
-- 1.3 M events relayed to Kafka and applied by analytics one by one.
--
-- KEYS[1] {d:ID}:drop   KEYS[2] {d:ID}:events   KEYS[3] {d:ID}:stats
-- Returns {'OK', count announced, open}: count 0 when nothing was pending (nothing written);
-- open 0 once the drop can take no more reservations (reserve.lua's window rule, on the same
-- clock), so a caller that saw {0, 0} never needs to count this drop again.
local d = redis.call('HMGET', KEYS[1], 'id', 'reservationOpensAt', 'reservationClosesAt',
  'saleEndsAt', 'cancelled')
if not d[1] then return {'OK', 0, 0} end
local now = now_ms()
local open = d[5] ~= '1'
if open and d[2] ~= '' then
  open = now < tonumber(d[3])
elseif open and d[4] ~= '' then
  open = now < tonumber(d[4])
end
local n = tonumber(redis.call('HGET', KEYS[3], 'resPending') or '0')
if n > 0 then
  redis.call('HDEL', KEYS[3], 'resPending')
  emit(KEYS[2], 'reservation.counted', now, {'dropId', d[1], 'count', n})
end
return {'OK', n, open and 1 or 0}
