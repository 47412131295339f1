-- restore_orders: puts back a batch of a drop's orders from PostgreSQL's `sales.orders` that
-- Redis lacks (Inventory.putBackStoredOrders), in one of two cases:
-- - a drop Redis lost whole (Inventory.rebuildDrop): before the drop itself is mirrored again
--   (mirror_drop restore, which sets its stock net of these orders), so no grab can meet the
--   drop half rebuilt;
-- - a drop Redis still has but lost some writes of (a failover without WAIT: the replica had a
--   prefix of what the primary did, docs/scale.md): the drop's record exists, so each order
--   that holds units takes them from the stock here, and only while the stock has them and the
--   fan's limit allows them (units resold, or a fan who grabbed again, after the loss), and not
--   for a group's member (its seat is in the group's record). Such an order is not put back and
--   is answered as short: e.g. two fans hold a 201 for one unit, which the audit goes on naming
--   (invariant 6) for an operator to settle.
--
-- KEYS[1] {d:ID}:fans   KEYS[2] {d:ID}:holds   KEYS[3] {d:ID}:stats
-- KEYS[4] {d:ID}:refunding  zset of the refunds under way (the refund recovery's work)
-- KEYS[5] {d:ID}:stock   KEYS[6] {d:ID}:drop (exists: the second case)
-- ARGV[1] order key prefix '{d:ID}:o:', ARGV[2] fan order list prefix '{d:ID}:fo:' (both in
--         the drop's slot)
-- ARGV[3] the allocation log's floor: the highest number it is known to have used (the stored
--         log's head, the number in a stored passed-down order's id). The drop's `allocSeq`
--         goes on from at least there: a number used before the loss is never handed out
--         again, so a passed-down hold never gets the id of a stored order, and the log's
--         numbers keep growing.
-- ARGV[4..] per order, 19 values: id, fanId, quantity, amountMinor, currency, status,
--           createdAt, expiresAt, paidAt ('' when not paid), unitPriceMinor, discountMinor,
--           refundedAt ('' when not refunded), refundReason, referrerId and rewardMinor (both
--           '' when the order pays no reward), groupId ('' when none), groupedAt ('' when its
--           payment never reached the escrow), refundingSince (the attempt of a refund under
--           way: set exactly when the status is `refunding`), payingUntil (the attempt of a
--           payment in flight: set exactly when the status is `paying`)   (times as epoch ms)
--
-- An order already in Redis is skipped (a second run, or two API instances rebuilding at once,
-- restore each order once). A held order is held again with its own deadline (the sweeper
-- expires it as any other); a `paying` one is `paying` again with ITS attempt (payingUntil, and
-- lastAttempt: a later attempt is still a new number), due in the holds zset when that attempt
-- lapses, as begin_payment left it. That attempt is the one a debit still on its way names:
-- the API's caller then completes or aborts the order as it would have, and the payment
-- recovery settles that attempt with the wallet (its void fences the late debit off, or it
-- finds the debit and completes). A new attempt here would leave the old one unfenced: the
-- recovery would void the new one, abort, and the old debit could commit on a held or expired
-- order (PAYMENTS.md "Redis losing the drop"). held/paying/paid units count against
-- the fan's limit (every fan with an order gets a field in {d:ID}:fans); the counters get the
-- units of each status and the paid revenue, discounts and referral rewards. A refunded order
-- comes back refunded (its units free, counted in `refunded`). A grouped order (paid into the
-- drop's escrow, its group not complete) comes back grouped: its units count for the fan, in
-- `grouped` and its amount in `escrowMinor`, as complete_payment counted them; its group comes
-- back with restore_standing's 'group' part. A refund under way (`refunding`: begun, neither
-- completed nor declined when the order was last stored) comes back as begin_refund left it:
-- counted as paid, with its attempt, and in the refunding index, so the refund recovery asks
-- the wallet for that attempt and completes it (or puts it back to paid if declined). What the hold decided (referrer and reward, group)
-- comes back with it, so a later payment, refund or group settlement treats the order as it
-- would have. Every value of the batch is checked before the first write.
--
-- Returns {'OK', restoredOrders, liveOrPaidUnits, {shortOrderIds}} | {'ERR', 'BAD_RECORD'}
-- (nothing written)
local statuses = {held = true, paying = true, grouped = true, paid = true, refunding = true,
  cancelled = true, expired = true, refunded = true}
-- Units a fan holds by these (their limit counts them), as every script counts them.
local counts_for_fan = {held = true, paying = true, grouped = true, paid = true, refunding = true}
local PER_ORDER = 19
local n = (#ARGV - 3) / PER_ORDER
if n ~= math.floor(n) or int_in(ARGV[3], 0, MAX_EXACT) == nil then return {'ERR', 'BAD_RECORD'} end
for i = 0, n - 1 do
  local a = 4 + i * PER_ORDER
  if int_in(ARGV[a + 2], 1, MAX_EXACT) == nil or int_in(ARGV[a + 3], 0, MAX_EXACT) == nil
    or not statuses[ARGV[a + 5]] or int_in(ARGV[a + 6], 0, MAX_TIME_MS) == nil
    or int_in(ARGV[a + 7], 0, MAX_TIME_MS) == nil or not time_ok(ARGV[a + 8])
    or int_in(ARGV[a + 9], 0, MAX_EXACT) == nil
    or int_in(ARGV[a + 10], 0, tonumber(ARGV[a + 3])) == nil or not time_ok(ARGV[a + 11])
    or (ARGV[a + 13] == '') ~= (ARGV[a + 14] == '')
    or (ARGV[a + 14] ~= '' and int_in(ARGV[a + 14], 1, tonumber(ARGV[a + 3])) == nil)
    or not time_ok(ARGV[a + 16]) or (ARGV[a + 5] == 'grouped' and ARGV[a + 15] == '')
    or not time_ok(ARGV[a + 17]) or (ARGV[a + 5] == 'refunding') ~= (ARGV[a + 17] ~= '')
    or not time_ok(ARGV[a + 18]) or (ARGV[a + 5] == 'paying') ~= (ARGV[a + 18] ~= '') then
    return {'ERR', 'BAD_RECORD'}
  end
end
-- The second case: the drop's record is there (mirror_drop writes it with the stock).
local limit = false
if redis.call('EXISTS', KEYS[6]) == 1 then
  limit = int_in(redis.call('HGET', KEYS[6], 'perUserLimit'), 1, 1000000)
  if limit == nil then return {'ERR', 'BAD_RECORD'} end
end
local floor = tonumber(ARGV[3])
if floor > (tonumber(redis.call('HGET', KEYS[3], 'allocSeq')) or 0) then
  redis.call('HSET', KEYS[3], 'allocSeq', floor)
end
local restored, units, short = 0, 0, {}
for i = 0, n - 1 do
  local a = 4 + i * PER_ORDER
  local id, fan, q, status = ARGV[a], ARGV[a + 1], tonumber(ARGV[a + 2]), ARGV[a + 5]
  local key = ARGV[1] .. id
  local missing = redis.call('EXISTS', key) == 0
  if missing and limit and counts_for_fan[status] then
    local stock = tonumber(redis.call('GET', KEYS[5])) or 0
    local owned = tonumber(redis.call('HGET', KEYS[1], fan)) or 0
    -- A group member's seat is in its group's record, which only a whole rebuild restores
    -- (restore_standing): put back without it, the group would settle without the member.
    if stock < q or owned + q > limit or ARGV[a + 15] ~= '' then
      short[#short + 1] = id
      missing = false
    else
      redis.call('DECRBY', KEYS[5], q)
    end
  end
  if missing then
    local drop_id = string.match(id, '^(.+)-[^-]+$')
    redis.call('HSET', key, 'id', id, 'dropId', drop_id, 'fanId', fan, 'quantity', q,
      'amountMinor', ARGV[a + 3], 'currency', ARGV[a + 4], 'status', status,
      'createdAt', ARGV[a + 6], 'expiresAt', ARGV[a + 7], 'unitPriceMinor', ARGV[a + 9],
      'discountMinor', ARGV[a + 10])
    if ARGV[a + 8] ~= '' then redis.call('HSET', key, 'paidAt', ARGV[a + 8]) end
    if ARGV[a + 11] ~= '' then
      redis.call('HSET', key, 'refundedAt', ARGV[a + 11], 'refundReason', ARGV[a + 12])
    end
    if ARGV[a + 13] ~= '' then
      redis.call('HSET', key, 'referrerId', ARGV[a + 13], 'rewardMinor', ARGV[a + 14])
    end
    if ARGV[a + 15] ~= '' then redis.call('HSET', key, 'groupId', ARGV[a + 15]) end
    if ARGV[a + 16] ~= '' then redis.call('HSET', key, 'groupedAt', ARGV[a + 16]) end
    if status == 'refunding' then
      redis.call('HSET', key, 'refundingSince', ARGV[a + 17], 'refundReason', ARGV[a + 12])
      redis.call('ZADD', KEYS[4], tonumber(ARGV[a + 17]), id)
    end
    if status == 'held' then
      redis.call('ZADD', KEYS[2], tonumber(ARGV[a + 7]), id)
    elseif status == 'paying' then
      redis.call('HSET', key, 'payingUntil', ARGV[a + 18], 'lastAttempt', ARGV[a + 18])
      redis.call('ZADD', KEYS[2], tonumber(ARGV[a + 18]), id)
    end
    -- Every fan with an order has a field in {d:ID}:fans, 0 once nothing counts (as after a
    -- grab and a cancel): the audit and the fan's order list are found from it.
    if counts_for_fan[status] then
      redis.call('HINCRBY', KEYS[1], fan, q)
      units = units + q
    else
      redis.call('HINCRBY', KEYS[1], fan, 0)
    end
    -- A refund under way is counted as paid until complete_refund moves it (begin_refund
    -- counts nothing).
    local counter = status
    if status == 'paying' then counter = 'held' end
    if status == 'refunding' then counter = 'paid' end
    redis.call('HINCRBY', KEYS[3], counter, q)
    if status == 'paid' or status == 'refunding' then
      redis.call('HINCRBY', KEYS[3], 'revenueMinor', ARGV[a + 3])
      redis.call('HINCRBY', KEYS[3], 'discountsMinor', ARGV[a + 10])
      if ARGV[a + 14] ~= '' then
        redis.call('HINCRBY', KEYS[3], 'referralRewardsMinor', ARGV[a + 14])
      end
    elseif status == 'grouped' then
      redis.call('HINCRBY', KEYS[3], 'escrowMinor', ARGV[a + 3])
    end
    redis.call('RPUSH', ARGV[2] .. fan, id)
    restored = restored + 1
  end
end
return {'OK', restored, units, short}
