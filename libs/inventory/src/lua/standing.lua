-- standing: where one fan stands in a drop (GET /v1/drops/:id/me), read in one consistent step.
-- Read-only.
--
-- KEYS[1] {d:ID}:drop   KEYS[2] {d:ID}:res     KEYS[3] {d:ID}:wl      KEYS[4] {d:ID}:holds
-- KEYS[5] {d:ID}:fo:<fanId> (the fan's order list)   KEYS[6] {d:ID}:stats
-- KEYS[7] {d:ID}:parked  KEYS[8] {d:ID}:draw
-- ARGV[1] fanId
--
-- unitsPending: units in unpaid holds (held or paying) plus units parked by a pause: what may
-- still pass down the line; 0 once the sale has ended (nothing passes after saleEndsAt).
-- nextReleaseAt: the earliest deadline of the holds zset then ('' when none).
-- Returns {'OK', now, allocation, reserved (1|0), place (0-based rank in line, -1 if not in
--   line), drawnAt ('' = not drawn), unitsPending, nextReleaseAt, {order fields}, ...}
--       | {'ERR', 'NOT_FOUND'}
local fan = ARGV[1]
local d = redis.call('HMGET', KEYS[1], 'id', 'allocation', 'cancelled', 'saleEndsAt')
if not d[1] then return {'ERR', 'NOT_FOUND'} end
local now = now_ms()
local ended = d[3] == '1' or (d[4] and d[4] ~= '' and now >= tonumber(d[4]))
local rank = redis.call('ZRANK', KEYS[3], fan)
local pending, next_release = 0, ''
if not ended then
  pending = tonumber(redis.call('HGET', KEYS[6], 'held') or '0') + redis.call('LLEN', KEYS[7])
  local first = redis.call('ZRANGE', KEYS[4], 0, 0, 'WITHSCORES')
  if #first == 2 then next_release = first[2] end
end
local reply = {'OK', now, d[2] or 'first_come', redis.call('HEXISTS', KEYS[2], fan),
  rank or -1, redis.call('HGET', KEYS[8], 'drawnAt') or '', pending, next_release}
local prefix = string.sub(KEYS[1], 1, -5) .. 'o:'
for _, id in ipairs(redis.call('LRANGE', KEYS[5], 0, -1)) do
  local o = redis.call('HGETALL', prefix .. id)
  if #o > 0 then reply[#reply + 1] = o end
end
return reply
