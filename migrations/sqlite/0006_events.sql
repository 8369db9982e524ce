-- Events and webhooks. Every change of an account records what the platform
-- saw of it (`snapshot`, domain::events::Snapshot as JSON); the difference
-- from the previous snapshot is the change's events, recorded in the same
-- transaction, with one delivery per endpoint that wants them.

alter table accounts add column snapshot text;

create table events (
    -- Orders lists newest first even within one second; never reused.
    seq integer primary key autoincrement,
    id text not null unique,
    platform_id text not null references platforms (id),
    livemode integer not null check (livemode in (0, 1)),
    account_id text,
    type text not null,
    api_version text not null,
    -- {"object": …, "previous_attributes": …}
    data text not null,
    request_id text,
    idempotency_key text,
    created integer not null
) strict;

create index events_by_tenant on events (platform_id, livemode, seq);
create index events_by_created on events (created);

create table webhook_endpoints (
    seq integer primary key autoincrement,
    id text not null unique,
    platform_id text not null references platforms (id),
    livemode integer not null check (livemode in (0, 1)),
    url text not null,
    -- JSON array of event types, `*` for all.
    enabled_events text not null,
    connect integer not null check (connect in (0, 1)),
    api_version text,
    description text,
    metadata text not null,
    status text not null check (status in ('enabled', 'disabled')),
    -- The signing secret, sealed with the master keys: it must be usable to
    -- sign, so it cannot be only a hash.
    secret blob not null,
    created integer not null,
    deleted_at integer
) strict;

create index webhook_endpoints_by_tenant on webhook_endpoints (platform_id, livemode, seq)
where deleted_at is null;

-- The outbox: one row per (event, endpoint), due at `next_attempt_at`; a
-- worker leases it (`lease_token`, `locked_until`) while it delivers.
create table webhook_deliveries (
    seq integer primary key autoincrement,
    event_id text not null references events (id) on delete cascade,
    endpoint_id text not null references webhook_endpoints (id),
    status text not null check (status in ('pending', 'succeeded', 'failed')),
    attempts integer not null,
    next_attempt_at integer not null,
    locked_until integer not null,
    lease_token blob,
    created integer not null
) strict;

create index webhook_deliveries_due on webhook_deliveries (next_attempt_at)
where status = 'pending';
create index webhook_deliveries_by_event on webhook_deliveries (event_id);

-- Every attempt, for the platform to see.
create table webhook_attempts (
    seq integer primary key autoincrement,
    delivery_seq integer not null references webhook_deliveries (seq) on delete cascade,
    endpoint_id text not null,
    event_id text not null,
    attempt integer not null,
    attempted_at integer not null,
    http_status integer,
    error text,
    latency_ms integer not null
) strict;

create index webhook_attempts_by_endpoint on webhook_attempts (endpoint_id, seq);
