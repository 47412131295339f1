-- mirror_drop: writes a drop's sale-relevant definition (from PostgreSQL) into Redis.
--
-- KEYS[1] {d:ID}:drop    hash, the mirrored definition
-- KEYS[2] {d:ID}:stock   string, units a fan could grab now
-- KEYS[3] {d:ID}:events  stream, the outbox
-- ARGV[1] mode: 'create' | 'update' | 'restore'
-- ARGV[2..] field, value, ... (times as epoch ms, '' for an absent optional time)
--
-- create:  first mirror; sets the stock to `quantity` and emits drop.created. On an existing
--          drop it changes nothing (a retried create is harmless).
-- update:  only while the drop is not locked (before reservations open; before the sale when
--          no reservation is required) and not cancelled: the lock is checked here, against
--          Redis TIME, atomically with the write. Moves the stock by the change of `quantity`
--          (nothing can have been grabbed yet) and emits drop.updated. An update that changes
--          no field (a second run of the same call among them) writes nothing.
-- restore: re-mirrors a drop that is missing from Redis (no event, stock = quantity).
-- The definition the hash would hold is checked (_lib drop_ok) before anything is written.
--
-- Returns {'OK'} | {'ERR', 'NOT_FOUND'} | {'ERR', 'DROP_LOCKED'}
--       | {'ERR', 'BAD_RECORD'} (the definition fails its check; nothing written)
local mode = ARGV[1]
local exists = redis.call('EXISTS', KEYS[1]) == 1
local now = now_ms()

local given = {}
for i = 2, #ARGV, 2 do given[ARGV[i]] = ARGV[i + 1] end

local function fields()
  local kv = {}
  for i = 2, #ARGV do kv[#kv + 1] = ARGV[i] end
  return kv
end

local function event_data(d)
  return {
    'dropId', d.id, 'brandId', d.brandId, 'quantity', tonumber(d.quantity),
    'priceMinor', tonumber(d.priceMinor), 'currency', d.currency,
  }
end

if mode == 'create' or mode == 'restore' then
  if exists then return {'OK'} end
  if not drop_ok(given) then return {'ERR', 'BAD_RECORD'} end
  redis.call('HSET', KEYS[1], unpack(fields()))
  redis.call('SET', KEYS[2], given.quantity)
  if mode == 'create' then emit(KEYS[3], 'drop.created', now, event_data(given)) end
  return {'OK'}
end

if not exists then return {'ERR', 'NOT_FOUND'} end
local old = hash_table(KEYS[1])
local merged = hash_table(KEYS[1])
local changed = false
for k, v in pairs(given) do
  if merged[k] ~= v then changed = true end
  merged[k] = v
end
if not drop_ok(old) or not drop_ok(merged) then return {'ERR', 'BAD_RECORD'} end
local lock_at = tonumber(old.saleStartsAt)
if old.reservationRequired == '1' and old.reservationOpensAt ~= '' then
  lock_at = tonumber(old.reservationOpensAt)
end
if old.cancelled == '1' or now >= lock_at then return {'ERR', 'DROP_LOCKED'} end
if not changed then return {'OK'} end

local delta = tonumber(merged.quantity) - tonumber(old.quantity)
redis.call('HSET', KEYS[1], unpack(fields()))
if delta ~= 0 then redis.call('INCRBY', KEYS[2], delta) end
emit(KEYS[3], 'drop.updated', now, event_data(merged))
return {'OK'}
