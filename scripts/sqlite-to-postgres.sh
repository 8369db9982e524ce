#!/usr/bin/env bash
# Copies a connect-sessions SQLite database into a migrated, empty PostgreSQL one
# (docs/OPERATIONS.md, "Moving from SQLite to PostgreSQL"): every table and every
# column, keeping ids, hashes, timestamps, list order and saved responses, so that
# API keys, accounts, sessions, embedded session keys, bank accounts, idempotent
# replays, webhook endpoints, events and their deliveries all carry on.
#
# Usage: scripts/sqlite-to-postgres.sh connect-sessions.db 'postgres://…'
#
#   - Stop the SQLite server first; then `connect-sessions migrate --database
#     'postgres://…'` creates the schema this script fills.
#   - The URL is anything psql accepts, `options=-csearch_path%3D…` included (the
#     schema the copy goes to is the first one on the connection's search path).
#   - Needs `sqlite3` and `psql` on PATH.
#   - The copy is one PostgreSQL transaction: it lands whole or not at all.
#   - It refuses to run unless both databases are at the schema versions below,
#     the target is empty, and the columns below are exactly the target's.
#
# tests/api/sqlite_to_postgres.rs runs it on a database made through the API and
# reads everything back through the API on PostgreSQL; it also fails when a
# PostgreSQL column is missing from the lists below, so a new migration cannot
# leave this script behind.
set -euo pipefail

# --- The schemas this script knows ---------------------------------------------------------
# The last migration of each backend whose tables and columns are listed below. A new
# migration changes these two numbers together with the lists, never alone.
SQLITE_SCHEMA_VERSION=8   # migrations/sqlite/0008_key_expiry.sql (`pragma user_version`)
POSTGRES_SCHEMA_VERSION=5 # migrations/postgres/0005_key_expiry.sql (`_sqlx_migrations`)

# Every table, in an order that satisfies its foreign keys, with every column that
# PostgreSQL has. `:hex` marks a binary column (SQLite blob, PostgreSQL bytea), which
# travels as '\x' and its hex digits. Everything else travels as CSV text: SQLite's 0/1
# booleans are what PostgreSQL's boolean input takes as false/true; JSON documents
# (metadata, capabilities, profile, snapshot, data, enabled_events) are text on both
# sides and are copied byte for byte; NULL is an unquoted empty field and an empty
# string a quoted one, on both sides.
TABLES=(
  "platforms: id name created"
  "api_keys: key_hash:hex platform_id kind livemode expires_at revoked"
  "accounts: seq id platform_id livemode fees_payer losses_payments requirement_collection stripe_dashboard country email metadata capabilities created deleted_at profile next_check_at snapshot"
  "account_onboardings: account_id started_at"
  "external_accounts: seq id account_id country currency account_holder_name routing_number last4 fingerprint created account_holder_type default_for_currency"
  "account_sessions: secret_hash:hex platform_id livemode account_id components:hex created expires_at claimed_at revoked_at"
  "embedded_sessions: id key_hash:hex account_session_hash:hex created logged_out_at"
  "idempotency_keys: platform_id livemode realm key path fingerprint:hex original_request_id lease_token:hex locked_until status body:hex created"
  "events: seq id platform_id livemode account_id type api_version data request_id idempotency_key created"
  "webhook_endpoints: seq id platform_id livemode url enabled_events connect api_version description metadata status secret:hex created deleted_at"
  "webhook_deliveries: seq event_id endpoint_id status attempts next_attempt_at locked_until lease_token:hex created"
  "webhook_attempts: seq delivery_seq endpoint_id event_id attempt attempted_at http_status error latency_ms"
  # The test double's clock offset (`serve --test-clock`): one row at most. Copied, not
  # skipped: it is stored so that it outlives the process, and the times written under
  # it (sessions' expiry, verifications due) only make sense with it. A server started
  # without --test-clock ignores it.
  "test_clock: id offset_seconds"
)

# SQLite columns that PostgreSQL does not have, and why they are not copied.
SQLITE_ONLY_COLUMNS=(
  # The rowid that keeps SQLite's sessions in insertion order (migration 0004); sessions
  # are only ever found by their hash, and PostgreSQL's table has no such column.
  "account_sessions seq"
)

# --- Arguments and tools --------------------------------------------------------------------
usage() {
  echo "usage: $0 SQLITE_DATABASE_FILE POSTGRES_URL" >&2
  echo "  e.g. $0 connect-sessions.db 'postgres://user@host:5432/connect?sslmode=require'" >&2
  exit 2
}
die() {
  echo "sqlite-to-postgres: error: $*" >&2
  exit 1
}
[ $# -eq 2 ] || usage
case "$1" in -h | --help) usage ;; esac
sqlite_db="${1#sqlite://}"
sqlite_db="${sqlite_db#sqlite:}"
pg_url="$2"
for tool in sqlite3 psql; do
  command -v "$tool" >/dev/null || die "$tool is needed on PATH"
done
[ -f "$sqlite_db" ] || die "no SQLite database at $sqlite_db"

sq() { sqlite3 -bail -readonly "$sqlite_db" "$@"; }
pg() { psql "$pg_url" -X -q -v ON_ERROR_STOP=1 -tA "$@"; }

# "table column" for every column of TABLES, sorted.
listed_columns() {
  local spec table column
  for spec in "${TABLES[@]}"; do
    table="${spec%%:*}"
    for column in ${spec#*:}; do
      echo "$table ${column%:hex}"
    done
  done | LC_ALL=C sort
}
# Fails with both lists' differences unless they are equal.
same_columns() { # what, expected (file), actual (file)
  if ! diff -q "$2" "$3" >/dev/null; then
    {
      echo "sqlite-to-postgres: error: the $1 columns are not the ones this script copies"
      echo "  only in this script:"
      LC_ALL=C comm -23 "$2" "$3" | sed 's/^/    /'
      echo "  only in the database:"
      LC_ALL=C comm -13 "$2" "$3" | sed 's/^/    /'
      echo "  (update TABLES and the schema versions at the top of $0)"
    } >&2
    exit 1
  fi
}

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# --- Refuse what this script would copy wrongly ---------------------------------------------
sqlite_version="$(sq 'pragma user_version')"
[ "$sqlite_version" = "$SQLITE_SCHEMA_VERSION" ] ||
  die "the SQLite database is at schema version $sqlite_version; this script copies version $SQLITE_SCHEMA_VERSION (start the current server on it once to migrate it, or update this script)"

pg_migrations="$(pg -c "select count(*) filter (where not success) || ' ' || coalesce(max(version), 0) from _sqlx_migrations")" ||
  die "cannot read _sqlx_migrations: run \`connect-sessions migrate --database URL\` first"
read -r pg_failed pg_version <<<"$pg_migrations"
[ "$pg_failed" = 0 ] || die "the PostgreSQL database has a failed migration"
[ "$pg_version" = "$POSTGRES_SCHEMA_VERSION" ] ||
  die "the PostgreSQL database is at schema version $pg_version; this script copies version $POSTGRES_SCHEMA_VERSION (run \`connect-sessions migrate\` of the same release as the SQLite server, or update this script)"

listed_columns >"$work/listed"
pg -c "select table_name || ' ' || column_name from information_schema.columns
       where table_schema = current_schema() and table_name <> '_sqlx_migrations'" |
  LC_ALL=C sort >"$work/postgres"
same_columns PostgreSQL "$work/listed" "$work/postgres"
{
  cat "$work/listed"
  printf '%s\n' "${SQLITE_ONLY_COLUMNS[@]}"
} | LC_ALL=C sort >"$work/expected-sqlite"
sq "select m.name || ' ' || c.name from sqlite_master m, pragma_table_info(m.name) c
    where m.type = 'table' and m.name not like 'sqlite\_%' escape '\'" |
  LC_ALL=C sort >"$work/sqlite"
same_columns SQLite "$work/expected-sqlite" "$work/sqlite"

tables=()
for spec in "${TABLES[@]}"; do tables+=("${spec%%:*}"); done
rows="$(pg -c "select $(printf "(select count(*) from %s) + " "${tables[@]}") 0")"
[ "$rows" = 0 ] || die "the PostgreSQL database is not empty ($rows rows): copy only into a freshly migrated one"

# --- Export: one SQLite read transaction, one CSV file per table ----------------------------
{
  echo "begin;"
  for spec in "${TABLES[@]}"; do
    table="${spec%%:*}"
    expressions=()
    for column in ${spec#*:}; do
      case "$column" in
      *:hex) expressions+=("case when ${column%:hex} is null then null else '\\x' || hex(${column%:hex}) end") ;;
      *) expressions+=("$column") ;;
      esac
    done
    echo ".output '$work/$table.csv'"
    (
      IFS=,
      echo "select ${expressions[*]} from $table;"
    )
  done
  echo ".output stdout"
  echo "commit;"
} | sqlite3 -bail -readonly -csv -nullvalue '' "$sqlite_db"

# --- Import: one PostgreSQL transaction -------------------------------------------------------
{
  echo "begin;"
  for spec in "${TABLES[@]}"; do
    table="${spec%%:*}"
    columns=()
    for column in ${spec#*:}; do columns+=("${column%:hex}"); done
    (
      IFS=,
      echo "\\copy $table (${columns[*]}) from '$work/$table.csv' with (format csv)"
    )
  done
  # New rows continue the copied order: every serial column's sequence (today the `seq`
  # of accounts, external_accounts, events, webhook_endpoints, webhook_deliveries and
  # webhook_attempts) starts past the largest value copied.
  cat <<'SQL'
do $$
declare
  col record;
begin
  for col in
    select table_name, column_name,
           pg_get_serial_sequence(quote_ident(table_name), column_name) as sequence
    from information_schema.columns
    where table_schema = current_schema()
  loop
    continue when col.sequence is null;
    execute format('select setval(%L, coalesce((select max(%I) from %I), 0) + 1, false)',
                   col.sequence, col.column_name, col.table_name);
  end loop;
end
$$;
SQL
  echo "commit;"
} >"$work/import.sql"
pg -f "$work/import.sql" >/dev/null

summary=()
for table in "${tables[@]}"; do summary+=("'$table ' || (select count(*) from $table)"); done
(
  IFS=,
  echo "sqlite-to-postgres: copied (rows per table): $(pg -c "select concat_ws(', ', ${summary[*]})")" >&2
)
