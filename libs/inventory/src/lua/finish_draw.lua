-- finish_draw: the draw is done once every loser is in line and every winner holds a unit:
-- records drawnAt (from then on the seed and winners are public) and emits draw.completed with
-- the seed. Idempotent: a finished draw answers its drawnAt again.
--
-- KEYS[1] {d:ID}:drop   KEYS[2] {d:ID}:draw   KEYS[3] {d:ID}:events
-- Returns {'CREATED' | 'EXISTING', drawnAt} | {'ERR', 'NOT_COMMITTED' | 'INCOMPLETE'}
local c = redis.call('HMGET', KEYS[2], 'seedCommitment', 'winners', 'winApplied', 'entrants',
  'waitApplied', 'drawnAt', 'seed')
if not c[1] then return {'ERR', 'NOT_COMMITTED'} end
if c[6] then return {'EXISTING', tonumber(c[6])} end
local winners, entrants = tonumber(c[2]), tonumber(c[4])
if tonumber(c[3]) < winners or tonumber(c[5]) < entrants - winners then
  return {'ERR', 'INCOMPLETE'}
end
local now = now_ms()
local drop_id = redis.call('HGET', KEYS[1], 'id')
redis.call('HSET', KEYS[2], 'drawnAt', now)
emit(KEYS[3], 'draw.completed', now, {'dropId', drop_id, 'winners', winners,
  'waitlisted', entrants - winners, 'seed', c[7]})
-- Every watcher of this drop's standing reads it again (the draw result is now known).
redis.call('PUBLISH', STANDING_CHANNEL, drop_id)
return {'CREATED', now}
