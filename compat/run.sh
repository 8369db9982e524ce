#!/usr/bin/env bash
# Real-client compatibility tests for connect-sessions.
#
#   compat/run.sh [python] [node] [rust] [schemathesis] [double]   (no argument: all five suites)
#
# Starts the server binary ($CONNECT_SESSIONS_BIN, default connect-sessions in the debug folder
# of $CARGO_TARGET_DIR, else of <repo>/target) with a fresh SQLite database in a temporary
# folder, the way every test starts it (scripts/lib/server.sh: port 0, the address from its
# listening line, readiness from its own `healthcheck`), creates two platforms with
# `connect-sessions platforms create`, exports their keys and runs:
#   python  the official `stripe` Python package 16.1.0 (pytest), venv in compat/python/.venv
#   node    the official `stripe` Node package 23.1.0 (node:test), compat/node/node_modules
#   rust    async-stripe + async-stripe-connect (+ -core, -misc, -webhook) 1.0.0-rc.10 (cargo
#           test), compat/rust/target
#   schemathesis  property-based tests against the server's own OpenAPI document
#   double  the server as a CI test double (issue 16), on a SECOND server of its own (below):
#           stripe-python's account-session tests as its own suite writes them, with
#           sk_test_123 and no set-up (python/test_double.py), two 500s retried by the Python and
#           Node SDKs under one idempotency key and the request log showing all three, the clock
#           moved 31 minutes, reset, live keys refused (node/test_double.mjs), then schemathesis
#           (schemathesis/run.sh) with sk_test_123 / pk_test_123, test helpers included
# Clients are installed on first use and reused while their pinned versions do not change.
# The python, node, rust and schemathesis suites share that server. The double suite gets a
# second one, the same binary with its own fresh SQLite database in the same temporary folder,
# started the same way with `--accept-any-test-key --test-double` (the clock, faults, the
# request log and reset): no platform is created for it, since any sk_test_X key is a platform
# from its first request. Each server starts only if a suite that uses it was asked for.
# The servers are stopped on exit, whatever happens. Exit status: non-zero if any suite failed.
#
# Environment seen by the suites:
#   CS_API_BASE, CS_SECRET_KEY, CS_PUBLISHABLE_KEY, CS_LIVE_SECRET_KEY, CS_LIVE_PUBLISHABLE_KEY,
#   CS_PLATFORM_ID (platform A), CS_OTHER_SECRET_KEY, CS_OTHER_PUBLISHABLE_KEY,
#   CS_OTHER_PLATFORM_ID (platform B), CS_SESSION_TTL_SECONDS, CS_VERIFICATION_DELAY_SECONDS,
#   CS_WEBHOOK_POLL_INTERVAL_MS; for the double suite CS_DOUBLE_API_BASE (its server's base URL).
# The server runs with `--verification-delay 1s`, so test-mode identity checks that Stripe runs
# asynchronously (an address, DOB 1901-01-01) verify one second after they are submitted, and
# with `--webhook-poll-interval 100ms`, so its webhook worker looks for due deliveries (and for
# completed verifications, whose events it records) ten times a second: the webhook tests, which
# receive deliveries on a loopback port of their own, wait a fraction of a second for each.
set -euo pipefail

COMPAT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$COMPAT_DIR/.." && pwd)"
BIN="${CONNECT_SESSIONS_BIN:-${CARGO_TARGET_DIR:-$REPO_ROOT/target}/debug/connect-sessions}"
PYTHON="${PYTHON:-python3}"

log() { printf '[compat] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 2; }

suites=("$@")
if [ ${#suites[@]} -eq 0 ]; then suites=(python node rust schemathesis double); fi
for s in "${suites[@]}"; do
  case "$s" in
    python|node|rust|schemathesis|double) ;;
    *) die "unknown suite '$s' (expected python, node, rust, schemathesis or double)";;
  esac
done

[ -x "$BIN" ] || die "server binary not found at $BIN: run 'cargo build' at the repository root or set CONNECT_SESSIONS_BIN"
BIN="$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")"
command -v "$PYTHON" >/dev/null || die "$PYTHON is needed (to parse JSON and run the Python suite)"
# shellcheck source=../scripts/lib/server.sh
. "$REPO_ROOT/scripts/lib/server.sh"

# ---------------------------------------------------------------------------------------------
# Clients (installed before the server starts, so a slow install does not hold a server open)
# ---------------------------------------------------------------------------------------------
want() { local s; for s in "${suites[@]}"; do [ "$s" = "$1" ] && return 0; done; return 1; }

install_python() {
  local venv="$COMPAT_DIR/python/.venv" req="$COMPAT_DIR/python/requirements.txt"
  local stamp="$venv/.compat-requirements"
  if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && cmp -s "$req" "$stamp"; then
    return 0
  fi
  log "installing the Python client into compat/python/.venv ($(tr '\n' ' ' < "$req"))"
  rm -rf "$venv"
  "$PYTHON" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req"
  cp "$req" "$stamp"
}

install_node() {
  local dir="$COMPAT_DIR/node" stamp="$COMPAT_DIR/node/node_modules/.compat-package-lock"
  command -v node >/dev/null || die "node (>= 20) is needed for the Node suite"
  command -v npm >/dev/null || die "npm is needed for the Node suite"
  if [ -f "$stamp" ] && cmp -s "$dir/package-lock.json" "$stamp" \
     && [ -f "$dir/node_modules/stripe/package.json" ]; then
    return 0
  fi
  log "installing the Node client into compat/node/node_modules (npm ci)"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  cp "$dir/package-lock.json" "$stamp"
}

install_schemathesis() {
  local venv="$COMPAT_DIR/schemathesis/.venv" req="$COMPAT_DIR/schemathesis/requirements.txt"
  local stamp="$venv/.compat-requirements"
  if [ -x "$venv/bin/schemathesis" ] && [ -f "$stamp" ] && cmp -s "$req" "$stamp"; then
    return 0
  fi
  log "installing schemathesis into compat/schemathesis/.venv ($(tr '\n' ' ' < "$req"))"
  rm -rf "$venv"
  "$PYTHON" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req"
  cp "$req" "$stamp"
}

build_rust() {
  command -v cargo >/dev/null || die "cargo is needed for the Rust suite"
  log "building the async-stripe suite (first build takes a few minutes)"
  (cd "$COMPAT_DIR/rust" && CARGO_TARGET_DIR="$COMPAT_DIR/rust/target" \
     cargo test --locked --test async_stripe --no-run --quiet)
}

if want python; then install_python; fi
if want node; then install_node; fi
if want rust; then build_rust; fi
if want schemathesis; then install_python; install_schemathesis; fi
if want double; then install_python; install_node; install_schemathesis; fi

# ---------------------------------------------------------------------------------------------
# Server
# ---------------------------------------------------------------------------------------------
WORK="$(mktemp -d "${TMPDIR:-/tmp}/connect-sessions-compat.XXXXXX")"
MAIN_PID=""
DOUBLE_PID=""
cleanup() {
  local rc=$? pid
  # The last one started (even if its start failed), then both.
  for pid in "$SERVER_PID" "$MAIN_PID" "$DOUBLE_PID"; do SERVER_PID="$pid"; server_stop; done
  if [ "$rc" -ne 0 ] && [ -f "$WORK/server.log" ]; then
    log "last lines of the server log:"
    tail -n 30 "$WORK/server.log" >&2 || true
  fi
  if [ "$rc" -ne 0 ] && [ -f "$WORK/double.log" ]; then
    log "last lines of the test double's server log:"
    tail -n 30 "$WORK/double.log" >&2 || true
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

DB="sqlite://$WORK/compat.db"
# The suites expect the documented defaults, not whatever the caller's environment says.
unset CONNECT_SESSIONS_LISTEN CONNECT_SESSIONS_DATABASE CONNECT_SESSIONS_SESSION_TTL \
  CONNECT_SESSIONS_VERIFICATION_DELAY CONNECT_SESSIONS_WEBHOOK_POLL_INTERVAL \
  CONNECT_SESSIONS_WEBHOOK_TIMEOUT CONNECT_SESSIONS_WEBHOOK_CONCURRENCY \
  CONNECT_SESSIONS_WEBHOOK_ENDPOINT_CONCURRENCY CONNECT_SESSIONS_ALLOW_PRIVATE_WEBHOOK_ADDRESSES \
  CONNECT_SESSIONS_TEST_CLOCK CONNECT_SESSIONS_TEST_FAULTS CONNECT_SESSIONS_REQUEST_LOG \
  CONNECT_SESSIONS_TEST_RESET CONNECT_SESSIONS_TEST_DOUBLE CONNECT_SESSIONS_SEED \
  CONNECT_SESSIONS_TEST_KEYS_FROM CONNECT_SESSIONS_TEST_KEYS CONNECT_SESSIONS_ACCEPT_ANY_TEST_KEY

json_field() { "$PYTHON" -c 'import json,sys; print(json.loads(sys.stdin.read())[sys.argv[1]])' "$1"; }

create_platform() {
  local out
  out="$("$BIN" platforms create --database "$DB" --name "$1")" \
    || die "'connect-sessions platforms create' failed"
  "$PYTHON" - "$out" <<'EOF' || die "'platforms create' did not print exactly one JSON object with the five keys (id, secret_key, publishable_key, live_secret_key, live_publishable_key)"
import json, sys
d = json.loads(sys.argv[1])
assert isinstance(d, dict)
for k, prefix in [("id", ""), ("secret_key", "sk_test_"), ("publishable_key", "pk_test_"),
                  ("live_secret_key", "sk_live_"), ("live_publishable_key", "pk_live_")]:
    assert isinstance(d.get(k), str) and d[k].startswith(prefix) and d[k], k
EOF
  printf '%s' "$out"
}

# The shared server of the python, node, rust and schemathesis suites.
if want python || want node || want rust || want schemathesis; then
  A="$(create_platform compat-a)"
  B="$(create_platform compat-b)"
  for pair in A:CS_PLATFORM_ID:id A:CS_SECRET_KEY:secret_key A:CS_PUBLISHABLE_KEY:publishable_key \
              A:CS_LIVE_SECRET_KEY:live_secret_key A:CS_LIVE_PUBLISHABLE_KEY:live_publishable_key \
              B:CS_OTHER_PLATFORM_ID:id B:CS_OTHER_SECRET_KEY:secret_key \
              B:CS_OTHER_PUBLISHABLE_KEY:publishable_key; do
    IFS=: read -r platform var field <<<"$pair"
    value="$(json_field "$field" <<<"${!platform}")"
    export "$var=$value"
  done
  export CS_SESSION_TTL_SECONDS=1800   # the server's documented default; run.sh passes no --session-ttl
  # Asynchronous test-mode verification takes 1 s instead of the default 5 s, so the onboarding
  # tests wait briefly for an address check to complete.
  export CS_VERIFICATION_DELAY_SECONDS=1
  # The webhook worker polls every 100 ms instead of every second, so a delivery (and the events of
  # a verification that completed) reaches the suites' loopback receivers within a fraction of a
  # second.
  export CS_WEBHOOK_POLL_INTERVAL_MS=100

  log "starting $BIN serve on 127.0.0.1, port 0"
  server_start "$BIN" "$WORK/server.log" --database "$DB" \
    --verification-delay "${CS_VERIFICATION_DELAY_SECONDS}s" \
    --webhook-poll-interval "${CS_WEBHOOK_POLL_INTERVAL_MS}ms" || die "the server did not start"
  export CS_API_BASE="http://$SERVER_ADDRESS"
  log "server ready at $CS_API_BASE"
  MAIN_PID="$SERVER_PID"
fi

# The double suite's own server: a fresh database, no platform, every part of the test double.
if want double; then
  log "starting $BIN serve --accept-any-test-key --test-double on 127.0.0.1, port 0"
  server_start "$BIN" "$WORK/double.log" --database "sqlite://$WORK/double.db" \
    --accept-any-test-key --test-double || die "the test double's server did not start"
  DOUBLE_PID="$SERVER_PID"
  export CS_DOUBLE_API_BASE="http://$SERVER_ADDRESS"
  log "test double ready at $CS_DOUBLE_API_BASE"
fi

# ---------------------------------------------------------------------------------------------
# Suites
# ---------------------------------------------------------------------------------------------
run_python() {
  (cd "$COMPAT_DIR/python" && PYTHONDONTWRITEBYTECODE=1 timeout 900 \
     .venv/bin/python -m pytest -p no:cacheprovider -q -rfE test_stripe_python.py)
}
run_node() {
  (cd "$COMPAT_DIR/node" && timeout 900 node --test --test-reporter=spec test.mjs)
}
run_schemathesis() {
  timeout 900 "$COMPAT_DIR/schemathesis/run.sh"
}
run_rust() {
  (cd "$COMPAT_DIR/rust" && CARGO_TARGET_DIR="$COMPAT_DIR/rust/target" timeout 900 \
     cargo test --locked --quiet --test async_stripe)
}
# The test double: Python, then Node, then schemathesis with stripe-mock's keys (its last pass
# moves the clock, resets and installs fault rules, so it comes last). All three always run.
run_double() {
  local rc=0
  (cd "$COMPAT_DIR/python" && PYTHONDONTWRITEBYTECODE=1 timeout 900 \
     .venv/bin/python -m pytest -p no:cacheprovider -q -rfE test_double.py) || rc=1
  (cd "$COMPAT_DIR/node" && timeout 900 node --test --test-reporter=spec test_double.mjs) || rc=1
  CS_API_BASE="$CS_DOUBLE_API_BASE" CS_SECRET_KEY=sk_test_123 CS_PUBLISHABLE_KEY=pk_test_123 \
    timeout 900 "$COMPAT_DIR/schemathesis/run.sh" || rc=1
  return "$rc"
}

declare -A result=()
failed=0
for s in "${suites[@]}"; do
  log "=== $s suite ==="
  if "run_$s"; then result[$s]=passed; else result[$s]=FAILED; failed=1; fi
  if [ "$s" = double ]; then pid="$DOUBLE_PID"; else pid="$MAIN_PID"; fi
  kill -0 "$pid" 2>/dev/null || { log "the server died during the $s suite"; failed=1; break; }
done

log "=== summary ==="
passed_n=0; failed_n=0
for s in "${suites[@]}"; do
  log "$s: ${result[$s]:-not run}"
  if [ "${result[$s]:-}" = passed ]; then passed_n=$((passed_n + 1)); else failed_n=$((failed_n + 1)); fi
done
# A plain closing line (counts are suites, each of which printed its own test counts above).
echo "compat: $passed_n passed, $failed_n failed"
exit "$failed"
