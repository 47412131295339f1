-- bucket_settle: ends one grab's tokens in transit (bucket_take), once: 'spent' (the grab made
-- its hold, or the drop had no stock for it: the tokens are gone) or 'returned' (the grab was
-- refused for another reason, or never reached the drop: the tokens go back to the bucket).
--
-- KEYS[1] {d:ID:b<k>}:tokens   KEYS[2] {d:ID:b<k>}:taken
-- ARGV[1] quantity   ARGV[2] orderId   ARGV[3] 'spent' | 'returned'
--
-- The ZREM is the guard: the grab's caller and the bucket sweep may both settle the same
-- tokens (the caller late, the sweep after its grace); only the first moves anything.
--
-- Returns {1} when settled now | {0} when settled before.
if redis.call('ZREM', KEYS[2], ARGV[1] .. '|' .. ARGV[2]) == 0 then return {0} end
if ARGV[3] == 'returned' then redis.call('INCRBY', KEYS[1], ARGV[1]) end
return {1}
