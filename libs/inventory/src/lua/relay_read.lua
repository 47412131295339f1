-- relay_read: the outbox relay's read of drops' outbox streams, pending entries first, as one
-- atomic step. For each stream: the entries the group delivered to CONSUMER and nobody
-- acknowledged yet (XREADGROUP ... 0); only when there are none, entries never delivered (>).
-- Why one script: two relays that both believe they lead (a leader paused past its lease, and
-- its successor) read under the one consumer name, so whichever reads next finds what the other
-- holds unacknowledged and sends that before anything newer. An entry newer than an
-- unacknowledged one is read only once that one is acknowledged, which the relay does only after
-- Kafka stored it: a drop's events reach Kafka in stream order whatever the two relays do; at
-- worst an older event arrives once more after newer ones, and consumers drop it by its id.
-- As two commands, one relay could find the pending list empty, the other read entry N, and the
-- first then read N+1 and send it before N (analytics' high-water mark would then drop N).
-- KEYS[1...] {d:ID}:events (all on one node; on a Redis Cluster one per call)
-- ARGV[1] group   ARGV[2] consumer   ARGV[3] entries per stream
-- Returns one {key, entries, lastId} per stream: entries as XREADGROUP answers them ({id, fields},
-- fields nil for an entry trimmed while pending); lastId, when nothing was read, the stream's
-- newest id ('0-0' when it has none: what a blocking XREAD may wait past), else ''.
local group, consumer, count = ARGV[1], ARGV[2], ARGV[3]
local out = {}
for i, key in ipairs(KEYS) do
  local reply = redis.call('XREADGROUP', 'GROUP', group, consumer, 'COUNT', count,
    'STREAMS', key, '0')
  local entries = reply and reply[1][2] or {}
  if #entries == 0 then
    reply = redis.call('XREADGROUP', 'GROUP', group, consumer, 'COUNT', count,
      'STREAMS', key, '>')
    entries = reply and reply[1][2] or {}
  end
  local last = ''
  if #entries == 0 then
    local newest = redis.call('XREVRANGE', key, '+', '-', 'COUNT', 1)
    last = newest[1] and newest[1][1] or '0-0'
  end
  out[i] = {key, entries, last}
end
return out
