//! Request parameters that several routes read: `expand[]`, list paging, and
//! the account fields both the platform and the connected account may edit
//! (email, business profile). In one place so that no route module imports
//! another.

use super::error::ApiError;
use super::extract::FromParams;
use super::form::{Cleared, FormValue, Params};
use crate::clock::Timestamp;
use crate::domain::account::{FieldUpdate, MetadataUpdate};
use crate::store::Cursor;

/// Reads `expand[]` and checks each entry against the fields the object lets
/// clients expand. Every such field is already rendered in full, so an accepted
/// expansion leaves the response unchanged.
pub fn read_expand(params: &mut Params<'_>, expandable: &[&str]) -> Option<Vec<String>> {
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

/// The bounds a list's `created` parameter sets, inclusive.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CreatedRange {
    /// The earliest `created`.
    pub from: Option<Timestamp>,
    /// The latest `created`.
    pub to: Option<Timestamp>,
}

/// `created`: a Unix time (exactly then), or a hash of `gt`, `gte`, `lt`
/// and `lte` bounds. `None` if it was malformed (the error is recorded).
pub fn read_created(params: &mut Params<'_>) -> Option<CreatedRange> {
    let Some(value) = params.take_value("created") else {
        return Some(CreatedRange::default());
    };
    if let FormValue::Text(_) = value {
        let at = integer_from(params, "created", value)?;
        return Some(CreatedRange {
            from: Some(at),
            to: Some(at),
        });
    }
    let mut bounds = params.child("created", value)?;
    let bound = |bounds: &mut Params<'_>, key: &str| {
        bounds
            .optional_integer(key, i64::MIN..=i64::MAX)
            .map(Timestamp::from_secs)
    };
    let (gt, gte, lt, lte) = (
        bound(&mut bounds, "gt"),
        bound(&mut bounds, "gte"),
        bound(&mut bounds, "lt"),
        bound(&mut bounds, "lte"),
    );
    let from = [
        gt.map(|t| Timestamp::from_secs(t.as_secs().saturating_add(1))),
        gte,
    ]
    .into_iter()
    .flatten()
    .max();
    let to = [
        lt.map(|t| Timestamp::from_secs(t.as_secs().saturating_sub(1))),
        lte,
    ]
    .into_iter()
    .flatten()
    .min();
    Some(CreatedRange { from, to })
}

/// An integer from a value taken whole (`created=…`).
fn integer_from(params: &mut Params<'_>, key: &str, value: FormValue) -> Option<Timestamp> {
    let FormValue::Text(text) = value else {
        return None;
    };
    match text.parse::<i64>() {
        Ok(number) => Some(Timestamp::from_secs(number)),
        Err(_) => {
            let param = params.param(key);
            params.reject(ApiError::InvalidInteger { param, value: text });
            None
        }
    }
}

/// Fields of the account object that `expand[]` may name (the spec's
/// `x-expandableFields`); all are rendered in full already.
pub const ACCOUNT_EXPANDABLE: &[&str] = &[
    "business_profile",
    "capabilities",
    "company",
    "controller",
    "external_accounts",
    "future_requirements",
    "groups",
    "individual",
    "requirements",
    "settings",
    "tos_acceptance",
];

/// Whether `text` looks like an email address: one `@`, something on each side,
/// a dot in the domain, no spaces.
fn is_plausible_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !text.chars().any(char::is_whitespace)
        && text.len() <= 254
}

/// `email` at creation.
pub fn read_email(params: &mut Params<'_>) -> Option<String> {
    match params.string_update("email") {
        FieldUpdate::Set(email) => check_email(params, email),
        FieldUpdate::Keep | FieldUpdate::Clear => None,
    }
}

/// `email` in an update: an empty value removes it.
pub fn read_email_update(params: &mut Params<'_>) -> FieldUpdate {
    match params.string_update("email") {
        FieldUpdate::Set(email) => {
            check_email(params, email).map_or(FieldUpdate::Keep, FieldUpdate::Set)
        }
        other => other,
    }
}

fn check_email(params: &mut Params<'_>, email: String) -> Option<String> {
    check_email_param(params, "email".to_owned(), email)
}

/// `email`, sent as `param`, if it looks like an email address; else Stripe's
/// error is recorded.
pub fn check_email_param(params: &mut Params<'_>, param: String, email: String) -> Option<String> {
    if is_plausible_email(&email) {
        Some(email)
    } else {
        params.reject(ApiError::InvalidEmail {
            param,
            value: email,
        });
        None
    }
}

/// `metadata[...]`: merged key by key; an empty value removes a key, and an
/// empty `metadata` removes them all.
pub fn read_metadata(params: &mut Params<'_>) -> MetadataUpdate {
    let mut metadata = match params.clearable_hash("metadata") {
        Err(Cleared) => return MetadataUpdate::Clear,
        Ok(None) => return MetadataUpdate::Keep,
        Ok(Some(metadata)) => metadata,
    };
    let mut entries = Vec::new();
    for (key, value) in metadata.drain() {
        match value {
            FormValue::Text(text) if text.is_empty() => entries.push((key, None)),
            FormValue::Text(text) => entries.push((key, Some(text))),
            FormValue::Hash(_) | FormValue::List(_) => {
                let param = metadata.param(&key);
                metadata.reject(ApiError::invalid(param, "Invalid string"));
            }
        }
    }
    MetadataUpdate::Merge(entries)
}
