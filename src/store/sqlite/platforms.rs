//! SQLite's platform and key statements.

use rusqlite::params;

use crate::clock::Timestamp;
use crate::domain::ids::PlatformId;
use crate::domain::keys::SecretHash;
use crate::domain::platform::{KeyGrant, NewPlatform, StoredKey};
use crate::store::StoreError;
use crate::store::platforms::PlatformRows;
use crate::store::rows;

use super::SqliteConn;

impl PlatformRows for SqliteConn {
    async fn insert_platform(
        &mut self,
        platform: &NewPlatform,
        created: Timestamp,
    ) -> Result<(), StoreError> {
        let id = platform.id.as_str();
        self.execute(
            "insert into platforms (id, name, created) values (?1, ?2, ?3)",
            params![id, platform.name, created.as_secs()],
        )?;
        for key in platform.stored_keys() {
            self.execute(
                "insert into api_keys (key_hash, platform_id, kind, livemode)
                 values (?1, ?2, ?3, ?4)",
                params![
                    key.hash.as_bytes().as_slice(),
                    id,
                    key.kind.as_str(),
                    key.mode.is_live()
                ],
            )?;
        }
        Ok(())
    }

    async fn insert_platform_if_absent(
        &mut self,
        id: &PlatformId,
        name: &str,
        created: Timestamp,
    ) -> Result<(), StoreError> {
        self.execute(
            "insert into platforms (id, name, created) values (?1, ?2, ?3)
             on conflict (id) do nothing",
            params![id.as_str(), name, created.as_secs()],
        )?;
        Ok(())
    }

    async fn insert_key_if_absent(
        &mut self,
        platform: &PlatformId,
        key: &StoredKey,
    ) -> Result<(), StoreError> {
        self.execute(
            "insert into api_keys (key_hash, platform_id, kind, livemode)
             values (?1, ?2, ?3, ?4)
             on conflict (key_hash) do nothing",
            params![
                key.hash.as_bytes().as_slice(),
                platform.as_str(),
                key.kind.as_str(),
                key.mode.is_live()
            ],
        )?;
        Ok(())
    }

    async fn lock_platforms(&mut self) -> Result<(), StoreError> {
        // The writer's `begin immediate` already keeps every other writer out.
        Ok(())
    }

    async fn any_platform(&mut self) -> Result<bool, StoreError> {
        self.select_one("select exists (select 1 from platforms)", [], |row| {
            Ok(row.get::<_, bool>(0)?)
        })
        .map(|exists| exists.unwrap_or(false))
    }

    async fn update_key_expiry(
        &mut self,
        hash: SecretHash,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        self.execute(
            "update api_keys set expires_at = ?2 where key_hash = ?1",
            params![hash.as_bytes().as_slice(), expires_at.as_secs()],
        )?;
        Ok(())
    }

    async fn update_key_revoked(&mut self, hash: SecretHash) -> Result<(), StoreError> {
        self.execute(
            "update api_keys set revoked = 1 where key_hash = ?1",
            params![hash.as_bytes().as_slice()],
        )?;
        Ok(())
    }

    async fn select_key(&mut self, hash: SecretHash) -> Result<Option<KeyGrant>, StoreError> {
        self.select_one(
            concat!(
                "select ",
                rows::key_grant_columns!(),
                " from api_keys where key_hash = ?1"
            ),
            [hash.as_bytes().as_slice()],
            |row| rows::key_grant(row),
        )
    }
}
