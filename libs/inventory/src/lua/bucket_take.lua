-- bucket_take: a grab of a drop split into buckets takes its quantity of admission tokens from
-- one bucket (buckets.ts), before it goes to the drop's own slot. All or nothing: a bucket with
-- fewer tokens than asked gives none (the caller tries the next bucket).
--
-- KEYS[1] {d:ID:b<k>}:tokens  string, tokens left in the bucket
-- KEYS[2] {d:ID:b<k>}:taken   zset, '<quantity>|<orderId>' -> when taken (ms): the tokens in
--                             transit, settled by bucket_settle (the grab's caller, or the
--                             bucket sweep for a caller that died in between)
-- ARGV[1] quantity (1..100)   ARGV[2] orderId (the id the grab will give its order)
--
-- A token is not a unit: the drop's stock (grab.lua, in the drop's slot) decides every hold, so
-- a token given out twice can cost a refusal, never a unit sold twice. What tokens buy is that
-- a grab finding every bucket empty is answered without touching the drop's slot.
--
-- Run twice (a re-sent command whose reply was lost), it finds its own entry and takes nothing
-- again.
--
-- A bucket always has its tokens key once issued (0 when empty), so a missing one was lost
-- (its primary failed over before the replica had it): nothing can be said from it, and the
-- caller leaves the grab to the drop's stock until the sweep issues the bucket again.
--
-- Returns {1, left} when taken | {0, left, in_transit, lost} when the bucket has fewer than
-- ARGV[1] (in_transit: how many grabs hold tokens of this bucket now; they may give them back;
-- lost: 1 when the bucket has no tokens key at all).
local qty = int_in(ARGV[1], 1, 100)
if qty == nil then return {0, 0, 0, 0} end
local raw = redis.call('GET', KEYS[1])
if not raw then return {0, 0, redis.call('ZCARD', KEYS[2]), 1} end
local left = int_in(raw, -MAX_EXACT, MAX_EXACT) or 0
local entry = qty .. '|' .. ARGV[2]
if redis.call('ZSCORE', KEYS[2], entry) then return {1, left} end
if left < qty then return {0, left, redis.call('ZCARD', KEYS[2]), 0} end
left = redis.call('DECRBY', KEYS[1], qty)
redis.call('ZADD', KEYS[2], now_ms(), entry)
return {1, left}
