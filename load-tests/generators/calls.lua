-- wrk script of the benchmark (load-tests/runner/wrk.ts writes its input and reads its output).
--   wrk -t T -c C -d MAXs -s calls.lua http://127.0.0.1:PORT -- CALLS OUT T C RECORD
-- CALLS: one request a line, "METHOD<TAB>PATH<TAB>AUTHORIZATION<TAB>BODY" (request i is line i).
-- Thread k of T sends the lines i with i % T == k, each exactly once, in order, with one request
-- in flight per connection (a closed loop). The requests are built in init(), before the run,
-- so request() is a table lookup. When a thread has sent all its lines, request() hands wrk an
-- empty request: that connection stays idle (wrk's timeout count then means nothing; the
-- runner counts unanswered requests itself). Once a thread has all its answers it stops and
-- prints "FLASHDROP-THREAD-DONE"; the runner then sends SIGINT, which ends wrk's own sleep.
-- Per answer it counts statuses and the contract's error codes (docs/api.md: {"error": CODE}),
-- writes the bodies of the statuses in RECORD (comma list) to OUT.<thread>, and notes the
-- monotonic time of the last answer of each status. done() prints one "FLASHDROP-RESULT" JSON.
local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } flashdrop_timespec;
  int clock_gettime(int clk_id, flashdrop_timespec *tp);
]]
local CLOCK_MONOTONIC = 1
local ts = ffi.new("flashdrop_timespec")
local function now_ms()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, ts)
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

-- The main state (setup and done).
local threads = {}
local next_id = 0
function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

-- Each thread's state.
local requests = {}
connections = 0
local sent = 0
local answered = 0
local mine = 0
local out = nil
local record = {}
statuses = {}
codes = {}
last_at = {}
first_at = -1
done_at = -1
-- The values the main state reads with thread:get (plain globals of numbers and tables).
sent_count = 0
answered_count = 0

function init(args)
  local calls, out_prefix, nthreads, record_list = args[1], args[2], tonumber(args[3]), args[5]
  connections = tonumber(args[4])
  for status in string.gmatch(record_list or "", "%d+") do record[tonumber(status)] = true end
  local i = 0
  for line in io.lines(calls) do
    if i % nthreads == id then
      local method, path, auth, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
      local headers = { ["Content-Type"] = "application/json" }
      if auth ~= "" then headers["Authorization"] = auth end
      requests[#requests + 1] = wrk.format(method, path, headers, body)
    end
    i = i + 1
  end
  mine = #requests
  -- wrk's stdout is a pipe, so its own "Running" line waits in a buffer: this one is flushed
  -- (the runner reads the generator's CPU from here on).
  io.write("FLASHDROP-THREAD-READY\n")
  io.flush()
  -- Thread 0's first request() is wrk's dry run (below): it needs a real request to look at.
  if mine == 0 and id == 0 then error("thread 0 has no request: send at least one per thread") end
  out = io.open(out_prefix .. "." .. id, "w")
  if mine == 0 then
    io.write("FLASHDROP-THREAD-DONE\n")
    io.flush()
  end
end

-- wrk calls request() of thread 0 once before the run, to see how many requests one string
-- holds (script_verify_request): that call must not use up a line.
local verifying = nil
function request()
  if verifying == nil then verifying = (id == 0) end
  if verifying then
    verifying = false
    return requests[1]
  end
  if sent >= mine then return "" end
  sent = sent + 1
  sent_count = sent
  if first_at < 0 then first_at = now_ms() end
  return requests[sent]
end

function response(status, headers, body)
  answered = answered + 1
  answered_count = answered
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
  last_at[key] = now_ms()
  if status >= 400 then
    local code = body:match('"error"%s*:%s*"([%w_]+)"') or "no-code"
    codes[code] = (codes[code] or 0) + 1
  end
  if record[status] then out:write((body:gsub("[\r\n]", " ")), "\n") end
  if answered == mine then
    done_at = now_ms()
    out:close()
    io.write("FLASHDROP-THREAD-DONE\n")
    io.flush()
    wrk.thread:stop()
  end
end

local function json_of(value)
  if type(value) == "table" then
    local parts = {}
    for k, v in pairs(value) do parts[#parts + 1] = string.format("%q:%s", tostring(k), json_of(v)) end
    return "{" .. table.concat(parts, ",") .. "}"
  elseif type(value) == "number" then
    return string.format("%.17g", value)
  end
  return string.format("%q", tostring(value))
end

-- wrk "corrects" its latency histogram for coordinated omission before done() sees it
-- (wrk.c main: stats_correct(latency, runtime / (requests / connections))): every answer slower
-- than twice that interval adds made-up samples at interval steps below it. For a closed loop,
-- which is what is measured here, there is no schedule to have missed, so the answers' own
-- latencies are wanted: this undoes the correction exactly (stats.c: a sample at n added one
-- at each n - k*e > e), reading wrk's histogram (struct stats: count, limit, min, max, data[])
-- through the FFI. The runner checks the recovered count against the answers.
local function raw_percentiles(latency, duration_us, complete, connections)
  local ok, pointer = pcall(ffi.cast, "uint64_t**", latency)
  if not ok then return nil end
  local base = pointer[0]
  local max = tonumber(base[3])
  local data = base + 4
  local per_connection = math.floor(complete / connections)
  local e = per_connection > 0 and math.floor(duration_us / per_connection) or 0
  local counts = ffi.new("double[?]", max + 1)
  local later = ffi.new("double[?]", math.max(e, 1))
  local total = 0
  for n = max, 0, -1 do
    local c = tonumber(data[n])
    if e > 0 and n > e then
      local r = n % e
      c = c - later[r]
      later[r] = later[r] + c
    end
    counts[n] = c
    total = total + c
  end
  local out = { count = total, max = max }
  local wanted = { p50 = 0.50, p95 = 0.95, p99 = 0.99 }
  for name, p in pairs(wanted) do
    local rank, seen = math.max(1, math.ceil(p * total)), 0
    for n = 0, max do
      seen = seen + counts[n]
      if seen >= rank then out[name] = n; break end
    end
  end
  return out
end

function done(summary, latency, rates)
  local result = {
    sent = 0, answered = 0, statuses = {}, codes = {}, lastAt = {},
    firstAt = -1, doneAt = -1,
    errors = summary.errors,
    -- wrk's own figures, after its correction (see above)
    correctedLatencyUs = {
      p50 = latency:percentile(50), p95 = latency:percentile(95),
      p99 = latency:percentile(99), max = latency.max,
    },
  }
  result.latencyUs = raw_percentiles(latency, summary.duration, summary.requests,
    threads[1]:get("connections"))
  for _, thread in ipairs(threads) do
    result.sent = result.sent + thread:get("sent_count")
    result.answered = result.answered + thread:get("answered_count")
    for k, v in pairs(thread:get("statuses")) do result.statuses[k] = (result.statuses[k] or 0) + v end
    for k, v in pairs(thread:get("codes")) do result.codes[k] = (result.codes[k] or 0) + v end
    for k, v in pairs(thread:get("last_at")) do
      if (result.lastAt[k] or -1) < v then result.lastAt[k] = v end
    end
    local first = thread:get("first_at")
    if first >= 0 and (result.firstAt < 0 or first < result.firstAt) then result.firstAt = first end
    local finished = thread:get("done_at")
    if finished > result.doneAt then result.doneAt = finished end
  end
  io.write("FLASHDROP-RESULT ", json_of(result), "\n")
end
