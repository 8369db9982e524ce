-- Key lifecycle (`connect-sessions keys roll|revoke`): a rolled key keeps
-- working until `expires_at` (Unix seconds; null = never), a revoked one
-- (`revoked` = 1) stops at once. Rows are kept, never deleted, so a revoked
-- key's hash stays taken and can never be declared again. Mirrors
-- migrations/postgres/0005.
alter table api_keys add column expires_at integer;
alter table api_keys add column revoked integer not null default 0 check (revoked in (0, 1));
