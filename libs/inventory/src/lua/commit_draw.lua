-- commit_draw: a draw drop's seed, drawn by the worker with crypto randomness once reservations
-- have closed, is committed here together with the frozen entrants' count and digest. The first
-- commitment is final: a second call (a retry, a second worker) changes nothing and answers the
-- stored one, so a draw has exactly one seed and so exactly one result (DESIGN.md invariant 8).
-- The seed stays secret in `{d:ID}:draw` until the draw is done (finish_draw.lua).
--
-- KEYS[1] {d:ID}:drop   KEYS[2] {d:ID}:draw   KEYS[3] {d:ID}:events
-- ARGV[1] seed   ARGV[2] seedCommitment (lower-case hex SHA-256 of the seed's UTF-8)
-- ARGV[3] entrants (count)   ARGV[4] entrantsDigest
--
-- Refused: NOT_FOUND (no drop), NOT_A_DRAW (a first-come drop), CANCELLED, NOT_CLOSED (before
-- reservationClosesAt by Redis TIME: a reservation could still change the entrants).
-- The winners' count is fixed here: min(quantity, entrants).
-- Returns {'CREATED' | 'EXISTING', seedCommitment, entrants, entrantsDigest, winners}
--       | {'ERR', code}
local d = redis.call('HMGET', KEYS[1], 'id', 'allocation', 'cancelled', 'reservationClosesAt',
  'quantity')
if not d[1] then return {'ERR', 'NOT_FOUND'} end
if d[2] ~= 'draw' then return {'ERR', 'NOT_A_DRAW'} end
local c = redis.call('HMGET', KEYS[2], 'seedCommitment', 'entrants', 'entrantsDigest', 'winners')
if c[1] then return {'EXISTING', c[1], c[2], c[3], c[4]} end
if d[3] == '1' then return {'ERR', 'CANCELLED'} end
local now = now_ms()
if now < tonumber(d[4]) then return {'ERR', 'NOT_CLOSED'} end
local entrants = tonumber(ARGV[3])
local winners = math.min(tonumber(d[5]), entrants)
redis.call('HSET', KEYS[2], 'seed', ARGV[1], 'seedCommitment', ARGV[2], 'entrants', entrants,
  'entrantsDigest', ARGV[4], 'winners', winners, 'committedAt', now, 'waitApplied', 0,
  'winApplied', 0)
emit(KEYS[3], 'draw.committed', now, {'dropId', d[1], 'seedCommitment', ARGV[2],
  'entrants', entrants, 'entrantsDigest', ARGV[4]})
return {'CREATED', ARGV[2], entrants, ARGV[4], winners}
