-- view_drop: everything the API shows about a drop, read in one consistent step.
--
-- KEYS[1] {d:ID}:drop   KEYS[2] {d:ID}:stock   KEYS[3] {d:ID}:res
-- Returns {'OK', now, phase, stock, reservations, field, value, ...} | {'ERR', 'NOT_FOUND'}
--       | {'ERR', 'BAD_RECORD', field, value, ...} (the hash fails its check: no phase can be
--         computed from it; the caller repairs it from PostgreSQL)
--   now: Redis TIME in ms (the sale clock); phase: see _lib.lua phase_of; stock: units left
--   (never below 0); reservations: count; then the mirrored definition (HGETALL).
local flat = redis.call('HGETALL', KEYS[1])
if #flat == 0 then return {'ERR', 'NOT_FOUND'} end
local d = {}
for i = 1, #flat, 2 do d[flat[i]] = flat[i + 1] end
local stock = tonumber(redis.call('GET', KEYS[2]) or '0')
if not drop_ok(d) or stock == nil then return {'ERR', 'BAD_RECORD', unpack(flat)} end
local now = now_ms()
local reply = {'OK', now, phase_of(d, stock, now), stock, redis.call('HLEN', KEYS[3])}
for i = 1, #flat do reply[#reply + 1] = flat[i] end
return reply
