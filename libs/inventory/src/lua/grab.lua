-- grab: the rush. One atomic step per request, no lock: every check and every write below
-- happen with no other script in between, which is what makes oversell impossible.
--
-- KEYS[1]  {d:ID}:drop     hash, the definition (+ paused, cancelled)
-- KEYS[2]  {d:ID}:stock    string, units left
-- KEYS[3]  {d:ID}:res      hash, reservations (fanId -> offset)
-- KEYS[4]  {d:ID}:fans     hash, fanId -> held + paid units
-- KEYS[5]  {d:ID}:holds    zset, orderId -> deadline ms
-- KEYS[6]  {d:ID}:events   stream, the outbox
-- KEYS[7]  {d:ID}:stats    hash, counters
-- KEYS[8]  {d:ID}:idem     hash, a fan's Idempotency-Key (_lib idem_field) -> its request and
--                          first answer: 'grab|<quantity>|<orderId>' or 'grab|<quantity>|E:<code>'
--                          (begin_payment keeps 'pay|<orderId>' there: one key, one route)
-- KEYS[9]  {d:ID}:o:<orderId> hash, the new order (orderId chosen by the caller, unique)
-- KEYS[10] {d:ID}:fo:<fanId> list, the fan's order ids in this drop, oldest first
-- KEYS[11] {d:ID}:sh       set, the fans who shared the drop (the share discount's record)
-- KEYS[12] {d:ID}:ref      hash, referred reservations: fanId -> referrerId (the reward's record)
-- ARGV[1] fanId   ARGV[2] quantity (1..100, checked by the caller)
-- ARGV[3] Idempotency-Key ('' when none)   ARGV[4] orderId (the id of KEYS[9])
-- ARGV[5] how many orders beyond perUserLimit a fan may have in the drop (Inventory's
--         ORDERS_BEYOND_LIMIT): the bound on the fan's list, see below
-- ARGV[6] the fan's membership tier ('' when their token has none)
-- ARGV[7] group buy: the group to join ('' = start a new one)   ARGV[8] the id a new group takes
--         (chosen by the caller, unique). The group's keys derive from KEYS[1]'s tag (_lib.lua
--         sale_keys: {d:ID}:g:<groupId>, {d:ID}:gm:<groupId>, {d:ID}:groups).
--
-- Checks, in order: drop exists; the order already exists (this is a second run of the same
-- call, a client re-sending a command whose reply it lost: it gets the order, nothing is done
-- again); a repeated Idempotency-Key returns the stored first answer, or
-- IDEMPOTENCY_KEY_REUSED when the key came with another request; a members-only drop and the
-- fan not of its tier (MEMBERS_ONLY); a draw drop is never grabbed
-- (DRAW_ONLY: its units go to the draw's winners); quantity <= perUserLimit;
-- cancelled or past saleEndsAt (SALE_ENDED); before saleStartsAt (SALE_NOT_STARTED); paused
-- (SALE_PAUSED); reservation (NOT_RESERVED); the fan's held + paid units (LIMIT_REACHED);
-- the fan's orders in the drop (LIMIT_REACHED); on a group-buy drop, the group joined: unknown
-- (NOT_FOUND GROUP), no longer open or past its deadline (GROUP_CLOSED), the fan already in it
-- (ALREADY_IN_GROUP), as many live members as its size (GROUP_FULL); stock (SOLD_OUT). A groupId on a drop without groups, or another
-- quantity than 1 on a group-buy drop, is the body's fault (GROUP_BODY: 400, never stored).
--
-- Group buy: an accepted grab without ARGV[7] starts a group (this order its first member),
-- with ARGV[7] joins it; either way the hold ends no later than the group's deadline, and the
-- member's seat counts from this step, so a group never holds more than its size.
--
-- The fan's order list is bounded: held and paid orders are at most perUserLimit (one unit
-- each at least), so a fan can only grow it by orders that ended unpaid (cancelled, expired).
-- Past perUserLimit + ARGV[5] orders in all, the fan may not grab in this drop again: a loop of
-- grab + cancel cannot make the drop's keys grow without bound. A grab appends one id (RPUSH),
-- it never rewrites the list.
--
-- A refusal writes nothing (unless an Idempotency-Key must remember it): in a rush most
-- answers are SOLD_OUT, and a read-only script costs Redis no AOF write, no fsync and no event
-- for the relay, Kafka and analytics to carry. The caller counts refusals and reports them in
-- aggregate (count_refusals.lua, through Inventory's RefusalTally). The per-fan rate limit is
-- the API's (apps/api FanRateLimiter), before this script.
--
-- The price: a fan in the share record pays priceMinor - shareDiscountMinor per unit
-- (_lib.lua unit_price), decided here, in the step that makes the hold; so is the referral
-- reward the order will pay its fan's referrer (_lib.lua referral).
--
-- An accepted grab takes the drop's next allocation number (the log's order, see _lib.lua
-- next_allocation_seq), carried by grab.accepted as `seq`.
--
-- Returns {'OK', field, value, ...}      the new held order (HGETALL shape)
--       | {'REPLAY', field, value, ...}  the order of the first answer to this key, or of the
--                                        first run of this very call
--       | {'ERR', code}                  a refusal
--       | {'ERR', code, 'REPLAY'}        the replay of a refused first answer (counted before)
--       | {'ERR', 'IDEMPOTENCY_KEY_REUSED', 'REPLAY'}  the key came with another request
--       | {'ERR', 'QUANTITY_OVER_LIMIT', perUserLimit}   the body broke the drop's limit
--       | {'ERR', 'NOT_FOUND'}
--       | {'ERR', 'BAD_RECORD'}          the drop's mirrored hash fails its check (nothing written)
local fan = ARGV[1]
local qty = int_in(ARGV[2], 1, 100)
local idem_key = ARGV[3]
local order_id = ARGV[4]
local orders_beyond_limit = tonumber(ARGV[5])
local tier = ARGV[6]
local join_gid = ARGV[7]
local new_gid = ARGV[8]

local d = redis.call('HMGET', KEYS[1], 'id', 'saleStartsAt', 'saleEndsAt', 'paused',
  'cancelled', 'reservationRequired', 'perUserLimit', 'holdSeconds', 'priceMinor', 'currency',
  'allocation', 'audienceTier', 'shareDiscountMinor', 'referralRewardMinor', 'groupSize',
  'groupSeconds')
local drop_id = d[1]
if not drop_id then return {'ERR', 'NOT_FOUND'} end

-- A second run of this very call (its order id is new to every call): answer the order.
if redis.call('EXISTS', KEYS[9]) == 1 then
  return {'REPLAY', unpack(redis.call('HGETALL', KEYS[9]))}
end

local idem = false
local request = 'grab|' .. ARGV[2] .. '|'
if idem_key ~= '' then
  idem = idem_field(fan, idem_key)
  local first = redis.call('HGET', KEYS[8], idem)
  if first then
    if string.sub(first, 1, #request) ~= request then
      return {'ERR', 'IDEMPOTENCY_KEY_REUSED', 'REPLAY'}
    end
    local answer = string.sub(first, #request + 1)
    if string.sub(answer, 1, 2) == 'E:' then return {'ERR', string.sub(answer, 3), 'REPLAY'} end
    local first_key = (string.gsub(KEYS[9], '[^:]+$', answer))
    return {'REPLAY', unpack(redis.call('HGETALL', first_key))}
  end
end

-- Everything the accepted path computes with, checked before any write (_lib.lua).
local sale_starts = int_in(d[2], 0, MAX_TIME_MS)
local sale_ends = d[3]
local limit = int_in(d[7], 1, 1000000)
local hold_seconds = int_in(d[8], 1, 86400)
local price = int_in(d[9], 0, MAX_EXACT)
if qty == nil or sale_starts == nil or not time_ok(sale_ends) or limit == nil
  or hold_seconds == nil or price == nil or d[10] == false or price * qty > MAX_EXACT
  or not discount_ok(d[13], price) or not reward_ok(d[14], price, d[13])
  or not group_ok(d[15], d[16]) then
  return {'ERR', 'BAD_RECORD'}
end

local now = now_ms()

-- Read-only unless an Idempotency-Key must replay this answer (see the header).
local function refuse(code)
  if idem then redis.call('HSET', KEYS[8], idem, request .. 'E:' .. code) end
  return {'ERR', code}
end

if not admits(d[12], tier) then return refuse('MEMBERS_ONLY') end
if d[11] == 'draw' then return refuse('DRAW_ONLY') end

if qty > limit then return {'ERR', 'QUANTITY_OVER_LIMIT', limit} end
local grouped = d[15] ~= false and d[15] ~= ''
if not grouped and join_gid ~= '' then return {'ERR', 'GROUP_BODY', 'groupId'} end
if grouped and qty ~= 1 then return {'ERR', 'GROUP_BODY', 'quantity'} end

if d[5] == '1' then return refuse('SALE_ENDED') end
if sale_ends ~= '' and now >= tonumber(sale_ends) then return refuse('SALE_ENDED') end
if now < sale_starts then return refuse('SALE_NOT_STARTED') end
if d[4] == '1' then return refuse('SALE_PAUSED') end
if d[6] == '1' and redis.call('HEXISTS', KEYS[3], fan) == 0 then
  return refuse('NOT_RESERVED')
end
local owned = int_in(redis.call('HGET', KEYS[4], fan) or '0', 0, MAX_EXACT)
local stock = int_in(redis.call('GET', KEYS[2]) or '0', -MAX_EXACT, MAX_EXACT)
if owned == nil or stock == nil then return {'ERR', 'BAD_RECORD'} end
if owned + qty > limit then return refuse('LIMIT_REACHED') end
if redis.call('LLEN', KEYS[10]) >= limit + orders_beyond_limit then
  return refuse('LIMIT_REACHED')
end
-- The group keys derive from the drop key's tag, like the sale keys of the release scripts.
local S = group_keys(KEYS[1])
S.stats = KEYS[7]
local group_key = false
if grouped and join_gid ~= '' then
  group_key = S.group_prefix .. join_gid
  local g = redis.call('HMGET', group_key, 'id', 'status', 'expiresAt', 'members', 'size')
  -- Not stored under the Idempotency-Key: an unknown group says nothing about the sale.
  if not g[1] then return {'ERR', 'NOT_FOUND', 'GROUP'} end
  if g[2] ~= 'open' or now >= (tonumber(g[3]) or 0) then return refuse('GROUP_CLOSED') end
  -- One seat per fan per group, decided in this same step (so 200 joins of one fan at once
  -- seat them once): a fan whose order in the group still holds its seat (held, paying,
  -- grouped, paid: anything but expired or cancelled, which free it) is refused. The fan's
  -- order list is bounded (perUserLimit + ORDERS_BEYOND_LIMIT, checked above): a short scan.
  local order_prefix = (string.gsub(KEYS[9], '[^:]+$', ''))
  for _, id in ipairs(redis.call('LRANGE', KEYS[10], 0, -1)) do
    local mine = redis.call('HMGET', order_prefix .. id, 'groupId', 'status')
    if mine[1] == join_gid and mine[2] and mine[2] ~= 'expired' and mine[2] ~= 'cancelled' then
      return refuse('ALREADY_IN_GROUP')
    end
  end
  if (tonumber(g[4]) or 0) >= (tonumber(g[5]) or 0)
    or redis.call('SCARD', S.members_prefix .. join_gid) >= tonumber(g[5]) + GROUP_MEMBER_BOUND_EXTRA then
    return refuse('GROUP_FULL')
  end
end
if stock < qty then return refuse('SOLD_OUT') end

-- Accepted: the decrement, the fan's units, the order, its deadline, the fan's order list,
-- the idempotency answer and the event are one atomic step. Nothing from here on can fail.
local expires_at = now + hold_seconds * 1000
local gid = false
if grouped then
  local group_ends
  if group_key then
    gid = join_gid
    group_ends = tonumber(redis.call('HGET', group_key, 'expiresAt'))
  else
    gid = new_gid
    group_ends = start_group(S, drop_id, gid, d[15], d[16], now)
  end
  join_group(S, gid, order_id)
  if group_ends < expires_at then expires_at = group_ends end
end
local unit, unit_discount = unit_price(price, d[13], KEYS[11], fan)
local amount = unit * qty
local discount = unit_discount * qty
local remaining = redis.call('DECRBY', KEYS[2], qty)
redis.call('HINCRBY', KEYS[4], fan, qty)
redis.call('HSET', KEYS[9], 'id', order_id, 'dropId', drop_id, 'fanId', fan,
  'quantity', qty, 'amountMinor', string.format('%d', amount),
  'unitPriceMinor', string.format('%d', unit), 'discountMinor', string.format('%d', discount),
  'currency', d[10], 'status', 'held', 'createdAt', now, 'expiresAt', expires_at,
  unpack(referral(d[14], KEYS[12], fan)))
if gid then redis.call('HSET', KEYS[9], 'groupId', gid) end
redis.call('ZADD', KEYS[5], expires_at, order_id)
redis.call('RPUSH', KEYS[10], order_id)
if idem then redis.call('HSET', KEYS[8], idem, request .. order_id) end
redis.call('HINCRBY', KEYS[7], 'attempts', 1)
redis.call('HINCRBY', KEYS[7], 'held', qty)
redis.call('HSETNX', KEYS[7], 'firstSaleAt', now)
if remaining == 0 then redis.call('HSETNX', KEYS[7], 'soldOutAt', now) end
local seq = next_allocation_seq(KEYS[7])
emit(KEYS[6], 'grab.accepted', now, {
  'dropId', drop_id, 'orderId', order_id, 'fanId', fan, 'quantity', qty,
  'amountMinor', amount, 'discountMinor', discount_field(discount), 'expiresAt', expires_at,
  'remaining', remaining, 'seq', seq, 'groupId', gid,
})
return {'OK', unpack(redis.call('HGETALL', KEYS[9]))}
