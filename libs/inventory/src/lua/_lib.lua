-- _lib.lua: helpers shared by every script. Not a script of its own: the Inventory loader puts
-- a generated prelude (event versions and outbox field names from libs/events) and this file in
-- front of each script, so every script is still one self-contained EVAL.
--
-- Conventions of every script:
--   * the clock is Redis TIME (one clock for all instances), read once per script;
--   * every state change writes its event to the drop's stream in the same script;
--   * replies are arrays whose first element is a status word: 'OK', 'ERR' (then an error
--     code), or a script-specific word documented in the script's header;
--   * safe to run twice with the same KEYS and ARGV: a client that lost a reply re-sends the
--     command (ioredis does on reconnect), so a second run must find the first one's work and
--     answer it, never do it again (grab: the order id exists; share and count_refusals: a
--     receipt key; the transitions: the order's status);
--   * never fail after the first write: Redis does not roll a script back, so everything a
--     script computes with (stored numbers included) is checked before it writes anything, and
--     a record that fails the check is answered 'BAD_RECORD' with nothing written.

-- How long a receipt (a run's proof that it happened, for scripts with nothing else to show
-- it) is kept: far longer than ioredis takes to re-send after a reconnect (seconds; it gives
-- up after maxRetriesPerRequest reconnect attempts, libs/persistence redis.ts).
local RECEIPT_TTL_MS = 600000

-- The largest integer every reader counts exactly (2^53 - 1: JavaScript's Number, and far
-- below Redis's int64 counters). Sums a script keeps are bounded by it at the border (the
-- API refuses a drop whose priceMinor x quantity exceeds it).
local MAX_EXACT = 9007199254740991

-- Epoch ms of 9999-12-31T23:59:59.999Z, the last instant docs/api.md admits.
local MAX_TIME_MS = 253402300799999

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- A JSON object from a flat list {name, value, ...}. Numbers are written as integers with
-- string.format('%d') because cjson's 14-digit precision would turn 10^14 into "1e+14".
-- A value of false leaves the field out (Lua tables cannot hold nil in a list).
local function json(kv)
  local parts = {}
  for i = 1, #kv, 2 do
    local v = kv[i + 1]
    if v ~= false then
      local enc
      if type(v) == 'number' then
        enc = string.format('%d', v)
      else
        enc = cjson.encode(tostring(v))
      end
      parts[#parts + 1] = cjson.encode(kv[i]) .. ':' .. enc
    end
  end
  return '{' .. table.concat(parts, ',') .. '}'
end

-- One outbox entry (libs/events OutboxStreamFields). The stream is never trimmed here: the relay
-- trims only what every consumer group has read.
local function emit(events_key, etype, at, kv)
  redis.call('XADD', events_key, '*', F_TYPE, etype, F_VERSION, EV[etype], F_AT, at, F_DATA, json(kv))
end

-- A number read from a hash or ARGV as an integer in [lo, hi], or nil (absent, not a number,
-- NaN, fractional or out of range). Every number a script computes with passes through here
-- before the script's first write.
local function int_in(v, lo, hi)
  local n = tonumber(v)
  if n == nil or n ~= n or n < lo or n > hi or n ~= math.floor(n) then return nil end
  return n
end

-- An optional time field: '' (absent) is fine, else an epoch ms in range.
local function time_ok(v)
  return v == nil or v == false or v == '' or int_in(v, 0, MAX_TIME_MS) ~= nil
end

-- The fields the scripts compute with, in a drop's mirrored hash (as a table), all valid.
local function drop_ok(d)
  return d.id ~= nil and int_in(d.saleStartsAt, 0, MAX_TIME_MS) ~= nil and time_ok(d.saleEndsAt)
    and time_ok(d.reservationOpensAt) and time_ok(d.reservationClosesAt)
    and ((d.reservationOpensAt or '') == '') == ((d.reservationClosesAt or '') == '')
    and int_in(d.createdAt, 0, MAX_TIME_MS) ~= nil and int_in(d.quantity, 0, MAX_EXACT) ~= nil
    and int_in(d.perUserLimit, 1, 1000000) ~= nil and int_in(d.holdSeconds, 1, 86400) ~= nil
    and int_in(d.priceMinor, 0, MAX_EXACT) ~= nil
end

-- The fields the transitions compute with, in an order's hash (as a table), all valid.
local function order_ok(o)
  return o.id ~= nil and o.fanId ~= nil and o.dropId ~= nil
    and int_in(o.quantity, 1, MAX_EXACT) ~= nil and int_in(o.amountMinor, 0, MAX_EXACT) ~= nil
    and int_in(o.expiresAt, 0, MAX_TIME_MS) ~= nil
end

-- The field of one fan's Idempotency-Key in the drop's `idem` hash. The fan id's length comes
-- first, so no two (fan, key) pairs share a field: fan 'a' with key 'x:b' is '1:a:x:b', fan
-- 'a:x' with key 'b' is '3:a:x:b'.
local function idem_field(fan, key)
  return #fan .. ':' .. fan .. ':' .. key
end

-- Sets a receipt key (KEYS of the caller) unless it exists: true the first time a run with
-- this id happens, false when this is a second run of it.
local function first_run(receipt_key)
  return redis.call('SET', receipt_key, '1', 'PX', RECEIPT_TTL_MS, 'NX') ~= false
end

-- A retired drop (retire_drop.lua: over, nothing held, every outbox entry read) is out of the
-- active index that the worker walks. A script that writes an event on a drop that may be
-- retired calls this and answers its result; on 1 its caller puts the drop back in the index
-- (Inventory.reactivate), so the relay and order persistence read the new entry.
local function revive(drop_key)
  if redis.call('HGET', drop_key, 'retired') ~= '1' then return 0 end
  redis.call('HDEL', drop_key, 'retired')
  return 1
end

local function hash_table(key)
  local flat = redis.call('HGETALL', key)
  local t = {}
  for i = 1, #flat, 2 do
    t[flat[i]] = flat[i + 1]
  end
  return t
end

-- The phase of a drop at `now`, from its mirrored fields and its stock. The only place that
-- computes phases, so the API, the scheduler and the grab never disagree.
local function phase_of(d, stock, now)
  if d.cancelled == '1' then return 'cancelled' end
  if d.saleEndsAt ~= nil and d.saleEndsAt ~= '' and now >= tonumber(d.saleEndsAt) then
    return 'ended'
  end
  if d.paused == '1' then return 'paused' end
  if now < tonumber(d.saleStartsAt) then
    if d.reservationOpensAt == nil or d.reservationOpensAt == '' then return 'scheduled' end
    if now < tonumber(d.reservationOpensAt) then return 'scheduled' end
    if now < tonumber(d.reservationClosesAt) then return 'reservation_open' end
    return 'reservation_closed'
  end
  if stock <= 0 then return 'sold_out' end
  return 'on_sale'
end

-- Statuses whose units count against stock and the fan's limit.
local function is_live(status)
  return status == 'held' or status == 'paying'
end

-- held/paying -> expired/cancelled: the ONLY way units go back to stock. Callers check the
-- status first (is_live), so a hold's units return exactly once however many sweepers, cancels
-- and payment aborts race over it: Redis runs one script at a time. Callers also check the
-- record (order_ok) first: nothing below can fail then.
-- K: {order, stock, fans, holds, events, stats}
local function release(K, o, order_id, new_status, now)
  local q = tonumber(o.quantity)
  redis.call('HSET', K[1], 'status', new_status)
  redis.call('HDEL', K[1], 'payingUntil')
  local remaining = redis.call('INCRBY', K[2], q)
  redis.call('HINCRBY', K[3], o.fanId, -q)
  redis.call('ZREM', K[4], order_id)
  redis.call('HINCRBY', K[6], 'held', -q)
  redis.call('HINCRBY', K[6], new_status, q)
  local etype = 'hold.expired'
  if new_status == 'cancelled' then etype = 'hold.cancelled' end
  emit(K[5], etype, now, {
    'dropId', o.dropId, 'orderId', order_id, 'fanId', o.fanId, 'quantity', q,
    'remaining', remaining,
  })
  o.status = new_status
  o.payingUntil = nil
  return remaining
end

-- An order as a flat reply {name, value, ...} (what HGETALL gives).
local function order_reply(o)
  local flat = {}
  for k, v in pairs(o) do
    flat[#flat + 1] = k
    flat[#flat + 1] = v
  end
  return flat
end
