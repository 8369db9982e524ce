//! The OpenAPI 3 document of every endpoint this server offers, served at
//! `GET /v1/openapi.json`.
//!
//! It is built in code from [`super::routes::ENDPOINTS`] (the table the tests
//! check the router against), the component catalog and the domain's tables
//! of wire values, so the schemas cannot drift from what the handlers answer. Bodies are form-encoded with
//! `deepObject` nesting, as in Stripe's own specification.

use serde_json::{Map, Value, json};

use super::error::error_types;
use super::routes::ENDPOINTS;
use super::version::DEFAULT_API_VERSION;
use crate::domain::account::{
    AccountType, DashboardType, FeePayer, LossesPayer, RequirementCollection,
};
use crate::domain::capability::CapabilityStatus;
use crate::domain::catalog::CATALOG;
use crate::domain::external_account::HolderType;
use crate::domain::onboarding::identity::{
    BusinessType, PayoutInterval, ServiceAgreement, Weekday,
};

/// The document.
pub fn document() -> Value {
    let mut paths = Map::new();
    for endpoint in ENDPOINTS {
        let path = paths
            .entry(endpoint.path.to_owned())
            .or_insert_with(|| json!({}));
        let mut op = operation(endpoint.method, endpoint.path);
        if let Some(object) = op.as_object_mut() {
            object.insert("operationId".to_owned(), json!(endpoint.operation_id));
            object.insert("summary".to_owned(), json!(endpoint.summary));
            if endpoint.path.starts_with("/v1/accounts/{id}")
                && let Some(parameters) = object
                    .entry("parameters")
                    .or_insert_with(|| json!([]))
                    .as_array_mut()
            {
                parameters.push(stripe_account_header());
            }
        }
        path[endpoint.method.to_ascii_lowercase()] = op;
    }
    add_links(&mut paths);
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "connect-sessions",
            "version": env!("CARGO_PKG_VERSION"),
            "description": format!(
                "A self-hostable, Stripe-compatible Account Sessions server. Stripe API version {DEFAULT_API_VERSION}. \
                 Platform endpoints take a secret key, the claim a publishable key, the client-side API an em_ key."
            ),
        },
        "servers": [{"url": "/"}],
        "security": [{"basicAuth": []}, {"bearerAuth": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "basicAuth": {"type": "http", "scheme": "basic", "description": "The API key as the user name; no password."},
                "bearerAuth": {"type": "http", "scheme": "bearer"},
            },
            "schemas": schemas(),
        },
    })
}

/// OpenAPI links from each creating `POST P` to the operations on the object
/// it created (`P/{…}`), the new id taken from the response: tools that
/// generate requests (schemathesis) then reach existing objects, not only
/// 404s.
fn add_links(paths: &mut Map<String, Value>) {
    for create in ENDPOINTS.iter().filter(|e| e.method == "POST") {
        let prefix = format!("{}/{{", create.path);
        let mut links = Map::new();
        for target in ENDPOINTS {
            let Some(rest) = target.path.strip_prefix(&prefix) else {
                continue;
            };
            // Only the object's own operations: `P/{x}`, not `P/{x}/more`.
            let Some(created) = rest.strip_suffix('}').filter(|name| !name.contains('/')) else {
                continue;
            };
            let mut parameters = Map::new();
            for segment in create.path.split('/') {
                if let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    parameters.insert(name.to_owned(), json!(format!("$request.path.{name}")));
                }
            }
            parameters.insert(created.to_owned(), json!("$response.body#/id"));
            links.insert(
                target.operation_id.to_owned(),
                json!({"operationId": target.operation_id, "parameters": parameters}),
            );
        }
        if links.is_empty() {
            continue;
        }
        if let Some(ok) = paths
            .get_mut(create.path)
            .and_then(|path| path.get_mut("post"))
            .and_then(|op| op.get_mut("responses"))
            .and_then(|responses| responses.get_mut("200"))
            .and_then(Value::as_object_mut)
        {
            ok.insert("links".to_owned(), Value::Object(links));
        }
    }
}

/// A `$ref` to a schema of this document.
fn schema_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

/// A string that is one of `values`' wire spellings, listed alphabetically
/// as Stripe's specification lists them. Generated from the domain's own
/// tables, so the document cannot drift from what is parsed and answered.
fn string_enum<T>(values: &[(&'static str, T)]) -> Value {
    let mut names: Vec<&str> = values.iter().map(|(name, _)| *name).collect();
    names.sort_unstable();
    json!({"type": "string", "enum": names})
}

/// Like [`string_enum`], and null (OpenAPI 3.0 lists null among a nullable
/// enum's values).
fn nullable_enum<T>(values: &[(&'static str, T)]) -> Value {
    let mut schema = string_enum(values);
    schema["nullable"] = json!(true);
    if let Some(names) = schema["enum"].as_array_mut() {
        names.push(Value::Null);
    }
    schema
}

/// A nullable string.
fn nullable_string() -> Value {
    json!({"type": "string", "nullable": true})
}

/// Responses: 200 with `schema`, and Stripe's error envelope for any other status.
fn responses(schema: &str) -> Value {
    json!({
        "200": {
            "description": "Success.",
            "headers": {"Request-Id": {"schema": {"type": "string", "pattern": "^req_[A-Za-z0-9]{14}$"}, "required": true}},
            "content": {"application/json": {"schema": schema_ref(schema)}},
        },
        "default": {
            "description": "An error, in Stripe's envelope.",
            "content": {"application/json": {"schema": schema_ref("Error")}},
        },
    })
}

/// A form-encoded request body with `properties`, `required` among them.
fn form_body(properties: Value, required: &[&str]) -> Value {
    let mut encoding = Map::new();
    if let Some(properties) = properties.as_object() {
        for (name, schema) in properties {
            if schema
                .get("type")
                .and_then(Value::as_str)
                .is_some_and(|kind| kind == "object" || kind == "array")
            {
                encoding.insert(
                    name.clone(),
                    json!({"style": "deepObject", "explode": true}),
                );
            }
        }
    }
    let mut schema =
        json!({"type": "object", "properties": properties, "additionalProperties": false});
    if !required.is_empty() {
        schema["required"] = json!(required);
    }
    json!({
        "required": !required.is_empty(),
        "content": {"application/x-www-form-urlencoded": {"schema": schema, "encoding": encoding}},
    })
}

/// `expand[]`.
fn expand() -> Value {
    json!({"type": "array", "items": {"type": "string"}, "description": "Fields to expand; they are always rendered in full."})
}

/// An `enabled_events[]` entry: `*` or a dotted lower-case event type.
fn event_type_pattern() -> Value {
    json!({"type": "string", "pattern": "^(\\*|[a-z0-9_]+(\\.[a-z0-9_]+)+)$"})
}

/// `created`: a Unix time, or bounds.
fn created_filter() -> Value {
    json!({"oneOf": [
        {"type": "integer"},
        {"type": "object", "properties": {
            "gt": {"type": "integer"}, "gte": {"type": "integer"},
            "lt": {"type": "integer"}, "lte": {"type": "integer"},
        }, "additionalProperties": false},
    ]})
}

/// The query parameters of list endpoints.
fn list_parameters() -> Value {
    json!([
        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 10}},
        {"name": "starting_after", "in": "query", "schema": {"type": "string"}},
        {"name": "ending_before", "in": "query", "schema": {"type": "string"}},
    ])
}

/// The `Stripe-Account` header, honoured on the endpoints about one connected
/// account (and refused with a 400 everywhere else): it must name the path's account.
fn stripe_account_header() -> Value {
    json!({
        "name": "Stripe-Account",
        "in": "header",
        "required": false,
        "description": "Act as this connected account of the calling platform; must be the account in the path.",
        "schema": {"type": "string"},
    })
}

/// The `{id}` path parameter.
fn id_parameter() -> Value {
    json!([{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}])
}

/// The body of claim, revoke and expire.
fn client_secret_body() -> Value {
    form_body(
        json!({"client_secret": {"type": "string", "pattern": "^accs_secret__[A-Za-z0-9_-]{47}$"}}),
        &["client_secret"],
    )
}

/// An object of string properties, closed.
fn strings(names: &[&str]) -> Value {
    let properties: Map<String, Value> = names
        .iter()
        .map(|name| ((*name).to_owned(), json!({"type": "string"})))
        .collect();
    json!({"type": "object", "properties": properties, "additionalProperties": false})
}

/// An address in a request.
fn address_request() -> Value {
    strings(&["city", "country", "line1", "line2", "postal_code", "state"])
}

/// A person's fields in a request (`individual[...]`, the Persons API).
fn person_request() -> Map<String, Value> {
    let mut properties = Map::new();
    for name in [
        "first_name",
        "last_name",
        "email",
        "phone",
        "id_number",
        "ssn_last_4",
    ] {
        properties.insert(name.to_owned(), json!({"type": "string"}));
    }
    properties.insert(
        "dob".to_owned(),
        json!({"type": "object", "properties": {"day": {"type": "integer"}, "month": {"type": "integer"}, "year": {"type": "integer"}}, "additionalProperties": false}),
    );
    properties.insert("address".to_owned(), address_request());
    properties.insert(
        "relationship".to_owned(),
        json!({"type": "object", "properties": {
            "authorizer": {"type": "boolean"}, "director": {"type": "boolean"}, "executive": {"type": "boolean"},
            "legal_guardian": {"type": "boolean"}, "owner": {"type": "boolean"}, "representative": {"type": "boolean"},
            "percent_ownership": {"type": "number", "minimum": 0, "maximum": 100}, "title": {"type": "string"},
        }, "additionalProperties": false}),
    );
    properties.insert(
        "metadata".to_owned(),
        json!({"type": "object", "additionalProperties": {"type": "string"}}),
    );
    properties
}

/// A bank account's fields in a request.
fn bank_request(with_object: bool) -> Value {
    let mut properties = Map::new();
    for name in [
        "country",
        "currency",
        "account_holder_name",
        "routing_number",
        "account_number",
    ] {
        properties.insert(name.to_owned(), json!({"type": "string"}));
    }
    properties.insert(
        "account_holder_type".to_owned(),
        string_enum(HolderType::VALUES),
    );
    if with_object {
        properties.insert(
            "object".to_owned(),
            json!({"type": "string", "enum": ["bank_account"]}),
        );
    }
    json!({"type": "object", "properties": properties, "required": ["country", "currency", "account_number"], "additionalProperties": false})
}

/// What both the platform and the account itself may change on an account.
fn account_update_properties() -> Map<String, Value> {
    let mut properties = Map::new();
    properties.insert("email".to_owned(), json!({"type": "string"}));
    properties.insert(
        "business_profile".to_owned(),
        strings(&[
            "mcc",
            "name",
            "product_description",
            "support_email",
            "support_phone",
            "support_url",
            "url",
        ]),
    );
    properties.insert(
        "business_type".to_owned(),
        string_enum(BusinessType::VALUES),
    );
    properties.insert(
        "individual".to_owned(),
        json!({"type": "object", "properties": person_request(), "additionalProperties": false}),
    );
    properties.insert(
        "company".to_owned(),
        json!({"type": "object", "properties": {
            "name": {"type": "string"}, "phone": {"type": "string"}, "structure": {"type": "string"},
            "tax_id": {"type": "string"}, "address": address_request(),
            "directors_provided": {"type": "boolean"}, "executives_provided": {"type": "boolean"}, "owners_provided": {"type": "boolean"},
        }, "additionalProperties": false}),
    );
    properties.insert(
        "tos_acceptance".to_owned(),
        json!({"type": "object", "properties": {
            "date": {"type": "integer"}, "ip": {"type": "string"}, "user_agent": {"type": "string"},
            "service_agreement": string_enum(ServiceAgreement::VALUES),
        }, "additionalProperties": false}),
    );
    properties.insert(
        "settings".to_owned(),
        json!({"type": "object", "properties": {
            "payments": strings(&["statement_descriptor"]),
            "payouts": {"type": "object", "properties": {"schedule": {"type": "object", "properties": {
                "interval": string_enum(PayoutInterval::VALUES),
                "delay_days": {"type": "string", "description": "A number of days, or `minimum`."},
                "weekly_anchor": string_enum(Weekday::VALUES),
                "monthly_anchor": {"type": "integer", "minimum": 1, "maximum": 31},
            }, "additionalProperties": false}}, "additionalProperties": false},
        }, "additionalProperties": false}),
    );
    properties.insert("expand".to_owned(), expand());
    properties
}

/// The `{id}` and `{other}` path parameters of a nested object.
fn nested_parameters(other: &str) -> Value {
    json!([
        {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}},
        {"name": other, "in": "path", "required": true, "schema": {"type": "string"}},
    ])
}

/// The `{id}` path parameter followed by the list parameters.
fn id_and_list_parameters() -> Value {
    let mut parameters = id_parameter();
    if let (Some(all), Some(list)) = (parameters.as_array_mut(), list_parameters().as_array()) {
        all.extend(list.iter().cloned());
    }
    parameters
}

/// The body of a person's creation or update.
fn person_body() -> Value {
    let mut properties = person_request();
    properties.insert("expand".to_owned(), expand());
    form_body(Value::Object(properties), &[])
}

/// The body that attaches a bank account for the platform.
fn external_account_body() -> Value {
    form_body(
        json!({
            "external_account": bank_request(true),
            "default_for_currency": {"type": "boolean"},
            "expand": expand(),
        }),
        &["external_account"],
    )
}

/// One operation, without its id and summary.
fn operation(method: &str, path: &str) -> Value {
    let metadata = json!({"type": "object", "additionalProperties": {"type": "string"}});
    match (method, path) {
        ("GET", "/healthz") => json!({
            "security": [],
            "responses": {"200": {"description": "Ready.", "content": {"application/json": {"schema": schema_ref("Health")}}}},
        }),
        ("GET", "/v1/openapi.json") => json!({
            "security": [],
            "responses": {"200": {"description": "This document.", "content": {"application/json": {"schema": {"type": "object"}}}}},
        }),
        ("GET", "/connect-js/v1.0/connect.js") => json!({
            "security": [],
            "responses": {
                "200": {"description": "The runtime.", "content": {"text/javascript": {"schema": {"type": "string"}}}},
                "304": {"description": "The copy named by `If-None-Match` is current."},
            },
        }),
        ("POST", "/v1/accounts") => {
            let controller = json!({
                "type": "object",
                "additionalProperties": false,
                "properties": {
                    "fees": {"type": "object", "properties": {"payer": string_enum(FeePayer::CREATABLE)}, "additionalProperties": false},
                    "losses": {"type": "object", "properties": {"payments": string_enum(LossesPayer::VALUES)}, "additionalProperties": false},
                    "requirement_collection": string_enum(RequirementCollection::VALUES),
                    "stripe_dashboard": {"type": "object", "properties": {"type": string_enum(DashboardType::VALUES)}, "additionalProperties": false},
                },
            });
            let mut properties = account_update_properties();
            properties.insert("type".to_owned(), string_enum(AccountType::CREATABLE));
            properties.insert("controller".to_owned(), controller);
            properties.insert(
                "country".to_owned(),
                json!({"type": "string", "minLength": 2, "maxLength": 2}),
            );
            properties.insert("metadata".to_owned(), metadata);
            properties.insert(
                "capabilities".to_owned(),
                json!({"type": "object", "additionalProperties": {"type": "object", "properties": {"requested": {"type": "boolean"}}}}),
            );
            properties.insert("external_account".to_owned(), bank_request(true));
            json!({"requestBody": form_body(Value::Object(properties), &[]), "responses": responses("Account")})
        }
        ("GET", "/v1/accounts") => {
            json!({"parameters": list_parameters(), "responses": responses("AccountList")})
        }
        ("GET", "/v1/accounts/{id}") => {
            json!({"parameters": id_parameter(), "responses": responses("Account")})
        }
        ("POST", "/v1/accounts/{id}") => {
            let mut properties = account_update_properties();
            properties.insert("metadata".to_owned(), metadata);
            properties.insert(
                "capabilities".to_owned(),
                json!({"type": "object", "additionalProperties": {"type": "object", "properties": {"requested": {"type": "boolean"}}}}),
            );
            properties.insert("external_account".to_owned(), bank_request(true));
            json!({"parameters": id_parameter(), "requestBody": form_body(Value::Object(properties), &[]), "responses": responses("Account")})
        }
        ("DELETE", "/v1/accounts/{id}") => {
            json!({"parameters": id_parameter(), "responses": responses("DeletedObject")})
        }
        ("GET", "/v1/accounts/{id}/external_accounts") => {
            json!({"parameters": id_and_list_parameters(), "responses": responses("BankAccountList")})
        }
        ("POST", "/v1/accounts/{id}/external_accounts") => json!({
            "parameters": id_parameter(),
            "requestBody": external_account_body(),
            "responses": responses("BankAccount"),
        }),
        ("GET", "/v1/accounts/{id}/external_accounts/{bank_account}") => json!({
            "parameters": nested_parameters("bank_account"),
            "responses": responses("BankAccount"),
        }),
        ("POST", "/v1/accounts/{id}/external_accounts/{bank_account}") => json!({
            "parameters": nested_parameters("bank_account"),
            "requestBody": form_body(json!({
                "account_holder_name": {"type": "string"},
                "account_holder_type": string_enum(HolderType::VALUES),
                "default_for_currency": {"type": "boolean", "enum": [true]},
                "expand": expand(),
            }), &[]),
            "responses": responses("BankAccount"),
        }),
        ("DELETE", "/v1/accounts/{id}/external_accounts/{bank_account}") => json!({
            "parameters": nested_parameters("bank_account"),
            "responses": responses("DeletedObject"),
        }),
        ("GET", "/v1/accounts/{id}/persons") => {
            json!({"parameters": id_and_list_parameters(), "responses": responses("PersonList")})
        }
        ("POST", "/v1/accounts/{id}/persons") => json!({
            "parameters": id_parameter(),
            "requestBody": person_body(),
            "responses": responses("Person"),
        }),
        ("GET", "/v1/accounts/{id}/persons/{person}") => {
            json!({"parameters": nested_parameters("person"), "responses": responses("Person")})
        }
        ("POST", "/v1/accounts/{id}/persons/{person}") => json!({
            "parameters": nested_parameters("person"),
            "requestBody": person_body(),
            "responses": responses("Person"),
        }),
        ("DELETE", "/v1/accounts/{id}/persons/{person}") => json!({
            "parameters": nested_parameters("person"),
            "responses": responses("DeletedObject"),
        }),
        ("GET", "/v1/account/persons") => {
            json!({"parameters": list_parameters(), "responses": responses("PersonList")})
        }
        ("POST", "/v1/account/persons") => {
            json!({"requestBody": person_body(), "responses": responses("Person")})
        }
        ("GET", "/v1/account/persons/{person}") => json!({
            "parameters": [{"name": "person", "in": "path", "required": true, "schema": {"type": "string"}}],
            "responses": responses("Person"),
        }),
        ("POST", "/v1/account/persons/{person}") => json!({
            "parameters": [{"name": "person", "in": "path", "required": true, "schema": {"type": "string"}}],
            "requestBody": person_body(),
            "responses": responses("Person"),
        }),
        ("DELETE", "/v1/account/persons/{person}") => json!({
            "parameters": [{"name": "person", "in": "path", "required": true, "schema": {"type": "string"}}],
            "responses": responses("DeletedObject"),
        }),
        ("POST", "/v1/account_sessions") => json!({
            "requestBody": form_body(
                json!({"account": {"type": "string", "pattern": "^acct_[A-Za-z0-9]{1,64}$"}, "components": components_request(), "expand": expand()}),
                &["account", "components"],
            ),
            "responses": responses("AccountSession"),
        }),
        ("POST", "/v1/account_sessions/claim") => json!({
            "description": "Authenticated with the platform's publishable key.",
            "requestBody": client_secret_body(),
            "responses": responses("EmbeddedSession"),
        }),
        ("POST", "/v1/account_sessions/revoke" | "/v1/test_helpers/account_sessions/expire") => {
            json!({"requestBody": client_secret_body(), "responses": responses("AccountSessionState")})
        }
        ("GET", "/v1/embedded_session") => {
            json!({"description": "Authenticated with an em_ key.", "responses": responses("EmbeddedSession")})
        }
        ("DELETE", "/v1/embedded_session") => {
            json!({"description": "Log out: the em_ key stops working.", "responses": responses("DeletedObject")})
        }
        ("GET", "/v1/account") => json!({"responses": responses("Account")}),
        ("POST", "/v1/account") => json!({
            "requestBody": form_body(Value::Object(account_update_properties()), &[]),
            "responses": responses("Account"),
        }),
        ("GET", "/v1/account/external_accounts") => {
            json!({"parameters": list_parameters(), "responses": responses("BankAccountList")})
        }
        ("POST", "/v1/account/external_accounts") => {
            let mut body = bank_request(false);
            body["properties"]["default_for_currency"] = json!({"type": "boolean"});
            body["properties"]["expand"] = expand();
            let properties = body["properties"].clone();
            json!({
                "requestBody": form_body(properties, &["country", "currency", "account_number"]),
                "responses": responses("BankAccount"),
            })
        }
        ("DELETE", "/v1/account/external_accounts/{id}") => {
            json!({"parameters": id_parameter(), "responses": responses("DeletedObject")})
        }
        ("GET", "/v1/events") => {
            let mut parameters = list_parameters();
            if let Some(list) = parameters.as_array_mut() {
                list.extend([
                    json!({"name": "type", "in": "query", "schema": {"type": "string"}, "description": "An event type; `*` matches anything (`account.*`)."}),
                    json!({"name": "types", "in": "query", "style": "deepObject", "explode": true, "schema": {"type": "array", "maxItems": 20, "items": {"type": "string"}}}),
                    json!({"name": "created", "in": "query", "style": "deepObject", "explode": true, "schema": created_filter()}),
                    json!({"name": "delivery_success", "in": "query", "schema": {"type": "boolean"}}),
                ]);
            }
            json!({"parameters": parameters, "responses": responses("EventList")})
        }
        ("GET", "/v1/events/{id}") => {
            json!({"parameters": id_parameter(), "responses": responses("Event")})
        }
        ("POST", "/v1/events/{id}/retry" | "/v1/test_helpers/events/{id}/resend") => json!({
            "description": "Queues a new delivery of the event to the named endpoint (whatever it subscribed to), or to every endpoint that wants it.",
            "parameters": id_parameter(),
            "requestBody": form_body(json!({
                "webhook_endpoint": {"type": "string"},
                "account": {"type": "string"},
                "for_stripecli": {"type": "boolean"},
                "expand": expand(),
            }), &[]),
            "responses": responses("Event"),
        }),
        ("POST", "/v1/webhook_endpoints") => json!({
            "requestBody": form_body(json!({
                "url": {"type": "string", "format": "uri", "pattern": "^https?://"},
                "enabled_events": {"type": "array", "minItems": 1, "items": event_type_pattern()},
                "connect": {"type": "boolean"},
                "api_version": {"type": "string"},
                "description": {"type": "string"},
                "metadata": metadata,
                "expand": expand(),
            }), &["url", "enabled_events"]),
            "responses": responses("WebhookEndpoint"),
        }),
        ("GET", "/v1/webhook_endpoints") => {
            json!({"parameters": list_parameters(), "responses": responses("WebhookEndpointList")})
        }
        ("GET", "/v1/webhook_endpoints/{id}") => {
            json!({"parameters": id_parameter(), "responses": responses("WebhookEndpoint")})
        }
        ("POST", "/v1/webhook_endpoints/{id}") => json!({
            "parameters": id_parameter(),
            "requestBody": form_body(json!({
                "url": {"type": "string", "format": "uri", "pattern": "^https?://"},
                "enabled_events": {"type": "array", "minItems": 1, "items": event_type_pattern()},
                "description": {"type": "string"},
                "disabled": {"type": "boolean"},
                "metadata": metadata,
                "expand": expand(),
            }), &[]),
            "responses": responses("WebhookEndpoint"),
        }),
        ("DELETE", "/v1/webhook_endpoints/{id}") => {
            json!({"parameters": id_parameter(), "responses": responses("DeletedObject")})
        }
        ("GET", "/v1/webhook_endpoints/{id}/attempts") => json!({
            "parameters": [
                {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}},
                {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 10}},
            ],
            "responses": responses("WebhookEndpointAttemptList"),
        }),
        ("GET", "/v1/test_helpers/clock") => json!({
            "description": "Answers 400 unless the server runs with --test-clock; test-mode keys only.",
            "responses": responses("TestClock"),
        }),
        ("POST", "/v1/test_helpers/clock/advance") => json!({
            "description": "Moves the server's clock forward (never back), for every process on the database. Answers 400 unless the server runs with --test-clock.",
            "requestBody": form_body(json!({
                "seconds": {"type": "integer", "minimum": 1, "maximum": 315_360_000},
                "to": {"type": "integer", "minimum": 0},
                "expand": expand(),
            }), &[]),
            "responses": responses("TestClock"),
        }),
        ("GET", "/v1/test_helpers/faults") => json!({
            "description": "Answers 400 unless the server runs with --test-faults.",
            "responses": responses("TestFaultList"),
        }),
        ("POST", "/v1/test_helpers/faults") => json!({
            "description": "A rule for the calling platform's test-mode requests: those matching `method` and the path prefix `path` are answered with `status` (Stripe's body for it), delayed by `delay_ms`, or have their connection closed (`drop`), for the next `count` (default 1) or at `rate`. Answers 400 unless the server runs with --test-faults.",
            "requestBody": form_body(json!({
                "method": {"type": "string", "enum": ["GET", "POST", "DELETE"]},
                "path": {"type": "string", "pattern": "^/"},
                "status": {"type": "integer", "enum": [429, 500, 502, 503, 504]},
                "delay_ms": {"type": "integer", "minimum": 1, "maximum": 60_000},
                "drop": {"type": "boolean"},
                "count": {"type": "integer", "minimum": 1, "maximum": 10_000},
                "rate": {"type": "number", "exclusiveMinimum": true, "minimum": 0, "maximum": 1},
                "expand": expand(),
            }), &["path"]),
            "responses": responses("TestFault"),
        }),
        ("DELETE", "/v1/test_helpers/faults") => json!({
            "description": "Removes the calling platform's rules; answers those removed.",
            "responses": responses("TestFaultList"),
        }),
        ("GET", "/v1/test_helpers/requests") => json!({
            "description": "Answers 400 unless the server runs with --request-log.",
            "parameters": [{"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 10}}],
            "responses": responses("TestRequestList"),
        }),
        ("POST", "/v1/test_helpers/reset") => json!({
            "description": "Deletes the calling platform's test-mode objects (accounts, persons, bank accounts, sessions, embedded sessions, idempotency keys, events, webhook endpoints), its request log and fault rules; keeps its keys. Answers 400 unless the server runs with --test-reset.",
            "requestBody": form_body(json!({"expand": expand()}), &[]),
            "responses": responses("TestReset"),
        }),
        _ => json!({"responses": responses("Error")}),
    }
}

/// `components[NAME][enabled|features]` for every catalog component.
fn components_request() -> Value {
    let mut properties = Map::new();
    for spec in &CATALOG {
        let features: Map<String, Value> = spec
            .features
            .iter()
            .map(|feature| (feature.name().to_owned(), json!({"type": "boolean"})))
            .collect();
        properties.insert(
            spec.name.to_owned(),
            json!({
                "type": "object",
                "required": ["enabled"],
                "additionalProperties": false,
                "properties": {
                    "enabled": {"type": "boolean"},
                    "features": {"type": "object", "properties": features, "additionalProperties": false},
                },
            }),
        );
    }
    json!({"type": "object", "properties": properties, "additionalProperties": false})
}

/// Every component as responses carry it: all of them, every feature a boolean.
fn components_response() -> Value {
    let mut properties = Map::new();
    for spec in &CATALOG {
        let features: Vec<&str> = spec
            .response_features()
            .map(|feature| feature.name())
            .collect();
        let feature_properties: Map<String, Value> = features
            .iter()
            .map(|name| ((*name).to_owned(), json!({"type": "boolean"})))
            .collect();
        properties.insert(
            spec.name.to_owned(),
            json!({
                "type": "object",
                "required": ["enabled", "features"],
                "additionalProperties": false,
                "properties": {
                    "enabled": {"type": "boolean"},
                    "features": {
                        "type": "object",
                        "required": features,
                        "properties": feature_properties,
                        "additionalProperties": false,
                    },
                },
            }),
        );
    }
    let names: Vec<&str> = CATALOG.iter().map(|spec| spec.name).collect();
    json!({"type": "object", "required": names, "properties": properties, "additionalProperties": false})
}

/// The objects responses carry.
fn schemas() -> Value {
    let controller = json!({
        "type": "object",
        "required": ["fees", "is_controller", "losses", "requirement_collection", "stripe_dashboard", "type"],
        "properties": {
            "fees": {"type": "object", "required": ["payer"], "properties": {"payer": string_enum(FeePayer::VALUES)}},
            "is_controller": {"type": "boolean"},
            "losses": {"type": "object", "required": ["payments"], "properties": {"payments": string_enum(LossesPayer::VALUES)}},
            "requirement_collection": string_enum(RequirementCollection::VALUES),
            "stripe_dashboard": {"type": "object", "required": ["type"], "properties": {"type": string_enum(DashboardType::VALUES)}},
            "type": {"type": "string", "enum": ["account", "application"]},
        },
    });
    let mut schemas = json!({
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {"error": {
                "type": "object",
                "required": ["message", "type"],
                "properties": {
                    "code": {"type": "string"},
                    "doc_url": {"type": "string"},
                    "message": {"type": "string"},
                    "param": {"type": "string"},
                    "type": {"type": "string", "enum": error_types().collect::<Vec<_>>()},
                },
                "additionalProperties": false,
            }},
            "additionalProperties": false,
        },
        "Health": {"type": "object", "required": ["status"], "properties": {"status": {"type": "string"}}},
        "Account": {
            "type": "object",
            "required": ["id", "object", "business_profile", "business_type", "capabilities", "charges_enabled", "controller", "country", "created", "default_currency", "details_submitted", "email", "external_accounts", "future_requirements", "payouts_enabled", "requirements", "settings", "tos_acceptance", "type"],
            "properties": {
                "id": {"type": "string", "pattern": "^acct_[A-Za-z0-9]+$"},
                "object": {"type": "string", "enum": ["account"]},
                "business_profile": {"type": "object", "required": ["mcc", "name", "product_description", "support_email", "support_phone", "support_url", "url"], "properties": {
                    "annual_revenue": {"nullable": true}, "estimated_worker_count": {"nullable": true},
                    "mcc": nullable_string(), "minority_owned_business_designation": {"nullable": true},
                    "name": nullable_string(), "product_description": nullable_string(), "support_address": {"nullable": true},
                    "support_email": nullable_string(), "support_phone": nullable_string(), "support_url": nullable_string(), "url": nullable_string(),
                }, "additionalProperties": false},
                "business_type": nullable_enum(BusinessType::VALUES),
                "capabilities": {"type": "object", "additionalProperties": string_enum(CapabilityStatus::VALUES)},
                "charges_enabled": {"type": "boolean"},
                "company": {"type": "object", "description": "Present for companies, non-profits and government entities."},
                "controller": controller,
                "country": {"type": "string"},
                "created": {"type": "integer"},
                "default_currency": {"type": "string"},
                "details_submitted": {"type": "boolean"},
                "email": nullable_string(),
                "external_accounts": {"type": "object", "required": ["object", "data", "has_more", "total_count", "url"], "properties": {
                    "object": {"type": "string", "enum": ["list"]}, "data": {"type": "array", "items": schema_ref("BankAccount")},
                    "has_more": {"type": "boolean"}, "total_count": {"type": "integer"}, "url": {"type": "string"},
                }, "additionalProperties": false},
                "future_requirements": schema_ref("Requirements"),
                "individual": schema_ref("Person"),
                "metadata": {"type": "object", "additionalProperties": {"type": "string"}, "description": "Absent from the connected account's own view."},
                "payouts_enabled": {"type": "boolean"},
                "requirements": schema_ref("Requirements"),
                "settings": {"type": "object"},
                "tos_acceptance": {"type": "object", "required": ["date", "ip", "user_agent"], "properties": {
                    "date": {"type": "integer", "nullable": true}, "ip": nullable_string(), "user_agent": nullable_string(),
                    "service_agreement": string_enum(ServiceAgreement::VALUES),
                }, "additionalProperties": false},
                "type": string_enum(AccountType::VALUES),
            },
            "additionalProperties": false,
        },
        "Requirements": {
            "type": "object",
            "required": ["alternatives", "current_deadline", "currently_due", "disabled_reason", "errors", "eventually_due", "past_due", "pending_verification"],
            "properties": {
                "alternatives": {"type": "array", "items": {"type": "object"}},
                "current_deadline": {"type": "integer", "nullable": true},
                "currently_due": {"type": "array", "items": {"type": "string"}},
                "disabled_reason": nullable_string(),
                "errors": {"type": "array", "items": {"type": "object", "required": ["code", "reason", "requirement"], "properties": {
                    "code": {"type": "string"}, "reason": {"type": "string"}, "requirement": {"type": "string"},
                }}},
                "eventually_due": {"type": "array", "items": {"type": "string"}},
                "past_due": {"type": "array", "items": {"type": "string"}},
                "pending_verification": {"type": "array", "items": {"type": "string"}},
            },
            "additionalProperties": false,
        },
        "Person": {
            "type": "object",
            "required": ["id", "object", "account", "address", "created", "dob", "first_name", "future_requirements", "id_number_provided", "last_name", "metadata", "relationship", "requirements", "ssn_last_4_provided", "verification"],
            "properties": {
                "id": {"type": "string", "pattern": "^person_[A-Za-z0-9]+$"},
                "object": {"type": "string", "enum": ["person"]},
                "account": {"type": "string"},
                "address": {"type": "object"},
                "created": {"type": "integer"},
                "dob": {"type": "object", "required": ["day", "month", "year"], "properties": {
                    "day": {"type": "integer", "nullable": true}, "month": {"type": "integer", "nullable": true}, "year": {"type": "integer", "nullable": true},
                }},
                "email": {"type": "string"},
                "first_name": nullable_string(),
                "future_requirements": {"type": "object"},
                "id_number_provided": {"type": "boolean"},
                "last_name": nullable_string(),
                "metadata": {"type": "object", "additionalProperties": {"type": "string"}},
                "phone": {"type": "string"},
                "relationship": {"type": "object"},
                "requirements": {"type": "object"},
                "ssn_last_4_provided": {"type": "boolean"},
                "verification": {"type": "object", "required": ["status"], "properties": {"status": {"type": "string", "enum": ["pending", "unverified", "verified"]}}},
            },
            "additionalProperties": false,
        },
        "PersonList": list_schema("Person"),
        "AccountList": list_schema("Account"),
        "DeletedObject": {
            "type": "object",
            "required": ["id", "object", "deleted"],
            "properties": {"id": {"type": "string"}, "object": {"type": "string"}, "deleted": {"type": "boolean", "enum": [true]}},
            "additionalProperties": false,
        },
        "AccountSessionComponents": components_response(),
        "AccountSession": {
            "type": "object",
            "required": ["object", "account", "client_secret", "expires_at", "livemode", "components"],
            "properties": {
                "object": {"type": "string", "enum": ["account_session"]},
                "account": {"type": "string"},
                "client_secret": {"type": "string", "pattern": "^accs_secret__[A-Za-z0-9_-]{47}$"},
                "expires_at": {"type": "integer"},
                "livemode": {"type": "boolean"},
                "components": schema_ref("AccountSessionComponents"),
            },
            "additionalProperties": false,
        },
        "AccountSessionState": {
            "type": "object",
            "required": ["object", "account", "claimed", "components", "expires_at", "livemode", "revoked"],
            "properties": {
                "object": {"type": "string", "enum": ["account_session"]},
                "account": {"type": "string"},
                "claimed": {"type": "boolean"},
                "components": schema_ref("AccountSessionComponents"),
                "expires_at": {"type": "integer"},
                "livemode": {"type": "boolean"},
                "revoked": {"type": "boolean"},
            },
            "additionalProperties": false,
        },
        "EmbeddedSession": {
            "type": "object",
            "required": ["id", "object", "account", "components", "expires_at", "livemode"],
            "properties": {
                "id": {"type": "string", "pattern": "^emsess_[A-Za-z0-9]+$"},
                "object": {"type": "string", "enum": ["embedded_session"]},
                "account": {"type": "string"},
                "components": schema_ref("AccountSessionComponents"),
                "expires_at": {"type": "integer"},
                "livemode": {"type": "boolean"},
                "secret": {"type": "string", "pattern": "^em_(test|live)_[A-Za-z0-9]+$", "description": "Only in the claim's response."},
            },
            "additionalProperties": false,
        },
        "BankAccount": {
            "type": "object",
            "required": ["id", "object", "account", "account_holder_name", "account_holder_type", "account_type", "available_payout_methods", "bank_name", "country", "currency", "default_for_currency", "fingerprint", "future_requirements", "last4", "metadata", "requirements", "routing_number", "status"],
            "properties": {
                "id": {"type": "string", "pattern": "^ba_[A-Za-z0-9]+$"},
                "object": {"type": "string", "enum": ["bank_account"]},
                "account": {"type": "string"},
                "account_holder_name": nullable_string(),
                "account_holder_type": nullable_enum(HolderType::VALUES),
                "account_type": nullable_string(),
                "available_payout_methods": {"type": "array", "items": {"type": "string", "enum": ["instant", "standard"]}},
                "bank_name": nullable_string(),
                "country": {"type": "string"},
                "currency": {"type": "string"},
                "default_for_currency": {"type": "boolean"},
                "fingerprint": {"type": "string"},
                "future_requirements": {"type": "object"},
                "last4": {"type": "string"},
                "metadata": {"type": "object", "additionalProperties": {"type": "string"}},
                "requirements": {"type": "object"},
                "routing_number": nullable_string(),
                "status": {"type": "string"},
            },
            "additionalProperties": false,
        },
        "BankAccountList": list_schema("BankAccount"),
    });
    if let (Some(all), Value::Object(more)) = (schemas.as_object_mut(), event_schemas()) {
        all.extend(more);
    }
    schemas
}

/// The objects of events and webhook endpoints.
fn event_schemas() -> Value {
    json!({
        "Event": {
            "type": "object",
            "required": ["id", "object", "api_version", "created", "data", "livemode", "pending_webhooks", "request", "type"],
            "properties": {
                "id": {"type": "string", "pattern": "^evt_[A-Za-z0-9]+$"},
                "object": {"type": "string", "enum": ["event"]},
                "account": {"type": "string"},
                "api_version": {"type": "string"},
                "created": {"type": "integer"},
                "data": {"type": "object", "required": ["object"], "properties": {
                    "object": {"type": "object"},
                    "previous_attributes": {"type": "object"},
                }, "additionalProperties": false},
                "livemode": {"type": "boolean"},
                "pending_webhooks": {"type": "integer", "minimum": 0},
                "request": {"type": "object", "required": ["id", "idempotency_key"], "properties": {
                    "id": nullable_string(), "idempotency_key": nullable_string(),
                }, "additionalProperties": false},
                "type": {"type": "string"},
            },
            "additionalProperties": false,
        },
        "EventList": list_schema("Event"),
        "WebhookEndpoint": {
            "type": "object",
            "required": ["id", "object", "api_version", "application", "created", "description", "enabled_events", "livemode", "metadata", "status", "url"],
            "properties": {
                "id": {"type": "string", "pattern": "^we_[A-Za-z0-9]+$"},
                "object": {"type": "string", "enum": ["webhook_endpoint"]},
                "api_version": nullable_string(),
                "application": nullable_string(),
                "created": {"type": "integer"},
                "description": nullable_string(),
                "enabled_events": {"type": "array", "items": {"type": "string"}},
                "livemode": {"type": "boolean"},
                "metadata": {"type": "object", "additionalProperties": {"type": "string"}},
                "secret": {"type": "string", "pattern": "^whsec_[A-Za-z0-9]+$", "description": "Only in the response that creates the endpoint."},
                "status": {"type": "string", "enum": ["disabled", "enabled"]},
                "url": {"type": "string"},
            },
            "additionalProperties": false,
        },
        "WebhookEndpointList": list_schema("WebhookEndpoint"),
        "WebhookEndpointAttempt": {
            "type": "object",
            "required": ["object", "webhook_endpoint", "event", "attempt", "created", "http_status", "error", "latency_ms", "succeeded"],
            "properties": {
                "object": {"type": "string", "enum": ["webhook_endpoint_attempt"]},
                "webhook_endpoint": {"type": "string"},
                "event": {"type": "string"},
                "attempt": {"type": "integer", "minimum": 1},
                "created": {"type": "integer"},
                "http_status": {"type": "integer", "nullable": true},
                "error": nullable_string(),
                "latency_ms": {"type": "integer", "minimum": 0},
                "succeeded": {"type": "boolean"},
            },
            "additionalProperties": false,
        },
        "WebhookEndpointAttemptList": list_schema("WebhookEndpointAttempt"),
        "TestClock": {
            "type": "object",
            "required": ["object", "now", "offset_seconds", "livemode"],
            "properties": {
                "object": {"type": "string", "enum": ["test_helpers.clock"]},
                "now": {"type": "integer"},
                "offset_seconds": {"type": "integer", "minimum": 0},
                "livemode": {"type": "boolean", "enum": [false]},
            },
            "additionalProperties": false,
        },
        "TestFault": {
            "type": "object",
            "required": ["id", "object", "method", "path", "status", "delay_ms", "drop", "count", "remaining", "rate", "hits", "created"],
            "properties": {
                "id": {"type": "string", "pattern": "^flt_[A-Za-z0-9]+$"},
                "object": {"type": "string", "enum": ["test_helpers.fault"]},
                "method": nullable_string(),
                "path": {"type": "string"},
                "status": {"type": "integer", "nullable": true},
                "delay_ms": {"type": "integer", "nullable": true},
                "drop": {"type": "boolean"},
                "count": {"type": "integer", "nullable": true},
                "remaining": {"type": "integer", "nullable": true},
                "rate": {"type": "number", "nullable": true},
                "hits": {"type": "integer", "minimum": 0},
                "created": {"type": "integer"},
            },
            "additionalProperties": false,
        },
        "TestFaultList": list_schema("TestFault"),
        "TestRequest": {
            "type": "object",
            "required": ["object", "method", "path", "params", "idempotency_key", "status", "request_id", "faulted", "created"],
            "properties": {
                "object": {"type": "string", "enum": ["test_helpers.request"]},
                "method": {"type": "string"},
                "path": {"type": "string"},
                "params": {"nullable": true},
                "idempotency_key": nullable_string(),
                "status": {"type": "integer"},
                "request_id": nullable_string(),
                "faulted": {"type": "boolean"},
                "created": {"type": "integer"},
            },
            "additionalProperties": false,
        },
        "TestRequestList": list_schema("TestRequest"),
        "TestReset": {
            "type": "object",
            "required": ["object", "deleted", "livemode"],
            "properties": {
                "object": {"type": "string", "enum": ["test_helpers.reset"]},
                "deleted": {"type": "integer", "minimum": 0},
                "livemode": {"type": "boolean", "enum": [false]},
            },
            "additionalProperties": false,
        },
    })
}

/// A Stripe list object of `item`.
fn list_schema(item: &str) -> Value {
    json!({
        "type": "object",
        "required": ["object", "data", "has_more", "url"],
        "properties": {
            "object": {"type": "string", "enum": ["list"]},
            "data": {"type": "array", "items": schema_ref(item)},
            "has_more": {"type": "boolean"},
            "url": {"type": "string"},
        },
        "additionalProperties": false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_endpoint_is_documented_once_with_a_unique_operation_id() {
        let document = document();
        let mut ids = std::collections::HashSet::new();
        for endpoint in ENDPOINTS {
            let operation = &document["paths"][endpoint.path][endpoint.method.to_ascii_lowercase()];
            assert!(
                operation.is_object(),
                "{} {}",
                endpoint.method,
                endpoint.path
            );
            assert!(
                ids.insert(endpoint.operation_id),
                "{}",
                endpoint.operation_id
            );
        }
    }

    #[test]
    fn every_catalog_component_is_in_both_request_and_response_schemas() {
        let document = document();
        let response = &document["components"]["schemas"]["AccountSessionComponents"]["properties"];
        let request = &document["paths"]["/v1/account_sessions"]["post"]["requestBody"]["content"]
            ["application/x-www-form-urlencoded"]["schema"]["properties"]["components"]["properties"];
        for spec in &CATALOG {
            assert!(response[spec.name].is_object(), "{}", spec.name);
            assert!(request[spec.name].is_object(), "{}", spec.name);
        }
    }
}
