-- mirror_drop: writes a drop's sale-relevant definition (from PostgreSQL) into Redis.
--
-- KEYS[1] {d:ID}:drop    hash, the mirrored definition
-- KEYS[2] {d:ID}:stock   string, units a fan could grab now
-- KEYS[3] {d:ID}:events  stream, the outbox
-- ARGV[1] mode: 'create' | 'restore' | 'sync'
-- ARGV[2] restore: the units a fan could grab ('' = quantity); sync: '1' when the caller read
--         `version` from PostgreSQL while holding the row so no edit could begin (a repair):
--         then any `editing` mark is settled by this sync; other modes: ''
-- ARGV[3..] field, value, ... (times as epoch ms, '' for an absent optional time; `version` is
--           sales.drops' version of this definition)
--
-- create:  first mirror; sets the stock to `quantity` and emits drop.created. On an existing
--          drop it changes nothing (a retried create is harmless).
-- restore: mirrors a drop Redis lost, after its orders were restored (Inventory.rebuildDrop):
--          the stock is ARGV[2], what was held or paid staying out of it. No event. On an
--          existing drop it changes nothing.
-- sync:    makes the mirror PostgreSQL's definition of this version (an edit, or a repair).
--          A mirror that already holds a newer version is left alone, so syncs never apply out
--          of order. When fields change and the drop is not locked (see _lib lock_time), they
--          are written, the stock moves by the change of `quantity` (nothing can have been
--          grabbed yet) and drop.updated is emitted. When fields change but the drop locked in
--          the meantime, nothing is written and the answer is LOCKED with the definition the
--          sale runs with: the caller writes that back to PostgreSQL (the edit could not reach
--          the sale in time) and syncs again. Either way the version is recorded and an
--          `editing` mark (begin_edit) of this version or an older one is cleared; a repair
--          (ARGV[2] = '1') clears any mark, since no edit can be under way while it holds the
--          row and PostgreSQL's version is then the edit's outcome (committed or not). A sync
--          that changes nothing writes no event (a second run of the same call among them).
-- The definition the hash would hold is checked (_lib drop_ok) before anything is written.
--
-- Returns {'OK'} | {'LOCKED', field, value, ...} | {'ERR', 'NOT_FOUND'}
--       | {'ERR', 'BAD_RECORD'} (the definition fails its check; nothing written)
local mode = ARGV[1]
local exists = redis.call('EXISTS', KEYS[1]) == 1
local now = now_ms()

local given = {}
for i = 3, #ARGV, 2 do given[ARGV[i]] = ARGV[i + 1] end

local function fields()
  local kv = {}
  for i = 3, #ARGV do kv[#kv + 1] = ARGV[i] end
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
  local stock = given.quantity
  if mode == 'restore' and ARGV[2] ~= '' then stock = ARGV[2] end
  if not drop_ok(given) or int_in(stock, 0, MAX_EXACT) == nil then return {'ERR', 'BAD_RECORD'} end
  redis.call('HSET', KEYS[1], unpack(fields()))
  redis.call('SET', KEYS[2], stock)
  if mode == 'create' then emit(KEYS[3], 'drop.created', now, event_data(given)) end
  return {'OK'}
end

if mode ~= 'sync' then return {'ERR', 'BAD_RECORD'} end
if not exists then return {'ERR', 'NOT_FOUND'} end
local old = hash_table(KEYS[1])
local version = int_in(given.version, 1, MAX_EXACT)
if version == nil then return {'ERR', 'BAD_RECORD'} end
local old_ok = drop_ok(old)
local held = int_in(old.version or '1', 1, MAX_EXACT) or 0
if old_ok and version < held then return {'OK'} end

local merged = hash_table(KEYS[1])
local changed = false
for k, v in pairs(given) do
  if k ~= 'version' and merged[k] ~= v then changed = true end
  merged[k] = v
end
if not drop_ok(merged) then return {'ERR', 'BAD_RECORD'} end

local function record_version()
  redis.call('HSET', KEYS[1], 'version', version)
  local editing = int_in(old.editing, 1, MAX_EXACT)
  if old.editing ~= nil and (ARGV[2] == '1' or editing == nil or editing <= version) then
    redis.call('HDEL', KEYS[1], 'editing')
  end
end

if not changed then
  record_version()
  return {'OK'}
end
local locked = old.cancelled == '1' or now >= lock_time(old_ok and old or merged)
if locked and old_ok then
  return {'LOCKED', unpack(redis.call('HGETALL', KEYS[1]))}
end
-- A record that fails its check cannot be what the sale runs with: PostgreSQL's copy replaces
-- it, and the stock is left as it is once the drop has locked (units may be held).
local delta = nil
if old_ok then delta = tonumber(merged.quantity) - tonumber(old.quantity) end
redis.call('HSET', KEYS[1], unpack(fields()))
if delta ~= nil then
  if delta ~= 0 then redis.call('INCRBY', KEYS[2], delta) end
elseif not locked then
  redis.call('SET', KEYS[2], merged.quantity)
end
record_version()
emit(KEYS[3], 'drop.updated', now, event_data(merged))
return {'OK'}
