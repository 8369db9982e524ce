-- Platforms, their keys (hashes only), connected accounts and account sessions.

create table platforms (
    id text primary key,
    name text not null,
    created integer not null
) strict;

create table api_keys (
    key_hash blob primary key,
    platform_id text not null references platforms (id),
    kind text not null check (kind in ('secret', 'publishable')),
    livemode integer not null check (livemode in (0, 1))
) strict, without rowid;

create table accounts (
    -- Orders lists newest first even within one second; never reused.
    seq integer primary key autoincrement,
    id text not null unique,
    platform_id text not null references platforms (id),
    livemode integer not null check (livemode in (0, 1)),
    fees_payer text not null,
    losses_payments text not null,
    requirement_collection text not null,
    stripe_dashboard text not null,
    country text not null,
    email text,
    metadata text not null,
    business_profile_name text,
    business_profile_url text,
    capabilities text not null,
    created integer not null,
    -- Deleted accounts keep their row so the id is never reused.
    deleted_at integer
) strict;

create index accounts_by_tenant on accounts (platform_id, livemode, seq)
where deleted_at is null;

create table account_sessions (
    secret_hash blob primary key,
    platform_id text not null references platforms (id),
    livemode integer not null check (livemode in (0, 1)),
    account_id text not null references accounts (id),
    -- Resolved components in their compact bit layout (catalog::LAYOUT_VERSION).
    components blob not null,
    created integer not null,
    expires_at integer not null
) strict, without rowid;

create index account_sessions_by_expiry on account_sessions (expires_at);
