//! SQLite's test-double statements.

use crate::domain::ids::PlatformId;
use crate::store::StoreError;
use crate::store::test_double::TestDoubleRows;

use super::SqliteConn;

/// The platform's test-mode rows, children before parents (`?1` the platform).
const DELETE_TEST_MODE: &[&str] = &[
    "delete from webhook_deliveries
     where endpoint_id in (select id from webhook_endpoints where platform_id = ?1 and livemode = 0)
        or event_id in (select id from events where platform_id = ?1 and livemode = 0)",
    "delete from events where platform_id = ?1 and livemode = 0",
    "delete from webhook_endpoints where platform_id = ?1 and livemode = 0",
    "delete from embedded_sessions where account_session_hash in
         (select secret_hash from account_sessions where platform_id = ?1 and livemode = 0)",
    "delete from account_sessions where platform_id = ?1 and livemode = 0",
    "delete from external_accounts where account_id in
         (select id from accounts where platform_id = ?1 and livemode = 0)",
    "delete from account_onboardings where account_id in
         (select id from accounts where platform_id = ?1 and livemode = 0)",
    "delete from accounts where platform_id = ?1 and livemode = 0",
    "delete from idempotency_keys where platform_id = ?1 and livemode = 0",
];

impl TestDoubleRows for SqliteConn {
    async fn select_clock_offset(&mut self) -> Result<Option<i64>, StoreError> {
        self.select_one(
            "select offset_seconds from test_clock where id = 1",
            [],
            |row| Ok(row.get(0)?),
        )
    }

    async fn upsert_clock_offset(&mut self, offset_secs: i64) -> Result<i64, StoreError> {
        let stored = self.select_one(
            "insert into test_clock (id, offset_seconds) values (1, ?1)
             on conflict (id) do update set offset_seconds = max(offset_seconds, excluded.offset_seconds)
             returning offset_seconds",
            [offset_secs],
            |row| Ok(row.get(0)?),
        )?;
        stored.ok_or_else(|| StoreError::Corrupt("the test clock row vanished".to_owned()))
    }

    async fn delete_test_mode(&mut self, platform: &PlatformId) -> Result<u64, StoreError> {
        let mut deleted = 0;
        for statement in DELETE_TEST_MODE {
            deleted += self.execute(statement, [platform.as_str()])?;
        }
        Ok(deleted)
    }
}
