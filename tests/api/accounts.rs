//! `/v1/accounts`: create (by type or by controller properties), retrieve,
//! update, delete and list, and what one platform and mode can see.

use serde_json::{Value, json};

use crate::helpers::{
    Exchange, START, TestApp, account_id, exactly, external_accounts_url, is_account_id, mask,
    message_filters, spawn_app,
};

/// Creates `count` accounts and returns their ids, oldest first.
async fn create_accounts(app: &TestApp, key: &str, count: usize) -> Vec<String> {
    let mut ids = Vec::with_capacity(count);
    for _ in 0..count {
        ids.push(app.create_account_id(key, "").await);
    }
    ids
}

/// The ids of a list page's accounts, in page order.
fn ids_of(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|account| account["id"].as_str().expect("an id").to_owned())
        .collect()
}

/// Runs each body through `POST /v1/accounts` and collects request, status and answer.
async fn outcomes(app: &TestApp, bodies: &[&str], pick: fn(&Value) -> Value) -> Vec<Exchange> {
    let mut rows = Vec::new();
    for body in bodies {
        let response = app
            .post_form("/v1/accounts", &app.platform.secret, body)
            .await;
        rows.push(Exchange {
            request: (*body).to_owned(),
            status: response.status,
            answer: pick(&response.body),
        });
    }
    rows
}

/// Stripe's 403 for an account the key cannot see.
fn account_invalid_message(key: &str, account: &str) -> String {
    format!(
        "The provided key '{}' does not have access to account '{account}' (or that account does not exist). Application access may have been revoked.",
        mask(key)
    )
}

// --- Create by type ---------------------------------------------------------------

#[tokio::test]
async fn create_account_with_type_standard_gives_stripes_standard_controller() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app
        .post_form("/v1/accounts", &app.platform.secret, "type=standard")
        .await;

    // Assert
    insta::assert_json_snapshot!(response.snapshot(), {
        ".body.external_accounts.url" => external_accounts_url(),
        ".body.id" => account_id(),
        ".body.created" => exactly(START, "[START]"),
    }, @r#"
    {
      "status": 200,
      "body": {
        "business_profile": {
          "annual_revenue": null,
          "estimated_worker_count": null,
          "mcc": null,
          "minority_owned_business_designation": null,
          "name": null,
          "product_description": null,
          "support_address": null,
          "support_email": null,
          "support_phone": null,
          "support_url": null,
          "url": null
        },
        "business_type": null,
        "capabilities": {},
        "charges_enabled": false,
        "controller": {
          "fees": {
            "payer": "account"
          },
          "is_controller": true,
          "losses": {
            "payments": "stripe"
          },
          "requirement_collection": "stripe",
          "stripe_dashboard": {
            "type": "full"
          },
          "type": "application"
        },
        "country": "US",
        "created": "[START]",
        "default_currency": "usd",
        "details_submitted": false,
        "email": null,
        "external_accounts": {
          "data": [],
          "has_more": false,
          "object": "list",
          "total_count": 0,
          "url": "/v1/accounts/[account_id]/external_accounts"
        },
        "future_requirements": {
          "alternatives": [],
          "current_deadline": null,
          "currently_due": [],
          "disabled_reason": null,
          "errors": [],
          "eventually_due": [],
          "past_due": [],
          "pending_verification": []
        },
        "id": "[account_id]",
        "metadata": {},
        "object": "account",
        "payouts_enabled": false,
        "requirements": {
          "alternatives": [
            {
              "alternative_fields_due": [
                "business_profile.product_description"
              ],
              "original_fields_due": [
                "business_profile.url"
              ]
            }
          ],
          "current_deadline": null,
          "currently_due": [
            "business_profile.mcc",
            "business_profile.url",
            "business_type",
            "external_account",
            "representative.dob.day",
            "representative.dob.month",
            "representative.dob.year",
            "representative.email",
            "representative.first_name",
            "representative.last_name",
            "tos_acceptance.date",
            "tos_acceptance.ip"
          ],
          "disabled_reason": "requirements.past_due",
          "errors": [],
          "eventually_due": [
            "business_profile.mcc",
            "business_profile.url",
            "business_type",
            "external_account",
            "representative.dob.day",
            "representative.dob.month",
            "representative.dob.year",
            "representative.email",
            "representative.first_name",
            "representative.last_name",
            "tos_acceptance.date",
            "tos_acceptance.ip"
          ],
          "past_due": [
            "business_profile.mcc",
            "business_profile.url",
            "business_type",
            "external_account",
            "representative.dob.day",
            "representative.dob.month",
            "representative.dob.year",
            "representative.email",
            "representative.first_name",
            "representative.last_name",
            "tos_acceptance.date",
            "tos_acceptance.ip"
          ],
          "pending_verification": []
        },
        "settings": {
          "bacs_debit_payments": {
            "display_name": null,
            "service_user_number": null
          },
          "branding": {
            "icon": null,
            "logo": null,
            "primary_color": null,
            "secondary_color": null
          },
          "card_issuing": {
            "tos_acceptance": {
              "date": null,
              "ip": null
            }
          },
          "card_payments": {
            "decline_on": {
              "avs_failure": false,
              "cvc_failure": false
            },
            "statement_descriptor_prefix": null,
            "statement_descriptor_prefix_kana": null,
            "statement_descriptor_prefix_kanji": null
          },
          "dashboard": {
            "display_name": null,
            "timezone": "Etc/UTC"
          },
          "invoices": {
            "default_account_tax_ids": null,
            "hosted_payment_method_save": "always"
          },
          "payments": {
            "statement_descriptor": null,
            "statement_descriptor_kana": null,
            "statement_descriptor_kanji": null
          },
          "payouts": {
            "debit_negative_balances": true,
            "schedule": {
              "delay_days": 2,
              "interval": "daily"
            },
            "statement_descriptor": null
          },
          "sepa_debit_payments": {}
        },
        "tos_acceptance": {
          "date": null,
          "ip": null,
          "user_agent": null
        },
        "type": "standard"
      }
    }
    "#);
}

#[tokio::test]
async fn create_account_with_type_express_gives_stripes_express_controller() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app
        .post_form("/v1/accounts", &app.platform.secret, "type=express")
        .await;

    // Assert
    insta::assert_json_snapshot!(response.snapshot(), {
        ".body.external_accounts.url" => external_accounts_url(),
        ".body.id" => account_id(),
        ".body.created" => exactly(START, "[START]"),
    }, @r#"
    {
      "status": 200,
      "body": {
        "business_profile": {
          "annual_revenue": null,
          "estimated_worker_count": null,
          "mcc": null,
          "minority_owned_business_designation": null,
          "name": null,
          "product_description": null,
          "support_address": null,
          "support_email": null,
          "support_phone": null,
          "support_url": null,
          "url": null
        },
        "business_type": null,
        "capabilities": {},
        "charges_enabled": false,
        "controller": {
          "fees": {
            "payer": "application_express"
          },
          "is_controller": true,
          "losses": {
            "payments": "application"
          },
          "requirement_collection": "stripe",
          "stripe_dashboard": {
            "type": "express"
          },
          "type": "application"
        },
        "country": "US",
        "created": "[START]",
        "default_currency": "usd",
        "details_submitted": false,
        "email": null,
        "external_accounts": {
          "data": [],
          "has_more": false,
          "object": "list",
          "total_count": 0,
          "url": "/v1/accounts/[account_id]/external_accounts"
        },
        "future_requirements": {
          "alternatives": [],
          "current_deadline": null,
          "currently_due": [],
          "disabled_reason": null,
          "errors": [],
          "eventually_due": [],
          "past_due": [],
          "pending_verification": []
        },
        "id": "[account_id]",
        "metadata": {},
        "object": "account",
        "payouts_enabled": false,
        "requirements": {
          "alternatives": [
            {
              "alternative_fields_due": [
                "business_profile.product_description"
              ],
              "original_fields_due": [
                "business_profile.url"
              ]
            }
          ],
          "current_deadline": null,
          "currently_due": [
            "business_profile.mcc",
            "business_profile.url",
            "business_type",
            "external_account",
            "representative.dob.day",
            "representative.dob.month",
            "representative.dob.year",
            "representative.email",
            "representative.first_name",
            "representative.last_name",
            "tos_acceptance.date",
            "tos_acceptance.ip"
          ],
          "disabled_reason": "requirements.past_due",
          "errors": [],
          "eventually_due": [
            "business_profile.mcc",
            "business_profile.url",
            "business_type",
            "external_account",
            "representative.dob.day",
            "representative.dob.month",
            "representative.dob.year",
            "representative.email",
            "representative.first_name",
            "representative.last_name",
            "tos_acceptance.date",
            "tos_acceptance.ip"
          ],
          "past_due": [
            "business_profile.mcc",
            "business_profile.url",
            "business_type",
            "external_account",
            "representative.dob.day",
            "representative.dob.month",
            "representative.dob.year",
            "representative.email",
            "representative.first_name",
            "representative.last_name",
            "tos_acceptance.date",
            "tos_acceptance.ip"
          ],
          "pending_verification": []
        },
        "settings": {
          "bacs_debit_payments": {
            "display_name": null,
            "service_user_number": null
          },
          "branding": {
            "icon": null,
            "logo": null,
            "primary_color": null,
            "secondary_color": null
          },
          "card_issuing": {
            "tos_acceptance": {
              "date": null,
              "ip": null
            }
          },
          "card_payments": {
            "decline_on": {
              "avs_failure": false,
              "cvc_failure": false
            },
            "statement_descriptor_prefix": null,
            "statement_descriptor_prefix_kana": null,
            "statement_descriptor_prefix_kanji": null
          },
          "dashboard": {
            "display_name": null,
            "timezone": "Etc/UTC"
          },
          "invoices": {
            "default_account_tax_ids": null,
            "hosted_payment_method_save": "always"
          },
          "payments": {
            "statement_descriptor": null,
            "statement_descriptor_kana": null,
            "statement_descriptor_kanji": null
          },
          "payouts": {
            "debit_negative_balances": true,
            "schedule": {
              "delay_days": 2,
              "interval": "daily"
            },
            "statement_descriptor": null
          },
          "sepa_debit_payments": {}
        },
        "tos_acceptance": {
          "date": null,
          "ip": null,
          "user_agent": null
        },
        "type": "express"
      }
    }
    "#);
}

#[tokio::test]
async fn create_account_with_type_custom_gives_stripes_custom_controller() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app
        .post_form(
            "/v1/accounts",
            &app.platform.secret,
            "type=custom&country=GB&email=jenny.rosen%40example.com",
        )
        .await;

    // Assert
    insta::assert_json_snapshot!(response.snapshot(), {
        ".body.external_accounts.url" => external_accounts_url(),
        ".body.id" => account_id(),
        ".body.created" => exactly(START, "[START]"),
    }, @r#"
    {
      "status": 200,
      "body": {
        "business_profile": {
          "annual_revenue": null,
          "estimated_worker_count": null,
          "mcc": null,
          "minority_owned_business_designation": null,
          "name": null,
          "product_description": null,
          "support_address": null,
          "support_email": null,
          "support_phone": null,
          "support_url": null,
          "url": null
        },
        "business_type": null,
        "capabilities": {},
        "charges_enabled": false,
        "controller": {
          "fees": {
            "payer": "application_custom"
          },
          "is_controller": true,
          "losses": {
            "payments": "application"
          },
          "requirement_collection": "application",
          "stripe_dashboard": {
            "type": "none"
          },
          "type": "application"
        },
        "country": "GB",
        "created": "[START]",
        "default_currency": "gbp",
        "details_submitted": false,
        "email": "jenny.rosen@example.com",
        "external_accounts": {
          "data": [],
          "has_more": false,
          "object": "list",
          "total_count": 0,
          "url": "/v1/accounts/[account_id]/external_accounts"
        },
        "future_requirements": {
          "alternatives": [],
          "current_deadline": null,
          "currently_due": [],
          "disabled_reason": null,
          "errors": [],
          "eventually_due": [],
          "past_due": [],
          "pending_verification": []
        },
        "id": "[account_id]",
        "metadata": {},
        "object": "account",
        "payouts_enabled": false,
        "requirements": {
          "alternatives": [],
          "current_deadline": null,
          "currently_due": [
            "business_profile.mcc",
            "business_profile.url",
            "business_type",
            "external_account",
            "representative.address.city",
            "representative.address.line1",
            "representative.address.postal_code",
            "representative.dob.day",
            "representative.dob.month",
            "representative.dob.year",
            "representative.email",
            "representative.first_name",
            "representative.last_name",
            "representative.phone",
            "tos_acceptance.date",
            "tos_acceptance.ip"
          ],
          "disabled_reason": "requirements.past_due",
          "errors": [],
          "eventually_due": [
            "business_profile.mcc",
            "business_profile.url",
            "business_type",
            "external_account",
            "representative.address.city",
            "representative.address.line1",
            "representative.address.postal_code",
            "representative.dob.day",
            "representative.dob.month",
            "representative.dob.year",
            "representative.email",
            "representative.first_name",
            "representative.last_name",
            "representative.phone",
            "tos_acceptance.date",
            "tos_acceptance.ip"
          ],
          "past_due": [
            "business_profile.mcc",
            "business_profile.url",
            "business_type",
            "external_account",
            "representative.address.city",
            "representative.address.line1",
            "representative.address.postal_code",
            "representative.dob.day",
            "representative.dob.month",
            "representative.dob.year",
            "representative.email",
            "representative.first_name",
            "representative.last_name",
            "representative.phone",
            "tos_acceptance.date",
            "tos_acceptance.ip"
          ],
          "pending_verification": []
        },
        "settings": {
          "bacs_debit_payments": {
            "display_name": null,
            "service_user_number": null
          },
          "branding": {
            "icon": null,
            "logo": null,
            "primary_color": null,
            "secondary_color": null
          },
          "card_issuing": {
            "tos_acceptance": {
              "date": null,
              "ip": null
            }
          },
          "card_payments": {
            "decline_on": {
              "avs_failure": false,
              "cvc_failure": false
            },
            "statement_descriptor_prefix": null,
            "statement_descriptor_prefix_kana": null,
            "statement_descriptor_prefix_kanji": null
          },
          "dashboard": {
            "display_name": null,
            "timezone": "Etc/UTC"
          },
          "invoices": {
            "default_account_tax_ids": null,
            "hosted_payment_method_save": "always"
          },
          "payments": {
            "statement_descriptor": null,
            "statement_descriptor_kana": null,
            "statement_descriptor_kanji": null
          },
          "payouts": {
            "debit_negative_balances": false,
            "schedule": {
              "delay_days": 7,
              "interval": "daily"
            },
            "statement_descriptor": null
          },
          "sepa_debit_payments": {}
        },
        "tos_acceptance": {
          "date": null,
          "ip": null,
          "user_agent": null
        },
        "type": "custom"
      }
    }
    "#);
}

#[tokio::test]
async fn create_account_uses_the_clock_for_created() {
    // Arrange
    let app = spawn_app().await;
    app.clock.advance(std::time::Duration::from_secs(3_600));

    // Act
    let account = app.create_account(&app.platform.secret, "").await;

    // Assert
    assert_eq!(account["created"], START + 3_600);
}

// --- Create by controller properties ----------------------------------------------

#[tokio::test]
async fn create_account_with_controller_properties_fills_stripes_defaults_and_names_the_type() {
    // Arrange
    let app = spawn_app().await;
    let bodies = [
        "",
        "controller[losses][payments]=stripe",
        "controller[stripe_dashboard][type]=none",
        "controller[fees][payer]=application&controller[losses][payments]=application&controller[requirement_collection]=application&controller[stripe_dashboard][type]=none",
        "controller[fees][payer]=application&controller[losses][payments]=application&controller[stripe_dashboard][type]=express",
    ];

    // Act
    let rows = outcomes(
        &app,
        &bodies,
        |account| json!({"type": account["type"], "controller": account["controller"]}),
    )
    .await;

    // Assert
    insta::assert_json_snapshot!(rows, @r#"
    [
      {
        "request": "",
        "status": 200,
        "answer": {
          "controller": {
            "fees": {
              "payer": "account"
            },
            "is_controller": true,
            "losses": {
              "payments": "stripe"
            },
            "requirement_collection": "stripe",
            "stripe_dashboard": {
              "type": "full"
            },
            "type": "application"
          },
          "type": "standard"
        }
      },
      {
        "request": "controller[losses][payments]=stripe",
        "status": 200,
        "answer": {
          "controller": {
            "fees": {
              "payer": "account"
            },
            "is_controller": true,
            "losses": {
              "payments": "stripe"
            },
            "requirement_collection": "stripe",
            "stripe_dashboard": {
              "type": "full"
            },
            "type": "application"
          },
          "type": "standard"
        }
      },
      {
        "request": "controller[stripe_dashboard][type]=none",
        "status": 200,
        "answer": {
          "controller": {
            "fees": {
              "payer": "account"
            },
            "is_controller": true,
            "losses": {
              "payments": "stripe"
            },
            "requirement_collection": "stripe",
            "stripe_dashboard": {
              "type": "none"
            },
            "type": "application"
          },
          "type": "none"
        }
      },
      {
        "request": "controller[fees][payer]=application&controller[losses][payments]=application&controller[requirement_collection]=application&controller[stripe_dashboard][type]=none",
        "status": 200,
        "answer": {
          "controller": {
            "fees": {
              "payer": "application"
            },
            "is_controller": true,
            "losses": {
              "payments": "application"
            },
            "requirement_collection": "application",
            "stripe_dashboard": {
              "type": "none"
            },
            "type": "application"
          },
          "type": "none"
        }
      },
      {
        "request": "controller[fees][payer]=application&controller[losses][payments]=application&controller[stripe_dashboard][type]=express",
        "status": 200,
        "answer": {
          "controller": {
            "fees": {
              "payer": "application"
            },
            "is_controller": true,
            "losses": {
              "payments": "application"
            },
            "requirement_collection": "stripe",
            "stripe_dashboard": {
              "type": "express"
            },
            "type": "application"
          },
          "type": "none"
        }
      }
    ]
    "#);
}

#[tokio::test]
async fn create_account_rejects_every_unsupported_controller_combination() {
    // Arrange: stripe-behaviour.md §2.4, one request per documented rejection.
    let app = spawn_app().await;
    let bodies = [
        // requirement_collection=application with losses.payments=stripe
        "controller[requirement_collection]=application&controller[losses][payments]=stripe&controller[fees][payer]=application&controller[stripe_dashboard][type]=none",
        // … with fees.payer=account
        "controller[requirement_collection]=application&controller[losses][payments]=application&controller[fees][payer]=account&controller[stripe_dashboard][type]=none",
        // … with stripe_dashboard.type=express
        "controller[requirement_collection]=application&controller[losses][payments]=application&controller[fees][payer]=application&controller[stripe_dashboard][type]=express",
        // … with stripe_dashboard.type=full
        "controller[requirement_collection]=application&controller[losses][payments]=application&controller[fees][payer]=application&controller[stripe_dashboard][type]=full",
        // stripe_dashboard.type=express with losses.payments=stripe
        "controller[stripe_dashboard][type]=express&controller[losses][payments]=stripe&controller[fees][payer]=application",
        // … with fees.payer=account
        "controller[stripe_dashboard][type]=express&controller[losses][payments]=application&controller[fees][payer]=account",
        // stripe_dashboard.type=full with losses.payments=application
        "controller[stripe_dashboard][type]=full&controller[losses][payments]=application",
        // … with fees.payer=application
        "controller[stripe_dashboard][type]=full&controller[fees][payer]=application",
        // … with requirement_collection=application
        "controller[stripe_dashboard][type]=full&controller[requirement_collection]=application",
        // stripe_dashboard.type=none with requirement_collection=stripe and losses.payments=application
        "controller[stripe_dashboard][type]=none&controller[requirement_collection]=stripe&controller[losses][payments]=application",
    ];

    // Act
    let rows = outcomes(&app, &bodies, |body| body["error"].clone()).await;

    // Assert
    insta::assert_json_snapshot!(rows, @r#"
    [
      {
        "request": "controller[requirement_collection]=application&controller[losses][payments]=stripe&controller[fees][payer]=application&controller[stripe_dashboard][type]=none",
        "status": 400,
        "answer": {
          "message": "When requirement_collection=application, your platform must be liable for negative balances or refunds and chargebacks (losses[payments]=application).",
          "param": "controller[losses][payments]",
          "type": "invalid_request_error"
        }
      },
      {
        "request": "controller[requirement_collection]=application&controller[losses][payments]=application&controller[fees][payer]=account&controller[stripe_dashboard][type]=none",
        "status": 400,
        "answer": {
          "message": "When requirement_collection=application, your platform must collect fees (fees[payer]=application).",
          "param": "controller[fees][payer]",
          "type": "invalid_request_error"
        }
      },
      {
        "request": "controller[requirement_collection]=application&controller[losses][payments]=application&controller[fees][payer]=application&controller[stripe_dashboard][type]=express",
        "status": 400,
        "answer": {
          "message": "When requirement_collection=application, stripe_dashboard[type] must be none.",
          "param": "controller[stripe_dashboard][type]",
          "type": "invalid_request_error"
        }
      },
      {
        "request": "controller[requirement_collection]=application&controller[losses][payments]=application&controller[fees][payer]=application&controller[stripe_dashboard][type]=full",
        "status": 400,
        "answer": {
          "message": "When requirement_collection=application, stripe_dashboard[type] must be none.",
          "param": "controller[stripe_dashboard][type]",
          "type": "invalid_request_error"
        }
      },
      {
        "request": "controller[stripe_dashboard][type]=express&controller[losses][payments]=stripe&controller[fees][payer]=application",
        "status": 400,
        "answer": {
          "message": "When stripe_dashboard[type]=express, your platform must collect fees and be liable for negative balances or refunds and chargebacks.",
          "param": "controller[stripe_dashboard][type]",
          "type": "invalid_request_error"
        }
      },
      {
        "request": "controller[stripe_dashboard][type]=express&controller[losses][payments]=application&controller[fees][payer]=account",
        "status": 400,
        "answer": {
          "message": "When stripe_dashboard[type]=express, your platform must collect fees and be liable for negative balances or refunds and chargebacks.",
          "param": "controller[stripe_dashboard][type]",
          "type": "invalid_request_error"
        }
      },
      {
        "request": "controller[stripe_dashboard][type]=full&controller[losses][payments]=application",
        "status": 400,
        "answer": {
          "message": "When stripe_dashboard[type]=full, Stripe must be liable for negative balances or refunds and chargebacks, and the account must pay its own fees.",
          "param": "controller[stripe_dashboard][type]",
          "type": "invalid_request_error"
        }
      },
      {
        "request": "controller[stripe_dashboard][type]=full&controller[fees][payer]=application",
        "status": 400,
        "answer": {
          "message": "When stripe_dashboard[type]=full, Stripe must be liable for negative balances or refunds and chargebacks, and the account must pay its own fees.",
          "param": "controller[stripe_dashboard][type]",
          "type": "invalid_request_error"
        }
      },
      {
        "request": "controller[stripe_dashboard][type]=full&controller[requirement_collection]=application",
        "status": 400,
        "answer": {
          "message": "When requirement_collection=application, stripe_dashboard[type] must be none.",
          "param": "controller[stripe_dashboard][type]",
          "type": "invalid_request_error"
        }
      },
      {
        "request": "controller[stripe_dashboard][type]=none&controller[requirement_collection]=stripe&controller[losses][payments]=application",
        "status": 400,
        "answer": {
          "message": "When stripe_dashboard[type]=none and requirement_collection=stripe, Stripe must be liable for negative balances or refunds and chargebacks.",
          "param": "controller[losses][payments]",
          "type": "invalid_request_error"
        }
      }
    ]
    "#);
    let listed = app.get("/v1/accounts", &app.platform.secret).await.ok();
    assert_eq!(listed["data"], json!([]), "no rejected account was stored");
}

#[tokio::test]
async fn create_account_refuses_type_and_controller_together() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app
        .post_form(
            "/v1/accounts",
            &app.platform.secret,
            "type=custom&controller[fees][payer]=application",
        )
        .await;

    // Assert
    insta::assert_json_snapshot!(response.snapshot(), @r#"
    {
      "status": 400,
      "body": {
        "error": {
          "code": "parameters_exclusive",
          "doc_url": "https://stripe.com/docs/error-codes/parameters-exclusive",
          "message": "You may only specify one of these parameters: type, controller.",
          "param": "type",
          "type": "invalid_request_error"
        }
      }
    }
    "#);
}

#[tokio::test]
async fn create_account_rejects_values_outside_each_enum() {
    // Arrange
    let app = spawn_app().await;
    let bodies = [
        "type=none",
        "type=Custom",
        "type=",
        "controller[fees][payer]=application_express",
        "controller[losses][payments]=platform",
        "controller[requirement_collection]=both",
        "controller[stripe_dashboard][type]=lite",
        "controller[fees]=application",
    ];

    // Act
    let rows = outcomes(&app, &bodies, |body| body["error"].clone()).await;

    // Assert
    insta::assert_json_snapshot!(rows, @r#"
    [
      {
        "request": "type=none",
        "status": 400,
        "answer": {
          "message": "Invalid type: must be one of custom, express, or standard",
          "param": "type",
          "type": "invalid_request_error"
        }
      },
      {
        "request": "type=Custom",
        "status": 400,
        "answer": {
          "message": "Invalid type: must be one of custom, express, or standard",
          "param": "type",
          "type": "invalid_request_error"
        }
      },
      {
        "request": "type=",
        "status": 400,
        "answer": {
          "code": "parameter_invalid_empty",
          "doc_url": "https://stripe.com/docs/error-codes/parameter-invalid-empty",
          "message": "You passed an empty string for 'type'. We assume empty values are an attempt to unset a parameter; however 'type' cannot be unset. You should remove 'type' from your request or supply a non-empty value.",
          "param": "type",
          "type": "invalid_request_error"
        }
      },
      {
        "request": "controller[fees][payer]=application_express",
        "status": 400,
        "answer": {
          "message": "Invalid controller[fees][payer]: must be one of account or application",
          "param": "controller[fees][payer]",
          "type": "invalid_request_error"
        }
      },
      {
        "request": "controller[losses][payments]=platform",
        "status": 400,
        "answer": {
          "message": "Invalid controller[losses][payments]: must be one of application or stripe",
          "param": "controller[losses][payments]",
          "type": "invalid_request_error"
        }
      },
      {
        "request": "controller[requirement_collection]=both",
        "status": 400,
        "answer": {
          "message": "Invalid controller[requirement_collection]: must be one of application or stripe",
          "param": "controller[requirement_collection]",
          "type": "invalid_request_error"
        }
      },
      {
        "request": "controller[stripe_dashboard][type]=lite",
        "status": 400,
        "answer": {
          "message": "Invalid controller[stripe_dashboard][type]: must be one of express, full, or none",
          "param": "controller[stripe_dashboard][type]",
          "type": "invalid_request_error"
        }
      },
      {
        "request": "controller[fees]=application",
        "status": 400,
        "answer": {
          "message": "Invalid hash",
          "param": "controller[fees]",
          "type": "invalid_request_error"
        }
      }
    ]
    "#);
}

// --- Country, email -----------------------------------------------------------------

#[tokio::test]
async fn create_account_defaults_country_to_us_and_upper_cases_a_given_one() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let default = app.create_account(&app.platform.secret, "").await;
    let lower = app.create_account(&app.platform.secret, "country=gb").await;

    // Assert
    assert_eq!(default["country"], "US");
    assert_eq!(lower["country"], "GB");
}

#[tokio::test]
async fn create_account_rejects_a_country_that_is_not_two_letters() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let rows = outcomes(&app, &["country=USA", "country=U1", "country="], |body| {
        body["error"].clone()
    })
    .await;

    // Assert
    insta::assert_json_snapshot!(rows, @r#"
    [
      {
        "request": "country=USA",
        "status": 400,
        "answer": {
          "message": "Country 'USA' is unknown. Try using a 2-character alphanumeric country code instead, such as 'US', 'EG', or 'GB'. A full list of country codes is available at https://www.iso.org/iso-3166-country-codes.html",
          "param": "country",
          "type": "invalid_request_error"
        }
      },
      {
        "request": "country=U1",
        "status": 400,
        "answer": {
          "message": "Country 'U1' is unknown. Try using a 2-character alphanumeric country code instead, such as 'US', 'EG', or 'GB'. A full list of country codes is available at https://www.iso.org/iso-3166-country-codes.html",
          "param": "country",
          "type": "invalid_request_error"
        }
      },
      {
        "request": "country=",
        "status": 400,
        "answer": {
          "code": "parameter_invalid_empty",
          "doc_url": "https://stripe.com/docs/error-codes/parameter-invalid-empty",
          "message": "You passed an empty string for 'country'. We assume empty values are an attempt to unset a parameter; however 'country' cannot be unset. You should remove 'country' from your request or supply a non-empty value.",
          "param": "country",
          "type": "invalid_request_error"
        }
      }
    ]
    "#);
}

#[tokio::test]
async fn create_account_rejects_a_two_letter_code_that_is_no_country() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app
        .post_form("/v1/accounts", &app.platform.secret, "country=ZZ")
        .await;

    // Assert
    insta::assert_json_snapshot!(response.snapshot(), @r#"
    {
      "status": 400,
      "body": {
        "error": {
          "message": "Country 'ZZ' is unknown. Try using a 2-character alphanumeric country code instead, such as 'US', 'EG', or 'GB'. A full list of country codes is available at https://www.iso.org/iso-3166-country-codes.html",
          "param": "country",
          "type": "invalid_request_error"
        }
      }
    }
    "#);
}

#[tokio::test]
async fn create_account_rejects_an_invalid_email() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let rows = outcomes(
        &app,
        &[
            "email=not-an-email",
            "email=a%40b",
            "email=two+words%40example.com",
        ],
        |body| body["error"].clone(),
    )
    .await;

    // Assert
    insta::assert_json_snapshot!(rows, @r#"
    [
      {
        "request": "email=not-an-email",
        "status": 400,
        "answer": {
          "code": "email_invalid",
          "doc_url": "https://stripe.com/docs/error-codes/email-invalid",
          "message": "Invalid email address: not-an-email",
          "param": "email",
          "type": "invalid_request_error"
        }
      },
      {
        "request": "email=a%40b",
        "status": 400,
        "answer": {
          "code": "email_invalid",
          "doc_url": "https://stripe.com/docs/error-codes/email-invalid",
          "message": "Invalid email address: a@b",
          "param": "email",
          "type": "invalid_request_error"
        }
      },
      {
        "request": "email=two+words%40example.com",
        "status": 400,
        "answer": {
          "code": "email_invalid",
          "doc_url": "https://stripe.com/docs/error-codes/email-invalid",
          "message": "Invalid email address: two words@example.com",
          "param": "email",
          "type": "invalid_request_error"
        }
      }
    ]
    "#);
}

// --- Metadata -------------------------------------------------------------------------

#[tokio::test]
async fn metadata_is_set_merged_unset_by_empty_values_and_cleared() {
    // Arrange
    let app = spawn_app().await;
    let account = app
        .create_account(
            &app.platform.secret,
            "metadata[order_id]=6735&metadata[plan]=gold",
        )
        .await;
    let id = account["id"].as_str().unwrap();
    let path = format!("/v1/accounts/{id}");

    // Act
    let merged = app
        .post_form(
            &path,
            &app.platform.secret,
            "metadata[plan]=&metadata[region]=eu",
        )
        .await
        .ok();
    let untouched = app
        .post_form(&path, &app.platform.secret, "email=ops%40example.com")
        .await
        .ok();
    let cleared = app
        .post_form(&path, &app.platform.secret, "metadata=")
        .await
        .ok();

    // Assert
    assert_eq!(
        account["metadata"],
        json!({"order_id": "6735", "plan": "gold"})
    );
    assert_eq!(
        merged["metadata"],
        json!({"order_id": "6735", "region": "eu"})
    );
    assert_eq!(untouched["metadata"], merged["metadata"]);
    assert_eq!(cleared["metadata"], json!({}));
    let retrieved = app.get(&path, &app.platform.secret).await.ok();
    assert_eq!(retrieved["metadata"], json!({}));
}

#[tokio::test]
async fn metadata_accepts_up_to_stripes_limits() {
    // Arrange
    let app = spawn_app().await;
    let fifty: Vec<String> = (0..50).map(|i| format!("metadata[k{i}]=v")).collect();
    let long_key = format!("metadata[{}]=v", "k".repeat(40));
    let long_value = format!("metadata[k]={}", "v".repeat(500));

    // Act
    let with_fifty = app
        .create_account(&app.platform.secret, &fifty.join("&"))
        .await;
    let with_long_key = app.create_account(&app.platform.secret, &long_key).await;
    let with_long_value = app.create_account(&app.platform.secret, &long_value).await;

    // Assert
    assert_eq!(with_fifty["metadata"].as_object().unwrap().len(), 50);
    assert_eq!(with_long_key["metadata"][&"k".repeat(40)], "v");
    assert_eq!(with_long_value["metadata"]["k"], "v".repeat(500));
}

#[tokio::test]
async fn metadata_beyond_stripes_limits_is_rejected() {
    // Arrange
    let app = spawn_app().await;
    let fifty_one: Vec<String> = (0..51).map(|i| format!("metadata[k{i}]=v")).collect();
    let fifty_one = fifty_one.join("&");
    let long_key = format!("metadata[{}]=v", "k".repeat(41));
    let long_value = format!("metadata[k]={}", "v".repeat(501));

    // Act
    let rows = outcomes(&app, &[&fifty_one, &long_key, &long_value], |body| {
        body["error"].clone()
    })
    .await;

    // Assert
    let mut rows = rows;
    for row in &mut rows {
        row.request = format!("[{} bytes]", row.request.len());
    }
    insta::assert_json_snapshot!(rows, @r#"
    [
      {
        "request": "[805 bytes]",
        "status": 400,
        "answer": {
          "message": "Invalid metadata: metadata can have up to 50 keys, but this request would leave 51.",
          "param": "metadata",
          "type": "invalid_request_error"
        }
      },
      {
        "request": "[53 bytes]",
        "status": 400,
        "answer": {
          "message": "Invalid metadata: keys can be up to 40 characters long, but 'kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk' has 41.",
          "param": "metadata[kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk]",
          "type": "invalid_request_error"
        }
      },
      {
        "request": "[513 bytes]",
        "status": 400,
        "answer": {
          "message": "Invalid metadata: values can be up to 500 characters long, but the value of 'k' has 501.",
          "param": "metadata[k]",
          "type": "invalid_request_error"
        }
      }
    ]
    "#);
}

#[tokio::test]
async fn an_update_that_would_leave_more_than_fifty_metadata_keys_is_rejected_and_changes_nothing()
{
    // Arrange
    let app = spawn_app().await;
    let fifty: Vec<String> = (0..50).map(|i| format!("metadata[k{i}]=v")).collect();
    let id = app
        .create_account_id(&app.platform.secret, &fifty.join("&"))
        .await;
    let path = format!("/v1/accounts/{id}");

    // Act
    let refused = app
        .post_form(
            &path,
            &app.platform.secret,
            "metadata[one_more]=v&email=a%40example.com",
        )
        .await;
    let swap = app
        .post_form(
            &path,
            &app.platform.secret,
            "metadata[k0]=&metadata[one_more]=v",
        )
        .await;

    // Assert
    insta::assert_json_snapshot!(refused.snapshot(), @r#"
    {
      "status": 400,
      "body": {
        "error": {
          "message": "Invalid metadata: metadata can have up to 50 keys, but this request would leave 51.",
          "param": "metadata",
          "type": "invalid_request_error"
        }
      }
    }
    "#);
    let swapped = swap.ok();
    assert_eq!(swapped["metadata"].as_object().unwrap().len(), 50);
    assert_eq!(swapped["metadata"]["one_more"], "v");
    assert_eq!(
        swapped["email"],
        Value::Null,
        "the refused update changed nothing"
    );
}

// --- Business profile, capabilities, unknown parameters ------------------------------

#[tokio::test]
async fn business_profile_is_set_at_creation_and_unset_by_an_empty_value() {
    // Arrange
    let app = spawn_app().await;
    let account = app
        .create_account(
            &app.platform.secret,
            "business_profile[name]=Acme&business_profile[url]=https%3A%2F%2Facme.example",
        )
        .await;
    let path = format!("/v1/accounts/{}", account["id"].as_str().unwrap());

    // Act
    let renamed = app
        .post_form(
            &path,
            &app.platform.secret,
            "business_profile[name]=Acme+Ltd",
        )
        .await
        .ok();
    let unset = app
        .post_form(&path, &app.platform.secret, "business_profile[url]=")
        .await
        .ok();

    // Assert: the business profile's name and URL (its other fields stay null).
    let name_and_url = |account: &Value| {
        json!({
            "name": account["business_profile"]["name"],
            "url": account["business_profile"]["url"],
        })
    };
    assert_eq!(
        name_and_url(&account),
        json!({"name": "Acme", "url": "https://acme.example"})
    );
    assert_eq!(
        name_and_url(&renamed),
        json!({"name": "Acme Ltd", "url": "https://acme.example"})
    );
    assert_eq!(
        name_and_url(&unset),
        json!({"name": "Acme Ltd", "url": null})
    );
    assert_eq!(unset["business_profile"]["mcc"], Value::Null);
}

#[tokio::test]
async fn requested_capabilities_are_listed_as_inactive() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let requested = app
        .create_account(
            &app.platform.secret,
            "type=custom&capabilities[card_payments][requested]=true&capabilities[transfers][requested]=true",
        )
        .await;
    let not_requested = app
        .create_account(
            &app.platform.secret,
            "capabilities[card_payments][requested]=false",
        )
        .await;

    // Assert
    assert_eq!(
        requested["capabilities"],
        json!({"card_payments": "inactive", "transfers": "inactive"})
    );
    assert_eq!(not_requested["capabilities"], json!({}));
}

#[tokio::test]
async fn create_account_rejects_unknown_capabilities_and_non_boolean_requests() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let rows = outcomes(
        &app,
        &[
            "capabilities[teleportation][requested]=true",
            "capabilities[card_payments][requested]=yes",
            "capabilities[card_payments][wanted]=true",
        ],
        |body| body["error"].clone(),
    )
    .await;

    // Assert
    insta::assert_json_snapshot!(rows, @r#"
    [
      {
        "request": "capabilities[teleportation][requested]=true",
        "status": 400,
        "answer": {
          "code": "parameter_unknown",
          "doc_url": "https://stripe.com/docs/error-codes/parameter-unknown",
          "message": "Received unknown parameter: capabilities[teleportation]",
          "param": "capabilities[teleportation]",
          "type": "invalid_request_error"
        }
      },
      {
        "request": "capabilities[card_payments][requested]=yes",
        "status": 400,
        "answer": {
          "message": "Invalid boolean: yes",
          "param": "capabilities[card_payments][requested]",
          "type": "invalid_request_error"
        }
      },
      {
        "request": "capabilities[card_payments][wanted]=true",
        "status": 400,
        "answer": {
          "code": "parameter_unknown",
          "doc_url": "https://stripe.com/docs/error-codes/parameter-unknown",
          "message": "Received unknown parameter: capabilities[card_payments][wanted]",
          "param": "capabilities[card_payments][wanted]",
          "type": "invalid_request_error"
        }
      }
    ]
    "#);
}

#[tokio::test]
async fn create_account_rejects_unknown_parameters_listing_them_in_request_order() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let rows = outcomes(
        &app,
        &[
            "foo=1",
            "zeta=1&type=custom&alpha=2",
            "controller[colour]=red",
            "business_profile[mcc]=5734",
        ],
        |body| body["error"].clone(),
    )
    .await;

    // Assert
    insta::assert_json_snapshot!(rows, @r#"
    [
      {
        "request": "foo=1",
        "status": 400,
        "answer": {
          "code": "parameter_unknown",
          "doc_url": "https://stripe.com/docs/error-codes/parameter-unknown",
          "message": "Received unknown parameter: foo",
          "param": "foo",
          "type": "invalid_request_error"
        }
      },
      {
        "request": "zeta=1&type=custom&alpha=2",
        "status": 400,
        "answer": {
          "code": "parameter_unknown",
          "doc_url": "https://stripe.com/docs/error-codes/parameter-unknown",
          "message": "Received unknown parameters: zeta, alpha",
          "param": "zeta",
          "type": "invalid_request_error"
        }
      },
      {
        "request": "controller[colour]=red",
        "status": 400,
        "answer": {
          "code": "parameter_unknown",
          "doc_url": "https://stripe.com/docs/error-codes/parameter-unknown",
          "message": "Received unknown parameter: controller[colour]",
          "param": "controller[colour]",
          "type": "invalid_request_error"
        }
      },
      {
        "request": "business_profile[mcc]=5734",
        "status": 200,
        "answer": null
      }
    ]
    "#);
}

// --- Retrieve and update ---------------------------------------------------------------

#[tokio::test]
async fn retrieve_account_returns_the_account_as_created() {
    // Arrange
    let app = spawn_app().await;
    let created = app
        .create_account(
            &app.platform.secret,
            "type=express&email=a%40example.com&metadata[x]=1",
        )
        .await;
    let path = format!("/v1/accounts/{}", created["id"].as_str().unwrap());

    // Act
    let retrieved = app.get(&path, &app.platform.secret).await;
    let expanded = app
        .get(
            &format!("{path}?expand[]=business_profile"),
            &app.platform.secret,
        )
        .await;

    // Assert
    assert_eq!(retrieved.ok(), created);
    assert_eq!(expanded.ok(), created);
}

#[tokio::test]
async fn retrieve_account_refuses_an_expansion_it_does_not_know() {
    // Arrange
    let app = spawn_app().await;
    let id = app.create_account_id(&app.platform.secret, "").await;

    // Act
    let response = app
        .get(
            &format!("/v1/accounts/{id}?expand[]=bogus"),
            &app.platform.secret,
        )
        .await;

    // Assert
    insta::assert_json_snapshot!(response.snapshot(), @r#"
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

#[tokio::test]
async fn update_account_changes_email_and_keeps_everything_else() {
    // Arrange
    let app = spawn_app().await;
    let created = app
        .create_account(&app.platform.secret, "type=custom&email=old%40example.com")
        .await;
    let path = format!("/v1/accounts/{}", created["id"].as_str().unwrap());

    // Act
    let updated = app
        .post_form(&path, &app.platform.secret, "email=new%40example.com")
        .await;
    let cleared = app.post_form(&path, &app.platform.secret, "email=").await;

    // Assert
    let updated = updated.ok();
    assert_eq!(updated["email"], "new@example.com");
    let mut expected = created.clone();
    expected["email"] = json!("new@example.com");
    assert_eq!(updated, expected);
    assert_eq!(cleared.ok()["email"], Value::Null);
}

#[tokio::test]
async fn update_account_refuses_to_change_controller_properties() {
    // Arrange
    let app = spawn_app().await;
    let created = app
        .create_account(&app.platform.secret, "type=standard")
        .await;
    let path = format!("/v1/accounts/{}", created["id"].as_str().unwrap());

    // Act
    let response = app
        .post_form(
            &path,
            &app.platform.secret,
            "controller[fees][payer]=application&email=x%40example.com",
        )
        .await;
    let type_change = app
        .post_form(&path, &app.platform.secret, "type=custom")
        .await;
    let bad_email = app
        .post_form(&path, &app.platform.secret, "email=nope")
        .await;

    // Assert (the body's `param` is pinned by the ignored test below).
    assert_eq!(response.status, 400);
    assert_eq!(
        response.message(),
        "The controller properties of an account cannot be changed after it is created."
    );
    assert_eq!(response.body["error"]["type"], "invalid_request_error");
    assert!(
        response.body["error"]["param"]
            .as_str()
            .is_some_and(|param| param.starts_with("controller[fees]"))
    );
    assert_eq!(type_change.status, 400);
    assert_eq!(type_change.message(), "Received unknown parameter: type");
    assert_eq!(bad_email.status, 400);
    assert_eq!(bad_email.message(), "Invalid email address: nope");
    let retrieved = app.get(&path, &app.platform.secret).await.ok();
    assert_eq!(retrieved, created, "nothing changed");
}

#[tokio::test]
async fn update_account_names_the_full_path_of_the_controller_property_it_refuses() {
    // Arrange
    let app = spawn_app().await;
    let id = app
        .create_account_id(&app.platform.secret, "type=standard")
        .await;
    let path = format!("/v1/accounts/{id}");

    // Act
    let response = app
        .post_form(
            &path,
            &app.platform.secret,
            "controller[fees][payer]=application",
        )
        .await;
    let dashboard = app
        .post_form(
            &path,
            &app.platform.secret,
            "controller[stripe_dashboard][type]=none",
        )
        .await;

    // Assert
    insta::assert_json_snapshot!(response.snapshot(), @r#"
    {
      "status": 400,
      "body": {
        "error": {
          "message": "The controller properties of an account cannot be changed after it is created.",
          "param": "controller[fees][payer]",
          "type": "invalid_request_error"
        }
      }
    }
    "#);
    assert_eq!(
        dashboard.body["error"]["param"],
        "controller[stripe_dashboard][type]"
    );
}

// --- Delete ------------------------------------------------------------------------------

#[tokio::test]
async fn delete_account_answers_with_the_deleted_stub() {
    // Arrange
    let app = spawn_app().await;
    let id = app.create_account_id(&app.platform.secret, "").await;

    // Act
    let response = app
        .delete(&format!("/v1/accounts/{id}"), &app.platform.secret)
        .await;

    // Assert
    insta::assert_json_snapshot!(response.snapshot(), {
        ".body.id" => exactly(id.as_str(), "[account_id]"),
    }, @r#"
    {
      "status": 200,
      "body": {
        "deleted": true,
        "id": "[account_id]",
        "object": "account"
      }
    }
    "#);
}

#[tokio::test]
async fn a_deleted_account_can_no_longer_be_retrieved_updated_or_deleted() {
    // Arrange
    let app = spawn_app().await;
    let key = &app.platform.secret;
    let id = app.create_account_id(key, "").await;
    let path = format!("/v1/accounts/{id}");
    app.delete(&path, key).await.ok();

    // Act
    let retrieve = app.get(&path, key).await;
    let update = app.post_form(&path, key, "email=a%40example.com").await;
    let delete = app.delete(&path, key).await;
    let list = app.get("/v1/accounts", key).await.ok();

    // Assert
    assert_eq!(retrieve.message(), account_invalid_message(key, &id));
    let _filters = message_filters();
    insta::assert_json_snapshot!(retrieve.snapshot(), @r#"
    {
      "status": 403,
      "body": {
        "error": {
          "code": "account_invalid",
          "doc_url": "https://stripe.com/docs/error-codes/account-invalid",
          "message": "The provided key '[masked_key]' does not have access to account '[account_id]' (or that account does not exist). Application access may have been revoked.",
          "type": "invalid_request_error"
        }
      }
    }
    "#);
    for response in [update, delete] {
        assert_eq!(response.status, 403);
        assert_eq!(response.body, retrieve.body);
    }
    assert_eq!(list["data"], json!([]));
}

#[tokio::test]
async fn retrieving_an_unknown_or_malformed_account_is_a_403_naming_it() {
    // Arrange
    let app = spawn_app().await;
    let key = &app.platform.secret;

    // Act
    let unknown = app.get("/v1/accounts/acct_0000000000000000", key).await;
    let malformed = app.get("/v1/accounts/foo", key).await;
    let update_malformed = app.post_form("/v1/accounts/foo", key, "").await;
    let delete_malformed = app.delete("/v1/accounts/foo", key).await;

    // Assert
    assert_eq!(unknown.status, 403);
    assert_eq!(
        unknown.message(),
        account_invalid_message(key, "acct_0000000000000000")
    );
    assert_eq!(malformed.message(), account_invalid_message(key, "foo"));
    let _filters = message_filters();
    insta::assert_json_snapshot!(malformed.snapshot(), @r#"
    {
      "status": 403,
      "body": {
        "error": {
          "code": "account_invalid",
          "doc_url": "https://stripe.com/docs/error-codes/account-invalid",
          "message": "The provided key '[masked_key]' does not have access to account 'foo' (or that account does not exist). Application access may have been revoked.",
          "type": "invalid_request_error"
        }
      }
    }
    "#);
    for response in [update_malformed, delete_malformed] {
        assert_eq!(response.status, 403);
        assert_eq!(response.body, malformed.body);
    }
}

// --- List ----------------------------------------------------------------------------------

#[tokio::test]
async fn list_accounts_is_a_stripe_list_newest_first() {
    // Arrange
    let app = spawn_app().await;
    let ids = create_accounts(&app, &app.platform.secret, 5).await;

    // Act
    let response = app.get("/v1/accounts", &app.platform.secret).await;
    let single = app.get("/v1/accounts?limit=1", &app.platform.secret).await;

    // Assert
    let page = response.ok();
    let newest_first: Vec<String> = ids.iter().rev().cloned().collect();
    assert_eq!(ids_of(&page), newest_first);
    assert_eq!(page["has_more"], false);
    insta::assert_json_snapshot!(single.snapshot(), {
        ".body.data[0].external_accounts.url" => external_accounts_url(),
        ".body.data[0].id" => exactly(ids[4].as_str(), "[newest account_id]"),
        ".body.data[0].created" => exactly(START, "[START]"),
    }, @r#"
    {
      "status": 200,
      "body": {
        "data": [
          {
            "business_profile": {
              "annual_revenue": null,
              "estimated_worker_count": null,
              "mcc": null,
              "minority_owned_business_designation": null,
              "name": null,
              "product_description": null,
              "support_address": null,
              "support_email": null,
              "support_phone": null,
              "support_url": null,
              "url": null
            },
            "business_type": null,
            "capabilities": {},
            "charges_enabled": false,
            "controller": {
              "fees": {
                "payer": "account"
              },
              "is_controller": true,
              "losses": {
                "payments": "stripe"
              },
              "requirement_collection": "stripe",
              "stripe_dashboard": {
                "type": "full"
              },
              "type": "application"
            },
            "country": "US",
            "created": "[START]",
            "default_currency": "usd",
            "details_submitted": false,
            "email": null,
            "external_accounts": {
              "data": [],
              "has_more": false,
              "object": "list",
              "total_count": 0,
              "url": "/v1/accounts/[account_id]/external_accounts"
            },
            "future_requirements": {
              "alternatives": [],
              "current_deadline": null,
              "currently_due": [],
              "disabled_reason": null,
              "errors": [],
              "eventually_due": [],
              "past_due": [],
              "pending_verification": []
            },
            "id": "[newest account_id]",
            "metadata": {},
            "object": "account",
            "payouts_enabled": false,
            "requirements": {
              "alternatives": [
                {
                  "alternative_fields_due": [
                    "business_profile.product_description"
                  ],
                  "original_fields_due": [
                    "business_profile.url"
                  ]
                }
              ],
              "current_deadline": null,
              "currently_due": [
                "business_profile.mcc",
                "business_profile.url",
                "business_type",
                "external_account",
                "representative.dob.day",
                "representative.dob.month",
                "representative.dob.year",
                "representative.email",
                "representative.first_name",
                "representative.last_name",
                "tos_acceptance.date",
                "tos_acceptance.ip"
              ],
              "disabled_reason": "requirements.past_due",
              "errors": [],
              "eventually_due": [
                "business_profile.mcc",
                "business_profile.url",
                "business_type",
                "external_account",
                "representative.dob.day",
                "representative.dob.month",
                "representative.dob.year",
                "representative.email",
                "representative.first_name",
                "representative.last_name",
                "tos_acceptance.date",
                "tos_acceptance.ip"
              ],
              "past_due": [
                "business_profile.mcc",
                "business_profile.url",
                "business_type",
                "external_account",
                "representative.dob.day",
                "representative.dob.month",
                "representative.dob.year",
                "representative.email",
                "representative.first_name",
                "representative.last_name",
                "tos_acceptance.date",
                "tos_acceptance.ip"
              ],
              "pending_verification": []
            },
            "settings": {
              "bacs_debit_payments": {
                "display_name": null,
                "service_user_number": null
              },
              "branding": {
                "icon": null,
                "logo": null,
                "primary_color": null,
                "secondary_color": null
              },
              "card_issuing": {
                "tos_acceptance": {
                  "date": null,
                  "ip": null
                }
              },
              "card_payments": {
                "decline_on": {
                  "avs_failure": false,
                  "cvc_failure": false
                },
                "statement_descriptor_prefix": null,
                "statement_descriptor_prefix_kana": null,
                "statement_descriptor_prefix_kanji": null
              },
              "dashboard": {
                "display_name": null,
                "timezone": "Etc/UTC"
              },
              "invoices": {
                "default_account_tax_ids": null,
                "hosted_payment_method_save": "always"
              },
              "payments": {
                "statement_descriptor": null,
                "statement_descriptor_kana": null,
                "statement_descriptor_kanji": null
              },
              "payouts": {
                "debit_negative_balances": true,
                "schedule": {
                  "delay_days": 2,
                  "interval": "daily"
                },
                "statement_descriptor": null
              },
              "sepa_debit_payments": {}
            },
            "tos_acceptance": {
              "date": null,
              "ip": null,
              "user_agent": null
            },
            "type": "standard"
          }
        ],
        "has_more": true,
        "object": "list",
        "url": "/v1/accounts"
      }
    }
    "#);
}

#[tokio::test]
async fn list_accounts_returns_ten_by_default_and_up_to_a_hundred() {
    // Arrange
    let app = spawn_app().await;
    let ids = create_accounts(&app, &app.platform.secret, 12).await;

    // Act
    let default = app.get("/v1/accounts", &app.platform.secret).await.ok();
    let hundred = app
        .get("/v1/accounts?limit=100", &app.platform.secret)
        .await
        .ok();

    // Assert
    assert_eq!(ids_of(&default).len(), 10);
    assert_eq!(default["has_more"], true);
    assert_eq!(ids_of(&default)[0], ids[11]);
    assert_eq!(ids_of(&hundred).len(), 12);
    assert_eq!(hundred["has_more"], false);
}

#[tokio::test]
async fn list_accounts_rejects_a_limit_outside_one_to_a_hundred() {
    // Arrange
    let app = spawn_app().await;
    let mut rows = Vec::new();

    // Act
    for query in ["limit=0", "limit=101", "limit=abc", "limit=-1", "limit="] {
        let response = app
            .get(&format!("/v1/accounts?{query}"), &app.platform.secret)
            .await;
        rows.push(Exchange {
            request: query.to_owned(),
            status: response.status,
            answer: response.body["error"].clone(),
        });
    }

    // Assert
    insta::assert_json_snapshot!(rows, @r#"
    [
      {
        "request": "limit=0",
        "status": 400,
        "answer": {
          "message": "This value must be greater than or equal to 1.",
          "param": "limit",
          "type": "invalid_request_error"
        }
      },
      {
        "request": "limit=101",
        "status": 400,
        "answer": {
          "message": "This value must be less than or equal to 100.",
          "param": "limit",
          "type": "invalid_request_error"
        }
      },
      {
        "request": "limit=abc",
        "status": 400,
        "answer": {
          "code": "parameter_invalid_integer",
          "doc_url": "https://stripe.com/docs/error-codes/parameter-invalid-integer",
          "message": "Invalid integer: abc",
          "param": "limit",
          "type": "invalid_request_error"
        }
      },
      {
        "request": "limit=-1",
        "status": 400,
        "answer": {
          "message": "This value must be greater than or equal to 1.",
          "param": "limit",
          "type": "invalid_request_error"
        }
      },
      {
        "request": "limit=",
        "status": 400,
        "answer": {
          "code": "parameter_invalid_empty",
          "doc_url": "https://stripe.com/docs/error-codes/parameter-invalid-empty",
          "message": "You passed an empty string for 'limit'. We assume empty values are an attempt to unset a parameter; however 'limit' cannot be unset. You should remove 'limit' from your request or supply a non-empty value.",
          "param": "limit",
          "type": "invalid_request_error"
        }
      }
    ]
    "#);
}

#[tokio::test]
async fn list_accounts_pages_forwards_with_starting_after_and_back_with_ending_before() {
    // Arrange: a1 is the oldest, a5 the newest.
    let app = spawn_app().await;
    let key = &app.platform.secret;
    let a = create_accounts(&app, key, 5).await;
    let page = |query: String| {
        let app = &app;
        async move { app.get(&format!("/v1/accounts?{query}"), key).await.ok() }
    };

    // Act: forwards (towards older accounts) …
    let first = page("limit=2".to_owned()).await;
    let second = page(format!("limit=2&starting_after={}", a[3])).await;
    let third = page(format!("limit=2&starting_after={}", a[1])).await;
    // … and back (towards newer accounts).
    let back_one = page(format!("limit=2&ending_before={}", a[0])).await;
    let back_two = page(format!("limit=2&ending_before={}", a[2])).await;

    // Assert
    assert_eq!(ids_of(&first), [a[4].clone(), a[3].clone()]);
    assert_eq!(first["has_more"], true);
    assert_eq!(ids_of(&second), [a[2].clone(), a[1].clone()]);
    assert_eq!(second["has_more"], true);
    assert_eq!(ids_of(&third), [a[0].clone()]);
    assert_eq!(third["has_more"], false);
    assert_eq!(ids_of(&back_one), [a[2].clone(), a[1].clone()]);
    assert_eq!(back_one["has_more"], true);
    assert_eq!(ids_of(&back_two), [a[4].clone(), a[3].clone()]);
    assert_eq!(back_two["has_more"], false);
}

#[tokio::test]
async fn list_accounts_refuses_an_unknown_cursor_and_both_cursors_together() {
    // Arrange
    let app = spawn_app().await;
    let key = &app.platform.secret;
    let id = app.create_account_id(key, "").await;

    // Act
    let unknown_after = app
        .get("/v1/accounts?starting_after=acct_0000000000000000", key)
        .await;
    let unknown_before = app.get("/v1/accounts?ending_before=foo", key).await;
    let both = app
        .get(
            &format!("/v1/accounts?starting_after={id}&ending_before={id}"),
            key,
        )
        .await;

    // Assert
    insta::assert_json_snapshot!(unknown_after.snapshot(), @r#"
    {
      "status": 400,
      "body": {
        "error": {
          "code": "resource_missing",
          "doc_url": "https://stripe.com/docs/error-codes/resource-missing",
          "message": "No such account: 'acct_0000000000000000'",
          "param": "starting_after",
          "type": "invalid_request_error"
        }
      }
    }
    "#);
    assert_eq!(unknown_before.status, 400);
    assert_eq!(unknown_before.message(), "No such account: 'foo'");
    assert_eq!(unknown_before.body["error"]["param"], "ending_before");
    insta::assert_json_snapshot!(both.snapshot(), @r#"
    {
      "status": 400,
      "body": {
        "error": {
          "code": "parameters_exclusive",
          "doc_url": "https://stripe.com/docs/error-codes/parameters-exclusive",
          "message": "You may only specify one of these parameters: starting_after, ending_before.",
          "param": "starting_after",
          "type": "invalid_request_error"
        }
      }
    }
    "#);
}

// --- Isolation -------------------------------------------------------------------------------

#[tokio::test]
async fn another_platform_never_sees_an_account() {
    // Arrange
    let app = spawn_app().await;
    let id = app.create_account_id(&app.platform.secret, "").await;
    let path = format!("/v1/accounts/{id}");
    let intruder = &app.other_platform.secret;
    create_accounts(&app, intruder, 1).await;

    // Act
    let retrieve = app.get(&path, intruder).await;
    let update = app.post_form(&path, intruder, "metadata[owned]=yes").await;
    let delete = app.delete(&path, intruder).await;
    let list = app.get("/v1/accounts", intruder).await.ok();
    let cursor = app
        .get(&format!("/v1/accounts?starting_after={id}"), intruder)
        .await;

    // Assert
    for response in [&retrieve, &update, &delete] {
        assert_eq!(response.status, 403);
        assert_eq!(response.message(), account_invalid_message(intruder, &id));
    }
    assert_eq!(ids_of(&list).len(), 1);
    assert!(!ids_of(&list).contains(&id));
    assert_eq!(cursor.status, 400);
    assert_eq!(cursor.body["error"]["code"], "resource_missing");
    let owner_view = app.get(&path, &app.platform.secret).await.ok();
    assert_eq!(
        owner_view["metadata"],
        json!({}),
        "the intruder changed nothing"
    );
}

#[tokio::test]
async fn the_other_modes_key_never_sees_an_account() {
    // Arrange
    let app = spawn_app().await;
    let test_id = app.create_account_id(&app.platform.secret, "").await;
    let live_id = app.create_account_id(&app.platform.live_secret, "").await;

    // Act
    let live_reads_test = app
        .get(
            &format!("/v1/accounts/{test_id}"),
            &app.platform.live_secret,
        )
        .await;
    let test_reads_live = app
        .get(&format!("/v1/accounts/{live_id}"), &app.platform.secret)
        .await;
    let live_deletes_test = app
        .delete(
            &format!("/v1/accounts/{test_id}"),
            &app.platform.live_secret,
        )
        .await;
    let test_list = app.get("/v1/accounts", &app.platform.secret).await.ok();
    let live_list = app
        .get("/v1/accounts", &app.platform.live_secret)
        .await
        .ok();

    // Assert
    assert_eq!(live_reads_test.status, 403);
    assert_eq!(
        live_reads_test.message(),
        account_invalid_message(&app.platform.live_secret, &test_id)
    );
    assert_eq!(test_reads_live.status, 403);
    assert_eq!(live_deletes_test.status, 403);
    assert_eq!(ids_of(&test_list), [test_id.as_str()]);
    assert_eq!(ids_of(&live_list), [live_id.as_str()]);
    assert!(is_account_id(&test_id) && is_account_id(&live_id));
}
