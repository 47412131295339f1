-- count_refusals: adds a batch of grab refusals counted by one API process (Inventory's
-- RefusalTally) to the drop's counters, and announces them as one grab.rejected per code.
-- grab.lua itself writes nothing for a refusal (see its header): in a rush of 240,000 fans for
-- 50,000 units, that is 190,000 writes, AOF appends and events fewer.
--
-- KEYS[1] {d:ID}:drop   KEYS[2] {d:ID}:events   KEYS[3] {d:ID}:stats
-- KEYS[4] {d:ID}:rcpt:<batchId>   the batch's receipt (_lib first_run): a batch sent again
--                                 (its reply lost, or retried by the tally) is counted once
-- ARGV: code, count, code, count, ...   (count >= 1)
-- Returns {'OK', revived (1: the drop was retired, see revive(); always 1 on a second run)}
--       | {'ERR', 'NOT_FOUND'} | {'ERR', 'BAD_RECORD'} (a malformed batch: nothing written)
local id = redis.call('HGET', KEYS[1], 'id')
if not id then return {'ERR', 'NOT_FOUND'} end
if #ARGV % 2 ~= 0 then return {'ERR', 'BAD_RECORD'} end
for i = 1, #ARGV, 2 do
  if not string.match(ARGV[i], '^[A-Z_]+$') or int_in(ARGV[i + 1], 1, MAX_EXACT) == nil then
    return {'ERR', 'BAD_RECORD'}
  end
end
-- A second run: the first may have revived the drop with its reply lost, so say revived.
if not first_run(KEYS[4]) then return {'OK', 1} end
local now = now_ms()
local total = 0
for i = 1, #ARGV, 2 do
  local code, n = ARGV[i], tonumber(ARGV[i + 1])
  redis.call('HINCRBY', KEYS[3], 'rej:' .. code, n)
  total = total + n
  emit(KEYS[2], 'grab.rejected', now, {'dropId', id, 'code', code, 'count', n})
end
redis.call('HINCRBY', KEYS[3], 'attempts', total)
return {'OK', revive(KEYS[1])}
