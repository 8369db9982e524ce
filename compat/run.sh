#!/usr/bin/env bash
# Real-client compatibility tests for connect-sessions.
#
#   compat/run.sh [python] [node] [rust]      (no argument: all three suites)
#
# Starts the server binary ($CONNECT_SESSIONS_BIN, default connect-sessions in the debug folder
# of $CARGO_TARGET_DIR, else of <repo>/target) with a fresh SQLite database in a temporary
# folder, the way every test starts it (scripts/lib/server.sh: port 0, the address from its
# listening line, readiness from its own `healthcheck`), creates two platforms with
# `connect-sessions platforms create`, exports their keys and runs:
#   python  the official `stripe` Python package 16.1.0 (pytest), venv in compat/python/.venv
#   node    the official `stripe` Node package 23.1.0 (node:test), compat/node/node_modules
#   rust    async-stripe + async-stripe-connect 1.0.0-rc.10 (cargo test), compat/rust/target
# Clients are installed on first use and reused while their pinned versions do not change.
# The server is stopped on exit, whatever happens. Exit status: non-zero if any suite failed.
#
# Environment seen by the suites:
#   CS_API_BASE, CS_SECRET_KEY, CS_PUBLISHABLE_KEY, CS_LIVE_SECRET_KEY, CS_LIVE_PUBLISHABLE_KEY,
#   CS_PLATFORM_ID (platform A), CS_OTHER_SECRET_KEY, CS_OTHER_PUBLISHABLE_KEY,
#   CS_OTHER_PLATFORM_ID (platform B), CS_SESSION_TTL_SECONDS.
set -euo pipefail

COMPAT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$COMPAT_DIR/.." && pwd)"
BIN="${CONNECT_SESSIONS_BIN:-${CARGO_TARGET_DIR:-$REPO_ROOT/target}/debug/connect-sessions}"
PYTHON="${PYTHON:-python3}"

log() { printf '[compat] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 2; }

suites=("$@")
if [ ${#suites[@]} -eq 0 ]; then suites=(python node rust schemathesis); fi
for s in "${suites[@]}"; do
  case "$s" in python|node|rust|schemathesis) ;; *) die "unknown suite '$s' (expected python, node, rust or schemathesis)";; esac
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

# ---------------------------------------------------------------------------------------------
# Server
# ---------------------------------------------------------------------------------------------
WORK="$(mktemp -d "${TMPDIR:-/tmp}/connect-sessions-compat.XXXXXX")"
cleanup() {
  local rc=$?
  server_stop
  if [ "$rc" -ne 0 ] && [ -f "$WORK/server.log" ]; then
    log "last lines of the server log:"
    tail -n 30 "$WORK/server.log" >&2 || true
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

DB="sqlite://$WORK/compat.db"
# The suites expect the documented defaults, not whatever the caller's environment says.
unset CONNECT_SESSIONS_LISTEN CONNECT_SESSIONS_DATABASE CONNECT_SESSIONS_SESSION_TTL

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

log "starting $BIN serve on 127.0.0.1, port 0"
server_start "$BIN" "$WORK/server.log" --database "$DB" || die "the server did not start"
export CS_API_BASE="http://$SERVER_ADDRESS"
log "server ready at $CS_API_BASE"

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

declare -A result=()
failed=0
for s in "${suites[@]}"; do
  log "=== $s suite ==="
  if "run_$s"; then result[$s]=passed; else result[$s]=FAILED; failed=1; fi
  kill -0 "$SERVER_PID" 2>/dev/null || { log "the server died during the $s suite"; failed=1; break; }
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
