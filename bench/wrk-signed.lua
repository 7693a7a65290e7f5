-- wrk script for bench/intake.sh: replays deliveries pre-signed by `bench_sign`, one file
-- per wrk thread, each request once. A run that outlasts its file starts over; those
-- requests are then duplicates (still stored-or-found, but cheaper) and are reported.
--   BENCH_FILES     prefix of the files (PREFIX.0, PREFIX.1, ...)
--   BENCH_KIND      ghl | tovuti
--   BENCH_DELAY_MS  pause before each request of a connection (fixed-rate latency runs)

local prefix = os.getenv("BENCH_FILES")
local kind = os.getenv("BENCH_KIND")
local delay_ms = tonumber(os.getenv("BENCH_DELAY_MS") or "0")
local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local function split(line)
  local fields = {}
  for field in string.gmatch(line, "[^\t]+") do
    fields[#fields + 1] = field
  end
  return fields
end

function init(args)
  requests = {}
  local headers = { ["Content-Type"] = "application/json" }
  for line in io.lines(prefix .. "." .. tid) do
    local f = split(line)
    if kind == "ghl" then
      headers["X-GHL-Signature"] = f[1]
      requests[#requests + 1] = wrk.format("POST", nil, headers, f[2])
    else
      headers["webhook-id"] = f[1]
      headers["webhook-timestamp"] = f[2]
      headers["webhook-signature"] = f[3]
      requests[#requests + 1] = wrk.format("POST", nil, headers, f[4])
    end
  end
  index = 0
  wrapped = 0
end

function request()
  index = index + 1
  if index > #requests then
    index = 1
    wrapped = wrapped + 1
  end
  return requests[index]
end

if delay_ms > 0 then
  function delay()
    return delay_ms
  end
end

function done(summary, latency, requests_done)
  local replays = 0
  for _, thread in ipairs(threads) do
    replays = replays + (thread:get("wrapped") or 0)
  end
  io.write(string.format("BENCH non2xx=%d errors=%d replays=%d p50_us=%d p99_us=%d requests=%d\n",
    summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    replays, latency:percentile(50), latency:percentile(99), summary.requests))
end
