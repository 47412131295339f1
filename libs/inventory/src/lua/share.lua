-- share: records that a fan shared (reposted) a drop; counted for the stats.
--
-- KEYS[1] {d:ID}:drop   KEYS[2] {d:ID}:events   KEYS[3] {d:ID}:stats
-- KEYS[4] {d:ID}:rcpt:<shareId>   this share's receipt (_lib first_run): a second run of the
--                                 same call finds it and counts nothing again
-- ARGV[1] fanId   ARGV[2] channel   ARGV[3] shareId (chosen by the caller, unique per share)
-- Returns {'OK'} | {'ERR', 'NOT_FOUND'}
local id = redis.call('HGET', KEYS[1], 'id')
if not id then return {'ERR', 'NOT_FOUND'} end
if not first_run(KEYS[4]) then return {'OK'} end
redis.call('HINCRBY', KEYS[3], 'shares', 1)
emit(KEYS[2], 'share.recorded', now_ms(), {'dropId', id, 'fanId', ARGV[1], 'channel', ARGV[2]})
return {'OK'}
