//! SQLite's idempotency-key statements.

use rusqlite::params;

use crate::clock::Timestamp;
use crate::idempotency::{Attempt, CompletedAttempt, IdempotencyScope, LeaseToken, SavedResponse};
use crate::store::StoreError;
use crate::store::idempotency_keys::IdempotencyRows;
use crate::store::rows;

use super::SqliteConn;

impl IdempotencyRows for SqliteConn {
    async fn take_key(
        &mut self,
        scope: &IdempotencyScope,
        attempt: &Attempt,
    ) -> Result<u64, StoreError> {
        self.execute(
            "insert into idempotency_keys (platform_id, livemode, key, path, fingerprint,
                 original_request_id, lease_token, locked_until, status, body, created, realm)
             values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, null, null, ?9, ?11)
             on conflict (platform_id, livemode, realm, key) do update set
                 path = excluded.path, fingerprint = excluded.fingerprint,
                 original_request_id = excluded.original_request_id,
                 lease_token = excluded.lease_token, locked_until = excluded.locked_until,
                 status = null, body = null, created = excluded.created
             where idempotency_keys.created < ?10
                or (idempotency_keys.status is null and idempotency_keys.locked_until <= ?9)",
            params![
                scope.tenant.platform.as_str(),
                scope.tenant.mode.is_live(),
                scope.key.as_str(),
                attempt.path,
                attempt.fingerprint.0.as_slice(),
                attempt.request_id,
                attempt.token.0.as_slice(),
                attempt.lease_until.as_secs(),
                attempt.now.as_secs(),
                attempt.retention_cutoff.as_secs(),
                scope.realm.as_stored(),
            ],
        )
    }

    async fn select_key_state(
        &mut self,
        scope: &IdempotencyScope,
    ) -> Result<Option<Option<CompletedAttempt>>, StoreError> {
        self.select_one(
            concat!(
                "select ",
                rows::idempotency_key_columns!(),
                " from idempotency_keys
                 where platform_id = ?1 and livemode = ?2 and key = ?3 and realm = ?4"
            ),
            params![
                scope.tenant.platform.as_str(),
                scope.tenant.mode.is_live(),
                scope.key.as_str(),
                scope.realm.as_stored()
            ],
            |row| rows::idempotency_key(row),
        )
    }

    async fn save_response(
        &mut self,
        scope: &IdempotencyScope,
        token: LeaseToken,
        response: &SavedResponse,
    ) -> Result<(), StoreError> {
        self.execute(
            "update idempotency_keys set status = ?5, body = ?6
             where platform_id = ?1 and livemode = ?2 and key = ?3 and lease_token = ?4
               and status is null and realm = ?7",
            params![
                scope.tenant.platform.as_str(),
                scope.tenant.mode.is_live(),
                scope.key.as_str(),
                token.0.as_slice(),
                response.status,
                response.sealed_body,
                scope.realm.as_stored(),
            ],
        )?;
        Ok(())
    }

    async fn delete_key_in_flight(
        &mut self,
        scope: &IdempotencyScope,
        token: LeaseToken,
    ) -> Result<(), StoreError> {
        self.execute(
            "delete from idempotency_keys
             where platform_id = ?1 and livemode = ?2 and realm = ?3 and key = ?4
               and lease_token = ?5 and status is null",
            params![
                scope.tenant.platform.as_str(),
                scope.tenant.mode.is_live(),
                scope.realm.as_stored(),
                scope.key.as_str(),
                token.0.as_slice(),
            ],
        )?;
        Ok(())
    }

    async fn delete_old_keys(
        &mut self,
        created_before: Timestamp,
        batch: u32,
    ) -> Result<u64, StoreError> {
        let deleted = self.execute(
            "delete from idempotency_keys where (platform_id, livemode, realm, key) in (
                 select platform_id, livemode, realm, key from idempotency_keys
                 where created < ?1 limit ?2
             )",
            params![created_before.as_secs(), batch],
        )?;
        Ok(deleted)
    }
}
