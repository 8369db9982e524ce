//! The component catalog against Stripe's OpenAPI extracts in
//! `../shared/stripe-openapi/`: the spec's 21 components with exactly their
//! features, plus `payment_method_settings` and `financial_account`'s
//! response-only `money_movement`, and nothing else.

use std::collections::{BTreeMap, BTreeSet};

use connect_sessions::domain::catalog::CATALOG;
use serde_json::Value;

use crate::helpers::{SEED_COMPONENTS, spawn_app};

/// Components and their feature names.
type Table = BTreeMap<String, BTreeSet<String>>;

/// The one component this server has that the extracted spec does not.
const EXTRA_COMPONENT: &str = "payment_method_settings";

fn read_json(path: &str) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn create_spec() -> Value {
    read_json(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/stripe-openapi/account_sessions_create.json"
    ))
}

fn names(values: &Value) -> BTreeSet<String> {
    values
        .as_array()
        .expect("an array of names")
        .iter()
        .map(|name| name.as_str().expect("a name").to_owned())
        .collect()
}

fn keys(object: &Value) -> BTreeSet<String> {
    object
        .as_object()
        .map(|map| map.keys().cloned().collect())
        .unwrap_or_default()
}

/// The features a request may set on each catalog component.
fn catalog_request_features() -> Table {
    CATALOG
        .iter()
        .map(|spec| {
            let features = spec.features.iter().map(|f| f.name().to_owned()).collect();
            (spec.name.to_owned(), features)
        })
        .collect()
}

/// The features a response lists for each catalog component.
fn catalog_response_features() -> Table {
    CATALOG
        .iter()
        .map(|spec| {
            let features = spec
                .response_features()
                .map(|f| f.name().to_owned())
                .collect();
            (spec.name.to_owned(), features)
        })
        .collect()
}

/// The catalog without the two documented additions, to compare with the spec.
fn without_additions(mut table: Table) -> Table {
    assert!(table.remove(EXTRA_COMPONENT).is_some());
    let financial = table
        .get_mut("financial_account")
        .expect("financial_account");
    financial.remove("money_movement");
    table
}

#[test]
fn the_catalog_has_twenty_two_components_in_alphabetical_order() {
    let names: Vec<&str> = CATALOG.iter().map(|spec| spec.name).collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(names.len(), 22);
    assert_eq!(names, sorted);
}

#[test]
fn the_catalogs_request_features_are_exactly_the_specs() {
    // Arrange
    let spec = create_spec();
    let table: Table = spec["components_table"]
        .as_array()
        .expect("components_table")
        .iter()
        .map(|row| {
            assert_eq!(row["in_request"], true, "{row}");
            (
                row["component"].as_str().expect("component").to_owned(),
                names(&row["request_features"]),
            )
        })
        .collect();
    assert_eq!(table.len(), 21);

    // Act
    let mut catalog = catalog_request_features();
    let extra = catalog.remove(EXTRA_COMPONENT);

    // Assert: the 21 components with exactly their features …
    assert_eq!(catalog, table);
    // … plus payment_method_settings with its one feature.
    assert_eq!(
        extra,
        Some(BTreeSet::from([
            "disable_stripe_user_authentication".to_owned()
        ]))
    );
}

#[test]
fn the_catalogs_response_features_are_the_specs_plus_money_movement() {
    // Arrange
    let spec = create_spec();
    let from_table: Table = spec["components_table"]
        .as_array()
        .expect("components_table")
        .iter()
        .map(|row| {
            assert_eq!(row["in_response"], true, "{row}");
            (
                row["component"].as_str().expect("component").to_owned(),
                names(&row["response_features"]),
            )
        })
        .collect();
    let schema = read_json(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/stripe-openapi/account_session.schema.json"
    ));
    let components = &schema["resolved"]["properties"]["components"];
    let from_schema: Table = components["properties"]
        .as_object()
        .expect("component schemas")
        .iter()
        .map(|(name, component)| {
            (
                name.clone(),
                keys(&component["properties"]["features"]["properties"]),
            )
        })
        .collect();

    // Act
    let catalog = without_additions(catalog_response_features());

    // Assert
    assert_eq!(catalog, from_table);
    assert_eq!(catalog, from_schema);
    assert_eq!(
        names(&schema["components_required_in_response"]),
        catalog.keys().cloned().collect::<BTreeSet<_>>()
    );
    let financial_account = CATALOG
        .iter()
        .find(|spec| spec.name == "financial_account")
        .unwrap();
    let response_only: Vec<&str> = financial_account
        .response_only
        .iter()
        .map(|f| f.name())
        .collect();
    assert_eq!(response_only, ["money_movement"]);
    let others_with_response_only: Vec<&str> = CATALOG
        .iter()
        .filter(|spec| spec.name != "financial_account" && !spec.response_only.is_empty())
        .map(|spec| spec.name)
        .collect();
    assert!(
        others_with_response_only.is_empty(),
        "{others_with_response_only:?}"
    );
}

#[test]
fn the_catalog_matches_stripes_example_session() {
    // Arrange
    let fixture = read_json(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/stripe-openapi/account_session.fixture.json"
    ));
    let example: Table = fixture["account_session"]["components"]
        .as_object()
        .expect("components")
        .iter()
        .map(|(name, component)| (name.clone(), keys(&component["features"])))
        .collect();

    // Act
    let catalog = without_additions(catalog_response_features());

    // Assert
    assert_eq!(catalog, example);
}

#[test]
fn payment_method_settings_is_a_component_stripes_sdk_spec_knows() {
    // Arrange
    let spec = create_spec();
    let sdk_names = names(
        &spec["sdk_spec_notes"]["paths./v1/account_sessions.post.requestBody.schema.properties.components.x-stripeMostCommon"],
    );

    // Act
    let catalog: BTreeSet<String> = CATALOG.iter().map(|spec| spec.name.to_owned()).collect();

    // Assert
    assert!(
        catalog.is_subset(&sdk_names),
        "{:?}",
        catalog.difference(&sdk_names)
    );
}

#[test]
fn the_catalog_matches_the_list_the_client_suites_check() {
    // Arrange
    let expected = read_json(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/compat/expected_components.json"
    ));
    let expected: Table = expected["components"]
        .as_object()
        .expect("components")
        .iter()
        .map(|(name, features)| (name.clone(), names(features)))
        .collect();

    // Act
    let catalog = catalog_response_features();

    // Assert
    assert_eq!(catalog, expected);
}

#[tokio::test]
async fn a_created_session_lists_exactly_the_catalogs_components_and_features() {
    // Arrange
    let app = spawn_app().await;
    let id = app.create_account_id(&app.platform.secret, "").await;

    // Act
    let body = app
        .create_account_session(
            &app.platform.secret,
            &format!("account={id}&{SEED_COMPONENTS}"),
        )
        .await
        .ok();

    // Assert
    let components = body["components"].as_object().expect("components");
    let listed: Table = components
        .iter()
        .map(|(name, component)| {
            assert_eq!(
                keys(component),
                BTreeSet::from(["enabled".to_owned(), "features".to_owned()])
            );
            assert!(component["enabled"].is_boolean(), "{name}");
            let features = component["features"].as_object().expect("features");
            assert!(features.values().all(Value::is_boolean), "{name}");
            (name.clone(), keys(&component["features"]))
        })
        .collect();
    assert_eq!(listed, catalog_response_features());
    let top: BTreeSet<String> = keys(&body);
    assert_eq!(
        top,
        [
            "account",
            "client_secret",
            "components",
            "expires_at",
            "livemode",
            "object"
        ]
        .map(str::to_owned)
        .into()
    );
}
