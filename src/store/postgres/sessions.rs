//! PostgreSQL's account-session and embedded-session statements.

use sqlx_core::query::query;

use crate::clock::Timestamp;
use crate::domain::account_session::{AccountSessionRecord, NewAccountSession};
use crate::domain::embedded_session::{EmbeddedSession, NewEmbeddedSession};
use crate::domain::keys::SecretHash;
use crate::domain::platform::Tenant;
use crate::store::StoreError;
use crate::store::idempotency_keys::ResponseToSave;
use crate::store::rows::{self, ClaimedSession};
use crate::store::sessions::{SessionChange, SessionRows};

use super::PgConn;

impl SessionRows for PgConn {
    async fn insert_session(
        &mut self,
        tenant: &Tenant,
        session: &NewAccountSession,
        response: Option<&ResponseToSave>,
    ) -> Result<bool, StoreError> {
        // One statement: the share lock holds the account from deletion
        // until commit (a concurrent `delete_account` waits, then revokes this
        // session too, or this statement waits and finds the account deleted),
        // the insert takes its row from the locked account, the onboarding
        // row's foreign key takes only a key-share lock, which the share lock
        // does not conflict with, and the response is saved only with a session.
        macro_rules! insert_session {
            ($save:literal) => {
                concat!(
                    "with account as (
                         select id from accounts
                         where id = $4 and platform_id = $2 and livemode = $3
                           and deleted_at is null
                         for share
                     ), session as (
                         insert into account_sessions
                             (secret_hash, platform_id, livemode, account_id, components,
                              created, expires_at)
                         select $1, $2, $3, id, $5, $6, $7 from account
                         returning account_id
                     ), onboarding as (
                         insert into account_onboardings (account_id, started_at)
                         select account_id, $6 from session
                         on conflict (account_id) do nothing
                     )",
                    $save,
                    " select account_id from session"
                )
            };
        }
        let statement = query(match response {
            None => insert_session!(""),
            Some(_) => insert_session!(
                ", saved as (
                     update idempotency_keys set status = $8, body = $9
                     where platform_id = $2 and livemode = $3 and realm = $10 and key = $11
                       and lease_token = $12 and status is null
                       and exists (select 1 from session)
                 )"
            ),
        })
        .bind(session.secret_hash.as_bytes().as_slice())
        .bind(tenant.platform.as_str())
        .bind(tenant.mode.is_live())
        .bind(session.account.as_str())
        .bind(session.components.to_bytes())
        .bind(session.created.as_secs())
        .bind(session.expires_at.as_secs());
        let statement = match response {
            None => statement,
            Some(save) => statement
                .bind(i32::from(save.response.status))
                .bind(save.response.sealed_body.as_slice())
                .bind(save.scope.realm.as_stored())
                .bind(save.scope.key.as_str())
                .bind(save.token.0.as_slice()),
        };
        let inserted = self.fetch_one_or_none(statement, |_row| Ok(())).await?;
        Ok(inserted.is_some())
    }

    async fn claim_session(
        &mut self,
        tenant: &Tenant,
        secret: SecretHash,
        claim: &NewEmbeddedSession,
    ) -> Result<Option<ClaimedSession>, StoreError> {
        // One statement: a concurrent claim waits for this row lock, then
        // re-checks `claimed_at is null` on the committed row and updates
        // nothing, so inserts no embedded session either.
        self.fetch_one_or_none(
            query(concat!(
                "with won as (
                     update account_sessions set claimed_at = $4
                     where secret_hash = $1 and platform_id = $2 and livemode = $3
                       and claimed_at is null and revoked_at is null and expires_at > $4
                     returning secret_hash, ",
                rows::claimed_columns!(),
                "
                 ), embedded as (
                     insert into embedded_sessions (id, key_hash, account_session_hash, created)
                     select $5, $6, secret_hash, $4 from won
                 )
                 select ",
                rows::claimed_columns!(),
                " from won"
            ))
            .bind(secret.as_bytes().as_slice())
            .bind(tenant.platform.as_str())
            .bind(tenant.mode.is_live())
            .bind(claim.created.as_secs())
            .bind(claim.id.as_str())
            .bind(claim.key.hash().as_bytes().as_slice()),
            rows::claimed_session,
        )
        .await
    }

    async fn select_session(
        &mut self,
        tenant: &Tenant,
        secret: SecretHash,
    ) -> Result<Option<AccountSessionRecord>, StoreError> {
        self.fetch_one_or_none(
            query(concat!(
                "select ",
                rows::session_record_columns!(),
                " from account_sessions
                 where secret_hash = $1 and platform_id = $2 and livemode = $3"
            ))
            .bind(secret.as_bytes().as_slice())
            .bind(tenant.platform.as_str())
            .bind(tenant.mode.is_live()),
            rows::session_record,
        )
        .await
    }

    async fn change_session(
        &mut self,
        tenant: &Tenant,
        secret: SecretHash,
        change: SessionChange,
        at: Timestamp,
    ) -> Result<Option<AccountSessionRecord>, StoreError> {
        let sql = match change {
            SessionChange::Revoke => concat!(
                "update account_sessions set revoked_at = coalesce(revoked_at, $4)
                 where secret_hash = $1 and platform_id = $2 and livemode = $3
                 returning ",
                rows::session_record_columns!()
            ),
            SessionChange::Expire => concat!(
                "update account_sessions set expires_at = least(expires_at, $4)
                 where secret_hash = $1 and platform_id = $2 and livemode = $3
                 returning ",
                rows::session_record_columns!()
            ),
        };
        self.fetch_one_or_none(
            query(sql)
                .bind(secret.as_bytes().as_slice())
                .bind(tenant.platform.as_str())
                .bind(tenant.mode.is_live())
                .bind(at.as_secs()),
            rows::session_record,
        )
        .await
    }

    async fn select_embedded_session(
        &mut self,
        key: SecretHash,
    ) -> Result<Option<EmbeddedSession>, StoreError> {
        self.fetch_one_or_none(
            query(concat!(
                "select ",
                rows::embedded_session_columns!(),
                " from embedded_sessions e
                 join account_sessions s on s.secret_hash = e.account_session_hash
                 where e.key_hash = $1"
            ))
            .bind(key.as_bytes().as_slice()),
            rows::embedded_session,
        )
        .await
    }

    async fn log_out(&mut self, key: SecretHash, at: Timestamp) -> Result<u64, StoreError> {
        self.run(
            query(
                "update embedded_sessions set logged_out_at = $2
                     where key_hash = $1 and logged_out_at is null",
            )
            .bind(key.as_bytes().as_slice())
            .bind(at.as_secs()),
        )
        .await
    }

    async fn delete_expired_sessions(
        &mut self,
        expired_before: Timestamp,
        batch: u32,
    ) -> Result<u64, StoreError> {
        // Rows another process is pruning (or anyone is writing) are skipped,
        // not waited for: concurrent pruners take disjoint batches. Embedded
        // sessions go with their account session (on delete cascade).
        self.run(
            query(
                "delete from account_sessions where secret_hash in (
                     select secret_hash from account_sessions
                     where expires_at < $1
                     limit $2
                     for update skip locked
                 )",
            )
            .bind(expired_before.as_secs())
            .bind(i64::from(batch)),
        )
        .await
    }
}
