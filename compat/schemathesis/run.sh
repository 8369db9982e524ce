#!/usr/bin/env bash
# Property-based tests of the server against its own OpenAPI document, with
# schemathesis (https://schemathesis.readthedocs.io). Run by compat/run.sh,
# which starts the server and exports CS_API_BASE and the platform's keys.
#
# Four passes, each with the key its operations take: the platform's secret
# key (platform endpoints), its publishable key (the claim), an em_ key
# obtained by claiming a real session (the client-side API), and the secret key
# again for the test double's own helpers (the clock, faults, the request log,
# reset), last: on a server run with --test-double they move the clock forward
# (expiring the em_ key), delete the platform's objects and install fault rules
# whose 5xx answers a later request would rightly get; on any other server they
# answer 400. Checks: no 5xx, and every status, content type, header and body
# as documented. The claim and the helpers are the target of no OpenAPI link,
# so their passes skip the stateful phase (schemathesis fails a run whose links
# are all filtered out).
#
# Also run by `compat/run.sh double` against its test-double server, with
# CS_API_BASE pointing there and sk_test_123 / pk_test_123 as the keys.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
st="$here/.venv/bin/schemathesis"
spec="$CS_API_BASE/v1/openapi.json"
checks=not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance
examples="${SCHEMATHESIS_MAX_EXAMPLES:-40}"
# One worker: with two threads, Hypothesis (describing a lambda) can run ast.parse in both at
# once, and CPython 3.11 then fails the run with "SystemError: AST constructor recursion depth
# mismatch" (python/cpython#106905), an error of the tool, not of the server.
workers="${SCHEMATHESIS_WORKERS:-1}"

py() { "$here/../python/.venv/bin/python" - "$@"; }

# Fault rules a previous run against the same test double left behind would
# fault this run's requests; elsewhere this answers 400, ignored.
clear_fault_rules() { py "$CS_API_BASE" "$CS_SECRET_KEY" <<'PY'
import sys, urllib.error, urllib.request
base, sk = sys.argv[1:3]
request = urllib.request.Request(base + "/v1/test_helpers/faults", method="DELETE",
                                 headers={"Authorization": "Bearer " + sk})
try:
    urllib.request.urlopen(request).close()
except urllib.error.HTTPError:
    pass
PY
}
clear_fault_rules

# An em_ key for the client-side API: an account, a session granting every
# client-side operation, and its claim.
em_key="$(py "$CS_API_BASE" "$CS_SECRET_KEY" "$CS_PUBLISHABLE_KEY" <<'PY'
import json, sys, urllib.request, urllib.parse
base, sk, pk = sys.argv[1:4]
def post(path, key, data):
    request = urllib.request.Request(base + path, data=urllib.parse.urlencode(data).encode(),
                                     headers={"Authorization": "Bearer " + key})
    return json.load(urllib.request.urlopen(request))
account = post("/v1/accounts", sk, {"type": "custom"})["id"]
secret = post("/v1/account_sessions", sk, {"account": account,
    "components[account_management][enabled]": "true",
    "components[payouts][enabled]": "true"})["client_secret"]
print(post("/v1/account_sessions/claim", pk, {"client_secret": secret})["secret"])
PY
)"

run() {
  local key="$1"; shift
  "$st" run "$spec" --checks "$checks" --max-examples "$examples" --workers "$workers" \
    --no-color --suppress-health-check all -H "Authorization: Bearer $key" "$@"
}

helpers='^/v1/test_helpers/(clock|faults|requests|reset)(/|$)'
no_links=examples,coverage,fuzzing

echo "[schemathesis] platform endpoints, secret key"
run "$CS_SECRET_KEY" \
  --exclude-path-regex "^/v1/(account|embedded_session)(/|\$)|^/v1/account_sessions/claim\$|$helpers"
echo "[schemathesis] the claim, publishable key"
run "$CS_PUBLISHABLE_KEY" --include-path /v1/account_sessions/claim --phases "$no_links"
echo "[schemathesis] the client-side API, em_ key"
run "$em_key" --include-path-regex '^/v1/(account|embedded_session)(/|$)'
echo "[schemathesis] the test double's helpers, secret key"
run "$CS_SECRET_KEY" --include-path-regex "$helpers" --phases "$no_links"
