//! PostgreSQL's idempotency-key statements.

use sqlx_core::query::query;

use crate::clock::Timestamp;
use crate::idempotency::{Attempt, CompletedAttempt, IdempotencyScope, LeaseToken, SavedResponse};
use crate::store::StoreError;
use crate::store::idempotency_keys::IdempotencyRows;
use crate::store::rows;

use super::PgConn;

impl IdempotencyRows for PgConn {
    async fn take_key(
        &mut self,
        scope: &IdempotencyScope,
        attempt: &Attempt,
    ) -> Result<u64, StoreError> {
        // The statement locks the key's row whether or not it takes it over,
        // so concurrent beginners (from any process) take turns: exactly one
        // proceeds.
        self.run(
            query(
                "insert into idempotency_keys (platform_id, livemode, realm, key, path,
                     fingerprint, original_request_id, lease_token, locked_until, status, body,
                     created)
                 values ($1, $2, $11, $3, $4, $5, $6, $7, $8, null, null, $9)
                 on conflict (platform_id, livemode, realm, key) do update set
                     path = excluded.path, fingerprint = excluded.fingerprint,
                     original_request_id = excluded.original_request_id,
                     lease_token = excluded.lease_token, locked_until = excluded.locked_until,
                     status = null, body = null, created = excluded.created
                 where idempotency_keys.created < $10
                    or (idempotency_keys.status is null and idempotency_keys.locked_until <= $9)",
            )
            .bind(scope.tenant.platform.as_str())
            .bind(scope.tenant.mode.is_live())
            .bind(scope.key.as_str())
            .bind(attempt.path.as_str())
            .bind(attempt.fingerprint.0.as_slice())
            .bind(attempt.request_id.as_str())
            .bind(attempt.token.0.as_slice())
            .bind(attempt.lease_until.as_secs())
            .bind(attempt.now.as_secs())
            .bind(attempt.retention_cutoff.as_secs())
            .bind(scope.realm.as_stored()),
        )
        .await
    }

    async fn select_key_state(
        &mut self,
        scope: &IdempotencyScope,
    ) -> Result<Option<Option<CompletedAttempt>>, StoreError> {
        self.fetch_one_or_none(
            query(concat!(
                "select ",
                rows::idempotency_key_columns!(),
                " from idempotency_keys
                 where platform_id = $1 and livemode = $2 and realm = $4 and key = $3"
            ))
            .bind(scope.tenant.platform.as_str())
            .bind(scope.tenant.mode.is_live())
            .bind(scope.key.as_str())
            .bind(scope.realm.as_stored()),
            rows::idempotency_key,
        )
        .await
    }

    async fn save_response(
        &mut self,
        scope: &IdempotencyScope,
        token: LeaseToken,
        response: &SavedResponse,
    ) -> Result<(), StoreError> {
        self.run(
            query(
                "update idempotency_keys set status = $5, body = $6
                 where platform_id = $1 and livemode = $2 and realm = $7 and key = $3
                   and lease_token = $4 and status is null",
            )
            .bind(scope.tenant.platform.as_str())
            .bind(scope.tenant.mode.is_live())
            .bind(scope.key.as_str())
            .bind(token.0.as_slice())
            .bind(i32::from(response.status))
            .bind(response.sealed_body.as_slice())
            .bind(scope.realm.as_stored()),
        )
        .await
        .map(drop)
    }

    async fn delete_key_in_flight(
        &mut self,
        scope: &IdempotencyScope,
        token: LeaseToken,
    ) -> Result<(), StoreError> {
        self.run(
            query(
                "delete from idempotency_keys
                 where platform_id = $1 and livemode = $2 and realm = $3 and key = $4
                   and lease_token = $5 and status is null",
            )
            .bind(scope.tenant.platform.as_str())
            .bind(scope.tenant.mode.is_live())
            .bind(scope.realm.as_stored())
            .bind(scope.key.as_str())
            .bind(token.0.as_slice()),
        )
        .await
        .map(drop)
    }

    async fn delete_old_keys(
        &mut self,
        created_before: Timestamp,
        batch: u32,
    ) -> Result<u64, StoreError> {
        self.run(
            query(
                "delete from idempotency_keys where (platform_id, livemode, realm, key) in (
                     select platform_id, livemode, realm, key from idempotency_keys
                     where created < $1
                     limit $2
                     for update skip locked
                 )",
            )
            .bind(created_before.as_secs())
            .bind(i64::from(batch)),
        )
        .await
    }
}
