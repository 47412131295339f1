-- begin_edit: the first half of a drop edit (apps/api DropsService.update): decides, on Redis
-- TIME and atomically, that the drop may still be edited, and records the edit as begun. The
-- edit is then committed to PostgreSQL (the durable definition) and only then mirrored here
-- (mirror_drop sync), so a failed commit never leaves Redis changed.
--
-- KEYS[1] {d:ID}:drop   hash, the mirrored definition
-- ARGV[1] the version the edit will have in PostgreSQL
--
-- The drop may be edited before it locks (before reservations open; before the sale when no
-- reservation is required) and while it is not cancelled. On OK the hash holds
-- `editing = ARGV[1]` until a sync of that version (or a newer one) clears it: a reader that
-- sees `editing` knows PostgreSQL may be ahead of this mirror and repairs it from there (the
-- commit failed: the sync of PostgreSQL's own version clears the mark). Run twice with the
-- same arguments it sets the same mark.
--
-- Returns {'OK'} | {'ERR', 'NOT_FOUND'} | {'ERR', 'DROP_LOCKED'}
--       | {'ERR', 'BAD_RECORD'} (the mirror fails its check: repair it first; nothing written)
local d = hash_table(KEYS[1])
if d.id == nil then return {'ERR', 'NOT_FOUND'} end
local version = int_in(ARGV[1], 1, MAX_EXACT)
if not drop_ok(d) or version == nil then return {'ERR', 'BAD_RECORD'} end
if d.cancelled == '1' or now_ms() >= lock_time(d) then return {'ERR', 'DROP_LOCKED'} end
redis.call('HSET', KEYS[1], 'editing', version)
return {'OK'}
