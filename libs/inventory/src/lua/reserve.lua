-- reserve: a fan reserves a drop (idempotent per fan).
--
-- KEYS[1] {d:ID}:drop   KEYS[2] {d:ID}:res   KEYS[3] {d:ID}:events   KEYS[4] {d:ID}:stats
-- KEYS[5] {d:ID}:ref (referred reservations: fanId -> referrerId)
-- ARGV[1] fanId   ARGV[2] referrerId ('' when none)   ARGV[3] the fan's tier ('' when none)
--
-- A members-only drop refuses a fan not of its audienceTier (MEMBERS_ONLY) before anything else,
-- a repeat of a reservation included: the tier is the token's, now.
--
-- A reservation is one field of the hash {d:ID}:res: fanId -> milliseconds since the drop's
-- `createdAt` (short, so a reservation costs < 100 bytes of Redis). A fan who already reserved
-- gets the same reservedAt back, whatever the window says now (and keeps their first referrer).
-- A referred reservation also writes fanId -> referrerId in KEYS[5], in this same step, and
-- only then: fans without a referrer (most) cost nothing more, and the steps that make holds
-- read the referrer from there for the referral reward (_lib.lua referral).
-- The window: reservationOpensAt <= now < reservationClosesAt (a drop without a window takes
-- reservations until its sale ends). referrerId (not the fan itself) counts as a referral.
--
-- Events: a referred reservation is announced on its own (reservation.created: analytics counts
-- referrals per referrer). A reservation without a referrer is only counted, in `resPending` of
-- the drop's stats hash, in this same script; count_reservations.lua later announces the
-- pending count as one reservation.counted event. So every reservation is announced exactly
-- once in effect, and the phone's 1.3 M reservations do not each travel relay -> Kafka ->
-- analytics (they were most of the stack's CPU after the answer).
--
-- A second run of the same call finds the reservation: EXISTING with the same reservedAt.
--
-- Returns {'CREATED', reservedAtMs} | {'EXISTING', reservedAtMs}
--       | {'ERR', 'NOT_FOUND' | 'MEMBERS_ONLY' | 'RESERVATION_NOT_OPEN' | 'RESERVATION_CLOSED'}
--       | {'ERR', 'BAD_RECORD'} (the drop's hash fails its check; nothing written)
local fan = ARGV[1]
local d = redis.call('HMGET', KEYS[1], 'id', 'createdAt', 'reservationOpensAt',
  'reservationClosesAt', 'saleEndsAt', 'cancelled', 'audienceTier')
if not d[1] then return {'ERR', 'NOT_FOUND'} end
if not admits(d[7], ARGV[3]) then return {'ERR', 'MEMBERS_ONLY'} end
local created_at = int_in(d[2], 0, MAX_TIME_MS)
for i = 3, 5 do
  if not time_ok(d[i]) then return {'ERR', 'BAD_RECORD'} end
  if d[i] == false then d[i] = '' end
end
if created_at == nil or (d[3] ~= '' and d[4] == '') then return {'ERR', 'BAD_RECORD'} end

local offset = redis.call('HGET', KEYS[2], fan)
if offset then return {'EXISTING', created_at + (tonumber(offset) or 0)} end

local now = now_ms()
if d[6] == '1' then return {'ERR', 'RESERVATION_CLOSED'} end
if d[3] ~= '' then
  if now < tonumber(d[3]) then return {'ERR', 'RESERVATION_NOT_OPEN'} end
  if now >= tonumber(d[4]) then return {'ERR', 'RESERVATION_CLOSED'} end
elseif d[5] ~= '' and now >= tonumber(d[5]) then
  return {'ERR', 'RESERVATION_CLOSED'}
end

redis.call('HSET', KEYS[2], fan, now - created_at)
if ARGV[2] ~= '' and ARGV[2] ~= fan then
  redis.call('HSET', KEYS[5], fan, ARGV[2])
  redis.call('HINCRBY', KEYS[4], 'referrals', 1)
  emit(KEYS[3], 'reservation.created', now, {'dropId', d[1], 'fanId', fan, 'referrerId', ARGV[2]})
else
  redis.call('HINCRBY', KEYS[4], 'resPending', 1)
end
return {'CREATED', now}
