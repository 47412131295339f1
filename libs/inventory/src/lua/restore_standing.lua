-- restore_standing: puts back what a lost drop's fans stood on besides their orders, from the
-- stored truth (Inventory.rebuildDrop: after restore_orders, before mirror_drop restore, so no
-- fan meets the drop half rebuilt). One part per call; each part is safe to run twice (a second
-- run, two API instances rebuilding at once): nothing Redis already holds is overwritten.
--
-- KEYS[1] {d:ID}:res   KEYS[2] {d:ID}:draw   KEYS[3] {d:ID}:wl   KEYS[4] {d:ID}:fans
-- KEYS[5] {d:ID}:stats
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
--   'lost'         ARGV[2] rebuiltAt (ms), ARGV[3] what could not be rebuilt (a comma list, ''
--                  for nothing): written into the stats hash, where the audit names it.
--
-- Every value is checked before the first write.
-- Returns {'OK', written} | {'ERR', 'BAD_RECORD'} (nothing written)
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
elseif part == 'lost' then
  if int_in(ARGV[2], 0, MAX_TIME_MS) == nil or ARGV[3] == nil then return {'ERR', 'BAD_RECORD'} end
  redis.call('HSET', KEYS[5], 'rebuiltAt', ARGV[2], 'rebuiltLost', ARGV[3])
  written = 1
else
  return {'ERR', 'BAD_RECORD'}
end
return {'OK', written}
