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
-- KEYS[8]  {d:ID}:idem     hash, '<fanId>:<Idempotency-Key>' -> orderId | 'E:<code>'
-- KEYS[9]  {d:ID}:o:<orderId> hash, the new order (orderId chosen by the caller, unique)
-- KEYS[10] {d:ID}:fo       hash, fanId -> space-separated order ids (the fan's orders)
-- ARGV[1] fanId   ARGV[2] quantity (1..100, checked by the caller)
-- ARGV[3] Idempotency-Key ('' when none)   ARGV[4] orderId (the id of KEYS[9])
--
-- Checks, in order: drop exists; a repeated Idempotency-Key returns the stored first answer;
-- quantity <= perUserLimit; cancelled or past saleEndsAt (SALE_ENDED); before saleStartsAt
-- (SALE_NOT_STARTED); paused (SALE_PAUSED); reservation (NOT_RESERVED); the fan's held + paid
-- units (LIMIT_REACHED); stock (SOLD_OUT).
--
-- A refusal writes nothing (unless an Idempotency-Key must remember it): in a rush most
-- answers are SOLD_OUT, and a read-only script costs Redis no AOF write, no fsync and no event
-- for the relay, Kafka and analytics to carry. The caller counts refusals and reports them in
-- aggregate (count_refusals.lua, through Inventory's RefusalTally). The per-fan rate limit is
-- the API's (apps/api GrabRateLimiter), before this script.
--
-- Returns {'OK', field, value, ...}      the new held order (HGETALL shape)
--       | {'REPLAY', field, value, ...}  the order of the first answer to this key
--       | {'ERR', code}                  a refusal
--       | {'ERR', code, 'REPLAY'}        the replay of a refused first answer (counted before)
--       | {'ERR', 'QUANTITY_OVER_LIMIT', perUserLimit}   the body broke the drop's limit
--       | {'ERR', 'NOT_FOUND'}
local fan = ARGV[1]
local qty = tonumber(ARGV[2])
local idem_key = ARGV[3]
local order_id = ARGV[4]

local d = redis.call('HMGET', KEYS[1], 'id', 'saleStartsAt', 'saleEndsAt', 'paused',
  'cancelled', 'reservationRequired', 'perUserLimit', 'holdSeconds', 'priceMinor', 'currency')
local drop_id = d[1]
if not drop_id then return {'ERR', 'NOT_FOUND'} end

local idem_field = false
if idem_key ~= '' then
  idem_field = fan .. ':' .. idem_key
  local first = redis.call('HGET', KEYS[8], idem_field)
  if first then
    if string.sub(first, 1, 2) == 'E:' then return {'ERR', string.sub(first, 3), 'REPLAY'} end
    local first_key = (string.gsub(KEYS[9], '[^:]+$', first))
    return {'REPLAY', unpack(redis.call('HGETALL', first_key))}
  end
end

local now = now_ms()

-- Read-only unless an Idempotency-Key must replay this answer (see the header).
local function refuse(code)
  if idem_field then redis.call('HSET', KEYS[8], idem_field, 'E:' .. code) end
  return {'ERR', code}
end

local limit = tonumber(d[7])
if qty > limit then return {'ERR', 'QUANTITY_OVER_LIMIT', limit} end

if d[5] == '1' then return refuse('SALE_ENDED') end
if d[3] ~= '' and now >= tonumber(d[3]) then return refuse('SALE_ENDED') end
if now < tonumber(d[2]) then return refuse('SALE_NOT_STARTED') end
if d[4] == '1' then return refuse('SALE_PAUSED') end
if d[6] == '1' and redis.call('HEXISTS', KEYS[3], fan) == 0 then
  return refuse('NOT_RESERVED')
end
local owned = tonumber(redis.call('HGET', KEYS[4], fan) or '0')
if owned + qty > limit then return refuse('LIMIT_REACHED') end
local stock = tonumber(redis.call('GET', KEYS[2]) or '0')
if stock < qty then return refuse('SOLD_OUT') end

-- Accepted: the decrement, the fan's units, the order, its deadline, the fan's order list,
-- the idempotency answer and the event are one atomic step.
local remaining = redis.call('DECRBY', KEYS[2], qty)
redis.call('HINCRBY', KEYS[4], fan, qty)
local expires_at = now + tonumber(d[8]) * 1000
local amount = tonumber(d[9]) * qty
redis.call('HSET', KEYS[9], 'id', order_id, 'dropId', drop_id, 'fanId', fan,
  'quantity', qty, 'amountMinor', string.format('%d', amount), 'currency', d[10],
  'status', 'held', 'createdAt', now, 'expiresAt', expires_at)
redis.call('ZADD', KEYS[5], expires_at, order_id)
local list = redis.call('HGET', KEYS[10], fan)
if list then list = list .. ' ' .. order_id else list = order_id end
redis.call('HSET', KEYS[10], fan, list)
if idem_field then redis.call('HSET', KEYS[8], idem_field, order_id) end
redis.call('HINCRBY', KEYS[7], 'attempts', 1)
redis.call('HINCRBY', KEYS[7], 'held', qty)
redis.call('HSETNX', KEYS[7], 'firstSaleAt', now)
if remaining == 0 then redis.call('HSETNX', KEYS[7], 'soldOutAt', now) end
emit(KEYS[6], 'grab.accepted', now, {
  'dropId', drop_id, 'orderId', order_id, 'fanId', fan, 'quantity', qty,
  'amountMinor', amount, 'expiresAt', expires_at, 'remaining', remaining,
})
return {'OK', unpack(redis.call('HGETALL', KEYS[9]))}
