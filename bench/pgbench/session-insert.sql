-- pgbench's transaction (-f, run with -M prepared): one session-sized row per
-- transaction, committed on its own (synchronous_commit as the server has it), keyed
-- by 32 random bytes from pgcrypto's gen_random_bytes(32). Where pgcrypto is missing,
-- bench.py swaps in decode(md5(random()::text) || md5(random()::text), 'hex').
-- The ids are as long as connect-sessions' (acct_ and 16 characters), the components
-- 16 bytes (its bit layout takes about 12), the expiry 30 minutes ahead (its TTL).
\set ttl 1800
insert into bench_sessions
    (secret_hash, platform_id, livemode, account_id, components, created, expires_at)
values
    (gen_random_bytes(32), 'acct_1NkDjjJyhOZfPCWa', false, 'acct_1NkDjjJyhOZfPCWt',
     '\x01ff3f0f00f0ff0f3c00ff0300c0ff0f'::bytea,
     extract(epoch from now())::bigint, extract(epoch from now())::bigint + :ttl);
