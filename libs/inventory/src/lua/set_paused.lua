-- set_paused: pauses or resumes a drop's sale (the operators' brake).
--
-- KEYS[1] {d:ID}:drop   KEYS[2] {d:ID}:events
-- ARGV[1] '1' to pause, '0' to resume
-- Emits drop.paused / drop.resumed only when the flag changes (a repeat, or a second run of the
-- same call, is a no-op).
-- Returns {'OK', revived (1: the drop was retired, see revive(); always 1 on a repeat)}
--       | {'ERR', 'NOT_FOUND'} | {'ERR', 'DROP_LOCKED'} (cancelled drop)
local d = redis.call('HMGET', KEYS[1], 'id', 'paused', 'cancelled')
if not d[1] then return {'ERR', 'NOT_FOUND'} end
if d[3] == '1' then return {'ERR', 'DROP_LOCKED'} end
-- A repeat, or a second run whose first revived the drop with its reply lost: say revived.
if d[2] == ARGV[1] then return {'OK', 1} end
redis.call('HSET', KEYS[1], 'paused', ARGV[1])
local etype = 'drop.resumed'
if ARGV[1] == '1' then etype = 'drop.paused' end
emit(KEYS[2], etype, now_ms(), {'dropId', d[1]})
return {'OK', revive(KEYS[1])}
