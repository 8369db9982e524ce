//! The second step of decoding: reading a decoded tree as an endpoint's
//! parameters. [`Params`] hands out what an endpoint asks for, typed and
//! checked; [`Decoder`] collects what was wrong, and reports whatever nobody
//! took as unknown, in request order.

use indexmap::IndexMap;

use super::{FormTree, FormValue};
use crate::domain::account::FieldUpdate;
use crate::http::error::ApiError;

/// Collects what reading a request's parameters found wrong.
#[derive(Debug, Default)]
pub struct Decoder {
    key_order: Vec<String>,
    unknown: Vec<String>,
    error: Option<ApiError>,
}

impl Decoder {
    /// A decoder for a form whose keys came in `key_order`.
    pub fn new(key_order: Vec<String>) -> Self {
        Self {
            key_order,
            ..Self::default()
        }
    }

    /// The top level of `tree`, to read parameters from.
    pub fn root(&mut self, tree: FormTree) -> Params<'_> {
        Params {
            decoder: self,
            prefix: None,
            map: tree,
        }
    }

    /// Records an error; the first one recorded is the one reported.
    pub fn reject(&mut self, error: ApiError) {
        self.error.get_or_insert(error);
    }

    /// The verdict: unknown parameters first (all of them, in request order),
    /// then the first other error.
    pub fn finish(mut self) -> Result<(), ApiError> {
        if !self.unknown.is_empty() {
            let position = |param: &String| {
                self.key_order
                    .iter()
                    .position(|key| {
                        key == param
                            || key
                                .strip_prefix(param.as_str())
                                .is_some_and(|rest| rest.starts_with('['))
                    })
                    .unwrap_or(usize::MAX)
            };
            self.unknown.sort_by_cached_key(position);
            self.unknown.dedup();
            return Err(ApiError::ParameterUnknown {
                params: self.unknown,
            });
        }
        self.error.map_or(Ok(()), Err)
    }
}

/// A hash of parameters being read. Whatever is not taken from it by the time it
/// is dropped is reported as unknown.
#[derive(Debug)]
pub struct Params<'d> {
    decoder: &'d mut Decoder,
    prefix: Option<String>,
    map: IndexMap<String, FormValue>,
}

impl Drop for Params<'_> {
    fn drop(&mut self) {
        let leftovers: Vec<String> = self.map.keys().map(|key| self.param(key)).collect();
        self.decoder.unknown.extend(leftovers);
    }
}

/// What an optional parameter held.
enum Present {
    Absent,
    Empty,
    Value(FormValue),
}

impl<'d> Params<'d> {
    /// The full bracketed path of `key` inside this hash.
    pub fn param(&self, key: &str) -> String {
        match &self.prefix {
            None => key.to_owned(),
            Some(prefix) => format!("{prefix}[{key}]"),
        }
    }

    /// Records an error against this request.
    pub fn reject(&mut self, error: ApiError) {
        self.decoder.reject(error);
    }

    /// Records `key` (already taken) as unknown.
    pub fn reject_unknown(&mut self, key: &str) {
        let param = self.param(key);
        self.decoder.unknown.push(param);
    }

    /// Whether `key` was sent.
    pub fn contains(&self, key: &str) -> bool {
        self.map.contains_key(key)
    }

    fn take(&mut self, key: &str) -> Present {
        match self.map.shift_remove(key) {
            None => Present::Absent,
            Some(FormValue::Text(text)) if text.is_empty() => Present::Empty,
            Some(value) => Present::Value(value),
        }
    }

    /// Text from a value, or an error naming the shape that was expected.
    fn text(&mut self, key: &str, value: FormValue) -> Option<String> {
        match value {
            FormValue::Text(text) => Some(text),
            FormValue::Hash(_) | FormValue::List(_) => {
                let param = self.param(key);
                self.reject(ApiError::invalid(param, "Invalid string"));
                None
            }
        }
    }

    /// A value that must be present and may not be empty: absent is
    /// `parameter_missing`, empty is `parameter_invalid_empty`. Both are recorded.
    fn value_required(&mut self, key: &str) -> Option<FormValue> {
        match self.take(key) {
            Present::Absent => {
                let param = self.param(key);
                self.reject(ApiError::ParameterMissing { param });
                None
            }
            Present::Empty => {
                let param = self.param(key);
                self.reject(ApiError::ParameterInvalidEmpty { param });
                None
            }
            Present::Value(value) => Some(value),
        }
    }

    /// A value that may be absent but, once sent, cannot be unset: empty is
    /// `parameter_invalid_empty`.
    fn value_optional(&mut self, key: &str) -> Option<FormValue> {
        match self.take(key) {
            Present::Absent => None,
            Present::Empty => {
                let param = self.param(key);
                self.reject(ApiError::ParameterInvalidEmpty { param });
                None
            }
            Present::Value(value) => Some(value),
        }
    }

    /// A required string.
    pub fn required_string(&mut self, key: &str) -> Option<String> {
        let value = self.value_required(key)?;
        self.text(key, value)
    }

    /// An optional string that cannot be unset.
    pub fn optional_string(&mut self, key: &str) -> Option<String> {
        let value = self.value_optional(key)?;
        self.text(key, value)
    }

    /// An optional string that an empty value unsets.
    pub fn string_update(&mut self, key: &str) -> FieldUpdate {
        match self.take(key) {
            Present::Absent => FieldUpdate::Keep,
            Present::Empty => FieldUpdate::Clear,
            Present::Value(value) => self
                .text(key, value)
                .map_or(FieldUpdate::Keep, FieldUpdate::Set),
        }
    }

    /// Parses a boolean the way Stripe does: `true` or `false`, in any case.
    fn boolean(&mut self, key: &str, value: FormValue) -> Option<bool> {
        let text = self.text(key, value)?;
        if text.eq_ignore_ascii_case("true") {
            Some(true)
        } else if text.eq_ignore_ascii_case("false") {
            Some(false)
        } else {
            let param = self.param(key);
            self.reject(ApiError::InvalidBoolean { param, value: text });
            None
        }
    }

    /// A boolean from a value taken with [`Params::drain`].
    pub fn bool_from(&mut self, key: &str, value: FormValue) -> Option<bool> {
        if matches!(&value, FormValue::Text(text) if text.is_empty()) {
            let param = self.param(key);
            self.reject(ApiError::ParameterInvalidEmpty { param });
            return None;
        }
        self.boolean(key, value)
    }

    /// A required boolean.
    pub fn required_bool(&mut self, key: &str) -> Option<bool> {
        let value = self.value_required(key)?;
        self.boolean(key, value)
    }

    /// An optional boolean (cannot be unset).
    pub fn optional_bool(&mut self, key: &str) -> Option<bool> {
        let value = self.value_optional(key)?;
        self.boolean(key, value)
    }

    /// An optional integer within `range` (cannot be unset).
    pub fn optional_integer(
        &mut self,
        key: &str,
        range: std::ops::RangeInclusive<i64>,
    ) -> Option<i64> {
        let text = self.optional_string(key)?;
        let param = self.param(key);
        let Ok(number) = text.parse::<i64>() else {
            self.reject(ApiError::InvalidInteger { param, value: text });
            return None;
        };
        if number < *range.start() {
            self.reject(ApiError::invalid(
                param,
                format!(
                    "This value must be greater than or equal to {}.",
                    range.start()
                ),
            ));
            return None;
        }
        if number > *range.end() {
            self.reject(ApiError::invalid(
                param,
                format!("This value must be less than or equal to {}.", range.end()),
            ));
            return None;
        }
        Some(number)
    }

    /// An optional choice among `values`: anything else names the allowed spellings.
    pub fn optional_enum<T: Copy>(&mut self, key: &str, values: &[(&str, T)]) -> Option<T> {
        let text = self.optional_string(key)?;
        if let Some((_, value)) = values.iter().find(|(spelling, _)| *spelling == text) {
            return Some(*value);
        }
        let param = self.param(key);
        let message = format!(
            "Invalid {param}: must be one of {}",
            one_of(values.iter().map(|(spelling, _)| *spelling))
        );
        self.reject(ApiError::invalid(param, message));
        None
    }

    /// A nested hash from a value: `Invalid hash` for any other shape.
    pub fn child(&mut self, key: &str, value: FormValue) -> Option<Params<'_>> {
        let param = self.param(key);
        match value {
            FormValue::Hash(map) => Some(Params {
                decoder: &mut *self.decoder,
                prefix: Some(param),
                map,
            }),
            FormValue::Text(text) if text.is_empty() => {
                self.reject(ApiError::ParameterInvalidEmpty { param });
                None
            }
            FormValue::Text(_) | FormValue::List(_) => {
                self.reject(ApiError::invalid(param, "Invalid hash"));
                None
            }
        }
    }

    /// A required nested hash.
    pub fn required_hash(&mut self, key: &str) -> Option<Params<'_>> {
        match self.map.shift_remove(key) {
            None => {
                let param = self.param(key);
                self.reject(ApiError::ParameterMissing { param });
                None
            }
            Some(value) => self.child(key, value),
        }
    }

    /// An optional nested hash (cannot be unset).
    pub fn optional_hash(&mut self, key: &str) -> Option<Params<'_>> {
        let value = self.map.shift_remove(key)?;
        self.child(key, value)
    }

    /// An optional nested hash that an empty value clears (`metadata=`): `Err(())`
    /// means "clear", `Ok(None)` absent.
    pub fn clearable_hash(&mut self, key: &str) -> Result<Option<Params<'_>>, Cleared> {
        match self.map.shift_remove(key) {
            None => Ok(None),
            Some(FormValue::Text(text)) if text.is_empty() => Err(Cleared),
            Some(value) => Ok(self.child(key, value)),
        }
    }

    /// An optional array of strings, from `a[0]=…` or `a[]=…`.
    pub fn optional_string_list(&mut self, key: &str) -> Option<Vec<(String, String)>> {
        let value = self.map.shift_remove(key)?;
        let param = self.param(key);
        let items: Vec<(String, FormValue)> = match value {
            FormValue::List(items) => items
                .into_iter()
                .enumerate()
                .map(|(index, item)| (index.to_string(), item))
                .collect(),
            FormValue::Hash(map) if map.keys().all(|index| index.parse::<usize>().is_ok()) => {
                let mut indexed: Vec<(usize, String, FormValue)> = map
                    .into_iter()
                    .filter_map(|(index, item)| Some((index.parse().ok()?, index, item)))
                    .collect();
                indexed.sort_by_key(|(index, _, _)| *index);
                indexed
                    .into_iter()
                    .map(|(_, index, item)| (index, item))
                    .collect()
            }
            FormValue::Text(text) if text.is_empty() => Vec::new(),
            FormValue::Hash(_) | FormValue::Text(_) => {
                self.reject(ApiError::invalid(param, "Invalid array"));
                return None;
            }
        };
        let mut strings = Vec::with_capacity(items.len());
        for (index, item) in items {
            let item_param = format!("{param}[{index}]");
            match item {
                FormValue::Text(text) => strings.push((item_param, text)),
                FormValue::Hash(_) | FormValue::List(_) => {
                    self.reject(ApiError::invalid(item_param, "Invalid string"));
                    return None;
                }
            }
        }
        Some(strings)
    }

    /// Takes the value of `key` as sent, whatever its shape, for parameters
    /// that may be a string or a hash (`external_account`).
    pub fn take_value(&mut self, key: &str) -> Option<FormValue> {
        self.map.shift_remove(key)
    }

    /// Takes every remaining entry, for hashes whose keys are data (components, metadata).
    pub fn drain(&mut self) -> Vec<(String, FormValue)> {
        self.map.drain(..).collect()
    }
}

/// The full path of the first value inside `value`, found at `param`: what a
/// client sent, as opposed to the hash that holds it.
pub fn first_leaf_param(param: String, value: &FormValue) -> String {
    match value {
        FormValue::Text(_) => param,
        FormValue::Hash(map) => match map.iter().next() {
            Some((key, child)) => first_leaf_param(format!("{param}[{key}]"), child),
            None => param,
        },
        FormValue::List(items) => match items.first() {
            Some(child) => first_leaf_param(format!("{param}[0]"), child),
            None => param,
        },
    }
}

/// The marker for a hash sent as an empty value: "unset all of it".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cleared;

/// `a, b, or c`, for messages listing allowed values.
pub fn one_of<'a>(values: impl Iterator<Item = &'a str>) -> String {
    let values: Vec<&str> = values.collect();
    match values.as_slice() {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [first, second] => format!("{first} or {second}"),
        [init @ .., last] => format!("{}, or {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::form::{FormLimits, parse};

    #[test]
    fn leftovers_are_unknown_in_request_order_with_full_paths() {
        let form = parse(
            b"zeta=1&components[bogus][enabled]=true&account=acct_1",
            FormLimits::default(),
        )
        .unwrap();
        let mut decoder = Decoder::new(form.key_order);
        {
            let mut root = decoder.root(form.tree);
            assert_eq!(root.required_string("account").as_deref(), Some("acct_1"));
            let mut components = root.required_hash("components").unwrap();
            for (name, _) in components.drain() {
                components.reject_unknown(&name);
            }
        }
        let err = decoder.finish().unwrap_err();
        assert!(
            matches!(err, ApiError::ParameterUnknown { ref params } if params == &["zeta", "components[bogus]"])
        );
    }

    #[test]
    fn unknown_parameters_win_over_missing_ones() {
        let form = parse(b"bogus=1", FormLimits::default()).unwrap();
        let mut decoder = Decoder::new(form.key_order);
        {
            let mut root = decoder.root(form.tree);
            assert!(root.required_string("account").is_none());
        }
        assert!(matches!(
            decoder.finish(),
            Err(ApiError::ParameterUnknown { .. })
        ));
    }

    #[test]
    fn one_of_reads_like_english() {
        assert_eq!(one_of(["a"].into_iter()), "a");
        assert_eq!(one_of(["a", "b"].into_iter()), "a or b");
        assert_eq!(one_of(["a", "b", "c"].into_iter()), "a, b, or c");
    }
}
