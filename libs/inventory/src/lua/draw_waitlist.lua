-- draw_waitlist: one step of a draw: puts a run of the shuffle's losers in line, in shuffled
-- order (API.md "Fair launch"). The draw's first `winners` ranks win; ranks winners..entrants-1
-- are the waitlist, placed by rank (the waitlist's score), so the line serves them in order.
-- Steps are idempotent: `waitApplied` in `{d:ID}:draw` counts the losers placed so far, a step
-- that starts below it skips what is done (a worker restarted mid-draw repeats steps safely),
-- one that starts beyond it is refused. The line is built before any winner's hold exists, so
-- no released unit can pass down a line that is still being built.
--
-- KEYS[1] {d:ID}:draw   KEYS[2] {d:ID}:wl   KEYS[3] {d:ID}:events   KEYS[4] {d:ID}:drop
-- ARGV[1] fromRank (the shuffle position of ARGV[2])   ARGV[2..] fan ids, in shuffled order
--
-- Returns {'OK', waitApplied} | {'ERR', 'NOT_COMMITTED' | 'GAP' | 'DRAWN'}
local c = redis.call('HMGET', KEYS[1], 'seedCommitment', 'winners', 'waitApplied', 'drawnAt')
if not c[1] then return {'ERR', 'NOT_COMMITTED'} end
if c[4] then return {'ERR', 'DRAWN'} end
local winners, applied = tonumber(c[2]), tonumber(c[3])
local from = tonumber(ARGV[1])
local next_rank = winners + applied
if from > next_rank then return {'ERR', 'GAP'} end
local first = next_rank - from + 2 -- the ARGV index of the first fan not yet placed
local batch, placed = {}, 0
for i = first, #ARGV do
  batch[#batch + 1] = from + i - 2
  batch[#batch + 1] = ARGV[i]
  placed = placed + 1
  -- unpack() of a long list would overflow Lua's C stack: ZADD in chunks
  if #batch >= 2000 then
    redis.call('ZADD', KEYS[2], unpack(batch))
    batch = {}
  end
end
if #batch > 0 then redis.call('ZADD', KEYS[2], unpack(batch)) end
if placed == 0 then return {'OK', applied} end
redis.call('HSET', KEYS[1], 'waitApplied', applied + placed)
local drop_id = redis.call('HGET', KEYS[4], 'id')
emit(KEYS[3], 'draw.waitlisted', now_ms(), {'dropId', drop_id, 'count', placed,
  'fromRank', next_rank})
return {'OK', applied + placed}
