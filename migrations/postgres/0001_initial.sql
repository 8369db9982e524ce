-- The whole schema of the PostgreSQL backend, mirroring migrations/sqlite/0001
-- to 0003: platforms, their keys (hashes only), connected accounts, account
-- sessions and the embedded sessions claimed from them, bank accounts, and
-- idempotency keys. Times are Unix seconds (bigint), as on SQLite, so both
-- backends store and compare exactly the same values.

create table platforms (
    id text primary key,
    name text not null,
    created bigint not null
);

create table api_keys (
    key_hash bytea primary key,
    platform_id text not null references platforms (id),
    kind text not null check (kind in ('secret', 'publishable')),
    livemode boolean not null
);

create table accounts (
    -- Orders lists newest first even within one second; never reused.
    seq bigserial primary key,
    id text not null unique,
    platform_id text not null references platforms (id),
    livemode boolean not null,
    fees_payer text not null,
    losses_payments text not null,
    requirement_collection text not null,
    stripe_dashboard text not null,
    country text not null,
    email text,
    -- JSON as text, not jsonb: jsonb would reorder the keys we return.
    metadata text not null,
    business_profile_name text,
    business_profile_url text,
    capabilities text not null,
    created bigint not null,
    -- Deleted accounts keep their row so the id is never reused.
    deleted_at bigint
);

create index accounts_by_tenant on accounts (platform_id, livemode, seq)
where deleted_at is null;

create table account_sessions (
    secret_hash bytea primary key,
    platform_id text not null references platforms (id),
    livemode boolean not null,
    account_id text not null references accounts (id),
    -- Resolved components in their compact bit layout (catalog::LAYOUT_VERSION).
    components bytea not null,
    created bigint not null,
    expires_at bigint not null,
    claimed_at bigint,
    revoked_at bigint
);

create index account_sessions_by_expiry on account_sessions (expires_at);
create index account_sessions_by_account on account_sessions (account_id);

create table embedded_sessions (
    id text primary key,
    -- The hash of the em_ key; the key itself is never stored.
    key_hash bytea not null unique,
    account_session_hash bytea not null unique
        references account_sessions (secret_hash) on delete cascade,
    created bigint not null,
    logged_out_at bigint
);

create table external_accounts (
    -- Orders lists newest first; never reused.
    seq bigserial primary key,
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
    created bigint not null,
    unique (account_id, fingerprint)
);

-- One row per (platform, mode, realm, key); the realm keeps the backend's keys
-- (secret key) apart from the browser's (publishable key, each embedded
-- session). While a request runs, status is null and the lease (token,
-- locked_until) marks it in flight; once done, status and the sealed body are
-- saved for replay.
create table idempotency_keys (
    platform_id text not null,
    livemode boolean not null,
    realm text not null,
    key text not null,
    path text not null,
    fingerprint bytea not null,
    original_request_id text not null,
    lease_token bytea not null,
    locked_until bigint not null,
    status integer,
    -- Sealed with the server's keyring: unusable without it.
    body bytea,
    created bigint not null,
    primary key (platform_id, livemode, realm, key)
);

create index idempotency_keys_by_created on idempotency_keys (created);
