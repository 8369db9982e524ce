-- The test double's clock (`serve --test-clock`): how far ahead of the
-- operating system's clock the server's time runs. One row; shared by every
-- process on the database, and kept across restarts, so stored times stay
-- coherent with the clock that wrote them.
create table test_clock (
    id integer primary key check (id = 1),
    offset_seconds integer not null check (offset_seconds >= 0)
) strict;
