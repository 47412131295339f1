-- apply_event: applies a batch of events of ONE drop (or of no drop: wallet credits) to its
-- analytics, each exactly once, in one atomic step: every duplicate check and every counter
-- change of the batch happen with no other script in between, so an event delivered twice (a
-- relay re-send, a consumer restarted before its offset commit, the same event twice in one
-- batch) changes the counters once, and a crash can never leave a check done but its counters
-- not. One call per batch instead of one per event: the counters of the whole batch are summed
-- here and written once per field at the end (a rush's 500 grabs: a dozen writes, not 3,000).
--
-- KEYS[1] stats hash     ({d:ID}:a:stats; for wallet.credited: {a:wallet}:stats)
-- KEYS[2] channels hash  ({d:ID}:a:channels)   channel -> shares
-- KEYS[3] referrers zset ({d:ID}:a:referrers)  referrerId -> referrals
-- KEYS[4] seconds hash   ({d:ID}:a:sec)        'g<epoch s>' -> units grabbed, 'p<epoch s>' -> paid
-- KEYS[5] watermark hash ({d:ID}:a:wm)         topic -> last applied stream entry id
-- KEYS[6...] seen keys   ({d:ID}:a:seen:<eventId>), one per 'seen' event, in event order
--
-- ARGV: FIELDS (12) values per event, events in delivery order:
--   +1 dedupe mode: 'wm' (Redis-stream events: ids grow per drop and topic, and the relay sends
--      them in order) or 'seen' (other events, e.g. the wallet's outbox: uuid ids)
--   +2 wm: the watermark field (the topic); seen: TTL seconds of the seen key
--   +3 wm: the stream entry id 'ms-seq'
--   +4 type   +5 occurredAt ms   +6 quantity (grab.rejected, reservation.counted,
--      draw.waitlisted: the count; draw.committed: the entrants)   +7 amountMinor
--   +8 remaining ('' when the event has none)
--   +9 text: code | channel | referrerId ('' = none) | brandId | phase
--   +10 priceMinor (drop events) | escrowMinor (order.paid / order.refunded of a group member:
--       what left the drop's escrow; 0 = none)   +11 currency   +12 rewardMinor (order.paid, order.refunded; 0 = none)
--
-- Every number an event carries is checked before the first write (Redis does not roll a
-- script back, and a seen-key written before a failing HINCRBY would make the event's
-- redelivery a "duplicate" that is never counted): an event that fails the check is left out
-- of the batch, counted as invalid, and the rest is applied. A second run of the same batch
-- finds every event already applied (the watermarks, the seen-keys).
--
-- Returns {applied, duplicates, invalid}.
local FIELDS = 12
local S = KEYS[1]

-- Writes of the batch, summed and applied once at the end. A field is either counted
-- (hincrby) or set (hset/hsetnx) by the branches below, never both, so the order in which the
-- three kinds are flushed does not matter.
local counts, count_order = {}, {}
local function hincrby(key, field, n)
  local by_key = counts[key]
  if not by_key then
    by_key = {}
    counts[key] = by_key
    count_order[#count_order + 1] = key
  end
  by_key[field] = (by_key[field] or 0) + n
end
local sets, set_order = {}, {}
local function hset(key, field, value)
  local by_key = sets[key]
  if not by_key then
    by_key = {}
    sets[key] = by_key
    set_order[#set_order + 1] = key
  end
  by_key[field] = value
end
local firsts = {}
local function hsetnx(key, field, value)
  local slot = key .. '\0' .. field
  if not firsts[slot] then
    firsts[slot] = true
    firsts[#firsts + 1] = {key, field, value}
  end
end
local zcounts, z_order = {}, {}
local function zincrby(member, n)
  if not zcounts[member] then z_order[#z_order + 1] = member end
  zcounts[member] = (zcounts[member] or 0) + n
end

-- One event's changes, by type. Each branch stands alone.
local function apply_one(etype, at, q, amount, remaining, text, price, currency, reward)
  local second = math.floor(tonumber(at) / 1000)
  local function set_remaining()
    if remaining ~= '' then hset(S, 'remaining', remaining) end
  end

  if etype == 'drop.created' or etype == 'drop.updated' then
    hset(S, 'quantity', q)
    hset(S, 'brandId', text)
    hset(S, 'priceMinor', price)
    hset(S, 'currency', currency)
  elseif etype == 'drop.phase_changed' then
    hset(S, 'phase', text)
  elseif etype == 'drop.paused' then
    hset(S, 'paused', 1)
  elseif etype == 'drop.resumed' then
    hset(S, 'paused', 0)
  elseif etype == 'drop.cancelled' then
    hset(S, 'phase', 'cancelled')
  elseif etype == 'reservation.created' then
    hincrby(S, 'reservations', 1)
    if text ~= '' then
      hincrby(S, 'referrals', 1)
      zincrby(text, 1)
    end
  elseif etype == 'reservation.counted' then
    -- q reservations without a referrer, counted together by the sale (its quantity field
    -- carries the count)
    hincrby(S, 'reservations', q)
  elseif etype == 'share.recorded' then
    hincrby(S, 'shares', 1)
    hincrby(KEYS[2], text, 1)
  elseif etype == 'grab.accepted' then
    hincrby(S, 'grabAttempts', 1)
    hincrby(S, 'accepted', 1)
    hincrby(S, 'held', q)
    hsetnx(S, 'firstSaleAt', at)
    if remaining == '0' then hsetnx(S, 'soldOutAt', at) end
    hincrby(KEYS[4], 'g' .. second, q)
    set_remaining()
  elseif etype == 'grab.rejected' then
    -- v2: q refusals of one code, counted together by the API (its quantity field carries the count)
    hincrby(S, 'grabAttempts', q)
    hincrby(S, 'rej:' .. text, q)
  elseif etype == 'hold.expired' then
    hincrby(S, 'held', -q)
    hincrby(S, 'expired', q)
    set_remaining()
  elseif etype == 'hold.cancelled' then
    hincrby(S, 'held', -q)
    hincrby(S, 'cancelled', q)
    set_remaining()
  elseif etype == 'waitlist.joined' then
    hincrby(S, 'waitlisted', 1)
    hincrby(S, 'waitlistJoined', 1)
  elseif etype == 'hold.backfilled' then
    -- a unit passed to the next fan in line, who leaves the line
    hincrby(S, 'held', q)
    hincrby(S, 'backfilled', q)
    hincrby(S, 'waitlisted', -1)
    set_remaining()
  elseif etype == 'units.unparked' then
    set_remaining()
  elseif etype == 'draw.committed' then
    -- its quantity field carries the entrants' count
    hset(S, 'entrants', q)
  elseif etype == 'draw.won' then
    hincrby(S, 'held', q)
    hincrby(S, 'winners', 1)
    hsetnx(S, 'firstSaleAt', at)
    if remaining == '0' then hsetnx(S, 'soldOutAt', at) end
    hincrby(KEYS[4], 'g' .. second, q)
    set_remaining()
  elseif etype == 'draw.waitlisted' then
    -- its quantity field carries the count of fans put in line
    hincrby(S, 'waitlisted', q)
  elseif etype == 'draw.completed' then
    hset(S, 'drawnAt', at)
  elseif etype == 'order.grouped' then
    -- group buy: paid into the drop's escrow, waiting for the group
    hincrby(S, 'held', -q)
    hincrby(S, 'grouped', q)
    hincrby(S, 'escrowMinor', amount)
  elseif etype == 'group.completed' then
    hincrby(S, 'groupsCompleted', 1)
  elseif etype == 'group.failed' then
    hincrby(S, 'groupsFailed', 1)
  elseif etype == 'order.paid' and (tonumber(price) or 0) > 0 then
    -- a completed group's member: from escrow, not from a hold
    hincrby(S, 'grouped', -q)
    hincrby(S, 'escrowMinor', -tonumber(price))
    hincrby(S, 'paid', q)
    hincrby(S, 'paidOrders', 1)
    hincrby(S, 'revenueMinor', amount)
    hincrby(S, 'referralRewardsMinor', reward)
    hincrby(KEYS[4], 'p' .. second, q)
  elseif etype == 'order.refunded' and (tonumber(price) or 0) > 0 then
    -- a failed group's member: its money went back from escrow; it was never revenue
    hincrby(S, 'grouped', -q)
    hincrby(S, 'escrowMinor', -tonumber(price))
    hincrby(S, 'refunded', q)
    hincrby(S, 'refundedOrders', 1)
    set_remaining()
  elseif etype == 'order.paid' then
    hincrby(S, 'held', -q)
    hincrby(S, 'paid', q)
    hincrby(S, 'paidOrders', 1)
    hincrby(S, 'revenueMinor', amount)
    hincrby(S, 'referralRewardsMinor', reward)
    hincrby(KEYS[4], 'p' .. second, q)
  elseif etype == 'order.refunded' then
    -- paid and revenue are net of refunds (docs/api.md "Campaigns")
    hincrby(S, 'paid', -q)
    hincrby(S, 'refunded', q)
    hincrby(S, 'refundedOrders', 1)
    hincrby(S, 'revenueMinor', -amount)
    hincrby(S, 'referralRewardsMinor', -reward)
    set_remaining()
  elseif etype == 'wallet.refunded' then
    hincrby(S, 'walletRefunds', 1)
    hincrby(S, 'walletRefundedMinor', amount)
  elseif etype == 'wallet.debited' then
    hincrby(S, 'walletDebits', 1)
    hincrby(S, 'walletDebitedMinor', amount)
  elseif etype == 'wallet.credited' then
    hincrby(S, 'credits', 1)
    hincrby(S, 'creditedMinor', amount)
  end
  hset(S, 'lastEventAt', at)
end

-- Dedupe. Stream events: the watermark of each topic, read once, moved in memory, written once.
local marks, mark_order = {}, {}
local function is_new_stream_event(topic, id)
  local ms, seq = string.match(id, '^(%d+)%-(%d+)$')
  ms, seq = tonumber(ms), tonumber(seq)
  local last = marks[topic]
  if last == nil then
    local stored = redis.call('HGET', KEYS[5], topic)
    if stored then
      local lms, lseq = string.match(stored, '^(%d+)%-(%d+)$')
      last = {tonumber(lms), tonumber(lseq), stored}
    else
      last = false
    end
    marks[topic] = last
  end
  if last and (ms < last[1] or (ms == last[1] and seq <= last[2])) then return false end
  if not last or not last.dirty then mark_order[#mark_order + 1] = topic end
  marks[topic] = {ms, seq, id, dirty = true}
  return true
end

-- An integer as every counter needs it (Lua numbers are doubles; HINCRBY takes integers).
local function int(v)
  local n = tonumber(v)
  return n ~= nil and n == math.floor(n) and n >= -9007199254740991 and n <= 9007199254740991
end
local function countable(b)
  return int(ARGV[b + 5]) and int(ARGV[b + 6]) and int(ARGV[b + 7]) and int(ARGV[b + 10])
    and int(ARGV[b + 12]) and (ARGV[b + 8] == '' or int(ARGV[b + 8]))
    and (ARGV[b + 1] ~= 'wm' or string.match(ARGV[b + 3], '^%d+%-%d+$') ~= nil)
end

local applied, duplicates, invalid, seen_key = 0, 0, 0, 6
for i = 0, #ARGV / FIELDS - 1 do
  local b = i * FIELDS
  local fresh
  if not countable(b) then
    invalid = invalid + 1
    fresh = nil
    if ARGV[b + 1] ~= 'wm' then seen_key = seen_key + 1 end
  elseif ARGV[b + 1] == 'wm' then
    fresh = is_new_stream_event(ARGV[b + 2], ARGV[b + 3])
  else
    fresh = redis.call('SET', KEYS[seen_key], '1', 'NX', 'EX', ARGV[b + 2]) ~= false
    seen_key = seen_key + 1
  end
  if fresh then
    applied = applied + 1
    apply_one(ARGV[b + 4], ARGV[b + 5], tonumber(ARGV[b + 6]) or 0, tonumber(ARGV[b + 7]) or 0,
      ARGV[b + 8], ARGV[b + 9], ARGV[b + 10], ARGV[b + 11], tonumber(ARGV[b + 12]) or 0)
  elseif fresh == false then
    duplicates = duplicates + 1
  end
end

for _, topic in ipairs(mark_order) do redis.call('HSET', KEYS[5], topic, marks[topic][3]) end
for _, key in ipairs(set_order) do
  local flat = {}
  for field, value in pairs(sets[key]) do
    flat[#flat + 1] = field
    flat[#flat + 1] = value
  end
  redis.call('HSET', key, unpack(flat))
end
for _, first in ipairs(firsts) do redis.call('HSETNX', first[1], first[2], first[3]) end
for _, key in ipairs(count_order) do
  for field, n in pairs(counts[key]) do redis.call('HINCRBY', key, field, n) end
end
for _, member in ipairs(z_order) do redis.call('ZINCRBY', KEYS[3], zcounts[member], member) end
return {applied, duplicates, invalid}
