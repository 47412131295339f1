-- restore_standing: puts back what a lost drop's fans stood on besides their orders, from the
-- stored truth (Inventory.rebuildDrop: after restore_orders, before mirror_drop restore, so no
-- fan meets the drop half rebuilt). One part per call; each part is safe to run twice (a second
-- run, two API instances rebuilding at once): nothing Redis already holds is overwritten.
--
-- KEYS[1] {d:ID}:res   KEYS[2] {d:ID}:draw   KEYS[3] {d:ID}:wl   KEYS[4] {d:ID}:fans
-- KEYS[5] {d:ID}:stats   KEYS[6] {d:ID}:sh   KEYS[7] {d:ID}:ref   KEYS[8] {d:ID}:groups
-- ARGV[1] the part:
--   'reservations' ARGV[2] reservedAt (ms since the drop's createdAt), ARGV[3..] fan ids: the
--                  fans whose reservation the stored truth proves (an order of a drop that
--                  takes reservations, a committed draw's entrants). HSETNX: a reservation
--                  made again since the loss keeps its own time.
--   'draw'         ARGV[2..] field, value pairs of the draw's record (sales.draws): written only
--                  when the drop has no draw record, so the first commitment stays the one.
--   'waitlist'     ARGV[2..] place, fanId pairs (a drawn draw's losers by rank); a fan with an
--                  order in the drop (a field in {d:ID}:fans) was served and is left out, as is
--                  one already in line. ZADD NX.
--   'sharers'      ARGV[2..] fan ids whose share an order proves (it has the share discount):
--                  SADD to the share record, so their next hold is priced as before.
--   'referrers'    ARGV[2..] fanId, referrerId pairs an order proves (it pays that referrer a
--                  reward): HSETNX, so the fan's next hold rewards the same referrer.
--   'group'        ARGV[2] group key prefix '{d:ID}:g:', ARGV[3] member set prefix '{d:ID}:gm:'
--                  (the drop's slot), ARGV[4] id, ARGV[5] dropId, ARGV[6] size, ARGV[7]
--                  startedAt, ARGV[8] expiresAt, ARGV[9] status (open, completing, complete,
--                  failed), ARGV[10] members, ARGV[11] paidMembers, ARGV[12] when it settled or
--                  began completing ('' for open), ARGV[13..] every order id that joined it.
--                  Written only when Redis has no such group. An open group goes back into
--                  {d:ID}:groups by its deadline and a completing one due now, so the group
--                  sweeper completes or fails each as it would have (complete and failed
--                  groups are done); the stats count it started, and completed or failed.
--   'lost'         ARGV[2] rebuiltAt (ms), ARGV[3] what could not be rebuilt (a comma list, ''
--                  for nothing): written into the stats hash, where the audit names it.
--
-- Every value is checked before the first write.
-- Returns {'OK', written} | {'ERR', 'BAD_RECORD'} (nothing written)
local GROUP_SETTLED_FIELD = {completing = 'completingAt', complete = 'completedAt',
  failed = 'failedAt'}
local DRAW_FIELDS = {seed = 'text', seedCommitment = 'text', entrants = 'int',
  entrantsDigest = 'text', winners = 'int', committedAt = 'time', waitApplied = 'int',
  winApplied = 'int', drawnAt = 'time'}
local part = ARGV[1]
local written = 0

if part == 'reservations' then
  if int_in(ARGV[2], 0, MAX_TIME_MS) == nil then return {'ERR', 'BAD_RECORD'} end
  for i = 3, #ARGV do
    if ARGV[i] == '' then return {'ERR', 'BAD_RECORD'} end
  end
  for i = 3, #ARGV do
    written = written + redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[2])
  end
elseif part == 'draw' then
  if (#ARGV - 1) % 2 ~= 0 then return {'ERR', 'BAD_RECORD'} end
  for i = 2, #ARGV, 2 do
    local kind = DRAW_FIELDS[ARGV[i]]
    if kind == nil or ARGV[i + 1] == '' then return {'ERR', 'BAD_RECORD'} end
    if kind == 'int' and int_in(ARGV[i + 1], 0, MAX_EXACT) == nil then
      return {'ERR', 'BAD_RECORD'}
    end
    if kind == 'time' and int_in(ARGV[i + 1], 0, MAX_TIME_MS) == nil then
      return {'ERR', 'BAD_RECORD'}
    end
  end
  if redis.call('EXISTS', KEYS[2]) == 0 then
    redis.call('HSET', KEYS[2], unpack(ARGV, 2))
    written = 1
  end
elseif part == 'waitlist' then
  if (#ARGV - 1) % 2 ~= 0 then return {'ERR', 'BAD_RECORD'} end
  for i = 2, #ARGV, 2 do
    if int_in(ARGV[i], 0, MAX_EXACT) == nil or ARGV[i + 1] == '' then
      return {'ERR', 'BAD_RECORD'}
    end
  end
  for i = 2, #ARGV, 2 do
    if redis.call('HEXISTS', KEYS[4], ARGV[i + 1]) == 0 then
      written = written + redis.call('ZADD', KEYS[3], 'NX', ARGV[i], ARGV[i + 1])
    end
  end
elseif part == 'sharers' then
  for i = 2, #ARGV do
    if ARGV[i] == '' then return {'ERR', 'BAD_RECORD'} end
  end
  for i = 2, #ARGV do written = written + redis.call('SADD', KEYS[6], ARGV[i]) end
elseif part == 'referrers' then
  if (#ARGV - 1) % 2 ~= 0 then return {'ERR', 'BAD_RECORD'} end
  for i = 2, #ARGV do
    if ARGV[i] == '' then return {'ERR', 'BAD_RECORD'} end
  end
  for i = 2, #ARGV, 2 do written = written + redis.call('HSETNX', KEYS[7], ARGV[i], ARGV[i + 1]) end
elseif part == 'group' then
  local status = ARGV[9]
  local size = int_in(ARGV[6], 2, 50)
  local members = int_in(ARGV[10], 0, MAX_EXACT)
  local paid = int_in(ARGV[11], 0, MAX_EXACT)
  if #ARGV < 13 or ARGV[2] == '' or ARGV[3] == '' or ARGV[4] == '' or ARGV[5] == ''
    or size == nil or members == nil or paid == nil or paid > members
    or int_in(ARGV[7], 0, MAX_TIME_MS) == nil or int_in(ARGV[8], 0, MAX_TIME_MS) == nil
    or not (status == 'open' or GROUP_SETTLED_FIELD[status])
    or (status == 'open') ~= (ARGV[12] == '') or not time_ok(ARGV[12]) then
    return {'ERR', 'BAD_RECORD'}
  end
  for i = 13, #ARGV do
    if ARGV[i] == '' then return {'ERR', 'BAD_RECORD'} end
  end
  local key = ARGV[2] .. ARGV[4]
  if redis.call('EXISTS', key) == 0 then
    redis.call('HSET', key, 'id', ARGV[4], 'dropId', ARGV[5], 'size', size, 'startedAt', ARGV[7],
      'expiresAt', ARGV[8], 'status', status, 'members', members, 'paidMembers', paid)
    if status ~= 'open' then redis.call('HSET', key, GROUP_SETTLED_FIELD[status], ARGV[12]) end
    redis.call('SADD', ARGV[3] .. ARGV[4], unpack(ARGV, 13))
    if status == 'open' then
      redis.call('ZADD', KEYS[8], tonumber(ARGV[8]), ARGV[4])
    elseif status == 'completing' then
      redis.call('ZADD', KEYS[8], now_ms(), ARGV[4])
    end
    redis.call('HINCRBY', KEYS[5], 'groupsStarted', 1)
    if status == 'complete' then redis.call('HINCRBY', KEYS[5], 'groupsCompleted', 1) end
    if status == 'failed' then redis.call('HINCRBY', KEYS[5], 'groupsFailed', 1) end
    written = 1
  end
elseif part == 'lost' then
  if int_in(ARGV[2], 0, MAX_TIME_MS) == nil or ARGV[3] == nil then return {'ERR', 'BAD_RECORD'} end
  redis.call('HSET', KEYS[5], 'rebuiltAt', ARGV[2], 'rebuiltLost', ARGV[3])
  written = 1
else
  return {'ERR', 'BAD_RECORD'}
end
return {'OK', written}
