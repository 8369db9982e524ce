#!/usr/bin/env bash
# Makes sure a PostgreSQL server listens on 127.0.0.1:5432, trusts TCP
# connections from this machine, and has a database `test`: what scripts/test
# runs the test suite against a second time. Where the machine already runs one
# (as CI machines of this project's kind do), this only checks it; elsewhere it
# installs Debian's `postgresql` package and starts a cluster. Exits non-zero
# if no server answers in the end: CI fails, never skips, without PostgreSQL.
#
# PG_PORT and PG_CLUSTER exist only to try this script on a spare cluster.
set -euo pipefail

port="${PG_PORT:-5432}"
cluster="${PG_CLUSTER:-main}"

say() { printf '[postgres] %s\n' "$*" >&2; }
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }
sql() { psql -h 127.0.0.1 -p "$port" -U postgres -X -q -v ON_ERROR_STOP=1 "$@"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! listening; then
  if ! compgen -G '/usr/lib/postgresql/*/bin/pg_ctl' >/dev/null; then
    say "nothing listens on 127.0.0.1:$port; installing Debian's postgresql"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi
  version="$(ls /usr/lib/postgresql | sort -V | tail -n 1)"
  if ! pg_lsclusters --no-header | awk -v v="$version" -v c="$cluster" \
      '$1 == v && $2 == c { found = 1 } END { exit !found }'; then
    say "creating the cluster $version/$cluster on port $port"
    as_root pg_createcluster "$version" "$cluster" --port "$port" >/dev/null
  fi
  hba="/etc/postgresql/$version/$cluster/pg_hba.conf"
  # The first matching line wins: trust TCP from this machine, as the tests expect.
  if ! grep -q '^host all all 127.0.0.1/32 trust' "$hba"; then
    as_root sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
  fi
  say "starting the cluster $version/$cluster"
  as_root pg_ctlcluster "$version" "$cluster" start || as_root pg_ctlcluster "$version" "$cluster" reload
fi

if ! command -v psql >/dev/null; then
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-client >/dev/null
fi

# A server just started may refuse connections for a moment.
for _ in $(seq 60); do
  sql -d postgres -c 'select 1' >/dev/null 2>&1 && break
  sleep 0.5
done
if ! sql -d postgres -c 'select 1' >/dev/null; then
  say "error: cannot connect to PostgreSQL as postgres on 127.0.0.1:$port"
  exit 1
fi
if [ "$(sql -d postgres -tAc "select 1 from pg_database where datname = 'test'")" != 1 ]; then
  sql -d postgres -c 'create database test'
fi
say "PostgreSQL $(sql -d test -tAc 'show server_version') on 127.0.0.1:$port, database test"
