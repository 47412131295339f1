-- cancel_drop: cancels a drop before its sale starts (after that: DROP_LOCKED). No unit can be
-- held yet, so nothing goes back to stock; grabs on a cancelled drop answer SALE_ENDED.
--
-- KEYS[1] {d:ID}:drop   KEYS[2] {d:ID}:events
-- A second run of the same call finds the drop cancelled: OK, nothing again.
-- Returns {'OK'} | {'ERR', 'NOT_FOUND'} | {'ERR', 'DROP_LOCKED'}
--       | {'ERR', 'BAD_RECORD'} (saleStartsAt is not a time; nothing written)
local d = redis.call('HMGET', KEYS[1], 'id', 'cancelled', 'saleStartsAt')
if not d[1] then return {'ERR', 'NOT_FOUND'} end
if d[2] == '1' then return {'OK'} end
local starts = int_in(d[3], 0, MAX_TIME_MS)
if starts == nil then return {'ERR', 'BAD_RECORD'} end
local now = now_ms()
if now >= starts then return {'ERR', 'DROP_LOCKED'} end
redis.call('HSET', KEYS[1], 'cancelled', '1')
emit(KEYS[2], 'drop.cancelled', now, {'dropId', d[1]})
return {'OK'}
