-- sync_phase: the lifecycle scheduler's step. Computes the drop's phase now and, when it
-- differs from the last phase announced, records it and emits drop.phase_changed. Compare and
-- set in one script, so two schedulers never announce one change twice.
--
-- KEYS[1] {d:ID}:drop   KEYS[2] {d:ID}:stock   KEYS[3] {d:ID}:events   KEYS[4] {d:ID}:parked
-- Also answers how many released units wait in the parked list (a pause's), so the scheduler
-- hands them down once the drop is no longer paused (hand_down_parked.lua).
-- Returns {'OK', phase, changed (1|0), parked} | {'ERR', 'NOT_FOUND'}
--       | {'ERR', 'BAD_RECORD'} (the drop's hash fails its check; nothing written)
local flat = redis.call('HGETALL', KEYS[1])
if #flat == 0 then return {'ERR', 'NOT_FOUND'} end
local d = {}
for i = 1, #flat, 2 do d[flat[i]] = flat[i + 1] end
local stock = tonumber(redis.call('GET', KEYS[2]) or '0')
if not drop_ok(d) or stock == nil then return {'ERR', 'BAD_RECORD'} end
local now = now_ms()
local phase = phase_of(d, stock, now)
local parked = redis.call('LLEN', KEYS[4])
if d.phase == phase then return {'OK', phase, 0, parked} end
redis.call('HSET', KEYS[1], 'phase', phase)
emit(KEYS[3], 'drop.phase_changed', now, {'dropId', d.id, 'phase', phase})
return {'OK', phase, 1, parked}
