#!/usr/bin/env bash
# Property-based tests of the server against its own OpenAPI document, with
# schemathesis (https://schemathesis.readthedocs.io). Run by compat/run.sh,
# which starts the server and exports CS_API_BASE and the platform's keys.
#
# Three passes, each with the key its operations take: the platform's secret
# key (platform endpoints), its publishable key (the claim) and an em_ key
# obtained by claiming a real session (the client-side API). Checks: no 5xx,
# and every status, content type, header and body as documented.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
st="$here/.venv/bin/schemathesis"
spec="$CS_API_BASE/v1/openapi.json"
checks=not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance
examples="${SCHEMATHESIS_MAX_EXAMPLES:-40}"

py() { "$here/../python/.venv/bin/python" - "$@"; }

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
  "$st" run "$spec" --checks "$checks" --max-examples "$examples" --workers 2 \
    --no-color --suppress-health-check all -H "Authorization: Bearer $key" "$@"
}

echo "[schemathesis] platform endpoints, secret key"
run "$CS_SECRET_KEY" --exclude-path-regex '^/v1/(account|embedded_session)(/|$)|^/v1/account_sessions/claim$'
echo "[schemathesis] the claim, publishable key"
run "$CS_PUBLISHABLE_KEY" --include-path /v1/account_sessions/claim
echo "[schemathesis] the client-side API, em_ key"
run "$em_key" --include-path-regex '^/v1/(account|embedded_session)(/|$)'
