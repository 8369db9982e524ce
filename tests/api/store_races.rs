//! Races run straight against the store, on whichever backend the suite runs
//! on: what a single SQLite writer makes trivially true must also hold with
//! PostgreSQL's concurrent transactions.

use connect_sessions::clock::{Clock, SystemClock};
use connect_sessions::domain::account::{AccountType, Controller, NewAccount};
use connect_sessions::domain::account_session::{ClaimRefusal, ClientSecret, NewAccountSession};
use connect_sessions::domain::catalog::{ComponentsRequest, ResolvedComponents};
use connect_sessions::domain::embedded_session::NewEmbeddedSession;
use connect_sessions::domain::mode::Mode;
use connect_sessions::domain::onboarding::verification::Verifier;
use connect_sessions::domain::platform::{NewPlatform, Tenant};
use connect_sessions::domain::webhooks::RequestRef;
use connect_sessions::store::{ClaimOutcome, SessionInsertOutcome};
use std::time::Duration;

use crate::database::TestDatabase;
use crate::helpers::join_all;

#[tokio::test]
async fn sessions_created_while_their_account_is_deleted_are_all_revoked_or_refused() {
    // Arrange
    let database = TestDatabase::create().await;
    let store = database.open_store().await;
    let platform = NewPlatform::generate("Races".to_owned());
    let now = SystemClock.now();
    store.create_platform(&platform, now).await.unwrap();
    let tenant = Tenant {
        platform: platform.id.clone(),
        mode: Mode::Test,
    };
    let components = ResolvedComponents::resolve(
        &ComponentsRequest::default(),
        &Controller::for_type(AccountType::Custom),
    )
    .unwrap();

    for _ in 0..10 {
        let account = NewAccount {
            controller: Controller::for_type(AccountType::Custom),
            country: "US".to_owned(),
            fields: Default::default(),
        }
        .into_account(
            platform.id.clone(),
            &Verifier {
                mode: Mode::Test,
                now,
                delay: Duration::from_secs(5),
            },
        )
        .unwrap();
        store
            .insert_account(
                &account,
                None,
                account.created,
                &RequestRef::default(),
                None,
            )
            .await
            .unwrap();
        let sessions: Vec<NewAccountSession> = (0..8)
            .map(|_| NewAccountSession {
                account: account.id.clone(),
                components: components.clone(),
                secret_hash: ClientSecret::generate().hash(),
                created: now,
                expires_at: now.plus(Duration::from_secs(600)),
            })
            .collect();

        // Act: the account is deleted while its sessions are being inserted.
        let (inserted, deleted) = tokio::join!(
            join_all(
                sessions
                    .iter()
                    .map(|session| store.insert_account_session(&tenant, session, None))
            ),
            store.delete_account(&tenant, &account.id, now),
        );

        // Assert: no session outlives its account: each was refused, or revoked
        // with it, so none can be claimed.
        assert!(deleted.unwrap());
        for (session, outcome) in sessions.iter().zip(inserted) {
            if outcome.unwrap() == SessionInsertOutcome::AccountMissing {
                continue;
            }
            let claim = NewEmbeddedSession::generate(Mode::Test, now);
            let claimed = store
                .claim_account_session(&tenant, session.secret_hash, &claim, None)
                .await
                .unwrap();
            assert!(
                matches!(claimed, ClaimOutcome::Refused(ClaimRefusal::Revoked)),
                "a session outlived its deleted account"
            );
        }
    }
}
