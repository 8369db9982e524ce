//! PostgreSQL's test-double statements.

use sqlx_core::query::query;

use crate::domain::ids::PlatformId;
use crate::store::StoreError;
use crate::store::rows::RowReader;
use crate::store::test_double::TestDoubleRows;

use super::PgConn;

/// The platform's test-mode rows, children before parents (`$1` the platform).
const DELETE_TEST_MODE: &[&str] = &[
    "delete from webhook_deliveries
     where endpoint_id in (select id from webhook_endpoints where platform_id = $1 and not livemode)
        or event_id in (select id from events where platform_id = $1 and not livemode)",
    "delete from events where platform_id = $1 and not livemode",
    "delete from webhook_endpoints where platform_id = $1 and not livemode",
    "delete from embedded_sessions where account_session_hash in
         (select secret_hash from account_sessions where platform_id = $1 and not livemode)",
    "delete from account_sessions where platform_id = $1 and not livemode",
    "delete from external_accounts where account_id in
         (select id from accounts where platform_id = $1 and not livemode)",
    "delete from account_onboardings where account_id in
         (select id from accounts where platform_id = $1 and not livemode)",
    "delete from accounts where platform_id = $1 and not livemode",
    "delete from idempotency_keys where platform_id = $1 and not livemode",
];

impl TestDoubleRows for PgConn {
    async fn select_clock_offset(&mut self) -> Result<Option<i64>, StoreError> {
        self.fetch_one_or_none(
            query("select offset_seconds from test_clock where id = 1"),
            |row| row.integer(0),
        )
        .await
    }

    async fn upsert_clock_offset(&mut self, offset_secs: i64) -> Result<i64, StoreError> {
        let stored = self
            .fetch_one_or_none(
                query(
                    "insert into test_clock (id, offset_seconds) values (1, $1)
                     on conflict (id) do update
                     set offset_seconds = greatest(test_clock.offset_seconds, excluded.offset_seconds)
                     returning offset_seconds",
                )
                .bind(offset_secs),
                |row| row.integer(0),
            )
            .await?;
        stored.ok_or_else(|| StoreError::Corrupt("the test clock row vanished".to_owned()))
    }

    async fn delete_test_mode(&mut self, platform: &PlatformId) -> Result<u64, StoreError> {
        let mut deleted = 0;
        for statement in DELETE_TEST_MODE {
            deleted += self.run(query(*statement).bind(platform.as_str())).await?;
        }
        Ok(deleted)
    }
}
