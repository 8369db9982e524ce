//! One module per resource, each exposing `router()`; merged in [`super::router`].

pub mod account_sessions;
pub mod accounts;
pub mod embedded;
pub mod health;

use serde::Serialize;

use super::error::ApiError;
use super::extract::FromParams;
use super::form::Params;
use crate::store::Cursor;

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
