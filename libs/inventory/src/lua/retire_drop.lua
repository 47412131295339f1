-- retire_drop: takes a finished drop out of the work of the background loops (the active
-- index, Inventory.activeDropIds), once nothing can need it: its phase is final (ended or
-- cancelled: no grab, hold or reservation can happen again), it holds nothing (no hold to
-- expire, no payment to recover), and every registered consumer group has read and
-- acknowledged every entry of its outbox stream (nothing left to relay or to persist). Then
-- the acknowledged entries are deleted and the drop is flagged `retired`; a later event on it
-- (a share, a refusal count, a pause) clears the flag and its caller re-activates it
-- (revive() in _lib.lua).
--
-- KEYS[1] {d:ID}:drop   KEYS[2] {d:ID}:stock   KEYS[3] {d:ID}:holds   KEYS[4] {d:ID}:events
-- KEYS[5] {d:ID}:stats (reservations not yet announced, `resPending`, count as unread work)
-- KEYS[6] {d:ID}:parked (units a pause parked wait for the scheduler's hand-down: work too)
-- KEYS[7] {d:ID}:draw (a draw drop not yet drawn still has its draw to run: work too. A draw
--   paused past saleEndsAt runs when the sale resumes, and its winners' holds must be on a
--   drop the loops walk: the draw scripts write no revive, so the drop must never leave)
-- KEYS[8] {d:ID}:refunding (refunds under way: the refund recovery may still have to finish them)
-- ARGV[1] 'check' (answer only) | 'retire'
-- ARGV[2..] the consumer groups that must have read everything (OutboxStreamGroups)
--
-- Returns {'RETIRED'} (retire) | {'READY'} (check) | {'OPEN', phase} | {'HOLDING'} | {'UNDRAWN'}
--       | {'UNREAD', group} | {'UNCOUNTED'} | {'NOT_FOUND'}
local flat = redis.call('HGETALL', KEYS[1])
if #flat == 0 then return {'NOT_FOUND'} end
local d = {}
for i = 1, #flat, 2 do d[flat[i]] = flat[i + 1] end
local now = now_ms()
local phase = phase_of(d, tonumber(redis.call('GET', KEYS[2]) or '0'), now)
if phase ~= 'ended' and phase ~= 'cancelled' then return {'OPEN', phase} end
-- Unfinished groups (group buy: open, completing or failing) are work too: the group sweeper
-- must still complete or fail them, whatever the sale's phase.
if redis.call('ZCARD', KEYS[3]) > 0 or redis.call('LLEN', KEYS[6]) > 0
  or redis.call('ZCARD', KEYS[8]) > 0 or redis.call('ZCARD', group_keys(KEYS[1]).groups) > 0 then
  return {'HOLDING'}
end
if tonumber(redis.call('HGET', KEYS[5], 'resPending') or '0') > 0 then return {'UNCOUNTED'} end
if phase ~= 'cancelled' and d.allocation == 'draw' and not redis.call('HGET', KEYS[7], 'drawnAt') then
  return {'UNDRAWN'}
end

-- A flat XINFO answer {name, value, ...} as a table.
local function fields_of(list)
  local t = {}
  for i = 1, #list, 2 do t[list[i]] = list[i + 1] end
  return t
end

if redis.call('EXISTS', KEYS[4]) == 1 then
  local last = fields_of(redis.call('XINFO', 'STREAM', KEYS[4]))['last-generated-id']
  local groups = {}
  for _, g in ipairs(redis.call('XINFO', 'GROUPS', KEYS[4])) do
    local info = fields_of(g)
    groups[info['name']] = info
  end
  for i = 2, #ARGV do
    local g = groups[ARGV[i]]
    if g == nil or tonumber(g['pending']) > 0 or g['last-delivered-id'] ~= last then
      return {'UNREAD', ARGV[i]}
    end
  end
end
if ARGV[1] == 'check' then return {'READY'} end
redis.call('XTRIM', KEYS[4], 'MAXLEN', 0)
redis.call('HSET', KEYS[1], 'retired', '1')
return {'RETIRED'}
