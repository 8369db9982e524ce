-- Events and webhooks. Mirrors migrations/sqlite/0006: every change of an
-- account records what the platform saw of it (`snapshot`); the difference
-- from the previous snapshot is the change's events, recorded in the same
-- transaction, with one delivery per endpoint that wants them.

alter table accounts add column snapshot text;

create table events (
    seq bigserial primary key,
    id text not null unique,
    platform_id text not null references platforms (id),
    livemode boolean not null,
    account_id text,
    type text not null,
    api_version text not null,
    -- JSON as text, not jsonb: jsonb would reorder the keys we return.
    data text not null,
    request_id text,
    idempotency_key text,
    created bigint not null
);

create index events_by_tenant on events (platform_id, livemode, seq);
create index events_by_created on events (created);

create table webhook_endpoints (
    seq bigserial primary key,
    id text not null unique,
    platform_id text not null references platforms (id),
    livemode boolean not null,
    url text not null,
    enabled_events text not null,
    connect boolean not null,
    api_version text,
    description text,
    metadata text not null,
    status text not null check (status in ('enabled', 'disabled')),
    -- The signing secret, sealed with the master keys.
    secret bytea not null,
    created bigint not null,
    deleted_at bigint
);

create index webhook_endpoints_by_tenant on webhook_endpoints (platform_id, livemode, seq)
where deleted_at is null;

create table webhook_deliveries (
    seq bigserial primary key,
    event_id text not null references events (id) on delete cascade,
    endpoint_id text not null references webhook_endpoints (id),
    status text not null check (status in ('pending', 'succeeded', 'failed')),
    attempts bigint not null,
    next_attempt_at bigint not null,
    locked_until bigint not null,
    lease_token bytea,
    created bigint not null
);

create index webhook_deliveries_due on webhook_deliveries (next_attempt_at)
where status = 'pending';
create index webhook_deliveries_by_event on webhook_deliveries (event_id);

create table webhook_attempts (
    seq bigserial primary key,
    delivery_seq bigint not null references webhook_deliveries (seq) on delete cascade,
    endpoint_id text not null,
    event_id text not null,
    attempt bigint not null,
    attempted_at bigint not null,
    http_status bigint,
    error text,
    latency_ms bigint not null
);

create index webhook_attempts_by_endpoint on webhook_attempts (endpoint_id, seq);
