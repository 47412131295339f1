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

-- A drop's shareDiscountMinor (absent on drops mirrored before campaigns): 0..price-1.
local function discount_ok(v, price)
  if v == nil or v == false or v == '' or v == '0' then return true end
  local n = int_in(v, 0, MAX_EXACT)
  return n ~= nil and price ~= nil and n < tonumber(price)
end

-- A drop's referralRewardMinor (absent on drops mirrored before referral rewards):
-- 0..price - shareDiscountMinor, so the payment of any hold covers its reward.
local function reward_ok(v, price, discount)
  if v == nil or v == false or v == '' or v == '0' then return true end
  local n = int_in(v, 0, MAX_EXACT)
  local p = tonumber(price)
  return n ~= nil and p ~= nil and n <= p - (tonumber(discount) or 0)
end

-- A drop's groupSize / groupSeconds (absent or '': no groups), checked like every number.
local function group_ok(size, seconds)
  if size == nil or size == false or size == '' then return true end
  return int_in(size, 2, 50) ~= nil and int_in(seconds, 60, 86400) ~= nil
end

-- The fields the scripts compute with, in a drop's mirrored hash (as a table), all valid.
local function drop_ok(d)
  return d.id ~= nil and int_in(d.saleStartsAt, 0, MAX_TIME_MS) ~= nil and time_ok(d.saleEndsAt)
    and time_ok(d.reservationOpensAt) and time_ok(d.reservationClosesAt)
    and ((d.reservationOpensAt or '') == '') == ((d.reservationClosesAt or '') == '')
    and int_in(d.createdAt, 0, MAX_TIME_MS) ~= nil and int_in(d.quantity, 0, MAX_EXACT) ~= nil
    and int_in(d.perUserLimit, 1, 1000000) ~= nil and int_in(d.holdSeconds, 1, 86400) ~= nil
    and int_in(d.priceMinor, 0, MAX_EXACT) ~= nil
    and discount_ok(d.shareDiscountMinor, d.priceMinor)
    and reward_ok(d.referralRewardMinor, d.priceMinor, d.shareDiscountMinor)
    and group_ok(d.groupSize, d.groupSeconds)
end

-- The fields the transitions compute with, in an order's hash (as a table), all valid.
-- A referral reward (optional) is at most the order's amount and always has its referrer.
local function order_ok(o)
  return o.id ~= nil and o.fanId ~= nil and o.dropId ~= nil
    and int_in(o.quantity, 1, MAX_EXACT) ~= nil and int_in(o.amountMinor, 0, MAX_EXACT) ~= nil
    and int_in(o.expiresAt, 0, MAX_TIME_MS) ~= nil
    and (o.rewardMinor == nil) == (o.referrerId == nil)
    and (o.rewardMinor == nil or int_in(o.rewardMinor, 1, tonumber(o.amountMinor)) ~= nil)
end

-- An event's optional reward fields {'referrerId', id, 'rewardMinor', n} of an order (a checked
-- one, order_ok), false values (left out by json()) when it has no reward.
local function reward_fields(o)
  if o.rewardMinor == nil then return {'referrerId', false, 'rewardMinor', false} end
  return {'referrerId', o.referrerId, 'rewardMinor', tonumber(o.rewardMinor)}
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

-- When a drop's definition locks (edits refused from then on): reservations opening, or the
-- sale starting when no reservation is required. From then on fans may have reserved or
-- grabbed under the definition as it is.
local function lock_time(d)
  if d.reservationRequired == '1' and d.reservationOpensAt ~= nil and d.reservationOpensAt ~= '' then
    return tonumber(d.reservationOpensAt)
  end
  return tonumber(d.saleStartsAt)
end

-- Statuses whose units count against stock and the fan's limit.
local function is_live(status)
  return status == 'held' or status == 'paying'
end

-- The keys of one drop that every script which may release units takes, in this order
-- (Inventory `saleKeys`), from KEYS[first]. New orders' keys (backfill holds, whose ids are made
-- here) and the order list of a fan chosen here (from the line) are derived from the drop key's
-- hash tag, so they share the drop's slot.
-- keys.ts `groups`, `group`, `groupMembers` (group buy), from a drop key's hash tag: the
-- unfinished groups by deadline, one group's hash, one group's member orders.
local function group_keys(drop)
  local tag = string.sub(drop, 1, -5)
  return {groups = tag .. 'groups', group_prefix = tag .. 'g:', members_prefix = tag .. 'gm:'}
end

local function sale_keys(first)
  local drop = KEYS[first]
  -- '{d:ID}:drop' -> '{d:ID}:'
  local tag = string.sub(drop, 1, -5)
  return {
    drop = drop, stock = KEYS[first + 1], fans = KEYS[first + 2], holds = KEYS[first + 3],
    events = KEYS[first + 4], stats = KEYS[first + 5], waitlist = KEYS[first + 6],
    parked = KEYS[first + 7],
    order_prefix = tag .. 'o:',
    fan_orders_prefix = tag .. 'fo:',
    -- keys.ts `sharers`: read by backfill_hold for the share discount
    sharers = tag .. 'sh',
    -- keys.ts `referrers`: read by backfill_hold for the referral reward
    referrers = tag .. 'ref',
    groups = group_keys(drop).groups,
    group_prefix = group_keys(drop).group_prefix,
    members_prefix = group_keys(drop).members_prefix,
  }
end

-- Group buy (API.md "Campaigns"). A group is a hash {d:ID}:g:<groupId>: `id dropId size
-- startedAt expiresAt status members paidMembers` (+ `completedAt` / `failedAt`), its member
-- orders a set {d:ID}:gm:<groupId>, and every group not yet finished is in {d:ID}:groups by its
-- deadline. `members` counts the member orders now held, paying, grouped or paid (a release
-- takes one off: release() below), `paidMembers` those grouped or paid.
-- States: open -> completing -> complete, open -> failing -> failed. THE FENCE is the move out
-- of `open`: complete_payment moves it to `completing` only while open and before the deadline,
-- fail_group to `failing` only while open and at or past the deadline, each in one script, so a
-- group completes or fails, never both, whatever races (the sweeper, two workers, a payment at
-- the deadline). The forward states only go forward (finish_group, settle_failed_group).
local GROUP_MEMBER_BOUND_EXTRA = 20
-- A completing group is due for the group sweeper this long after its last payment (the payer
-- completes it well within; the sweeper finishes what a crash left).
local GROUP_RECOVERY_GRACE_MS = 5000

-- Starts group `gid` of `size` members, `seconds` to complete, at `now`; answers its deadline.
local function start_group(S, drop_id, gid, size, seconds, now)
  local expires_at = now + tonumber(seconds) * 1000
  redis.call('HSET', S.group_prefix .. gid, 'id', gid, 'dropId', drop_id, 'size', size,
    'startedAt', now, 'expiresAt', expires_at, 'status', 'open', 'members', 0, 'paidMembers', 0)
  redis.call('ZADD', S.groups, expires_at, gid)
  redis.call('HINCRBY', S.stats, 'groupsStarted', 1)
  return expires_at
end

-- Order `order_id` joins group `gid` (checked open and not full by the caller).
local function join_group(S, gid, order_id)
  redis.call('SADD', S.members_prefix .. gid, order_id)
  redis.call('HINCRBY', S.group_prefix .. gid, 'members', 1)
end

-- Members-only (API.md "Campaigns"): a drop with an audienceTier admits only a fan whose token
-- carries that tier (`tier`: '' for none). Every step that lets a fan in (reserve, grab, join
-- the waitlist) asks here, inside its own atomic step, before its first write.
local function admits(audience_tier, tier)
  return audience_tier == nil or audience_tier == false or audience_tier == ''
    or audience_tier == tier
end

-- An event's discountMinor: only on a discounted hold (json() leaves a false value out), so the
-- events of drops without campaigns read as they always did.
local function discount_field(discount)
  if discount > 0 then return discount end
  return false
end

-- Repost for a discount: what one unit of a new hold of `fan` costs, and the discount in it.
-- Decided from the share record (`sharers`, written by share.lua) in the same atomic step that
-- makes the hold, so a share racing a hold either counted for all of it or not at all. Every
-- step that makes a hold (grab, draw_winners, backfill_hold) prices it here and nowhere else.
local function unit_price(price, share_discount, sharers, fan)
  local discount = tonumber(share_discount) or 0
  if discount > 0 and redis.call('SISMEMBER', sharers, fan) == 1 then
    return price - discount, discount
  end
  return price, 0
end

-- Referral rewards: the referrer of a new hold of `fan` and what they earn when it is paid, as
-- the order hash's fields {'referrerId', id, 'rewardMinor', n} (empty: no reward). Decided from
-- the fan's reservation (`referrers`, written by reserve.lua, never the fan themself) in the step
-- that makes the hold, like the price, so a later edit of the drop never changes what a held
-- order owes. One reward per order, whatever its quantity. Every step that makes a hold (grab,
-- draw_winners, backfill_hold) asks here and nowhere else.
local function referral(reward_minor, referrers, fan)
  local reward = tonumber(reward_minor) or 0
  if reward <= 0 then return {} end
  local referrer = redis.call('HGET', referrers, fan)
  if not referrer or referrer == fan then return {} end
  return {'referrerId', referrer, 'rewardMinor', string.format('%d', reward)}
end

-- Appends an order id to a fan's order list in the drop (`{d:ID}:fo:<fanId>`, see grab.lua).
local function add_fan_order(S, fan, order_id)
  redis.call('RPUSH', S.fan_orders_prefix .. fan, order_id)
end

-- The next number of the drop's allocation log (API.md "Fair launch"): every unit handed out
-- (grab, draw, backfill) takes one in the same atomic step that hands it out, so the log's order
-- is fixed here; the worker chains the entries' hashes later, in this order, from the events.
local function next_allocation_seq(stats)
  return redis.call('HINCRBY', stats, 'allocSeq', 1)
end

-- Tells the fan's live standing (GET /v1/drops/:id/me/live) that it changed now.
local function announce_standing(drop_id, fan)
  redis.call('PUBLISH', STANDING_CHANNEL, drop_id .. ' ' .. fan)
end

-- How many fans of the waitlist one release looks at, at most, and how many per read. A fan at
-- their perUserLimit, or whose order list in the drop is at its bound (perUserLimit +
-- ORDERS_BEYOND_LIMIT, the grab's bound too), is passed over (and keeps their place); past the
-- bound, the units still unplaced go back to stock. The bound keeps one script step short whatever the line holds.
local PASS_SCAN_BOUND = 200
local PASS_SCAN_WINDOW = 50

-- A released unit of `from_id` becomes a new 1-unit hold of `fan` (full holdSeconds to pay).
-- Its id is the drop id and its allocation number ('-r' + 15 digits): made here, unique, and
-- the same if this step is ever run again (it is not: the released order is no longer live).
-- This is the one place a passed-down unit becomes an order: issue 14's group buy starts the
-- fan's new group here. Answers the event to emit: {type, data}.
local function backfill_hold(S, d, fan, from_id, now)
  local seq = next_allocation_seq(S.stats)
  local order_id = d.id .. '-r' .. string.format('%015d', seq)
  local expires_at = now + tonumber(d.holdSeconds) * 1000
  -- Group buy: every hold belongs to a group, so a passed-down unit starts a new one (its id
  -- from the order's, unique like it), and the hold ends no later than the group.
  local group = {}
  if d.groupSize and d.groupSize ~= '' then
    local gid = 'g' .. string.format('%015d', seq)
    local group_ends = start_group(S, d.id, gid, d.groupSize, d.groupSeconds, now)
    join_group(S, gid, order_id)
    if group_ends < expires_at then expires_at = group_ends end
    group = {'groupId', gid}
  end
  local amount, discount = unit_price(tonumber(d.priceMinor), d.shareDiscountMinor, S.sharers, fan)
  redis.call('HSET', S.order_prefix .. order_id, 'id', order_id, 'dropId', d.id, 'fanId', fan,
    'quantity', 1, 'amountMinor', string.format('%d', amount),
    'unitPriceMinor', string.format('%d', amount), 'discountMinor', string.format('%d', discount),
    'currency', d.currency, 'status', 'held', 'createdAt', now, 'expiresAt', expires_at,
    'fromOrderId', from_id, unpack(referral(d.referralRewardMinor, S.referrers, fan)))
  if group[1] then redis.call('HSET', S.order_prefix .. order_id, unpack(group)) end
  redis.call('ZADD', S.holds, expires_at, order_id)
  redis.call('HINCRBY', S.fans, fan, 1)
  add_fan_order(S, fan, order_id)
  redis.call('ZREM', S.waitlist, fan)
  redis.call('HINCRBY', S.stats, 'held', 1)
  redis.call('HINCRBY', S.stats, 'backfilled', 1)
  announce_standing(d.id, fan)
  return {'hold.backfilled', {
    'dropId', d.id, 'orderId', order_id, 'fanId', fan, 'quantity', 1, 'amountMinor', amount,
    'discountMinor', discount_field(discount), 'expiresAt', expires_at, 'fromOrderId', from_id,
    'seq', seq, 'groupId', group[2] or false,
  }}
end

-- The drop's fields that hand_down computes with, all valid (_lib's rule: checked before a
-- script's first write, so the pass-down can never fail half-way). Every script that may release
-- units checks it with the order, and answers BAD_RECORD with nothing written if it fails.
local function sale_ok(S)
  local f = redis.call('HMGET', S.drop, 'id', 'saleEndsAt', 'perUserLimit', 'holdSeconds',
    'priceMinor', 'currency', 'shareDiscountMinor', 'referralRewardMinor', 'groupSize',
    'groupSeconds')
  return f[1] ~= false and time_ok(f[2]) and int_in(f[3], 1, 1000000) ~= nil
    and int_in(f[4], 1, 86400) ~= nil and int_in(f[5], 0, MAX_EXACT) ~= nil and f[6] ~= false
    and discount_ok(f[7], f[5]) and reward_ok(f[8], f[5], f[7]) and group_ok(f[9], f[10])
end

-- Where `units` units just released from order `from_id` go (API.md "Fair launch"), each one:
--   * after saleEndsAt (or on a cancelled drop): back to stock;
--   * while the sale is paused: parked (`{d:ID}:parked`, one entry per unit naming `from_id`)
--     until the resume hands them down (hand_down_parked.lua);
--   * else to the first fan in line (lowest waitlist score) whose held + paid units leave room
--     for one more, as a new 1-unit hold, and whose order list is below its bound; a fan at
--     either limit is passed over for that unit and keeps their place; nobody eligible within PASS_SCAN_BOUND fans: back to stock.
-- Must run in the same script step that freed the units (callers: release, and issue 14's
-- refund and failed-group paths), so a unit is never seen both free and handed out.
-- Answers the events of the new holds ({type, data} each) for the caller to emit after its own.
local function hand_down(S, units, from_id, now)
  local out = {}
  if units <= 0 then return out end
  local f = redis.call('HMGET', S.drop, 'id', 'saleEndsAt', 'paused', 'cancelled',
    'perUserLimit', 'holdSeconds', 'priceMinor', 'currency', 'shareDiscountMinor',
    'referralRewardMinor', 'groupSize', 'groupSeconds')
  local d = {id = f[1], saleEndsAt = f[2], paused = f[3], cancelled = f[4],
    perUserLimit = f[5], holdSeconds = f[6], priceMinor = f[7], currency = f[8],
    shareDiscountMinor = f[9], referralRewardMinor = f[10], groupSize = f[11],
    groupSeconds = f[12]}
  local left = units
  local ended = d.cancelled == '1' or (d.saleEndsAt and d.saleEndsAt ~= ''
    and now >= tonumber(d.saleEndsAt))
  if not ended and d.paused == '1' then
    for _ = 1, units do redis.call('RPUSH', S.parked, from_id) end
    return out
  end
  if not ended then
    local limit = tonumber(d.perUserLimit)
    -- `skipped` fans were passed over: they keep their place, so the next read starts after them.
    local scanned, skipped = 0, 0
    while left > 0 and scanned < PASS_SCAN_BOUND do
      local n = math.min(PASS_SCAN_WINDOW, PASS_SCAN_BOUND - scanned)
      local fans = redis.call('ZRANGE', S.waitlist, skipped, skipped + n - 1)
      if #fans == 0 then break end
      local owned = redis.call('HMGET', S.fans, unpack(fans))
      for i, fan in ipairs(fans) do
        if left == 0 then break end
        scanned = scanned + 1
        -- Both bounds the grab keeps: units held or paid, and the fan's order list (a fan who
        -- joins, is handed a hold, cancels and joins again must not grow it past the grab's).
        if (tonumber(owned[i]) or 0) < limit
          and redis.call('LLEN', S.fan_orders_prefix .. fan) < limit + ORDERS_BEYOND_LIMIT then
          out[#out + 1] = backfill_hold(S, d, fan, from_id, now)
          left = left - 1
        else
          skipped = skipped + 1
        end
      end
      if #fans < n then break end
    end
  end
  if left > 0 then redis.call('INCRBY', S.stock, left) end
  return out
end

-- Emits events collected by hand_down, in order.
local function emit_all(events_key, now, list)
  for _, e in ipairs(list) do emit(events_key, e[1], now, e[2]) end
end

-- held/paying -> expired/cancelled: the ONLY way units leave a hold. Callers check the status
-- first (is_live), so a hold's units are released exactly once however many sweepers, cancels
-- and payment aborts race over it: Redis runs one script at a time. Each released unit then goes
-- down the waitlist, to stock or to the parked list (hand_down) in this same step. Callers also
-- check the records first (order_ok, and sale_ok for what hand_down reads): nothing below can
-- fail then.
-- S: sale_keys(...); `order_key` the order's hash.
local function release(S, order_key, o, new_status, now)
  local q = tonumber(o.quantity)
  redis.call('HSET', order_key, 'status', new_status)
  redis.call('HDEL', order_key, 'payingUntil')
  redis.call('HINCRBY', S.fans, o.fanId, -q)
  redis.call('ZREM', S.holds, o.id)
  redis.call('HINCRBY', S.stats, 'held', -q)
  redis.call('HINCRBY', S.stats, new_status, q)
  -- A group member whose hold ends frees its seat (API.md: members counts live orders).
  if o.groupId then redis.call('HINCRBY', S.group_prefix .. o.groupId, 'members', -1) end
  local passed = hand_down(S, q, o.id, now)
  local remaining = tonumber(redis.call('GET', S.stock) or '0')
  local etype = 'hold.expired'
  if new_status == 'cancelled' then etype = 'hold.cancelled' end
  emit(S.events, etype, now, {
    'dropId', o.dropId, 'orderId', o.id, 'fanId', o.fanId, 'quantity', q,
    'remaining', remaining,
  })
  for _, e in ipairs(passed) do e[2][#e[2] + 1] = 'remaining'; e[2][#e[2] + 1] = remaining end
  emit_all(S.events, now, passed)
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
