-- PostgreSQL's own ceiling (bench/bench.py, docs/benchmarks.md): a table shaped like
-- connect-sessions' account_sessions (migrations/postgres/0001_initial.sql), with only
-- its unique index, the primary key on the 32-byte hash of a random secret: no foreign
-- keys and no other index. Created on a fresh database before each pgbench run.
create table bench_sessions (
    secret_hash bytea primary key,
    platform_id text not null,
    livemode boolean not null,
    account_id text not null,
    components bytea not null,
    created bigint not null,
    expires_at bigint not null,
    claimed_at bigint,
    revoked_at bigint
);
