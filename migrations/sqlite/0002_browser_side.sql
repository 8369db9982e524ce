-- The browser side: claiming a session's client secret for an embedded session
-- key, logout and revocation, and the bank accounts the client-side API manages.

alter table account_sessions add column claimed_at integer;
alter table account_sessions add column revoked_at integer;

create index account_sessions_by_account on account_sessions (account_id);

create table embedded_sessions (
    id text primary key,
    -- The hash of the em_ key; the key itself is never stored.
    key_hash blob not null unique,
    account_session_hash blob not null unique
        references account_sessions (secret_hash) on delete cascade,
    created integer not null,
    logged_out_at integer
) strict;

create table external_accounts (
    -- Orders lists newest first; never reused.
    seq integer primary key autoincrement,
    id text not null unique,
    account_id text not null references accounts (id),
    country text not null,
    currency text not null,
    account_holder_name text,
    routing_number text,
    last4 text not null,
    -- Keyed hash of routing and account number: finds duplicates without
    -- storing the number.
    fingerprint text not null,
    created integer not null,
    unique (account_id, fingerprint)
) strict;
