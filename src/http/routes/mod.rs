//! One module per resource, each exposing `router()`; merged in [`super::router`].

pub mod account_sessions;
pub mod accounts;
pub mod embedded;
pub mod health;
pub mod openapi;

use serde::Serialize;

use super::error::ApiError;
use super::extract::FromParams;
use super::form::Params;
use crate::store::Cursor;

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
        "DELETE",
        "/v1/account/external_accounts/{id}",
        "DeleteAccountExternalAccountsId",
        "Remove a bank account",
    ),
];

/// Reads `expand[]` and checks each entry against the fields the object lets
/// clients expand. Every such field is already rendered in full, so an accepted
/// expansion leaves the response unchanged.
pub(crate) fn read_expand(params: &mut Params<'_>, expandable: &[&str]) -> Option<Vec<String>> {
    let entries = params.optional_string_list("expand").unwrap_or_default();
    let mut paths = Vec::with_capacity(entries.len());
    for (param, path) in entries {
        let top = path.split('.').next().unwrap_or_default();
        if !expandable.contains(&top) {
            params.reject(ApiError::CannotExpand { path, param });
            return None;
        }
        paths.push(path);
    }
    Some(paths)
}

/// The pagination parameters of every list endpoint: `limit` (1 to 100,
/// default 10) and one of `starting_after` / `ending_before`.
#[derive(Debug)]
pub struct ListParams {
    /// Page size.
    pub limit: u32,
    /// `("starting_after" | "ending_before", id)`, if either was sent.
    cursor: Option<(&'static str, String)>,
}

impl FromParams for ListParams {
    fn from_params(params: &mut Params<'_>) -> Option<Self> {
        let limit = params.optional_integer("limit", 1..=100).unwrap_or(10);
        let starting_after = params.optional_string("starting_after");
        let ending_before = params.optional_string("ending_before");
        read_expand(params, &["data"])?;
        let cursor = match (starting_after, ending_before) {
            (Some(_), Some(_)) => {
                params.reject(ApiError::ParametersExclusive {
                    params: vec!["starting_after", "ending_before"],
                });
                return None;
            }
            (Some(id), None) => Some(("starting_after", id)),
            (None, Some(id)) => Some(("ending_before", id)),
            (None, None) => None,
        };
        Some(Self {
            limit: u32::try_from(limit).unwrap_or(10),
            cursor,
        })
    }
}

impl ListParams {
    /// The cursor, its id parsed by `parse`; an id that cannot parse names no
    /// `object` and gets the same answer as one that names nothing.
    pub fn cursor<Id>(
        &self,
        object: &'static str,
        parse: fn(&str) -> Option<Id>,
    ) -> Result<Cursor<Id>, ApiError> {
        let Some((param, id)) = &self.cursor else {
            return Ok(Cursor::Start);
        };
        let parsed = parse(id).ok_or_else(|| self.cursor_missing(object))?;
        Ok(if *param == "starting_after" {
            Cursor::StartingAfter(parsed)
        } else {
            Cursor::EndingBefore(parsed)
        })
    }

    /// Stripe's answer when the cursor names no object of the list.
    pub fn cursor_missing(&self, object: &'static str) -> ApiError {
        let (param, id) = self.cursor.clone().unwrap_or_default();
        ApiError::ResourceMissing {
            object,
            id,
            param: Some(param.to_owned()),
            exists_in: None,
        }
    }
}

/// A Stripe list object.
#[derive(Debug, Serialize)]
pub struct ListResponse<T> {
    object: &'static str,
    data: Vec<T>,
    has_more: bool,
    url: String,
}

impl<T> ListResponse<T> {
    /// A page of `data` listed at `url`.
    pub fn new(data: Vec<T>, has_more: bool, url: impl Into<String>) -> Self {
        Self {
            object: "list",
            data,
            has_more,
            url: url.into(),
        }
    }
}
