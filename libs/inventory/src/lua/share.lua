-- share: records that a fan shared (reposted) a drop; counted for the stats.
--
-- KEYS[1] {d:ID}:drop   KEYS[2] {d:ID}:events   KEYS[3] {d:ID}:stats
-- ARGV[1] fanId   ARGV[2] channel
-- Returns {'OK'} | {'ERR', 'NOT_FOUND'}
local id = redis.call('HGET', KEYS[1], 'id')
if not id then return {'ERR', 'NOT_FOUND'} end
redis.call('HINCRBY', KEYS[3], 'shares', 1)
emit(KEYS[2], 'share.recorded', now_ms(), {'dropId', id, 'fanId', ARGV[1], 'channel', ARGV[2]})
return {'OK'}
