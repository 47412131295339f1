-- share: records that a fan shared (reposted) a drop: counted for the stats, announced, and the
-- fan added to the drop's share record, which the steps that make holds read for the share
-- discount (_lib.lua unit_price). A fan is in the record once however often they share.
--
-- KEYS[1] {d:ID}:drop   KEYS[2] {d:ID}:events   KEYS[3] {d:ID}:stats
-- KEYS[4] {d:ID}:rcpt:<shareId>   this share's receipt (_lib first_run): a second run of the
--                                 same call finds it and counts nothing again
-- KEYS[5] {d:ID}:sch    set, the channels this drop's shares are counted under (bounded)
-- KEYS[6] {d:ID}:sh     set, the fans who shared the drop (the share discount's record)
-- ARGV[1] fanId   ARGV[2] channel   ARGV[3] how many distinct channels a drop counts (the cap)
--   ARGV[4] the channel that shares past the cap count under ('other')
--
-- The channel is the fan's free text, and every channel becomes a field that each stats read
-- and each live frame carries: a drop counts its first ARGV[3] distinct channels by name and
-- every share on a further one under ARGV[4]. The share itself always counts.
--
-- Returns {'OK', channel counted, revived (1: the drop was retired, see revive(); 1 on a second run)}
--       | {'ERR', 'NOT_FOUND'}
local id = redis.call('HGET', KEYS[1], 'id')
if not id then return {'ERR', 'NOT_FOUND'} end
local channel = ARGV[2]
if not first_run(KEYS[4]) then
  -- A second run answers what the first did: its channel is in the set unless it went to
  -- ARGV[4] (the set was full then, and a full set never shrinks). The first run may have
  -- revived the drop with its reply lost, so this one says revived too (an extra SADD at most).
  if channel ~= ARGV[4] and redis.call('SISMEMBER', KEYS[5], channel) == 0 then
    channel = ARGV[4]
  end
  return {'OK', channel, 1}
end
if channel ~= ARGV[4] and redis.call('SISMEMBER', KEYS[5], channel) == 0 then
  if redis.call('SCARD', KEYS[5]) < tonumber(ARGV[3]) then
    redis.call('SADD', KEYS[5], channel)
  else
    channel = ARGV[4]
  end
end
redis.call('SADD', KEYS[6], ARGV[1])
redis.call('HINCRBY', KEYS[3], 'shares', 1)
emit(KEYS[2], 'share.recorded', now_ms(), {'dropId', id, 'fanId', ARGV[1], 'channel', channel})
return {'OK', channel, revive(KEYS[1])}
