//! One module per resource, each exposing `router()`; merged in [`super::router`].
//! Route modules never import each other: what several share is in
//! [`super::params`] (request) and [`super::responses`] (response).

pub mod account_sessions;
pub mod accounts;
pub mod connect_js;
pub mod embedded;
pub mod events;
pub mod health;
pub mod openapi;
pub mod persons;
pub mod test_helpers;
pub mod webhook_endpoints;

/// One endpoint the server answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint {
    /// The HTTP method.
    pub method: &'static str,
    /// The path, with `{id}` for path parameters.
    pub path: &'static str,
    /// The OpenAPI operation id.
    pub operation_id: &'static str,
    /// One line for people.
    pub summary: &'static str,
}

/// Builds an [`Endpoint`]; keeps the table one line per endpoint.
const fn endpoint(
    method: &'static str,
    path: &'static str,
    operation_id: &'static str,
    summary: &'static str,
) -> Endpoint {
    Endpoint {
        method,
        path,
        operation_id,
        summary,
    }
}

/// Every endpoint, in one table: the OpenAPI document is built from it, and a
/// test checks that the router answers exactly these (and no other method on
/// these paths).
pub const ENDPOINTS: &[Endpoint] = &[
    endpoint(
        "GET",
        "/healthz",
        "GetHealth",
        "Readiness, without authentication",
    ),
    endpoint(
        "GET",
        "/v1/openapi.json",
        "GetOpenapi",
        "This server's OpenAPI document",
    ),
    endpoint(
        "GET",
        "/connect-js/v1.0/connect.js",
        "GetConnectJs",
        "The offline runtime for Stripe's Connect.js loader (JavaScript)",
    ),
    endpoint(
        "POST",
        "/v1/accounts",
        "PostAccounts",
        "Create a connected account",
    ),
    endpoint(
        "GET",
        "/v1/accounts",
        "GetAccounts",
        "List connected accounts, newest first",
    ),
    endpoint(
        "GET",
        "/v1/accounts/{id}",
        "GetAccountsId",
        "Retrieve a connected account",
    ),
    endpoint(
        "POST",
        "/v1/accounts/{id}",
        "PostAccountsId",
        "Update a connected account",
    ),
    endpoint(
        "DELETE",
        "/v1/accounts/{id}",
        "DeleteAccountsId",
        "Delete a connected account",
    ),
    endpoint(
        "GET",
        "/v1/accounts/{id}/external_accounts",
        "GetAccountsIdExternalAccounts",
        "List a connected account's bank accounts",
    ),
    endpoint(
        "POST",
        "/v1/accounts/{id}/external_accounts",
        "PostAccountsIdExternalAccounts",
        "Attach a bank account to a connected account",
    ),
    endpoint(
        "GET",
        "/v1/accounts/{id}/external_accounts/{bank_account}",
        "GetAccountsIdExternalAccountsBankAccount",
        "Retrieve a connected account's bank account",
    ),
    endpoint(
        "POST",
        "/v1/accounts/{id}/external_accounts/{bank_account}",
        "PostAccountsIdExternalAccountsBankAccount",
        "Update a bank account (holder, default for its currency)",
    ),
    endpoint(
        "DELETE",
        "/v1/accounts/{id}/external_accounts/{bank_account}",
        "DeleteAccountsIdExternalAccountsBankAccount",
        "Remove a bank account",
    ),
    endpoint(
        "GET",
        "/v1/accounts/{id}/persons",
        "GetAccountsIdPersons",
        "List a connected account's persons, newest first",
    ),
    endpoint(
        "POST",
        "/v1/accounts/{id}/persons",
        "PostAccountsIdPersons",
        "Create a person of a connected account",
    ),
    endpoint(
        "GET",
        "/v1/accounts/{id}/persons/{person}",
        "GetAccountsIdPersonsPerson",
        "Retrieve a person",
    ),
    endpoint(
        "POST",
        "/v1/accounts/{id}/persons/{person}",
        "PostAccountsIdPersonsPerson",
        "Update a person",
    ),
    endpoint(
        "DELETE",
        "/v1/accounts/{id}/persons/{person}",
        "DeleteAccountsIdPersonsPerson",
        "Delete a person",
    ),
    endpoint(
        "POST",
        "/v1/account_sessions",
        "PostAccountSessions",
        "Create an account session",
    ),
    endpoint(
        "POST",
        "/v1/account_sessions/claim",
        "PostAccountSessionsClaim",
        "Claim a client secret, once, for an embedded session key",
    ),
    endpoint(
        "POST",
        "/v1/account_sessions/revoke",
        "PostAccountSessionsRevoke",
        "Revoke an account session and its embedded session key",
    ),
    endpoint(
        "POST",
        "/v1/test_helpers/account_sessions/expire",
        "PostTestHelpersAccountSessionsExpire",
        "Expire an account session now (test mode)",
    ),
    endpoint(
        "GET",
        "/v1/embedded_session",
        "GetEmbeddedSession",
        "The current embedded session",
    ),
    endpoint(
        "DELETE",
        "/v1/embedded_session",
        "DeleteEmbeddedSession",
        "Log out",
    ),
    endpoint(
        "GET",
        "/v1/account",
        "GetAccount",
        "The embedded session's connected account",
    ),
    endpoint(
        "POST",
        "/v1/account",
        "PostAccount",
        "Update the embedded session's connected account",
    ),
    endpoint(
        "GET",
        "/v1/account/external_accounts",
        "GetAccountExternalAccounts",
        "List the account's bank accounts",
    ),
    endpoint(
        "POST",
        "/v1/account/external_accounts",
        "PostAccountExternalAccounts",
        "Add a bank account",
    ),
    endpoint(
        "GET",
        "/v1/account/persons",
        "GetAccountPersons",
        "List the account's persons",
    ),
    endpoint(
        "POST",
        "/v1/account/persons",
        "PostAccountPersons",
        "Create a person of the account",
    ),
    endpoint(
        "GET",
        "/v1/account/persons/{person}",
        "GetAccountPersonsPerson",
        "Retrieve one of the account's persons",
    ),
    endpoint(
        "POST",
        "/v1/account/persons/{person}",
        "PostAccountPersonsPerson",
        "Update one of the account's persons",
    ),
    endpoint(
        "DELETE",
        "/v1/account/persons/{person}",
        "DeleteAccountPersonsPerson",
        "Delete one of the account's persons",
    ),
    endpoint(
        "DELETE",
        "/v1/account/external_accounts/{id}",
        "DeleteAccountExternalAccountsId",
        "Remove a bank account",
    ),
    endpoint(
        "GET",
        "/v1/events",
        "GetEvents",
        "List events, newest first (30 days)",
    ),
    endpoint("GET", "/v1/events/{id}", "GetEventsId", "Retrieve an event"),
    endpoint(
        "POST",
        "/v1/events/{id}/retry",
        "PostEventsIdRetry",
        "Send an event to the webhook endpoints again (the Stripe CLI's `events resend`)",
    ),
    endpoint(
        "POST",
        "/v1/test_helpers/events/{id}/resend",
        "PostTestHelpersEventsIdResend",
        "Send an event to the webhook endpoints again",
    ),
    endpoint(
        "POST",
        "/v1/webhook_endpoints",
        "PostWebhookEndpoints",
        "Create a webhook endpoint (its signing secret is answered once)",
    ),
    endpoint(
        "GET",
        "/v1/webhook_endpoints",
        "GetWebhookEndpoints",
        "List webhook endpoints, newest first",
    ),
    endpoint(
        "GET",
        "/v1/webhook_endpoints/{id}",
        "GetWebhookEndpointsId",
        "Retrieve a webhook endpoint",
    ),
    endpoint(
        "POST",
        "/v1/webhook_endpoints/{id}",
        "PostWebhookEndpointsId",
        "Update a webhook endpoint (url, events, disabled, description, metadata)",
    ),
    endpoint(
        "DELETE",
        "/v1/webhook_endpoints/{id}",
        "DeleteWebhookEndpointsId",
        "Delete a webhook endpoint",
    ),
    endpoint(
        "GET",
        "/v1/webhook_endpoints/{id}/attempts",
        "GetWebhookEndpointsIdAttempts",
        "List an endpoint's delivery attempts, newest first",
    ),
    endpoint(
        "GET",
        "/v1/test_helpers/clock",
        "GetTestHelpersClock",
        "The server's clock (test double, --test-clock)",
    ),
    endpoint(
        "POST",
        "/v1/test_helpers/clock/advance",
        "PostTestHelpersClockAdvance",
        "Move the server's clock forward (test double, --test-clock)",
    ),
    endpoint(
        "GET",
        "/v1/test_helpers/faults",
        "GetTestHelpersFaults",
        "List the platform's fault rules (test double, --test-faults)",
    ),
    endpoint(
        "POST",
        "/v1/test_helpers/faults",
        "PostTestHelpersFaults",
        "Install a fault rule (test double, --test-faults)",
    ),
    endpoint(
        "DELETE",
        "/v1/test_helpers/faults",
        "DeleteTestHelpersFaults",
        "Remove the platform's fault rules (test double, --test-faults)",
    ),
    endpoint(
        "GET",
        "/v1/test_helpers/requests",
        "GetTestHelpersRequests",
        "The platform's latest test-mode requests (test double, --request-log)",
    ),
    endpoint(
        "POST",
        "/v1/test_helpers/reset",
        "PostTestHelpersReset",
        "Delete the platform's test-mode objects (test double, --test-reset)",
    ),
];
