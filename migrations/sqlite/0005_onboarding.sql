-- Onboarding: what an account tells about itself (business profile, business
-- type, the individual or the company and its persons, terms acceptance,
-- settings) is one JSON document, `profile`, read and written whole with the
-- account's row. Requirements, capability statuses and the enabled flags are
-- derived from it, never stored.
--
-- The business profile's two columns move into the document; requested
-- capabilities become a JSON array of names (their statuses are derived now).

alter table accounts add column profile text not null default '{}';

update accounts set profile = json_object(
    'business_profile',
    json_object('name', business_profile_name, 'url', business_profile_url)
);

alter table accounts drop column business_profile_name;
alter table accounts drop column business_profile_url;

update accounts set capabilities = (
    select json_group_array(key) from json_each(accounts.capabilities)
);

-- A row once the first account session is created for the account: from then
-- on, where Stripe collects requirements, only the account itself may change
-- its identity. A table of its own rather than a column of the account, so
-- that sessions created at once for one account, each holding a share lock on
-- its row (PostgreSQL), never need to upgrade that lock to mark it.
create table account_onboardings (
    account_id text primary key references accounts (id),
    started_at integer not null
) strict, without rowid;

-- When a pending verification of the account next completes by itself; the
-- background settler finds accounts to settle by it.
alter table accounts add column next_check_at integer;

create index accounts_by_next_check on accounts (next_check_at)
where next_check_at is not null;

alter table external_accounts add column account_holder_type text;

-- Which bank account of each currency payouts go to: the oldest one, until a
-- platform or the account says otherwise.
alter table external_accounts add column default_for_currency integer not null default 0
    check (default_for_currency in (0, 1));

update external_accounts set default_for_currency = 1
where seq in (select min(seq) from external_accounts group by account_id, currency);
