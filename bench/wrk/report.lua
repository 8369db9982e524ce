-- Shared by every scenario: bench.py writes a header defining `bench_out`
-- (where done() writes its JSON), `bench_threads` (wrk's -t) and, for requests,
-- wrk.method, wrk.body and wrk.headers; then this file, then the scenario's parts
-- (idempotent.lua for an Idempotency-Key per request, claim.lua for a secret per
-- request).
--
-- Every response's status is counted, per thread, by response(); done() sums
-- them, so a run can be judged on "every counted request answered 200", not on
-- wrk's own error count (which only counts statuses above 399).

local threads = {}
local created = 0

function setup(thread)
   thread:set("bench_index", created)
   created = created + 1
   table.insert(threads, thread)
end

statuses = {}
exhausted = 0

function response(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
end

local function json_number(x)
   if x ~= x or x == math.huge or x == -math.huge then return "null" end
   return string.format("%.17g", x)
end

function done(summary, latency, requests)
   local counts = {}
   local total_exhausted = 0
   for _, thread in ipairs(threads) do
      local s = thread:get("statuses")
      for status, n in pairs(s) do
         counts[status] = (counts[status] or 0) + n
      end
      total_exhausted = total_exhausted + (thread:get("exhausted") or 0)
   end
   local parts = {}
   for status, n in pairs(counts) do
      table.insert(parts, string.format('"%d": %d', status, n))
   end
   local e = summary.errors
   local out = io.open(bench_out, "w")
   out:write("{\n")
   out:write(string.format('  "duration_us": %s,\n', json_number(summary.duration)))
   out:write(string.format('  "requests": %s,\n', json_number(summary.requests)))
   out:write(string.format('  "bytes": %s,\n', json_number(summary.bytes)))
   out:write(string.format('  "errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d},\n',
      e.connect, e.read, e.write, e.status, e.timeout))
   out:write('  "statuses": {' .. table.concat(parts, ", ") .. '},\n')
   out:write(string.format('  "exhausted": %d,\n', total_exhausted))
   out:write(string.format('  "latency_us": {"min": %s, "mean": %s, "stdev": %s, "max": %s, "p50": %s, "p90": %s, "p99": %s, "p999": %s}\n',
      json_number(latency.min), json_number(latency.mean), json_number(latency.stdev), json_number(latency.max),
      json_number(latency:percentile(50)), json_number(latency:percentile(90)),
      json_number(latency:percentile(99)), json_number(latency:percentile(99.9))))
   out:write("}\n")
   out:close()
end
