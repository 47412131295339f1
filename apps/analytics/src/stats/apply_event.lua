-- apply_event: applies one event to a drop's analytics, exactly once, in one atomic step: the
-- duplicate check and every counter change happen with no other script in between, so an
-- event delivered twice (a relay re-send, a consumer restarted before its offset commit)
-- changes the counters once, and a crash can never leave the check done but the counters not.
--
-- KEYS[1] stats hash     ({d:ID}:a:stats; for wallet.credited: {a:wallet}:stats)
-- KEYS[2] channels hash  ({d:ID}:a:channels)   channel -> shares
-- KEYS[3] referrers zset ({d:ID}:a:referrers)  referrerId -> referrals
-- KEYS[4] seconds hash   ({d:ID}:a:sec)        'g<epoch s>' -> units grabbed, 'p<epoch s>' -> paid
-- KEYS[5] watermark hash ({d:ID}:a:wm)         topic -> last applied stream entry id
-- KEYS[6] seen key       ({d:ID}:a:seen:<eventId>), only for events that are not from a stream
--
-- ARGV[1] dedupe mode: 'wm' (Redis-stream events: ids grow per drop and topic, and the relay
--         sends them in order) or 'seen' (other events, e.g. the wallet's outbox: uuid ids)
-- ARGV[2] wm: the watermark field (the topic); seen: TTL seconds of the seen key
-- ARGV[3] wm: the stream entry id 'ms-seq'
-- ARGV[4] type   ARGV[5] occurredAt ms
-- ARGV[6] quantity (grab.rejected: its count)   ARGV[7] amountMinor   ARGV[8] remaining ('' when the event has none)
-- ARGV[9] text: code | channel | referrerId ('' = none) | brandId | phase
-- ARGV[10] priceMinor   ARGV[11] currency
--
-- Returns 1 when applied, 0 when it was a duplicate.
local mode = ARGV[1]
if mode == 'wm' then
  local ms, seq = string.match(ARGV[3], '^(%d+)%-(%d+)$')
  ms, seq = tonumber(ms), tonumber(seq)
  local last = redis.call('HGET', KEYS[5], ARGV[2])
  if last then
    local lms, lseq = string.match(last, '^(%d+)%-(%d+)$')
    lms, lseq = tonumber(lms), tonumber(lseq)
    if ms < lms or (ms == lms and seq <= lseq) then return 0 end
  end
  redis.call('HSET', KEYS[5], ARGV[2], ARGV[3])
else
  if not redis.call('SET', KEYS[6], '1', 'NX', 'EX', ARGV[2]) then return 0 end
end

local S = KEYS[1]
local etype = ARGV[4]
local at = ARGV[5]
local q = tonumber(ARGV[6]) or 0
local amount = tonumber(ARGV[7]) or 0
local text = ARGV[9]
local second = math.floor(tonumber(at) / 1000)

local function set_remaining()
  if ARGV[8] ~= '' then redis.call('HSET', S, 'remaining', ARGV[8]) end
end

if etype == 'drop.created' or etype == 'drop.updated' then
  redis.call('HSET', S, 'quantity', q, 'brandId', text, 'priceMinor', ARGV[10],
    'currency', ARGV[11])
elseif etype == 'drop.phase_changed' then
  redis.call('HSET', S, 'phase', text)
elseif etype == 'drop.paused' then
  redis.call('HSET', S, 'paused', 1)
elseif etype == 'drop.resumed' then
  redis.call('HSET', S, 'paused', 0)
elseif etype == 'drop.cancelled' then
  redis.call('HSET', S, 'phase', 'cancelled')
elseif etype == 'reservation.created' then
  redis.call('HINCRBY', S, 'reservations', 1)
  if text ~= '' then
    redis.call('HINCRBY', S, 'referrals', 1)
    redis.call('ZINCRBY', KEYS[3], 1, text)
  end
elseif etype == 'share.recorded' then
  redis.call('HINCRBY', S, 'shares', 1)
  redis.call('HINCRBY', KEYS[2], text, 1)
elseif etype == 'grab.accepted' then
  redis.call('HINCRBY', S, 'grabAttempts', 1)
  redis.call('HINCRBY', S, 'accepted', 1)
  redis.call('HINCRBY', S, 'held', q)
  redis.call('HSETNX', S, 'firstSaleAt', at)
  if ARGV[8] == '0' then redis.call('HSETNX', S, 'soldOutAt', at) end
  redis.call('HINCRBY', KEYS[4], 'g' .. second, q)
  set_remaining()
elseif etype == 'grab.rejected' then
  -- v2: q refusals of one code, counted together by the API (ARGV[6] carries the count)
  redis.call('HINCRBY', S, 'grabAttempts', q)
  redis.call('HINCRBY', S, 'rej:' .. text, q)
elseif etype == 'hold.expired' then
  redis.call('HINCRBY', S, 'held', -q)
  redis.call('HINCRBY', S, 'expired', q)
  set_remaining()
elseif etype == 'hold.cancelled' then
  redis.call('HINCRBY', S, 'held', -q)
  redis.call('HINCRBY', S, 'cancelled', q)
  set_remaining()
elseif etype == 'order.paid' then
  redis.call('HINCRBY', S, 'held', -q)
  redis.call('HINCRBY', S, 'paid', q)
  redis.call('HINCRBY', S, 'paidOrders', 1)
  redis.call('HINCRBY', S, 'revenueMinor', amount)
  redis.call('HINCRBY', KEYS[4], 'p' .. second, q)
elseif etype == 'wallet.debited' then
  redis.call('HINCRBY', S, 'walletDebits', 1)
  redis.call('HINCRBY', S, 'walletDebitedMinor', amount)
elseif etype == 'wallet.credited' then
  redis.call('HINCRBY', S, 'credits', 1)
  redis.call('HINCRBY', S, 'creditedMinor', amount)
end
redis.call('HSET', S, 'lastEventAt', at)
return 1
