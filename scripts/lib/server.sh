# Starts the server binary for scripts, the way the Rust tests' fixture
# (tests/api/fixture.rs) does: `serve --listen 127.0.0.1:0`, the real address
# read from the server's own `listening` log line, and readiness judged by the
# binary's own `healthcheck`. No port is picked beforehand, so none can be
# taken by someone else before the server binds it.
#
# Source this file, then:
#   server_start BIN LOG [serve options...]   sets SERVER_PID and SERVER_ADDRESS
#   server_stop                               SIGTERM, then SIGKILL after 5 s
# server_start returns non-zero, with a message on stderr, if the server exits,
# prints no listening line within 60 s, or fails its health check for 30 s.

SERVER_PID=""
SERVER_ADDRESS=""

server_start() {
  local bin="$1" log="$2"
  shift 2
  # JSON lines, so the listening line reads the same whatever the log format's
  # text looks like; info level, so no RUST_LOG of the caller's hides it.
  RUST_LOG=info "$bin" serve --listen 127.0.0.1:0 --log-format json "$@" >"$log" 2>&1 &
  SERVER_PID=$!
  SERVER_ADDRESS=""

  local deadline=$((SECONDS + 60))
  while [ -z "$SERVER_ADDRESS" ]; do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      echo "the server exited during start-up" >&2
      return 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "the server printed no listening line within 60 s" >&2
      return 1
    fi
    # {"timestamp":…,"fields":{"message":"listening","address":"127.0.0.1:PORT"},…}
    SERVER_ADDRESS="$(sed -n '/"message":"listening"/{s/.*"address":"\([^"]*\)".*/\1/p;q}' "$log")"
    [ -n "$SERVER_ADDRESS" ] || sleep 0.05
  done

  deadline=$((SECONDS + 30))
  until env -u CONNECT_SESSIONS_LISTEN "$bin" healthcheck --listen "$SERVER_ADDRESS" >/dev/null 2>&1; do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      echo "the server exited before it was healthy" >&2
      return 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "the server at $SERVER_ADDRESS failed its health check for 30 s" >&2
      return 1
    fi
    sleep 0.05
  done
}

server_stop() {
  [ -n "$SERVER_PID" ] || return 0
  if kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
  fi
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}
