//! One module per resource, each exposing `router()`; merged in [`super::router`].

pub mod account_sessions;
pub mod accounts;
pub mod health;

use super::error::ApiError;
use super::form::Params;

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
