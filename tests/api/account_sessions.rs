//! `POST /v1/account_sessions`: the seed's request, defaults resolved from the
//! account's controller, the feature rules, every error, expiry and storage.

use std::time::Duration;

use connect_sessions::domain::keys::SecretHash;
use connect_sessions::http::settings::ApiConfig;
use serde_json::{Value, json};

use crate::helpers::{
    DEFAULT_TTL_SECS, Exchange, SEED_COMPONENTS, START, TestApp, client_secret, exactly,
    is_client_secret, join_all, message_filters, spawn_app, spawn_app_with,
};

/// Creates an account with `body` and returns its id.
async fn account(app: &TestApp, body: &str) -> String {
    app.create_account_id(&app.platform.secret, body).await
}

/// Creates a session for `account` with `components` (a form fragment) and
/// returns the body; panics unless it succeeds.
async fn session(app: &TestApp, account: &str, components: &str) -> Value {
    app.create_account_session(
        &app.platform.secret,
        &format!("account={account}&{components}"),
    )
    .await
    .ok()
}

/// The value of `feature` on every component that has it, by component name.
fn feature_everywhere(session: &Value, feature: &str) -> Value {
    let components = session["components"].as_object().expect("components");
    Value::Object(
        components
            .iter()
            .filter_map(|(name, component)| {
                let value = component["features"].get(feature)?;
                Some((name.clone(), value.clone()))
            })
            .collect(),
    )
}

/// Runs each body (with `{account}` replaced) and collects request, status and error.
async fn error_rows(app: &TestApp, key: &str, account: &str, bodies: &[&str]) -> Vec<Exchange> {
    let mut rows = Vec::new();
    for body in bodies {
        let response = app
            .create_account_session(key, &body.replace("{account}", account))
            .await;
        rows.push(Exchange {
            request: (*body).to_owned(),
            status: response.status,
            answer: response.body["error"].clone(),
        });
    }
    rows
}

// --- The seed's request --------------------------------------------------------------

#[tokio::test]
async fn the_seeds_request_on_a_standard_account_lists_every_component_with_stripe_paying_out() {
    // Arrange
    let app = spawn_app().await;
    let id = account(&app, "type=standard").await;

    // Act
    let response = app
        .create_account_session(
            &app.platform.secret,
            &format!("account={id}&{SEED_COMPONENTS}"),
        )
        .await;

    // Assert
    insta::assert_json_snapshot!(response.snapshot(), {
        ".body.account" => exactly(id.as_str(), "[account_id]"),
        ".body.client_secret" => client_secret(),
        ".body.expires_at" => exactly(START + DEFAULT_TTL_SECS, "[START + 30 min]"),
    }, @r#"
    {
      "status": 200,
      "body": {
        "account": "[account_id]",
        "client_secret": "[client_secret]",
        "components": {
          "account_management": {
            "enabled": false,
            "features": {
              "disable_stripe_user_authentication": false,
              "external_account_collection": true
            }
          },
          "account_onboarding": {
            "enabled": true,
            "features": {
              "disable_stripe_user_authentication": false,
              "external_account_collection": true
            }
          },
          "balance_report": {
            "enabled": false,
            "features": {}
          },
          "balances": {
            "enabled": true,
            "features": {
              "disable_stripe_user_authentication": false,
              "edit_payout_schedule": true,
              "external_account_collection": true,
              "instant_payouts": true,
              "standard_payouts": true
            }
          },
          "disputes_list": {
            "enabled": false,
            "features": {
              "capture_payments": true,
              "destination_on_behalf_of_charge_management": false,
              "dispute_management": true,
              "refund_management": true,
              "smart_disputes_management": true
            }
          },
          "documents": {
            "enabled": false,
            "features": {}
          },
          "financial_account": {
            "enabled": false,
            "features": {
              "disable_stripe_user_authentication": false,
              "external_account_collection": true,
              "money_movement": false,
              "send_money": false,
              "transfer_balance": false
            }
          },
          "financial_account_transactions": {
            "enabled": false,
            "features": {
              "card_spend_dispute_management": false
            }
          },
          "instant_payouts_promotion": {
            "enabled": false,
            "features": {
              "disable_stripe_user_authentication": false,
              "external_account_collection": true,
              "instant_payouts": true
            }
          },
          "issuing_card": {
            "enabled": false,
            "features": {
              "card_management": false,
              "card_spend_dispute_management": false,
              "cardholder_management": false,
              "spend_control_management": false
            }
          },
          "issuing_cards_list": {
            "enabled": false,
            "features": {
              "card_management": false,
              "card_spend_dispute_management": false,
              "cardholder_management": false,
              "disable_stripe_user_authentication": false,
              "spend_control_management": false
            }
          },
          "notification_banner": {
            "enabled": false,
            "features": {
              "disable_stripe_user_authentication": false,
              "external_account_collection": true
            }
          },
          "payment_details": {
            "enabled": false,
            "features": {
              "capture_payments": true,
              "destination_on_behalf_of_charge_management": false,
              "dispute_management": true,
              "refund_management": true,
              "smart_disputes_management": true
            }
          },
          "payment_disputes": {
            "enabled": false,
            "features": {
              "destination_on_behalf_of_charge_management": false,
              "dispute_management": true,
              "refund_management": true,
              "smart_disputes_management": true
            }
          },
          "payment_method_settings": {
            "enabled": false,
            "features": {
              "disable_stripe_user_authentication": false
            }
          },
          "payments": {
            "enabled": true,
            "features": {
              "capture_payments": true,
              "destination_on_behalf_of_charge_management": false,
              "dispute_management": true,
              "refund_management": true,
              "smart_disputes_management": true
            }
          },
          "payout_details": {
            "enabled": false,
            "features": {}
          },
          "payout_reconciliation_report": {
            "enabled": false,
            "features": {}
          },
          "payouts": {
            "enabled": true,
            "features": {
              "disable_stripe_user_authentication": false,
              "edit_payout_schedule": true,
              "external_account_collection": true,
              "instant_payouts": true,
              "standard_payouts": true
            }
          },
          "payouts_list": {
            "enabled": false,
            "features": {}
          },
          "tax_registrations": {
            "enabled": false,
            "features": {}
          },
          "tax_settings": {
            "enabled": false,
            "features": {}
          }
        },
        "expires_at": "[START + 30 min]",
        "livemode": false,
        "object": "account_session"
      }
    }
    "#);
}

#[tokio::test]
async fn the_seeds_request_on_a_custom_account_resolves_payout_features_to_false() {
    // Arrange
    let app = spawn_app().await;
    let id = account(&app, "type=custom").await;

    // Act
    let response = app
        .create_account_session(
            &app.platform.secret,
            &format!("account={id}&{SEED_COMPONENTS}"),
        )
        .await;

    // Assert
    insta::assert_json_snapshot!(response.snapshot(), {
        ".body.account" => exactly(id.as_str(), "[account_id]"),
        ".body.client_secret" => client_secret(),
        ".body.expires_at" => exactly(START + DEFAULT_TTL_SECS, "[START + 30 min]"),
    }, @r#"
    {
      "status": 200,
      "body": {
        "account": "[account_id]",
        "client_secret": "[client_secret]",
        "components": {
          "account_management": {
            "enabled": false,
            "features": {
              "disable_stripe_user_authentication": false,
              "external_account_collection": true
            }
          },
          "account_onboarding": {
            "enabled": true,
            "features": {
              "disable_stripe_user_authentication": false,
              "external_account_collection": true
            }
          },
          "balance_report": {
            "enabled": false,
            "features": {}
          },
          "balances": {
            "enabled": true,
            "features": {
              "disable_stripe_user_authentication": false,
              "edit_payout_schedule": false,
              "external_account_collection": true,
              "instant_payouts": false,
              "standard_payouts": false
            }
          },
          "disputes_list": {
            "enabled": false,
            "features": {
              "capture_payments": true,
              "destination_on_behalf_of_charge_management": false,
              "dispute_management": true,
              "refund_management": true,
              "smart_disputes_management": true
            }
          },
          "documents": {
            "enabled": false,
            "features": {}
          },
          "financial_account": {
            "enabled": false,
            "features": {
              "disable_stripe_user_authentication": false,
              "external_account_collection": true,
              "money_movement": false,
              "send_money": false,
              "transfer_balance": false
            }
          },
          "financial_account_transactions": {
            "enabled": false,
            "features": {
              "card_spend_dispute_management": false
            }
          },
          "instant_payouts_promotion": {
            "enabled": false,
            "features": {
              "disable_stripe_user_authentication": false,
              "external_account_collection": true,
              "instant_payouts": false
            }
          },
          "issuing_card": {
            "enabled": false,
            "features": {
              "card_management": false,
              "card_spend_dispute_management": false,
              "cardholder_management": false,
              "spend_control_management": false
            }
          },
          "issuing_cards_list": {
            "enabled": false,
            "features": {
              "card_management": false,
              "card_spend_dispute_management": false,
              "cardholder_management": false,
              "disable_stripe_user_authentication": false,
              "spend_control_management": false
            }
          },
          "notification_banner": {
            "enabled": false,
            "features": {
              "disable_stripe_user_authentication": false,
              "external_account_collection": true
            }
          },
          "payment_details": {
            "enabled": false,
            "features": {
              "capture_payments": true,
              "destination_on_behalf_of_charge_management": false,
              "dispute_management": true,
              "refund_management": true,
              "smart_disputes_management": true
            }
          },
          "payment_disputes": {
            "enabled": false,
            "features": {
              "destination_on_behalf_of_charge_management": false,
              "dispute_management": true,
              "refund_management": true,
              "smart_disputes_management": true
            }
          },
          "payment_method_settings": {
            "enabled": false,
            "features": {
              "disable_stripe_user_authentication": false
            }
          },
          "payments": {
            "enabled": true,
            "features": {
              "capture_payments": true,
              "destination_on_behalf_of_charge_management": false,
              "dispute_management": true,
              "refund_management": true,
              "smart_disputes_management": true
            }
          },
          "payout_details": {
            "enabled": false,
            "features": {}
          },
          "payout_reconciliation_report": {
            "enabled": false,
            "features": {}
          },
          "payouts": {
            "enabled": true,
            "features": {
              "disable_stripe_user_authentication": false,
              "edit_payout_schedule": false,
              "external_account_collection": true,
              "instant_payouts": false,
              "standard_payouts": false
            }
          },
          "payouts_list": {
            "enabled": false,
            "features": {}
          },
          "tax_registrations": {
            "enabled": false,
            "features": {}
          },
          "tax_settings": {
            "enabled": false,
            "features": {}
          }
        },
        "expires_at": "[START + 30 min]",
        "livemode": false,
        "object": "account_session"
      }
    }
    "#);
}

// --- Defaults from the controller ------------------------------------------------------

#[tokio::test]
async fn payout_features_default_to_true_only_when_stripe_covers_losses() {
    // Arrange: losses.payments is stripe for standard and for dashboard-none
    // accounts, application for express and custom ones.
    let app = spawn_app().await;
    let accounts = [
        ("standard", account(&app, "type=standard").await),
        ("express", account(&app, "type=express").await),
        ("custom", account(&app, "type=custom").await),
        (
            "dashboard none, stripe losses",
            account(&app, "controller[stripe_dashboard][type]=none").await,
        ),
    ];

    // Act
    let mut rows = Vec::new();
    for (kind, id) in &accounts {
        let body = session(&app, id, SEED_COMPONENTS).await;
        rows.push(json!({
            "account": kind,
            "balances": body["components"]["balances"]["features"],
            "payouts": body["components"]["payouts"]["features"],
            "instant_payouts_promotion": body["components"]["instant_payouts_promotion"]["features"],
        }));
    }

    // Assert
    insta::assert_json_snapshot!(rows, @r#"
    [
      {
        "account": "standard",
        "balances": {
          "disable_stripe_user_authentication": false,
          "edit_payout_schedule": true,
          "external_account_collection": true,
          "instant_payouts": true,
          "standard_payouts": true
        },
        "instant_payouts_promotion": {
          "disable_stripe_user_authentication": false,
          "external_account_collection": true,
          "instant_payouts": true
        },
        "payouts": {
          "disable_stripe_user_authentication": false,
          "edit_payout_schedule": true,
          "external_account_collection": true,
          "instant_payouts": true,
          "standard_payouts": true
        }
      },
      {
        "account": "express",
        "balances": {
          "disable_stripe_user_authentication": false,
          "edit_payout_schedule": false,
          "external_account_collection": true,
          "instant_payouts": false,
          "standard_payouts": false
        },
        "instant_payouts_promotion": {
          "disable_stripe_user_authentication": false,
          "external_account_collection": true,
          "instant_payouts": false
        },
        "payouts": {
          "disable_stripe_user_authentication": false,
          "edit_payout_schedule": false,
          "external_account_collection": true,
          "instant_payouts": false,
          "standard_payouts": false
        }
      },
      {
        "account": "custom",
        "balances": {
          "disable_stripe_user_authentication": false,
          "edit_payout_schedule": false,
          "external_account_collection": true,
          "instant_payouts": false,
          "standard_payouts": false
        },
        "instant_payouts_promotion": {
          "disable_stripe_user_authentication": false,
          "external_account_collection": true,
          "instant_payouts": false
        },
        "payouts": {
          "disable_stripe_user_authentication": false,
          "edit_payout_schedule": false,
          "external_account_collection": true,
          "instant_payouts": false,
          "standard_payouts": false
        }
      },
      {
        "account": "dashboard none, stripe losses",
        "balances": {
          "disable_stripe_user_authentication": false,
          "edit_payout_schedule": true,
          "external_account_collection": true,
          "instant_payouts": true,
          "standard_payouts": true
        },
        "instant_payouts_promotion": {
          "disable_stripe_user_authentication": false,
          "external_account_collection": true,
          "instant_payouts": true
        },
        "payouts": {
          "disable_stripe_user_authentication": false,
          "edit_payout_schedule": true,
          "external_account_collection": true,
          "instant_payouts": true,
          "standard_payouts": true
        }
      }
    ]
    "#);
}

#[tokio::test]
async fn explicit_features_override_the_controllers_defaults() {
    // Arrange
    let app = spawn_app().await;
    let standard = account(&app, "type=standard").await;
    let custom = account(&app, "type=custom").await;

    // Act
    let on_standard = session(
        &app,
        &standard,
        "components[payouts][enabled]=true&components[payouts][features][instant_payouts]=false\
         &components[payments][enabled]=true&components[payments][features][refund_management]=false\
         &components[payments][features][destination_on_behalf_of_charge_management]=true",
    )
    .await;
    let on_custom = session(
        &app,
        &custom,
        "components[payouts][enabled]=true&components[payouts][features][standard_payouts]=true\
         &components[issuing_card][enabled]=true&components[issuing_card][features][card_management]=true",
    )
    .await;

    // Assert
    assert_eq!(
        on_standard["components"]["payouts"]["features"],
        json!({
            "disable_stripe_user_authentication": false,
            "edit_payout_schedule": true,
            "external_account_collection": true,
            "instant_payouts": false,
            "standard_payouts": true,
        })
    );
    assert_eq!(
        on_standard["components"]["payments"]["features"],
        json!({
            "capture_payments": true,
            "destination_on_behalf_of_charge_management": true,
            "dispute_management": true,
            "refund_management": false,
            "smart_disputes_management": true,
        })
    );
    assert_eq!(
        on_standard["components"]["balances"]["features"]["instant_payouts"], true,
        "features are per component"
    );
    assert_eq!(
        on_custom["components"]["payouts"]["features"]["standard_payouts"],
        true
    );
    assert_eq!(
        on_custom["components"]["payouts"]["features"]["instant_payouts"],
        false
    );
    assert_eq!(
        on_custom["components"]["issuing_card"],
        json!({"enabled": true, "features": {
            "card_management": true,
            "card_spend_dispute_management": false,
            "cardholder_management": false,
            "spend_control_management": false,
        }})
    );
}

#[tokio::test]
async fn smart_disputes_management_follows_each_components_dispute_management() {
    // Arrange
    let app = spawn_app().await;
    let id = account(&app, "type=standard").await;

    // Act
    let body = session(
        &app,
        &id,
        "components[payments][enabled]=true&components[payments][features][dispute_management]=false\
         &components[disputes_list][enabled]=true&components[disputes_list][features][dispute_management]=false\
         &components[disputes_list][features][smart_disputes_management]=true",
    )
    .await;

    // Assert
    insta::assert_json_snapshot!(json!({
        "dispute_management": feature_everywhere(&body, "dispute_management"),
        "smart_disputes_management": feature_everywhere(&body, "smart_disputes_management"),
    }), @r#"
    {
      "dispute_management": {
        "disputes_list": false,
        "payment_details": true,
        "payment_disputes": true,
        "payments": false
      },
      "smart_disputes_management": {
        "disputes_list": true,
        "payment_details": true,
        "payment_disputes": true,
        "payments": false
      }
    }
    "#);
}

#[tokio::test]
async fn enabled_is_read_in_any_case_and_unrequested_components_stay_disabled() {
    // Arrange
    let app = spawn_app().await;
    let id = account(&app, "").await;

    // Act
    let body = session(
        &app,
        &id,
        "components[payments][enabled]=TRUE&components[documents][enabled]=False",
    )
    .await;

    // Assert
    let enabled: Vec<&str> = body["components"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, component)| component["enabled"] == true)
        .map(|(name, _)| name.as_str())
        .collect();
    assert_eq!(enabled, ["payments"]);
    assert_eq!(
        body["components"]["documents"],
        json!({"enabled": false, "features": {}})
    );
}

// --- disable_stripe_user_authentication and external_account_collection ----------------

#[tokio::test]
async fn an_explicit_disable_stripe_user_authentication_applies_to_every_component() {
    // Arrange
    let app = spawn_app().await;
    let custom = account(&app, "type=custom").await;

    // Act
    let body = session(
        &app,
        &custom,
        "components[payouts][enabled]=true\
         &components[payouts][features][disable_stripe_user_authentication]=true",
    )
    .await;

    // Assert
    insta::assert_json_snapshot!(feature_everywhere(&body, "disable_stripe_user_authentication"), @r#"
    {
      "account_management": true,
      "account_onboarding": true,
      "balances": true,
      "financial_account": true,
      "instant_payouts_promotion": true,
      "issuing_cards_list": true,
      "notification_banner": true,
      "payment_method_settings": true,
      "payouts": true
    }
    "#);
}

#[tokio::test]
async fn disable_stripe_user_authentication_defaults_to_the_opposite_of_the_components_external_account_collection()
 {
    // Arrange
    let app = spawn_app().await;
    let custom = account(&app, "type=custom").await;

    // Act
    let body = session(
        &app,
        &custom,
        "components[account_onboarding][enabled]=true\
         &components[account_onboarding][features][external_account_collection]=false\
         &components[payouts][enabled]=true",
    )
    .await;

    // Assert
    assert_eq!(
        body["components"]["account_onboarding"]["features"],
        json!({"disable_stripe_user_authentication": true, "external_account_collection": false})
    );
    assert_eq!(
        body["components"]["payouts"]["features"]["disable_stripe_user_authentication"],
        false
    );
    assert_eq!(
        body["components"]["payouts"]["features"]["external_account_collection"],
        true
    );
    let dsua = feature_everywhere(&body, "disable_stripe_user_authentication");
    let others_true: Vec<&String> = dsua
        .as_object()
        .unwrap()
        .iter()
        .filter(|(name, value)| *value == true && name.as_str() != "account_onboarding")
        .map(|(name, _)| name)
        .collect();
    assert!(others_true.is_empty(), "{others_true:?}");
}

#[tokio::test]
async fn an_explicit_disable_stripe_user_authentication_beats_the_external_account_default() {
    // Arrange
    let app = spawn_app().await;
    let custom = account(&app, "type=custom").await;

    // Act
    let body = session(
        &app,
        &custom,
        "components[account_onboarding][enabled]=true\
         &components[account_onboarding][features][external_account_collection]=false\
         &components[payouts][enabled]=true\
         &components[payouts][features][disable_stripe_user_authentication]=false",
    )
    .await;

    // Assert
    assert_eq!(
        body["components"]["account_onboarding"]["features"],
        json!({"disable_stripe_user_authentication": false, "external_account_collection": false})
    );
}

#[tokio::test]
async fn application_collected_accounts_created_by_properties_may_disable_authentication() {
    // Arrange: custom-like controller properties give type "none".
    let app = spawn_app().await;
    let id = account(
        &app,
        "controller[fees][payer]=application&controller[losses][payments]=application\
         &controller[requirement_collection]=application&controller[stripe_dashboard][type]=none",
    )
    .await;

    // Act
    let body = session(
        &app,
        &id,
        "components[account_management][enabled]=true\
         &components[account_management][features][disable_stripe_user_authentication]=true\
         &components[account_management][features][external_account_collection]=false",
    )
    .await;

    // Assert
    assert_eq!(
        body["components"]["account_management"]["features"],
        json!({"disable_stripe_user_authentication": true, "external_account_collection": false})
    );
}

#[tokio::test]
async fn stripe_collected_accounts_cannot_disable_authentication_or_external_account_collection() {
    // Arrange: standard and express accounts have requirement_collection=stripe.
    let app = spawn_app().await;
    let standard = account(&app, "type=standard").await;
    let express = account(&app, "type=express").await;
    let dsua = "account={account}&components[payouts][enabled]=true\
                &components[payouts][features][disable_stripe_user_authentication]=true";
    let eac = "account={account}&components[balances][enabled]=true\
               &components[balances][features][external_account_collection]=false";

    // Act
    let on_standard = error_rows(&app, &app.platform.secret, &standard, &[dsua, eac]).await;
    let on_express = error_rows(&app, &app.platform.secret, &express, &[dsua, eac]).await;

    // Assert
    insta::assert_json_snapshot!(on_standard, @r#"
    [
      {
        "request": "account={account}&components[payouts][enabled]=true&components[payouts][features][disable_stripe_user_authentication]=true",
        "status": 400,
        "answer": {
          "message": "The `disable_stripe_user_authentication` feature can only be `true` for accounts where `controller.requirement_collection` is `application`; this account's `controller.requirement_collection` is `stripe`.",
          "param": "components[payouts][features][disable_stripe_user_authentication]",
          "type": "invalid_request_error"
        }
      },
      {
        "request": "account={account}&components[balances][enabled]=true&components[balances][features][external_account_collection]=false",
        "status": 400,
        "answer": {
          "message": "The `external_account_collection` feature can only be `false` for accounts where `controller.requirement_collection` is `application`; this account's `controller.requirement_collection` is `stripe`.",
          "param": "components[balances][features][external_account_collection]",
          "type": "invalid_request_error"
        }
      }
    ]
    "#);
    assert_eq!(on_express, on_standard);
}

#[tokio::test]
async fn stripe_collected_accounts_accept_the_permitted_values_explicitly() {
    // Arrange: Stripe's furever demo sends false on every account type.
    let app = spawn_app().await;
    let standard = account(&app, "type=standard").await;

    // Act
    let body = session(
        &app,
        &standard,
        "components[account_onboarding][enabled]=true\
         &components[account_onboarding][features][disable_stripe_user_authentication]=false\
         &components[account_onboarding][features][external_account_collection]=true\
         &components[payouts][enabled]=true\
         &components[payouts][features][disable_stripe_user_authentication]=false",
    )
    .await;

    // Assert
    let dsua = feature_everywhere(&body, "disable_stripe_user_authentication");
    assert!(
        dsua.as_object()
            .unwrap()
            .values()
            .all(|value| *value == false),
        "{dsua}"
    );
}

#[tokio::test]
async fn disagreeing_disable_stripe_user_authentication_values_name_the_later_component_first() {
    // Arrange
    let app = spawn_app().await;
    let custom = account(&app, "type=custom").await;

    // Act
    let rows = error_rows(
        &app,
        &app.platform.secret,
        &custom,
        &[
            "account={account}\
             &components[account_onboarding][enabled]=true\
             &components[account_onboarding][features][disable_stripe_user_authentication]=false\
             &components[payouts][enabled]=true\
             &components[payouts][features][disable_stripe_user_authentication]=true",
            "account={account}\
             &components[payouts][enabled]=true\
             &components[payouts][features][disable_stripe_user_authentication]=true\
             &components[balances][enabled]=true\
             &components[account_onboarding][enabled]=true\
             &components[account_onboarding][features][disable_stripe_user_authentication]=false",
        ],
    )
    .await;

    // Assert
    insta::assert_json_snapshot!(rows, @r#"
    [
      {
        "request": "account={account}&components[account_onboarding][enabled]=true&components[account_onboarding][features][disable_stripe_user_authentication]=false&components[payouts][enabled]=true&components[payouts][features][disable_stripe_user_authentication]=true",
        "status": 400,
        "answer": {
          "message": "The `features[disable_stripe_user_authentication]` property specified by `payouts` and `account_onboarding` must be the same.",
          "param": "components[payouts][features][disable_stripe_user_authentication]",
          "type": "invalid_request_error"
        }
      },
      {
        "request": "account={account}&components[payouts][enabled]=true&components[payouts][features][disable_stripe_user_authentication]=true&components[balances][enabled]=true&components[account_onboarding][enabled]=true&components[account_onboarding][features][disable_stripe_user_authentication]=false",
        "status": 400,
        "answer": {
          "message": "The `features[disable_stripe_user_authentication]` property specified by `account_onboarding` and `payouts` must be the same.",
          "param": "components[account_onboarding][features][disable_stripe_user_authentication]",
          "type": "invalid_request_error"
        }
      }
    ]
    "#);
}

#[tokio::test]
async fn agreeing_disable_stripe_user_authentication_values_are_accepted() {
    // Arrange
    let app = spawn_app().await;
    let custom = account(&app, "type=custom").await;

    // Act
    let body = session(
        &app,
        &custom,
        "components[account_onboarding][enabled]=true\
         &components[account_onboarding][features][disable_stripe_user_authentication]=true\
         &components[payouts][enabled]=true\
         &components[payouts][features][disable_stripe_user_authentication]=true",
    )
    .await;

    // Assert
    assert_eq!(
        body["components"]["notification_banner"]["features"]["disable_stripe_user_authentication"],
        true
    );
}

// --- Parameter errors ---------------------------------------------------------------------

#[tokio::test]
async fn create_account_session_rejects_missing_empty_and_malformed_parameters() {
    // Arrange
    let app = spawn_app().await;
    let id = account(&app, "").await;

    // Act
    let rows = error_rows(
        &app,
        &app.platform.secret,
        &id,
        &[
            "components[payments][enabled]=true",
            "account={account}",
            "account=&components[payments][enabled]=true",
            "account={account}&components=",
            "account={account}&components[payments][features][refund_management]=false",
            "account={account}&components[payments][enabled]=",
            "account={account}&components[payments][enabled]=maybe",
            "account={account}&components[payments][enabled]=1",
            "account={account}&components[payments][enabled]=true&components[payments][features][refund_management]=yes",
            "account={account}&components[payments]=x",
            "account={account}&components[payments][enabled]=true&components[payments][features]=x",
        ],
    )
    .await;

    // Assert
    insta::assert_json_snapshot!(rows, @r#"
    [
      {
        "request": "components[payments][enabled]=true",
        "status": 400,
        "answer": {
          "code": "parameter_missing",
          "doc_url": "https://stripe.com/docs/error-codes/parameter-missing",
          "message": "Missing required param: account.",
          "param": "account",
          "type": "invalid_request_error"
        }
      },
      {
        "request": "account={account}",
        "status": 400,
        "answer": {
          "code": "parameter_missing",
          "doc_url": "https://stripe.com/docs/error-codes/parameter-missing",
          "message": "Missing required param: components.",
          "param": "components",
          "type": "invalid_request_error"
        }
      },
      {
        "request": "account=&components[payments][enabled]=true",
        "status": 400,
        "answer": {
          "code": "parameter_invalid_empty",
          "doc_url": "https://stripe.com/docs/error-codes/parameter-invalid-empty",
          "message": "You passed an empty string for 'account'. We assume empty values are an attempt to unset a parameter; however 'account' cannot be unset. You should remove 'account' from your request or supply a non-empty value.",
          "param": "account",
          "type": "invalid_request_error"
        }
      },
      {
        "request": "account={account}&components=",
        "status": 400,
        "answer": {
          "code": "parameter_invalid_empty",
          "doc_url": "https://stripe.com/docs/error-codes/parameter-invalid-empty",
          "message": "You passed an empty string for 'components'. We assume empty values are an attempt to unset a parameter; however 'components' cannot be unset. You should remove 'components' from your request or supply a non-empty value.",
          "param": "components",
          "type": "invalid_request_error"
        }
      },
      {
        "request": "account={account}&components[payments][features][refund_management]=false",
        "status": 400,
        "answer": {
          "code": "parameter_missing",
          "doc_url": "https://stripe.com/docs/error-codes/parameter-missing",
          "message": "Missing required param: components[payments][enabled].",
          "param": "components[payments][enabled]",
          "type": "invalid_request_error"
        }
      },
      {
        "request": "account={account}&components[payments][enabled]=",
        "status": 400,
        "answer": {
          "code": "parameter_invalid_empty",
          "doc_url": "https://stripe.com/docs/error-codes/parameter-invalid-empty",
          "message": "You passed an empty string for 'components[payments][enabled]'. We assume empty values are an attempt to unset a parameter; however 'components[payments][enabled]' cannot be unset. You should remove 'components[payments][enabled]' from your request or supply a non-empty value.",
          "param": "components[payments][enabled]",
          "type": "invalid_request_error"
        }
      },
      {
        "request": "account={account}&components[payments][enabled]=maybe",
        "status": 400,
        "answer": {
          "message": "Invalid boolean: maybe",
          "param": "components[payments][enabled]",
          "type": "invalid_request_error"
        }
      },
      {
        "request": "account={account}&components[payments][enabled]=1",
        "status": 400,
        "answer": {
          "message": "Invalid boolean: 1",
          "param": "components[payments][enabled]",
          "type": "invalid_request_error"
        }
      },
      {
        "request": "account={account}&components[payments][enabled]=true&components[payments][features][refund_management]=yes",
        "status": 400,
        "answer": {
          "message": "Invalid boolean: yes",
          "param": "components[payments][features][refund_management]",
          "type": "invalid_request_error"
        }
      },
      {
        "request": "account={account}&components[payments]=x",
        "status": 400,
        "answer": {
          "message": "Invalid hash",
          "param": "components[payments]",
          "type": "invalid_request_error"
        }
      },
      {
        "request": "account={account}&components[payments][enabled]=true&components[payments][features]=x",
        "status": 400,
        "answer": {
          "message": "Invalid hash",
          "param": "components[payments][features]",
          "type": "invalid_request_error"
        }
      }
    ]
    "#);
}

#[tokio::test]
async fn create_account_session_rejects_unknown_components_and_features() {
    // Arrange
    let app = spawn_app().await;
    let id = account(&app, "").await;

    // Act
    let rows = error_rows(
        &app,
        &app.platform.secret,
        &id,
        &[
            // A component Stripe does not have.
            "account={account}&components[bogus][enabled]=true",
            // A feature no component has.
            "account={account}&components[payments][enabled]=true&components[payments][features][bogus]=true",
            // money_movement appears in responses only.
            "account={account}&components[financial_account][enabled]=true&components[financial_account][features][money_movement]=true",
            // A feature of another component.
            "account={account}&components[payments][enabled]=true&components[payments][features][instant_payouts]=true",
            // Several unknowns: listed in request order, the first is the param.
            "zeta=1&account={account}&components[bogus][enabled]=true&components[payments][enabled]=true&alpha=2",
        ],
    )
    .await;

    // Assert
    insta::assert_json_snapshot!(rows, @r#"
    [
      {
        "request": "account={account}&components[bogus][enabled]=true",
        "status": 400,
        "answer": {
          "code": "parameter_unknown",
          "doc_url": "https://stripe.com/docs/error-codes/parameter-unknown",
          "message": "Received unknown parameter: components[bogus]",
          "param": "components[bogus]",
          "type": "invalid_request_error"
        }
      },
      {
        "request": "account={account}&components[payments][enabled]=true&components[payments][features][bogus]=true",
        "status": 400,
        "answer": {
          "code": "parameter_unknown",
          "doc_url": "https://stripe.com/docs/error-codes/parameter-unknown",
          "message": "Received unknown parameter: components[payments][features][bogus]",
          "param": "components[payments][features][bogus]",
          "type": "invalid_request_error"
        }
      },
      {
        "request": "account={account}&components[financial_account][enabled]=true&components[financial_account][features][money_movement]=true",
        "status": 400,
        "answer": {
          "code": "parameter_unknown",
          "doc_url": "https://stripe.com/docs/error-codes/parameter-unknown",
          "message": "Received unknown parameter: components[financial_account][features][money_movement]",
          "param": "components[financial_account][features][money_movement]",
          "type": "invalid_request_error"
        }
      },
      {
        "request": "account={account}&components[payments][enabled]=true&components[payments][features][instant_payouts]=true",
        "status": 400,
        "answer": {
          "code": "parameter_unknown",
          "doc_url": "https://stripe.com/docs/error-codes/parameter-unknown",
          "message": "Received unknown parameter: components[payments][features][instant_payouts]",
          "param": "components[payments][features][instant_payouts]",
          "type": "invalid_request_error"
        }
      },
      {
        "request": "zeta=1&account={account}&components[bogus][enabled]=true&components[payments][enabled]=true&alpha=2",
        "status": 400,
        "answer": {
          "code": "parameter_unknown",
          "doc_url": "https://stripe.com/docs/error-codes/parameter-unknown",
          "message": "Received unknown parameters: zeta, components[bogus], alpha",
          "param": "zeta",
          "type": "invalid_request_error"
        }
      }
    ]
    "#);
}

#[tokio::test]
async fn create_account_session_accepts_expanding_components_and_nothing_else() {
    // Arrange
    let app = spawn_app().await;
    let id = account(&app, "").await;
    let base = format!("account={id}&components[payments][enabled]=true");

    // Act
    let plain = session(&app, &id, "components[payments][enabled]=true").await;
    let expanded = app
        .create_account_session(&app.platform.secret, &format!("{base}&expand[]=components"))
        .await;
    let bogus = app
        .create_account_session(&app.platform.secret, &format!("{base}&expand[]=bogus"))
        .await;

    // Assert
    assert_eq!(expanded.ok()["components"], plain["components"]);
    insta::assert_json_snapshot!(bogus.snapshot(), @r#"
    {
      "status": 400,
      "body": {
        "error": {
          "message": "This property cannot be expanded (bogus).",
          "param": "expand[0]",
          "type": "invalid_request_error"
        }
      }
    }
    "#);
}

// --- The account -------------------------------------------------------------------------

#[tokio::test]
async fn an_account_the_platform_cannot_use_is_no_such_account() {
    // Arrange
    let app = spawn_app().await;
    let key = &app.platform.secret;
    let deleted = account(&app, "").await;
    app.delete(&format!("/v1/accounts/{deleted}"), key)
        .await
        .ok();
    let others = app
        .create_account_id(&app.other_platform.secret, "type=custom")
        .await;
    let unknown = "acct_0000000000000000";

    // Act
    let response = app
        .create_account_session(key, &format!("account={unknown}&{SEED_COMPONENTS}"))
        .await;
    let mut rows = Vec::new();
    for id in [deleted.as_str(), others.as_str(), "foo", "acct_", "cus_123"] {
        let other = app
            .create_account_session(key, &format!("account={id}&{SEED_COMPONENTS}"))
            .await;
        rows.push((id.to_owned(), other));
    }

    // Assert
    insta::assert_json_snapshot!(response.snapshot(), @r#"
    {
      "status": 400,
      "body": {
        "error": {
          "code": "resource_missing",
          "doc_url": "https://stripe.com/docs/error-codes/resource-missing",
          "message": "No such account: 'acct_0000000000000000'",
          "param": "account",
          "type": "invalid_request_error"
        }
      }
    }
    "#);
    for (id, other) in rows {
        assert_eq!(other.status, 400, "{id}");
        let mut expected = response.body.clone();
        expected["error"]["message"] = json!(format!("No such account: '{id}'"));
        assert_eq!(other.body, expected, "{id}");
    }
}

#[tokio::test]
async fn an_account_of_the_other_mode_is_no_such_account_with_stripes_mode_hint() {
    // Arrange
    let app = spawn_app().await;
    let test_account = account(&app, "").await;
    let live_account = app.create_account_id(&app.platform.live_secret, "").await;

    // Act
    let live_key_test_account = app
        .create_account_session(
            &app.platform.live_secret,
            &format!("account={test_account}&{SEED_COMPONENTS}"),
        )
        .await;
    let test_key_live_account = app
        .create_account_session(
            &app.platform.secret,
            &format!("account={live_account}&{SEED_COMPONENTS}"),
        )
        .await;
    let other_platform_live_key = app
        .create_account_session(
            &app.other_platform.live_secret,
            &format!("account={test_account}&{SEED_COMPONENTS}"),
        )
        .await;

    // Assert
    assert_eq!(
        live_key_test_account.message(),
        format!(
            "No such account: '{test_account}'; a similar object exists in test mode, but a live mode key was used to make this request."
        )
    );
    assert_eq!(
        test_key_live_account.message(),
        format!(
            "No such account: '{live_account}'; a similar object exists in live mode, but a test mode key was used to make this request."
        )
    );
    assert_eq!(
        other_platform_live_key.message(),
        format!("No such account: '{test_account}'"),
        "another platform learns nothing about the account"
    );
    let _filters = message_filters();
    insta::assert_json_snapshot!(live_key_test_account.snapshot(), @r#"
    {
      "status": 400,
      "body": {
        "error": {
          "code": "resource_missing",
          "doc_url": "https://stripe.com/docs/error-codes/resource-missing",
          "message": "No such account: '[account_id]'; a similar object exists in test mode, but a live mode key was used to make this request.",
          "param": "account",
          "type": "invalid_request_error"
        }
      }
    }
    "#);
    insta::assert_json_snapshot!(test_key_live_account.snapshot(), @r#"
    {
      "status": 400,
      "body": {
        "error": {
          "code": "resource_missing",
          "doc_url": "https://stripe.com/docs/error-codes/resource-missing",
          "message": "No such account: '[account_id]'; a similar object exists in live mode, but a test mode key was used to make this request.",
          "param": "account",
          "type": "invalid_request_error"
        }
      }
    }
    "#);
}

#[tokio::test]
async fn a_live_key_creates_a_live_session() {
    // Arrange
    let app = spawn_app().await;
    let live_account = app
        .create_account_id(&app.platform.live_secret, "type=express")
        .await;

    // Act
    let response = app
        .create_account_session(
            &app.platform.live_secret,
            &format!("account={live_account}&{SEED_COMPONENTS}"),
        )
        .await;

    // Assert
    let body = response.ok();
    assert_eq!(body["livemode"], true);
    assert_eq!(body["account"], live_account.as_str());
    assert!(is_client_secret(body["client_secret"].as_str().unwrap()));
}

// --- Expiry, secrets, storage -------------------------------------------------------------

#[tokio::test]
async fn a_session_expires_thirty_minutes_after_the_clocks_now() {
    // Arrange
    let app = spawn_app().await;
    let id = account(&app, "").await;
    app.clock.advance(Duration::from_secs(12_345));

    // Act
    let body = session(&app, &id, SEED_COMPONENTS).await;

    // Assert
    assert_eq!(body["expires_at"], START + 12_345 + DEFAULT_TTL_SECS);
}

#[tokio::test]
async fn a_session_lives_as_long_as_the_configured_ttl() {
    // Arrange
    let config = ApiConfig {
        session_ttl: Duration::from_secs(90),
        ..ApiConfig::default()
    };
    let app = spawn_app_with(config).await;
    let id = account(&app, "").await;

    // Act
    let body = session(&app, &id, SEED_COMPONENTS).await;

    // Assert
    assert_eq!(body["expires_at"], START + 90);
}

#[tokio::test]
async fn each_request_returns_a_new_distinct_secret() {
    // Arrange
    let app = spawn_app().await;
    let id = account(&app, "").await;

    // Act
    let mut secrets = Vec::new();
    for _ in 0..5 {
        let body = session(&app, &id, SEED_COMPONENTS).await;
        secrets.push(body["client_secret"].as_str().unwrap().to_owned());
    }

    // Assert
    for secret in &secrets {
        assert!(is_client_secret(secret), "{secret}");
    }
    let mut unique = secrets.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), secrets.len());
}

#[tokio::test]
async fn a_created_session_is_stored_with_its_secret_only_as_a_hash() {
    // Arrange
    let app = spawn_app().await;
    let id = account(&app, "type=custom").await;

    // Act
    let body = session(&app, &id, SEED_COMPONENTS).await;

    // Assert: the row is there as soon as the response is (read on a connection
    // of its own: it is committed).
    let secret = body["client_secret"].as_str().unwrap();
    let rows = app.database.account_sessions().await;
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(
        row.secret_hash.as_slice(),
        SecretHash::of(secret).as_bytes()
    );
    assert_eq!(row.account_id, id);
    assert!(!row.livemode);
    assert_eq!(row.created, START);
    assert_eq!(row.expires_at, START + DEFAULT_TTL_SECS);
    // Stored in the compact layout, decoding to exactly what was answered.
    let stored =
        connect_sessions::domain::catalog::ResolvedComponents::from_bytes(&row.components).unwrap();
    assert_eq!(serde_json::to_value(&stored).unwrap(), body["components"]);

    // … and the plaintext secret is nowhere in the database: not in SQLite's
    // files, not in any row of any PostgreSQL table.
    let random_part = &secret["accs_secret__".len()..];
    for needle in [secret, random_part] {
        let places = app.database.places_holding(needle).await;
        assert!(places.is_empty(), "{places:?} hold the client secret");
    }
}

#[tokio::test]
async fn concurrent_requests_each_get_their_own_stored_session() {
    // Arrange
    let app = spawn_app().await;
    let id = account(&app, "").await;
    let body = format!("account={id}&{SEED_COMPONENTS}");

    // Act: twenty requests in flight at once (committed by SQLite's group writer,
    // or by as many concurrent PostgreSQL transactions).
    let responses =
        join_all((0..20).map(|_| app.create_account_session(&app.platform.secret, &body))).await;

    // Assert
    let mut secrets: Vec<String> = responses
        .into_iter()
        .map(|response| response.ok()["client_secret"].as_str().unwrap().to_owned())
        .collect();
    secrets.sort_unstable();
    secrets.dedup();
    assert_eq!(secrets.len(), 20);
    let rows = app.database.account_sessions().await;
    assert_eq!(rows.len(), 20);
    for secret in &secrets {
        let hash = SecretHash::of(secret);
        let found = rows
            .iter()
            .filter(|row| row.secret_hash.as_slice() == hash.as_bytes())
            .count();
        assert_eq!(found, 1);
    }
}
