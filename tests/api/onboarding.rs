//! Onboarding a connected account, end to end through the API: Stripe's
//! requirement strings, the test values that verify or fail, the movable
//! clock that completes pending verification, persons, bank accounts, who may
//! write what, and that secrets never come back.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{TestApp, contains_bytes, spawn_app};

/// A Custom US account requesting card payments and transfers.
const CUSTOM_US: &str = "type=custom&country=US\
    &capabilities[card_payments][requested]=true\
    &capabilities[transfers][requested]=true";

/// What every US account needs besides its identity: Stripe's test values.
const BUSINESS_DETAILS: &str = "business_profile[mcc]=5734\
    &business_profile[url]=https://accessible.stripe.com\
    &settings[payments][statement_descriptor]=ROCKET+RIDES\
    &tos_acceptance[date]=1780272000&tos_acceptance[ip]=8.8.8.8\
    &external_account[object]=bank_account&external_account[country]=US\
    &external_account[currency]=usd&external_account[routing_number]=110000000\
    &external_account[account_number]=000123456789";

/// An individual with Stripe's test values that verify (after the delay).
const INDIVIDUAL: &str = "business_type=individual\
    &individual[first_name]=Jenny&individual[last_name]=Rosen\
    &individual[email]=jenny@example.com&individual[phone]=0000000000\
    &individual[dob][day]=1&individual[dob][month]=1&individual[dob][year]=1901\
    &individual[address][line1]=address_full_match&individual[address][city]=Schenectady\
    &individual[address][state]=NY&individual[address][postal_code]=12345\
    &individual[ssn_last_4]=0000";

/// A person's identity with Stripe's test values, as Persons API fields.
const PERSON: &str = "first_name=Jane&last_name=Roe&email=jane@example.com&phone=0000000000\
    &dob[day]=1&dob[month]=1&dob[year]=1901\
    &address[line1]=address_full_match&address[city]=Schenectady\
    &address[state]=NY&address[postal_code]=12345&ssn_last_4=0000";

fn strings(value: &Value) -> Vec<&str> {
    value
        .as_array()
        .expect("an array")
        .iter()
        .map(|item| item.as_str().expect("a string"))
        .collect()
}

async fn account(app: &TestApp, id: &str) -> Value {
    app.get(&format!("/v1/accounts/{id}"), &app.platform.secret)
        .await
        .ok()
}

#[tokio::test]
async fn a_new_custom_us_account_shows_stripes_currently_due_list() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let account = app.create_account(&app.platform.secret, CUSTOM_US).await;

    // Assert
    let requirements = &account["requirements"];
    assert_eq!(
        strings(&requirements["currently_due"]),
        [
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
            "settings.payments.statement_descriptor",
            "tos_acceptance.date",
            "tos_acceptance.ip",
        ]
    );
    assert_eq!(requirements["past_due"], requirements["currently_due"]);
    assert_eq!(
        requirements["eventually_due"],
        requirements["currently_due"]
    );
    assert_eq!(requirements["disabled_reason"], "requirements.past_due");
    assert_eq!(requirements["current_deadline"], Value::Null);
    assert_eq!(
        requirements["alternatives"],
        json!([{
            "alternative_fields_due": ["business_profile.product_description"],
            "original_fields_due": ["business_profile.url"],
        }])
    );
    assert_eq!(
        account["capabilities"],
        json!({"card_payments": "inactive", "transfers": "inactive"})
    );
    assert_eq!(
        (
            &account["charges_enabled"],
            &account["payouts_enabled"],
            &account["details_submitted"]
        ),
        (&json!(false), &json!(false), &json!(false))
    );
    assert_eq!(account["future_requirements"]["currently_due"], json!([]));
    assert_eq!(account["business_type"], Value::Null);
    assert_eq!(
        account["settings"]["payouts"]["schedule"],
        json!({"delay_days": 2, "interval": "daily"})
    );
    assert_eq!(account["default_currency"], "usd");
}

#[tokio::test]
async fn a_us_individual_onboarded_with_test_values_is_pending_then_enabled() {
    // Arrange
    let app = spawn_app().await;
    let id = app.create_account_id(&app.platform.secret, CUSTOM_US).await;

    // Act
    let submitted = app
        .post_form(
            &format!("/v1/accounts/{id}"),
            &app.platform.secret,
            &format!("{INDIVIDUAL}&{BUSINESS_DETAILS}"),
        )
        .await
        .ok();
    app.clock.advance(Duration::from_secs(5));
    let verified = account(&app, &id).await;

    // Assert: submitted, waiting for the asynchronous checks.
    assert_eq!(submitted["requirements"]["currently_due"], json!([]));
    assert!(
        strings(&submitted["requirements"]["pending_verification"]).contains(&"individual.dob.day")
    );
    assert_eq!(
        submitted["requirements"]["disabled_reason"],
        "requirements.pending_verification"
    );
    assert_eq!(
        submitted["capabilities"],
        json!({"card_payments": "pending", "transfers": "pending"})
    );
    assert_eq!(submitted["details_submitted"], true);
    assert_eq!(submitted["charges_enabled"], false);
    assert_eq!(submitted["individual"]["verification"]["status"], "pending");
    // Verified once the clock passes the delay.
    assert_eq!(verified["requirements"]["pending_verification"], json!([]));
    assert_eq!(verified["requirements"]["disabled_reason"], Value::Null);
    assert_eq!(
        verified["capabilities"],
        json!({"card_payments": "active", "transfers": "active"})
    );
    assert_eq!(
        (
            &verified["charges_enabled"],
            &verified["payouts_enabled"],
            &verified["details_submitted"]
        ),
        (&json!(true), &json!(true), &json!(true))
    );
    let individual = &verified["individual"];
    assert_eq!(individual["verification"]["status"], "verified");
    assert_eq!(individual["relationship"]["representative"], true);
    assert_eq!(individual["ssn_last_4_provided"], true);
    assert_eq!(
        individual["dob"],
        json!({"day": 1, "month": 1, "year": 1901})
    );
    assert_eq!(verified["business_type"], "individual");
    assert_eq!(verified["external_accounts"]["total_count"], 1);
    let bank = &verified["external_accounts"]["data"][0];
    assert_eq!(bank["bank_name"], "STRIPE TEST BANK");
    assert_eq!(bank["default_for_currency"], true);
    assert_eq!(bank["last4"], "6789");
}

#[tokio::test]
async fn immediate_test_values_verify_in_the_request_itself() {
    // Arrange
    let app = spawn_app().await;
    let id = app.create_account_id(&app.platform.secret, CUSTOM_US).await;
    let immediate = INDIVIDUAL.replace("[year]=1901", "[year]=1902").replace(
        "individual[ssn_last_4]=0000",
        "individual[id_number]=222222222",
    );

    // Act
    let submitted = app
        .post_form(
            &format!("/v1/accounts/{id}"),
            &app.platform.secret,
            &format!("{immediate}&{BUSINESS_DETAILS}"),
        )
        .await
        .ok();

    // Assert: only the address check is still pending; the date of birth and
    // the ID number verified at once.
    assert_eq!(
        strings(&submitted["requirements"]["pending_verification"]),
        [
            "individual.address.city",
            "individual.address.line1",
            "individual.address.postal_code",
            "individual.address.state",
        ]
    );
    assert_eq!(submitted["individual"]["id_number_provided"], true);
}

#[tokio::test]
async fn a_failing_test_value_stays_due_with_stripes_error_until_corrected() {
    // Arrange
    let app = spawn_app().await;
    let id = app.create_account_id(&app.platform.secret, CUSTOM_US).await;
    let wrong_dob = INDIVIDUAL.replace("[year]=1901", "[year]=1990");

    // Act
    let failed = app
        .post_form(
            &format!("/v1/accounts/{id}"),
            &app.platform.secret,
            &format!("{wrong_dob}&{BUSINESS_DETAILS}"),
        )
        .await
        .ok();
    app.clock.advance(Duration::from_secs(60));
    let still = account(&app, &id).await;
    let corrected = app
        .post_form(
            &format!("/v1/accounts/{id}"),
            &app.platform.secret,
            "individual[dob][day]=1&individual[dob][month]=1&individual[dob][year]=1902",
        )
        .await
        .ok();

    // Assert
    for body in [&failed, &still] {
        let due = strings(&body["requirements"]["currently_due"]);
        assert_eq!(
            due,
            [
                "individual.dob.day",
                "individual.dob.month",
                "individual.dob.year"
            ]
        );
        assert_eq!(
            body["requirements"]["errors"][0],
            json!({
                "code": "verification_failed_keyed_identity",
                "reason": "The identity information you entered cannot be verified. Please correct any errors or upload a document that matches the identity fields (e.g., name and date of birth) that you entered.",
                "requirement": "individual.dob.day",
            })
        );
        assert_eq!(body["capabilities"]["card_payments"], "inactive");
        assert_eq!(body["individual"]["verification"]["status"], "unverified");
        assert_eq!(
            strings(&body["individual"]["requirements"]["currently_due"]),
            ["dob.day", "dob.month", "dob.year"]
        );
    }
    assert_eq!(corrected["requirements"]["errors"], json!([]));
    assert_eq!(corrected["requirements"]["currently_due"], json!([]));
    assert_eq!(corrected["charges_enabled"], true);
}

#[tokio::test]
async fn failing_addresses_ids_and_tax_ids_name_their_field() {
    // Arrange
    let app = spawn_app().await;
    let individual = app.create_account_id(&app.platform.secret, CUSTOM_US).await;
    let company = app.create_account_id(&app.platform.secret, CUSTOM_US).await;

    // Act
    let person = app
        .post_form(
            &format!("/v1/accounts/{individual}"),
            &app.platform.secret,
            &INDIVIDUAL
                .replace("address_full_match", "address_no_match")
                .replace(
                    "individual[ssn_last_4]=0000",
                    "individual[id_number]=111111111",
                ),
        )
        .await
        .ok();
    let not_issued = app
        .post_form(
            &format!("/v1/accounts/{company}"),
            &app.platform.secret,
            "business_type=company&company[tax_id]=111111112",
        )
        .await
        .ok();

    // Assert
    let codes: Vec<(&str, &str)> = person["requirements"]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["requirement"].as_str().unwrap(),
                e["code"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        codes,
        [
            ("individual.address.line1", "invalid_street_address"),
            (
                "individual.ssn_last_4",
                "verification_failed_id_number_match"
            ),
        ]
    );
    assert_eq!(
        person["requirements"]["errors"][0]["reason"],
        "The provided street address cannot be found. Please verify the street name and number are correct in \"address_no_match\""
    );
    let tax = &not_issued["requirements"]["errors"][0];
    assert_eq!(tax["requirement"], "company.tax_id");
    assert_eq!(tax["code"], "verification_failed_tax_id_not_issued");
    assert_eq!(not_issued["company"]["tax_id_provided"], true);
}

#[tokio::test]
async fn a_us_company_with_a_representative_and_an_owner_is_onboarded_through_persons() {
    // Arrange
    let app = spawn_app().await;
    let id = app.create_account_id(&app.platform.secret, CUSTOM_US).await;
    let path = format!("/v1/accounts/{id}");
    let company = app
        .post_form(
            &path,
            &app.platform.secret,
            &format!(
                "business_type=company&company[name]=Rocket+Rides&company[phone]=0000000000\
                 &company[tax_id]=000000000&company[address][line1]=address_full_match\
                 &company[address][city]=Schenectady&company[address][state]=NY\
                 &company[address][postal_code]=12345&{BUSINESS_DETAILS}"
            ),
        )
        .await
        .ok();

    // Act
    let representative = app
        .post_form(
            &format!("{path}/persons"),
            &app.platform.secret,
            &format!(
                "{PERSON}&relationship[representative]=true&relationship[executive]=true\
                 &relationship[title]=CEO"
            ),
        )
        .await
        .ok();
    let with_representative = account(&app, &id).await;
    let owner = app
        .post_form(
            &format!("{path}/persons"),
            &app.platform.secret,
            &format!("{PERSON}&relationship[owner]=true&relationship[percent_ownership]=100"),
        )
        .await
        .ok();
    app.clock.advance(Duration::from_secs(5));
    let onboarded = account(&app, &id).await;
    let listed = app
        .get(&format!("{path}/persons"), &app.platform.secret)
        .await
        .ok();
    let owners = app
        .get(
            &format!("{path}/persons?relationship[owner]=true"),
            &app.platform.secret,
        )
        .await
        .ok();

    // Assert: the company first needs people, named by role…
    let due = strings(&company["requirements"]["currently_due"]);
    for expected in [
        "company.owners_provided",
        "owners.first_name",
        "representative.relationship.title",
    ] {
        assert!(due.contains(&expected), "{expected} not in {due:?}");
    }
    // …then by id once they exist.
    let rep_id = representative["id"].as_str().unwrap();
    assert!(rep_id.starts_with("person_"));
    assert_eq!(representative["requirements"]["currently_due"], json!([]));
    assert!(
        strings(&with_representative["requirements"]["pending_verification"])
            .contains(&format!("{rep_id}.dob.day").as_str())
    );
    assert_eq!(owner["relationship"]["percent_ownership"], 100.0);
    assert_eq!(onboarded["requirements"]["currently_due"], json!([]));
    assert_eq!(onboarded["requirements"]["pending_verification"], json!([]));
    assert_eq!(
        onboarded["capabilities"],
        json!({"card_payments": "active", "transfers": "active"})
    );
    assert_eq!(onboarded["charges_enabled"], true);
    assert_eq!(onboarded["payouts_enabled"], true);
    assert_eq!(onboarded["details_submitted"], true);
    assert_eq!(onboarded["company"]["tax_id_provided"], true);
    assert_eq!(onboarded["company"]["name"], "Rocket Rides");
    let ids: Vec<&str> = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [owner["id"].as_str().unwrap(), rep_id], "newest first");
    assert_eq!(owners["data"].as_array().unwrap().len(), 1);
    assert_eq!(listed["url"], format!("/v1/accounts/{id}/persons"));
}

#[tokio::test]
async fn persons_keep_one_representative_cap_ownership_and_refuse_deleting_the_representative() {
    // Arrange
    let app = spawn_app().await;
    let id = app
        .create_account_id(&app.platform.secret, "type=custom&business_type=company")
        .await;
    let persons = format!("/v1/accounts/{id}/persons");
    let first = app
        .post_form(
            &persons,
            &app.platform.secret,
            "first_name=A&relationship[representative]=true&relationship[owner]=true&relationship[percent_ownership]=60",
        )
        .await
        .ok();

    // Act
    let second = app
        .post_form(
            &persons,
            &app.platform.secret,
            "first_name=B&relationship[representative]=true",
        )
        .await
        .ok();
    let first_after = app
        .get(
            &format!("{persons}/{}", first["id"].as_str().unwrap()),
            &app.platform.secret,
        )
        .await
        .ok();
    let too_much = app
        .post_form(
            &persons,
            &app.platform.secret,
            "first_name=C&relationship[owner]=true&relationship[percent_ownership]=50.5",
        )
        .await;
    let delete_representative = app
        .delete(
            &format!("{persons}/{}", second["id"].as_str().unwrap()),
            &app.platform.secret,
        )
        .await;
    let delete_other = app
        .delete(
            &format!("{persons}/{}", first["id"].as_str().unwrap()),
            &app.platform.secret,
        )
        .await
        .ok();
    let missing = app
        .get(
            &format!("{persons}/{}", first["id"].as_str().unwrap()),
            &app.platform.secret,
        )
        .await;

    // Assert
    assert_eq!(first_after["relationship"]["representative"], false);
    assert_eq!(second["relationship"]["representative"], true);
    assert_eq!(too_much.status, 400);
    assert_eq!(
        too_much.body["error"],
        json!({
            "message": "The total combined ownership of the company would exceed 100 percent.",
            "param": "relationship[percent_ownership]",
            "type": "invalid_request_error",
        })
    );
    assert_eq!(delete_representative.status, 400);
    assert_eq!(delete_representative.body["error"]["param"], "person");
    assert_eq!(
        delete_other,
        json!({"id": first["id"], "object": "person", "deleted": true})
    );
    assert_eq!(missing.status, 404);
    assert_eq!(missing.body["error"]["code"], "resource_missing");
}

#[tokio::test]
async fn identity_parameters_need_the_right_business_type() {
    // Arrange
    let app = spawn_app().await;
    let id = app.create_account_of_type("custom").await;
    let company = app
        .create_account_id(&app.platform.secret, "type=custom&business_type=company")
        .await;

    // Act
    let untyped = app
        .post_form(
            &format!("/v1/accounts/{id}"),
            &app.platform.secret,
            "individual[first_name]=Jenny",
        )
        .await;
    let mistyped = app
        .post_form(
            &format!("/v1/accounts/{company}"),
            &app.platform.secret,
            "individual[first_name]=Jenny",
        )
        .await;
    let bad_type = app
        .post_form(
            &format!("/v1/accounts/{id}"),
            &app.platform.secret,
            "business_type=llc",
        )
        .await;
    let bad_url = app
        .post_form(
            &format!("/v1/accounts/{id}"),
            &app.platform.secret,
            "business_profile[url]=javascript:alert(1)",
        )
        .await;

    // Assert
    assert_eq!(untyped.status, 400);
    assert_eq!(
        untyped.body["error"],
        json!({
            "message": "The `business_type` must be provided when sending either of `individual` or `company` parameters.",
            "param": "individual",
            "type": "invalid_request_error",
        })
    );
    assert_eq!(
        mistyped.body["error"]["message"],
        "You can only provide `individual` parameters for accounts with `business_type` of 'individual'."
    );
    assert_eq!(
        bad_type.body["error"]["message"],
        "Invalid business_type: must be one of company, government_entity, individual, or non_profit"
    );
    assert_eq!(bad_url.status, 400);
    assert_eq!(
        bad_url.body["error"],
        json!({
            "code": "url_invalid",
            "doc_url": "https://stripe.com/docs/error-codes/url-invalid",
            "message": "Not a valid URL",
            "param": "business_profile[url]",
            "type": "invalid_request_error",
        })
    );
}

/// An Express account (Stripe collects requirements), prefilled by the platform.
async fn express_account(app: &TestApp) -> String {
    app.create_account_id(
        &app.platform.secret,
        "type=express&country=US&capabilities[card_payments][requested]=true\
         &capabilities[transfers][requested]=true&business_type=individual\
         &individual[first_name]=Jenny",
    )
    .await
}

#[tokio::test]
async fn where_stripe_collects_the_platform_prefills_then_only_the_account_writes_its_identity() {
    // Arrange
    let app = spawn_app().await;
    let terms_at_creation = app
        .post_form(
            "/v1/accounts",
            &app.platform.secret,
            "type=express&tos_acceptance[date]=1780272000&tos_acceptance[ip]=8.8.8.8",
        )
        .await;
    let id = express_account(&app).await;
    let before_onboarding = app
        .post_form(
            &format!("/v1/accounts/{id}"),
            &app.platform.secret,
            "individual[last_name]=Rosen",
        )
        .await;
    app.create_session(
        &app.platform.secret,
        &id,
        "components[account_onboarding][enabled]=true",
    )
    .await;

    // Act
    let identity = app
        .post_form(
            &format!("/v1/accounts/{id}"),
            &app.platform.secret,
            "business_type=individual&individual[last_name]=Roe&tos_acceptance[ip]=8.8.8.8",
        )
        .await;
    let profile = app
        .post_form(
            &format!("/v1/accounts/{id}"),
            &app.platform.secret,
            "business_profile[name]=Rocket+Rides&metadata[order]=1",
        )
        .await;
    let persons = app
        .get(&format!("/v1/accounts/{id}/persons"), &app.platform.secret)
        .await;

    // Assert
    assert_eq!(terms_at_creation.status, 400);
    assert_eq!(
        terms_at_creation.body["error"],
        json!({
            "message": "You cannot accept the Terms of Service on behalf of accounts where `controller[requirement_collection]=stripe`, which includes Standard and Express accounts.",
            "param": "tos_acceptance",
            "type": "invalid_request_error",
        })
    );
    assert_eq!(
        before_onboarding.status, 200,
        "prefill before onboarding starts"
    );
    assert_eq!(identity.status, 403);
    assert_eq!(
        identity.body["error"],
        json!({
            "code": "oauth_not_supported",
            "doc_url": "https://stripe.com/docs/error-codes/oauth-not-supported",
            "message": format!("This application does not have the required permissions for the parameters 'business_type','individual','tos_acceptance' on account '{id}'."),
            "param": "business_type",
            "type": "invalid_request_error",
        })
    );
    assert_eq!(
        profile.status, 200,
        "the business profile stays the platform's"
    );
    assert_eq!(persons.status, 403);
    assert_eq!(persons.body["error"]["code"], "more_permissions_required");
    let stored = account(&app, &id).await;
    assert_eq!(
        stored["individual"]["last_name"], "Rosen",
        "nothing refused was written"
    );
}

#[tokio::test]
async fn the_account_itself_onboards_through_its_embedded_session_key() {
    // Arrange
    let app = spawn_app().await;
    let id = express_account(&app).await;
    let (secret, _) = app
        .create_session(
            &app.platform.secret,
            &id,
            "components[account_onboarding][enabled]=true",
        )
        .await;
    let em = app.claim_key(&app.platform.publishable, &secret).await;
    let details = BUSINESS_DETAILS
        .split('&')
        .filter(|pair| !pair.starts_with("tos_acceptance") && !pair.starts_with("external_account"))
        .collect::<Vec<_>>()
        .join("&");

    // Act
    let updated = app
        .post_form(
            "/v1/account",
            &em,
            &format!("{INDIVIDUAL}&{details}&tos_acceptance[service_agreement]=full"),
        )
        .await
        .ok();
    let bank = app
        .post_form(
            "/v1/account/external_accounts",
            &em,
            "country=US&currency=usd&routing_number=110000000&account_number=000123456789",
        )
        .await
        .ok();
    let person = app.get("/v1/account/persons", &em).await.ok();
    app.clock.advance(Duration::from_secs(5));
    let onboarded = account(&app, &id).await;

    // Assert
    let tos = &updated["tos_acceptance"];
    assert_eq!(tos["date"], crate::helpers::START);
    assert_eq!(tos["ip"], "127.0.0.1", "filled from the request");
    assert_eq!(tos["service_agreement"], "full");
    assert!(updated.get("metadata").is_none(), "the platform's own data");
    assert_eq!(bank["default_for_currency"], true);
    assert_eq!(person["data"][0]["first_name"], "Jenny");
    assert_eq!(onboarded["details_submitted"], true);
    assert_eq!(onboarded["charges_enabled"], true);
    assert_eq!(onboarded["payouts_enabled"], true);
}

#[tokio::test]
async fn live_mode_verifies_nothing_and_keeps_it_pending() {
    // Arrange
    let app = spawn_app().await;
    let id = app
        .create_account_id(&app.platform.live_secret, CUSTOM_US)
        .await;
    let immediate = INDIVIDUAL.replace("[year]=1901", "[year]=1902");

    // Act
    let submitted = app
        .post_form(
            &format!("/v1/accounts/{id}"),
            &app.platform.live_secret,
            &format!("{immediate}&{BUSINESS_DETAILS}"),
        )
        .await
        .ok();
    app.clock.advance(Duration::from_secs(30 * 24 * 3600));
    let month_later = app
        .get(&format!("/v1/accounts/{id}"), &app.platform.live_secret)
        .await
        .ok();

    // Assert
    for body in [&submitted, &month_later] {
        assert_eq!(body["requirements"]["currently_due"], json!([]));
        assert!(
            strings(&body["requirements"]["pending_verification"]).contains(&"individual.dob.day")
        );
        assert_eq!(body["capabilities"]["card_payments"], "pending");
        assert_eq!(body["charges_enabled"], false);
        assert_eq!(body["details_submitted"], true);
    }
}

#[tokio::test]
async fn secrets_are_accepted_but_never_returned_or_stored() {
    // Arrange
    let app = spawn_app().await;
    let id = app
        .create_account_id(&app.platform.secret, "type=custom&business_type=company")
        .await;

    // Act
    let person = app
        .post_form(
            &format!("/v1/accounts/{id}/persons"),
            &app.platform.secret,
            "first_name=Jane&id_number=987654321&ssn_last_4=4321",
        )
        .await;
    let company = app
        .post_form(
            &format!("/v1/accounts/{id}"),
            &app.platform.secret,
            "company[tax_id]=123456789",
        )
        .await;
    let everything = app.database_bytes().await;

    // Assert
    for response in [&person, &company] {
        assert_eq!(response.status, 200);
        let text = response.body.to_string();
        for secret in ["987654321", "4321", "123456789"] {
            assert!(!text.contains(secret), "{secret} answered in {text}");
        }
    }
    assert_eq!(person.body["id_number_provided"], true);
    assert_eq!(person.body["ssn_last_4_provided"], true);
    for (place, bytes) in everything {
        for secret in ["987654321", "123456789"] {
            assert!(
                !contains_bytes(&bytes, secret.as_bytes()),
                "{secret} stored in {place}"
            );
        }
    }
}

#[tokio::test]
async fn the_platform_manages_bank_accounts_with_one_default_per_currency() {
    // Arrange
    let app = spawn_app().await;
    let id = app.create_account_of_type("custom").await;
    let banks = format!("/v1/accounts/{id}/external_accounts");

    // Act
    let first = app
        .post_form(
            &banks,
            &app.platform.secret,
            "external_account=btok_us_verified",
        )
        .await
        .ok();
    let second = app
        .post_form(
            &banks,
            &app.platform.secret,
            "external_account[object]=bank_account&external_account[country]=US\
             &external_account[currency]=usd&external_account[routing_number]=110000000\
             &external_account[account_number]=000111111116&default_for_currency=true",
        )
        .await
        .ok();
    let first_after = app
        .get(
            &format!("{banks}/{}", first["id"].as_str().unwrap()),
            &app.platform.secret,
        )
        .await
        .ok();
    let renamed = app
        .post_form(
            &format!("{banks}/{}", first["id"].as_str().unwrap()),
            &app.platform.secret,
            "account_holder_name=Jenny+Rosen&account_holder_type=individual",
        )
        .await
        .ok();
    let replaced = app
        .post_form(
            &format!("/v1/accounts/{id}"),
            &app.platform.secret,
            "external_account[object]=bank_account&external_account[country]=US\
             &external_account[currency]=usd&external_account[routing_number]=110000000\
             &external_account[account_number]=000222222227",
        )
        .await
        .ok();
    let unknown_token = app
        .post_form(&banks, &app.platform.secret, "external_account=btok_nope")
        .await;

    // Assert
    assert_eq!(first["default_for_currency"], true);
    assert_eq!(first["bank_name"], "STRIPE TEST BANK");
    assert_eq!(second["default_for_currency"], true);
    assert_eq!(first_after["default_for_currency"], false);
    assert_eq!(renamed["account_holder_name"], "Jenny Rosen");
    assert_eq!(renamed["account_holder_type"], "individual");
    // The account's external_account replaces the default of its currency.
    let remaining: Vec<(&str, bool)> = replaced["external_accounts"]["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["last4"].as_str().unwrap(),
                b["default_for_currency"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(remaining, [("6789", false), ("2227", true)]);
    assert_eq!(unknown_token.status, 400);
    assert_eq!(
        unknown_token.body["error"]["message"],
        "No such token: 'btok_nope'"
    );
}

#[tokio::test]
async fn payout_schedules_follow_their_interval_and_the_countrys_minimum() {
    // Arrange
    let app = spawn_app().await;
    let id = app
        .create_account_id(&app.platform.secret, "type=custom&country=DE")
        .await;
    let path = format!("/v1/accounts/{id}");

    // Act
    let weekly = app
        .post_form(
            &path,
            &app.platform.secret,
            "settings[payouts][schedule][interval]=weekly&settings[payouts][schedule][weekly_anchor]=friday",
        )
        .await
        .ok();
    let no_anchor = app
        .post_form(
            &path,
            &app.platform.secret,
            "settings[payouts][schedule][interval]=monthly",
        )
        .await;
    let too_short = app
        .post_form(
            &path,
            &app.platform.secret,
            "settings[payouts][schedule][delay_days]=2",
        )
        .await;

    // Assert
    assert_eq!(
        weekly["settings"]["payouts"]["schedule"],
        json!({"delay_days": 7, "interval": "weekly", "weekly_anchor": "friday"})
    );
    assert_eq!(weekly["default_currency"], "eur");
    assert_eq!(
        no_anchor.body["error"]["message"],
        "Missing required param: settings[payouts][schedule][monthly_anchor]."
    );
    assert_eq!(
        too_short.body["error"]["param"],
        "settings[payouts][schedule][delay_days]"
    );
}
