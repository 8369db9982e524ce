-- Idempotency keys: one row per (platform, mode, realm, key); the realm keeps
-- the backend's keys (secret key) apart from the browser's (publishable key,
-- each embedded session). While a request runs,
-- status is null and the lease (token, locked_until) marks it in flight; once
-- done, status and the sealed body are saved for replay.

create table idempotency_keys (
    platform_id text not null,
    livemode integer not null check (livemode in (0, 1)),
    realm text not null,
    key text not null,
    path text not null,
    fingerprint blob not null,
    original_request_id text not null,
    lease_token blob not null,
    locked_until integer not null,
    status integer,
    -- Sealed with the server's keyring: unusable without it.
    body blob,
    created integer not null,
    primary key (platform_id, livemode, realm, key)
) strict, without rowid;

create index idempotency_keys_by_created on idempotency_keys (created);
