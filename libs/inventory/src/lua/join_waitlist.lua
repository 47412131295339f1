-- join_waitlist: a fan queues for units released on a sold-out first-come drop (API.md "Fair
-- launch"). Idempotent per fan: a fan already in line gets their place again.
--
-- KEYS[1] {d:ID}:drop    KEYS[2] {d:ID}:stock   KEYS[3] {d:ID}:res   KEYS[4] {d:ID}:wl
-- KEYS[5] {d:ID}:events  KEYS[6] {d:ID}:stats
-- ARGV[1] fanId   ARGV[2] the fan's membership tier ('' when none)
--
-- Checks, in order: drop exists (NOT_FOUND); a members-only drop and the fan not of its tier
-- (MEMBERS_ONLY); a draw drop (DRAW_ONLY: the draw waitlists its
-- entrants); a fan already in line answers their position; cancelled or past saleEndsAt
-- (SALE_ENDED); a reservation required and none (NOT_RESERVED); before saleStartsAt or with
-- stock left (NOT_SOLD_OUT). A paused drop that sold out takes joins. A fan at their
-- perUserLimit may queue: they are passed over while at it (_lib.lua hand_down).
-- The place is the drop's join counter (`waitlistSeq` in stats): the line is served in join
-- order. A refusal writes nothing.
--
-- Returns {'CREATED', position} | {'EXISTING', position}   position 1 = the next fan served
--       | {'ERR', code}
local fan = ARGV[1]
local d = redis.call('HMGET', KEYS[1], 'id', 'allocation', 'cancelled', 'saleStartsAt',
  'saleEndsAt', 'reservationRequired', 'audienceTier')
if not d[1] then return {'ERR', 'NOT_FOUND'} end
if not admits(d[7], ARGV[2]) then return {'ERR', 'MEMBERS_ONLY'} end
if d[2] == 'draw' then return {'ERR', 'DRAW_ONLY'} end
local rank = redis.call('ZRANK', KEYS[4], fan)
if rank then return {'EXISTING', rank + 1} end

local now = now_ms()
if d[3] == '1' then return {'ERR', 'SALE_ENDED'} end
if d[5] and d[5] ~= '' and now >= tonumber(d[5]) then return {'ERR', 'SALE_ENDED'} end
if d[6] == '1' and redis.call('HEXISTS', KEYS[3], fan) == 0 then
  return {'ERR', 'NOT_RESERVED'}
end
if now < tonumber(d[4]) or tonumber(redis.call('GET', KEYS[2]) or '0') > 0 then
  return {'ERR', 'NOT_SOLD_OUT'}
end

local place = redis.call('HINCRBY', KEYS[6], 'waitlistSeq', 1)
redis.call('ZADD', KEYS[4], place, fan)
local position = redis.call('ZRANK', KEYS[4], fan) + 1
emit(KEYS[5], 'waitlist.joined', now, {'dropId', d[1], 'fanId', fan, 'position', position})
return {'CREATED', position}
