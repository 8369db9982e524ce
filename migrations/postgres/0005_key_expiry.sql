-- Key lifecycle (`connect-sessions keys roll|revoke`): a rolled key keeps
-- working until `expires_at` (Unix seconds; null = never), a revoked one stops
-- at once. Rows are kept, never deleted, so a revoked key's hash stays taken
-- and can never be declared again. Mirrors migrations/sqlite/0008.
alter table api_keys add column expires_at bigint;
alter table api_keys add column revoked boolean not null default false;
