//! The OpenAPI document matches the implementation: the router answers exactly
//! the documented operations, and real responses, success and error alike,
//! validate against the documented schemas.

use connect_sessions::http::openapi;
use connect_sessions::http::routes::ENDPOINTS;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{SEED_COMPONENTS, TestApp, TestResponse, spawn_app};

/// The prefix of Stripe's message for a path or method nobody serves.
const UNRECOGNIZED: &str = "Unrecognized request URL";

/// The error message of a response, or "" for a success.
fn error_message(response: &TestResponse) -> &str {
    response.body["error"]["message"]
        .as_str()
        .unwrap_or_default()
}

/// A concrete path for a documented one: `{id}` filled in.
fn concrete(path: &str) -> String {
    path.replace("{id}", "acct_0000000000000000")
}

/// Rewrites OpenAPI 3.0's `nullable` into JSON Schema's `type: [T, "null"]`,
/// so a standard validator reads the document as OpenAPI means it.
fn nullable_to_json_schema(value: &mut Value) {
    match value {
        Value::Object(object) => {
            if object.remove("nullable") == Some(Value::Bool(true))
                && let Some(Value::String(kind)) = object.get("type").cloned()
            {
                object.insert("type".to_owned(), json!([kind, "null"]));
            }
            object.values_mut().for_each(nullable_to_json_schema);
        }
        Value::Array(items) => items.iter_mut().for_each(nullable_to_json_schema),
        _ => {}
    }
}

/// Validates `response` against what the document says `method path` answers
/// for its status (200, or the error envelope otherwise).
fn assert_conforms(document: &Value, method: &str, path: &str, response: &TestResponse) {
    let responses = &document["paths"][path][method.to_ascii_lowercase()]["responses"];
    let status = response.status.to_string();
    let documented = if responses[&status].is_object() {
        &responses[&status]
    } else {
        &responses["default"]
    };
    let schema = &documented["content"]["application/json"]["schema"];
    assert!(
        schema.is_object(),
        "{method} {path} documents no schema for {status}"
    );
    let mut root = json!({"components": document["components"].clone()});
    root.as_object_mut()
        .expect("an object")
        .extend(schema.as_object().expect("a schema object").clone());
    nullable_to_json_schema(&mut root);
    let validator = jsonschema::draft202012::new(&root).expect("the document's schemas compile");
    let errors: Vec<String> = validator
        .iter_errors(&response.body)
        .map(|error| format!("{error} at {}", error.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{method} {path} answered {status} outside its documented schema: {errors:#?}\n{}",
        response.body
    );
}

#[tokio::test]
async fn the_document_is_served_without_authentication() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app.send(app.request(Method::GET, "/v1/openapi.json")).await;

    // Assert
    assert_eq!(response.status, 200);
    assert_eq!(response.body, openapi::document());
    assert_eq!(response.body["openapi"], "3.0.3");
}

#[tokio::test]
async fn the_router_answers_exactly_the_documented_operations() {
    // Arrange
    let app = spawn_app().await;
    let methods = [
        Method::GET,
        Method::POST,
        Method::DELETE,
        Method::PUT,
        Method::PATCH,
    ];

    for endpoint in ENDPOINTS {
        // Act: every documented operation is routed (whatever it then answers).
        let method = Method::from_bytes(endpoint.method.as_bytes()).expect("a method");
        let response = app
            .request(method, &concrete(endpoint.path))
            .send()
            .await
            .expect("the request failed");

        // Assert: an unrouted request is answered with a JSON error; the
        // runtime's script is not JSON at all.
        let json = response
            .headers()
            .get("content-type")
            .is_some_and(|value| value.as_bytes().starts_with(b"application/json"));
        let body: Value = if json {
            response.json().await.expect("a JSON body")
        } else {
            json!({})
        };
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(
            !message.starts_with(UNRECOGNIZED),
            "{} {} is documented but not routed",
            endpoint.method,
            endpoint.path
        );
    }
    for endpoint in ENDPOINTS {
        for method in &methods {
            let documented = ENDPOINTS
                .iter()
                .any(|other| other.path == endpoint.path && other.method == method.as_str());
            if documented {
                continue;
            }
            // Act: no undocumented method on a documented path.
            let response = app
                .send(app.request(method.clone(), &concrete(endpoint.path)))
                .await;

            // Assert
            assert_eq!(response.status, 404, "{method} {}", endpoint.path);
            assert!(
                error_message(&response).starts_with(UNRECOGNIZED),
                "{method} {}",
                endpoint.path
            );
        }
    }
}

/// Sends `method path` with `key` (and a form `body` for POSTs) and checks the
/// answer against the document; returns it.
async fn checked(
    app: &TestApp,
    document: &Value,
    method: &str,
    path: &str,
    concrete_path: &str,
    key: &str,
    body: &str,
) -> TestResponse {
    let request = app
        .request(
            Method::from_bytes(method.as_bytes()).expect("a method"),
            concrete_path,
        )
        .bearer_auth(key);
    let request = if method == "POST" {
        request
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.to_owned())
    } else {
        request
    };
    let response = app.send(request).await;
    assert_conforms(document, method, path, &response);
    response
}

#[tokio::test]
async fn a_full_flow_answers_within_the_documented_schemas() {
    // Arrange
    let app = spawn_app().await;
    let document = openapi::document();
    let sk = app.platform.secret.clone();
    let pk = app.platform.publishable.clone();

    // Act and assert, step by step: successes and the errors clients meet.
    let account = checked(
        &app,
        &document,
        "POST",
        "/v1/accounts",
        "/v1/accounts",
        &sk,
        "type=custom&email=a%40example.com",
    )
    .await;
    assert_eq!(account.status, 200);
    let id = account.body["id"].as_str().expect("an id").to_owned();
    let account_path = format!("/v1/accounts/{id}");
    for (method, body) in [("GET", ""), ("POST", "metadata[order]=1")] {
        let response = checked(
            &app,
            &document,
            method,
            "/v1/accounts/{id}",
            &account_path,
            &sk,
            body,
        )
        .await;
        assert_eq!(response.status, 200);
    }
    let list = checked(
        &app,
        &document,
        "GET",
        "/v1/accounts",
        "/v1/accounts?limit=2",
        &sk,
        "",
    )
    .await;
    assert_eq!(list.status, 200);
    let session = checked(
        &app,
        &document,
        "POST",
        "/v1/account_sessions",
        "/v1/account_sessions",
        &sk,
        &format!("account={id}&{SEED_COMPONENTS}"),
    )
    .await;
    assert_eq!(session.status, 200);
    let secret = session.body["client_secret"]
        .as_str()
        .expect("a secret")
        .to_owned();
    let claim = checked(
        &app,
        &document,
        "POST",
        "/v1/account_sessions/claim",
        "/v1/account_sessions/claim",
        &pk,
        &format!("client_secret={secret}"),
    )
    .await;
    assert_eq!(claim.status, 200);
    let em = claim.body["secret"]
        .as_str()
        .expect("an em_ key")
        .to_owned();
    for (method, path, body) in [
        ("GET", "/v1/embedded_session", ""),
        ("GET", "/v1/account", ""),
        ("POST", "/v1/account", "business_profile[name]=Shop"),
        (
            "POST",
            "/v1/account/external_accounts",
            "country=US&currency=usd&routing_number=110000000&account_number=000123456789",
        ),
        ("GET", "/v1/account/external_accounts", ""),
    ] {
        let response = checked(&app, &document, method, path, path, &em, body).await;
        assert_eq!(response.status, 200, "{method} {path}: {}", response.body);
    }
    let banks = checked(
        &app,
        &document,
        "GET",
        "/v1/accounts/{id}/external_accounts",
        &format!("{account_path}/external_accounts"),
        &sk,
        "",
    )
    .await;
    assert_eq!(banks.status, 200);
    let bank = banks.body["data"][0]["id"]
        .as_str()
        .expect("a bank account")
        .to_owned();
    let removed = checked(
        &app,
        &document,
        "DELETE",
        "/v1/account/external_accounts/{id}",
        &format!("/v1/account/external_accounts/{bank}"),
        &em,
        "",
    )
    .await;
    assert_eq!(removed.status, 200);
    for path in [
        "/v1/test_helpers/account_sessions/expire",
        "/v1/account_sessions/revoke",
    ] {
        let response = checked(
            &app,
            &document,
            "POST",
            path,
            path,
            &sk,
            &format!("client_secret={secret}"),
        )
        .await;
        assert_eq!(response.status, 200, "{path}");
    }
    let logout = checked(
        &app,
        &document,
        "DELETE",
        "/v1/embedded_session",
        "/v1/embedded_session",
        &em,
        "",
    )
    .await;
    assert_eq!(
        logout.status, 401,
        "a revoked session's key no longer works"
    );
    let deleted = checked(
        &app,
        &document,
        "DELETE",
        "/v1/accounts/{id}",
        &account_path,
        &sk,
        "",
    )
    .await;
    assert_eq!(deleted.status, 200);

    // Errors of every kind conform too.
    let unknown = checked(
        &app,
        &document,
        "POST",
        "/v1/account_sessions",
        "/v1/account_sessions",
        &sk,
        "bogus=1",
    )
    .await;
    assert_eq!(unknown.status, 400);
    let no_key = checked(
        &app,
        &document,
        "GET",
        "/v1/accounts",
        "/v1/accounts",
        "",
        "",
    )
    .await;
    assert_eq!(no_key.status, 401);
    let forbidden = checked(
        &app,
        &document,
        "GET",
        "/v1/accounts/{id}",
        &account_path,
        &sk,
        "",
    )
    .await;
    assert_eq!(forbidden.status, 403);
}
