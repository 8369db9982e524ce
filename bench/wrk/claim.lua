-- Claims: each request takes the next client secret of this thread's share of
-- the file `bench_secrets` (line i goes to thread i mod bench_threads), so no
-- secret is sent twice. A thread that runs out sends a malformed secret and
-- counts it in `exhausted`; bench.py then discards the run and retries it with
-- more secrets. A secret claimed twice would answer 400, and be counted.
-- In the idempotent scenario (idempotent.lua included before this file) each
-- request also carries a fresh Idempotency-Key.

local secrets = {}
local next_secret = 1

function init(args)
   local index = 0
   for line in io.lines(bench_secrets) do
      if index % bench_threads == bench_index then
         secrets[#secrets + 1] = line
      end
      index = index + 1
   end
end

function request()
   local secret = secrets[next_secret]
   if secret == nil then
      exhausted = exhausted + 1
      secret = "exhausted"
   else
      secrets[next_secret] = nil
      next_secret = next_secret + 1
   end
   if idempotency_key then
      wrk.headers["Idempotency-Key"] = idempotency_key()
   end
   return wrk.format(nil, nil, nil, "client_secret=" .. secret)
end
