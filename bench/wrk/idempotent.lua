-- Idempotent requests: every request carries an `Idempotency-Key` of its own, as
-- the SDKs send one on every POST (stripe-python a UUID, stripe-node
-- "stripe-node-retry-" and a UUID). bench.py writes `bench_key_prefix`, the
-- first 24 characters of a fresh UUID4 per wrk run ("xxxxxxxx-xxxx-4xxx-yxxx-",
-- so the warm-up and the measured run never share a key); each thread appends
-- its index (2 hex digits) and its own request counter (10 hex digits). A key is
-- therefore 36 characters shaped like a UUID, and never repeats within a run.
-- A repeated key would replay (create) or answer 400 (claim, other parameters),
-- and the run would show it.

local sent = 0

function idempotency_key()
   sent = sent + 1
   return string.format("%s%02x%010x", bench_key_prefix, bench_index, sent)
end

-- Requests with a fixed body (create): the scenario's wrk.body and headers, plus
-- the key. claim.lua, when included after this file, defines its own request(),
-- which sets the key as well.
function request()
   wrk.headers["Idempotency-Key"] = idempotency_key()
   return wrk.format()
end
