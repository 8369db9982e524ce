-- The test double's clock (`serve --test-clock`). Mirrors
-- migrations/sqlite/0007: one row, shared by every replica.
create table test_clock (
    id integer primary key check (id = 1),
    offset_seconds bigint not null check (offset_seconds >= 0)
);
