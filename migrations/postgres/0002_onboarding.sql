-- Onboarding: what an account tells about itself (business profile, business
-- type, the individual or the company and its persons, terms acceptance,
-- settings) is one JSON document, `profile`, read and written whole with the
-- account's row. Requirements, capability statuses and the enabled flags are
-- derived from it, never stored. Mirrors migrations/sqlite/0005.

alter table accounts add column profile text not null default '{}';

update accounts set profile = json_build_object(
    'business_profile',
    json_build_object('name', business_profile_name, 'url', business_profile_url)
)::text;

alter table accounts drop column business_profile_name, drop column business_profile_url;

update accounts set capabilities = coalesce(
    (select json_agg(key order by key) from json_each_text(capabilities::json)),
    '[]'::json
)::text;

-- A row once the first account session is created for the account: from then
-- on, where Stripe collects requirements, only the account itself may change
-- its identity. A table of its own rather than a column of the account, so
-- that sessions created at once for one account, each holding a share lock on
-- its row, never need to upgrade that lock to mark it (they would deadlock).
create table account_onboardings (
    account_id text primary key references accounts (id),
    started_at bigint not null
);

-- When a pending verification of the account next completes by itself; the
-- background settler finds accounts to settle by it.
alter table accounts add column next_check_at bigint;

create index accounts_by_next_check on accounts (next_check_at)
where next_check_at is not null;

alter table external_accounts add column account_holder_type text;

-- Which bank account of each currency payouts go to: the oldest one, until a
-- platform or the account says otherwise.
alter table external_accounts add column default_for_currency boolean not null default false;

update external_accounts set default_for_currency = true
where seq in (select min(seq) from external_accounts group by account_id, currency);
