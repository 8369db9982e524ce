-- Both session tables change shape so that a write touches fewer pages.
--
-- Account sessions move from a table keyed by the (random) secret hash to a
-- table in insertion order with a unique index on the hash. An insert then
-- appends the row and dirties one random index page of 40-byte entries instead
-- of one random page of full rows, and the per-account index, keyed by
-- (account, rowid), is appended to as well: fewer pages written per commit,
-- and a hot set that stays in cache with millions of sessions stored.
--
-- Runs with foreign keys off (the store enables them after migrating), as
-- SQLite's procedure for changing a table requires; rusqlite_migration checks
-- them after.

create table account_sessions_in_order (
    seq integer primary key,
    secret_hash blob not null unique,
    platform_id text not null references platforms (id),
    livemode integer not null check (livemode in (0, 1)),
    account_id text not null references accounts (id),
    -- Resolved components in their compact bit layout (catalog::LAYOUT_VERSION).
    components blob not null,
    created integer not null,
    expires_at integer not null,
    claimed_at integer,
    revoked_at integer
) strict;

insert into account_sessions_in_order
    (secret_hash, platform_id, livemode, account_id, components, created, expires_at,
     claimed_at, revoked_at)
select secret_hash, platform_id, livemode, account_id, components, created, expires_at,
       claimed_at, revoked_at
from account_sessions
order by created, secret_hash;

drop table account_sessions;
alter table account_sessions_in_order rename to account_sessions;

create index account_sessions_by_expiry on account_sessions (expires_at);
create index account_sessions_by_account on account_sessions (account_id);

-- Embedded sessions are keyed by their key's hash, the one lookup the
-- client-side API makes (logout included); the id is only shown. A claim then
-- writes two random index pages (key hash, session hash) instead of three plus
-- a row.

create table embedded_sessions_by_key (
    -- The hash of the em_ key; the key itself is never stored.
    key_hash blob primary key,
    id text not null,
    account_session_hash blob not null unique
        references account_sessions (secret_hash) on delete cascade,
    created integer not null,
    logged_out_at integer
) strict, without rowid;

insert into embedded_sessions_by_key (key_hash, id, account_session_hash, created, logged_out_at)
select key_hash, id, account_session_hash, created, logged_out_at from embedded_sessions;

drop table embedded_sessions;
alter table embedded_sessions_by_key rename to embedded_sessions;
