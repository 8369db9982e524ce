//! PostgreSQL's platform and key statements.

use sqlx_core::query::query;

use crate::clock::Timestamp;
use crate::domain::ids::PlatformId;
use crate::domain::keys::SecretHash;
use crate::domain::platform::{KeyGrant, NewPlatform, StoredKey};
use crate::store::StoreError;
use crate::store::platforms::PlatformRows;
use crate::store::rows::{self, RowReader};

use super::PgConn;

impl PlatformRows for PgConn {
    async fn insert_platform(
        &mut self,
        platform: &NewPlatform,
        created: Timestamp,
    ) -> Result<(), StoreError> {
        self.run(
            query("insert into platforms (id, name, created) values ($1, $2, $3)")
                .bind(platform.id.as_str())
                .bind(platform.name.as_str())
                .bind(created.as_secs()),
        )
        .await?;
        for key in platform.stored_keys() {
            self.run(
                query(
                    "insert into api_keys (key_hash, platform_id, kind, livemode)
                     values ($1, $2, $3, $4)",
                )
                .bind(key.hash.as_bytes().as_slice())
                .bind(platform.id.as_str())
                .bind(key.kind.as_str())
                .bind(key.mode.is_live()),
            )
            .await?;
        }
        Ok(())
    }

    async fn insert_platform_if_absent(
        &mut self,
        id: &PlatformId,
        name: &str,
        created: Timestamp,
    ) -> Result<(), StoreError> {
        self.run(
            query(
                "insert into platforms (id, name, created) values ($1, $2, $3)
                 on conflict (id) do nothing",
            )
            .bind(id.as_str())
            .bind(name)
            .bind(created.as_secs()),
        )
        .await
        .map(drop)
    }

    async fn insert_key_if_absent(
        &mut self,
        platform: &PlatformId,
        key: &StoredKey,
    ) -> Result<(), StoreError> {
        self.run(
            query(
                "insert into api_keys (key_hash, platform_id, kind, livemode)
                 values ($1, $2, $3, $4)
                 on conflict (key_hash) do nothing",
            )
            .bind(key.hash.as_bytes().as_slice())
            .bind(platform.as_str())
            .bind(key.kind.as_str())
            .bind(key.mode.is_live()),
        )
        .await
        .map(drop)
    }

    async fn update_key_expiry(
        &mut self,
        hash: SecretHash,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        self.run(
            query("update api_keys set expires_at = $2 where key_hash = $1")
                .bind(hash.as_bytes().as_slice())
                .bind(expires_at.as_secs()),
        )
        .await
        .map(drop)
    }

    async fn update_key_revoked(&mut self, hash: SecretHash) -> Result<(), StoreError> {
        self.run(
            query("update api_keys set revoked = true where key_hash = $1")
                .bind(hash.as_bytes().as_slice()),
        )
        .await
        .map(drop)
    }

    async fn lock_platforms(&mut self) -> Result<(), StoreError> {
        // Share row exclusive conflicts with itself and with inserts, not
        // with reads.
        self.run(query("lock table platforms in share row exclusive mode"))
            .await
            .map(drop)
    }

    async fn any_platform(&mut self) -> Result<bool, StoreError> {
        self.fetch_one_or_none(query("select exists (select 1 from platforms)"), |row| {
            row.boolean(0)
        })
        .await
        .map(|exists| exists.unwrap_or(false))
    }

    async fn select_key(&mut self, hash: SecretHash) -> Result<Option<KeyGrant>, StoreError> {
        self.fetch_one_or_none(
            query(concat!(
                "select ",
                rows::key_grant_columns!(),
                " from api_keys where key_hash = $1"
            ))
            .bind(hash.as_bytes().as_slice()),
            rows::key_grant,
        )
        .await
    }
}
