//! SQLite's account-session and embedded-session statements.

use rusqlite::params;

use crate::clock::Timestamp;
use crate::domain::account_session::{AccountSessionRecord, NewAccountSession};
use crate::domain::embedded_session::{EmbeddedSession, NewEmbeddedSession};
use crate::domain::keys::SecretHash;
use crate::domain::platform::Tenant;
use crate::store::StoreError;
use crate::store::idempotency_keys::{IdempotencyRows, ResponseToSave};
use crate::store::rows::{self, ClaimedSession};
use crate::store::sessions::{SessionChange, SessionRows};

use super::SqliteConn;

impl SessionRows for SqliteConn {
    async fn insert_session(
        &mut self,
        tenant: &Tenant,
        session: &NewAccountSession,
        response: Option<&ResponseToSave>,
    ) -> Result<bool, StoreError> {
        // The writer holds the whole database for its transaction, so the
        // account cannot be deleted between these statements.
        let inserted = self.execute(
            "insert into account_sessions
                 (secret_hash, platform_id, livemode, account_id, components, created, expires_at)
             select ?1, ?2, ?3, id, ?5, ?6, ?7 from accounts
             where id = ?4 and platform_id = ?2 and livemode = ?3 and deleted_at is null",
            params![
                session.secret_hash.as_bytes().as_slice(),
                tenant.platform.as_str(),
                tenant.mode.is_live(),
                session.account.as_str(),
                session.components.to_bytes(),
                session.created.as_secs(),
                session.expires_at.as_secs(),
            ],
        )?;
        if inserted == 0 {
            return Ok(false);
        }
        self.execute(
            "insert into account_onboardings (account_id, started_at) values (?1, ?2)
             on conflict (account_id) do nothing",
            params![session.account.as_str(), session.created.as_secs()],
        )?;
        if let Some(save) = response {
            self.save_response(&save.scope, save.token, &save.response)
                .await?;
        }
        Ok(true)
    }

    async fn claim_session(
        &mut self,
        tenant: &Tenant,
        secret: SecretHash,
        claim: &NewEmbeddedSession,
    ) -> Result<Option<ClaimedSession>, StoreError> {
        let won = self.select_one(
            concat!(
                "update account_sessions set claimed_at = ?4
                 where secret_hash = ?1 and platform_id = ?2 and livemode = ?3
                   and claimed_at is null and revoked_at is null and expires_at > ?4
                 returning ",
                rows::claimed_columns!()
            ),
            params![
                secret.as_bytes().as_slice(),
                tenant.platform.as_str(),
                tenant.mode.is_live(),
                claim.created.as_secs()
            ],
            |row| rows::claimed_session(row),
        )?;
        if won.is_some() {
            self.execute(
                "insert into embedded_sessions (id, key_hash, account_session_hash, created)
                 values (?1, ?2, ?3, ?4)",
                params![
                    claim.id.as_str(),
                    claim.key.hash().as_bytes().as_slice(),
                    secret.as_bytes().as_slice(),
                    claim.created.as_secs()
                ],
            )?;
        }
        Ok(won)
    }

    async fn select_session(
        &mut self,
        tenant: &Tenant,
        secret: SecretHash,
    ) -> Result<Option<AccountSessionRecord>, StoreError> {
        self.select_one(
            concat!(
                "select ",
                rows::session_record_columns!(),
                " from account_sessions
                 where secret_hash = ?1 and platform_id = ?2 and livemode = ?3"
            ),
            params![
                secret.as_bytes().as_slice(),
                tenant.platform.as_str(),
                tenant.mode.is_live()
            ],
            |row| rows::session_record(row),
        )
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
                "update account_sessions set revoked_at = coalesce(revoked_at, ?4)
                 where secret_hash = ?1 and platform_id = ?2 and livemode = ?3
                 returning ",
                rows::session_record_columns!()
            ),
            SessionChange::Expire => concat!(
                "update account_sessions set expires_at = min(expires_at, ?4)
                 where secret_hash = ?1 and platform_id = ?2 and livemode = ?3
                 returning ",
                rows::session_record_columns!()
            ),
        };
        self.select_one(
            sql,
            params![
                secret.as_bytes().as_slice(),
                tenant.platform.as_str(),
                tenant.mode.is_live(),
                at.as_secs()
            ],
            |row| rows::session_record(row),
        )
    }

    async fn select_embedded_session(
        &mut self,
        key: SecretHash,
    ) -> Result<Option<EmbeddedSession>, StoreError> {
        self.select_one(
            concat!(
                "select ",
                rows::embedded_session_columns!(),
                " from embedded_sessions e
                 join account_sessions s on s.secret_hash = e.account_session_hash
                 where e.key_hash = ?1"
            ),
            [key.as_bytes().as_slice()],
            |row| rows::embedded_session(row),
        )
    }

    async fn log_out(&mut self, key: SecretHash, at: Timestamp) -> Result<u64, StoreError> {
        self.execute(
            "update embedded_sessions set logged_out_at = ?2
             where key_hash = ?1 and logged_out_at is null",
            params![key.as_bytes().as_slice(), at.as_secs()],
        )
    }

    async fn delete_expired_sessions(
        &mut self,
        expired_before: Timestamp,
        batch: u32,
    ) -> Result<u64, StoreError> {
        // Embedded sessions go with their account session (on delete cascade).
        let deleted = self.execute(
            "delete from account_sessions where seq in (
                 select seq from account_sessions where expires_at < ?1 limit ?2
             )",
            params![expired_before.as_secs(), batch],
        )?;
        Ok(deleted)
    }
}
