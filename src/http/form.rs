//! Stripe's request encoding: `application/x-www-form-urlencoded` with bracket
//! nesting (`components[payments][features][refund_management]=true`), brackets
//! literal or percent-encoded, arrays as `a[0]=` or `a[]=`, spaces as `+` or `%20`.
//!
//! Decoding happens in two steps. [`parse`] turns the bytes into an ordered tree
//! of [`FormValue`]s, under explicit limits. Then each endpoint reads the tree
//! through [`Params`], which takes the parameters it knows and reports everything
//! left over as unknown, with its full bracketed path, when it is dropped.
//!
//! We do not deserialize with serde here, although serde_qs can decode the
//! nesting: Stripe's errors need what serde's model cannot give — *every* unknown
//! parameter in one message (`Received unknown parameters: a, b`), the request's
//! own order (the `disable_stripe_user_authentication` rule names components in
//! it), and three states for optional fields (absent, empty = "unset", value).

use indexmap::IndexMap;

use super::error::ApiError;
use crate::domain::account::FieldUpdate;

/// A decoded value: text, a hash of named values, or a list from `a[]=`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormValue {
    /// A leaf value.
    Text(String),
    /// `a[key]=…` entries, in request order. `a[0]=` lands here too, with key
    /// `"0"`: whether digits index an array or name a key (`metadata[0]`) is for
    /// the endpoint to say.
    Hash(IndexMap<String, FormValue>),
    /// `a[]=…` entries, in request order.
    List(Vec<FormValue>),
}

/// The top level of a decoded body or query string.
pub type FormTree = IndexMap<String, FormValue>;

/// Bounds on what [`parse`] accepts, so hostile input costs little.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FormLimits {
    /// Most `key=value` pairs.
    pub max_pairs: usize,
    /// Most bracket levels below the top-level name.
    pub max_depth: usize,
}

impl Default for FormLimits {
    fn default() -> Self {
        Self {
            max_pairs: 1_000,
            max_depth: 8,
        }
    }
}

/// Why a body could not be decoded at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormError {
    /// A key or value is not UTF-8 once percent-decoded.
    #[error("Invalid request: the body is not valid UTF-8 once percent-decoded.")]
    InvalidUtf8,
    /// More pairs than [`FormLimits::max_pairs`].
    #[error("Invalid request: too many parameters (the limit is {limit}).")]
    TooManyParams {
        /// The limit.
        limit: usize,
    },
    /// A key nested deeper than [`FormLimits::max_depth`].
    #[error("Invalid request: parameters can be nested at most {limit} levels deep.")]
    TooDeep {
        /// The offending key.
        param: String,
        /// The limit.
        limit: usize,
    },
    /// The same parameter given as text and as a hash or list.
    #[error(
        "Invalid request: the parameter {param} was given conflicting values (both as a value and as a hash or array)."
    )]
    Conflict {
        /// The parameter.
        param: String,
    },
}

impl From<FormError> for ApiError {
    fn from(error: FormError) -> Self {
        let message = error.to_string();
        match error {
            FormError::TooDeep { param, .. } | FormError::Conflict { param } => {
                ApiError::InvalidParam { param, message }
            }
            FormError::InvalidUtf8 | FormError::TooManyParams { .. } => {
                ApiError::InvalidRequest { message }
            }
        }
    }
}

/// A decoded body: the tree, and every key's bracketed path in request order
/// (used to list unknown parameters in the order they were sent).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DecodedForm {
    /// The parameters.
    pub tree: FormTree,
    /// Each pair's key, decoded, in request order.
    pub key_order: Vec<String>,
}

/// Decodes a form body or query string.
pub fn parse(input: &[u8], limits: FormLimits) -> Result<DecodedForm, FormError> {
    let mut form = DecodedForm::default();
    for pair in input.split(|&b| b == b'&').filter(|pair| !pair.is_empty()) {
        if form.key_order.len() == limits.max_pairs {
            return Err(FormError::TooManyParams {
                limit: limits.max_pairs,
            });
        }
        let (raw_key, raw_value) = match pair.iter().position(|&b| b == b'=') {
            Some(at) => (&pair[..at], &pair[at + 1..]),
            None => (pair, &b""[..]),
        };
        let key = decode_component(raw_key)?;
        if key.is_empty() {
            continue;
        }
        let value = decode_component(raw_value)?;
        let path = split_key(&key);
        if path.len() - 1 > limits.max_depth {
            return Err(FormError::TooDeep {
                param: key,
                limit: limits.max_depth,
            });
        }
        insert(&mut form.tree, &path, value, &key)?;
        form.key_order.push(key);
    }
    Ok(form)
}

/// Percent-decodes one key or value, `+` meaning space; rejects invalid UTF-8.
fn decode_component(raw: &[u8]) -> Result<String, FormError> {
    let spaced: Vec<u8> = raw
        .iter()
        .map(|&b| if b == b'+' { b' ' } else { b })
        .collect();
    let bytes: Vec<u8> = percent_encoding::percent_decode(&spaced).collect();
    String::from_utf8(bytes).map_err(|_| FormError::InvalidUtf8)
}

/// Splits `a[b][c]` into `["a", "b", "c"]` and `a[]` into `["a", ""]`. A key
/// that is not well formed (`a[b`, `a]`, `[a]`) stays one literal name, so it
/// comes back as an unknown parameter rather than being guessed at.
fn split_key(key: &str) -> Vec<&str> {
    let Some(open) = key.find('[') else {
        return vec![key];
    };
    let (head, mut rest) = key.split_at(open);
    if head.is_empty() {
        return vec![key];
    }
    let mut parts = vec![head];
    while !rest.is_empty() {
        let Some(inner) = rest.strip_prefix('[') else {
            return vec![key];
        };
        let Some(close) = inner.find(']') else {
            return vec![key];
        };
        let segment = &inner[..close];
        if segment.contains('[') {
            return vec![key];
        }
        parts.push(segment);
        rest = &inner[close + 1..];
    }
    parts
}

/// Places `value` at `path` in `tree`. A repeated leaf keeps the last value.
fn insert(tree: &mut FormTree, path: &[&str], value: String, key: &str) -> Result<(), FormError> {
    let conflict = || FormError::Conflict {
        param: key.to_owned(),
    };
    let Some((first, rest)) = path.split_first() else {
        return Ok(());
    };
    match rest {
        [] => match tree.get_mut(*first) {
            Some(FormValue::Text(existing)) => {
                *existing = value;
                Ok(())
            }
            Some(_) => Err(conflict()),
            None => {
                tree.insert((*first).to_owned(), FormValue::Text(value));
                Ok(())
            }
        },
        [""] => match tree
            .entry((*first).to_owned())
            .or_insert_with(|| FormValue::List(Vec::new()))
        {
            FormValue::List(items) => {
                items.push(FormValue::Text(value));
                Ok(())
            }
            _ => Err(conflict()),
        },
        _ => match tree
            .entry((*first).to_owned())
            .or_insert_with(|| FormValue::Hash(IndexMap::new()))
        {
            FormValue::Hash(child) => insert(child, rest, value, key),
            _ => Err(conflict()),
        },
    }
}

/// The decoded parameters in one canonical byte form, equal for the same
/// parameters whatever their order, bracket encoding or array style: hash keys
/// are sorted, and a list (`a[]=`) counts as a hash indexed from 0 (`a[0]=`).
/// Array order matters. Idempotency compares keyed hashes of it.
pub fn canonical_bytes(tree: &FormTree) -> Vec<u8> {
    fn write_text(out: &mut Vec<u8>, text: &str) {
        out.extend_from_slice(&(text.len() as u64).to_le_bytes());
        out.extend_from_slice(text.as_bytes());
    }
    fn write_entries<'a>(
        out: &mut Vec<u8>,
        entries: impl Iterator<Item = (String, &'a FormValue)>,
    ) {
        let mut sorted: Vec<(String, &FormValue)> = entries.collect();
        sorted.sort_by(|a, b| a.0.cmp(&b.0));
        out.push(b'H');
        out.extend_from_slice(&(sorted.len() as u64).to_le_bytes());
        for (key, value) in sorted {
            write_text(out, &key);
            write_value(out, value);
        }
    }
    fn write_value(out: &mut Vec<u8>, value: &FormValue) {
        match value {
            FormValue::Text(text) => {
                out.push(b'T');
                write_text(out, text);
            }
            FormValue::Hash(map) => write_entries(out, map.iter().map(|(k, v)| (k.clone(), v))),
            FormValue::List(items) => {
                write_entries(
                    out,
                    items.iter().enumerate().map(|(i, v)| (i.to_string(), v)),
                );
            }
        }
    }
    let mut out = Vec::new();
    write_entries(&mut out, tree.iter().map(|(k, v)| (k.clone(), v)));
    out
}

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
    use proptest::prelude::*;

    fn tree(input: &str) -> FormTree {
        parse(input.as_bytes(), FormLimits::default()).unwrap().tree
    }

    fn text(value: &str) -> FormValue {
        FormValue::Text(value.to_owned())
    }

    fn hash(entries: &[(&str, FormValue)]) -> FormValue {
        FormValue::Hash(
            entries
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect(),
        )
    }

    #[test]
    fn nested_brackets_build_a_tree() {
        assert_eq!(
            tree(
                "account=acct_1&components[payments][enabled]=true&components[payments][features][refund_management]=false"
            ),
            [
                ("account".to_owned(), text("acct_1")),
                (
                    "components".to_owned(),
                    hash(&[(
                        "payments",
                        hash(&[
                            ("enabled", text("true")),
                            ("features", hash(&[("refund_management", text("false"))]))
                        ]),
                    )])
                ),
            ]
            .into_iter()
            .collect::<FormTree>()
        );
    }

    #[test]
    fn percent_encoded_brackets_and_both_space_encodings_decode_the_same() {
        let literal = tree("business_profile[name]=A+B%20C");
        let encoded = tree("business_profile%5Bname%5D=A%20B+C");
        assert_eq!(literal, encoded);
        assert_eq!(
            literal["business_profile"],
            hash(&[("name", text("A B C"))])
        );
    }

    #[test]
    fn indexed_and_empty_bracket_arrays_are_both_accepted() {
        assert_eq!(
            tree("expand[]=a&expand[]=b")["expand"],
            FormValue::List(vec![text("a"), text("b")])
        );
        assert_eq!(
            tree("expand[0]=a&expand[1]=b")["expand"],
            hash(&[("0", text("a")), ("1", text("b"))])
        );
    }

    #[test]
    fn malformed_keys_stay_literal() {
        assert!(tree("a[b=1").contains_key("a[b"));
        assert!(tree("a]b=1").contains_key("a]b"));
        assert!(tree("[a]=1").contains_key("[a]"));
        assert!(tree("a[b]c=1").contains_key("a[b]c"));
    }

    #[test]
    fn conflicting_shapes_are_rejected() {
        let err = parse(b"a=1&a[b]=2", FormLimits::default()).unwrap_err();
        assert_eq!(
            err,
            FormError::Conflict {
                param: "a[b]".into()
            }
        );
        assert!(parse(b"a[]=1&a[b]=2", FormLimits::default()).is_err());
    }

    #[test]
    fn limits_are_enforced() {
        let limits = FormLimits {
            max_pairs: 2,
            max_depth: 2,
        };
        assert_eq!(
            parse(b"a=1&b=2&c=3", limits),
            Err(FormError::TooManyParams { limit: 2 })
        );
        assert!(matches!(
            parse(b"a[b][c][d]=1", limits),
            Err(FormError::TooDeep { .. })
        ));
        assert!(parse(b"a[b][c]=1", limits).is_ok());
    }

    #[test]
    fn invalid_utf8_is_rejected() {
        assert_eq!(
            parse(b"a=%ff", FormLimits::default()),
            Err(FormError::InvalidUtf8)
        );
        assert_eq!(
            parse(b"a=\xff", FormLimits::default()),
            Err(FormError::InvalidUtf8)
        );
    }

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

    /// Encodes a tree the way stripe-node does (brackets literal, values escaped).
    fn encode(tree: &FormTree) -> String {
        fn walk(prefix: &str, value: &FormValue, out: &mut Vec<String>) {
            match value {
                FormValue::Text(text) => out.push(format!(
                    "{prefix}={}",
                    percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC)
                )),
                FormValue::Hash(map) => {
                    for (key, child) in map {
                        walk(&format!("{prefix}[{key}]"), child, out);
                    }
                }
                FormValue::List(items) => {
                    for item in items {
                        walk(&format!("{prefix}[]"), item, out);
                    }
                }
            }
        }
        let mut out = Vec::new();
        for (key, value) in tree {
            walk(key, value, &mut out);
        }
        out.join("&")
    }

    fn arb_tree() -> impl Strategy<Value = FormTree> {
        let leaf = "[a-z0-9 +%&=éß]{1,8}".prop_map(FormValue::Text);
        let value = leaf.prop_recursive(3, 16, 4, |inner| {
            prop_oneof![
                prop::collection::vec(("[a-z_]{1,6}", inner.clone()), 1..4)
                    .prop_map(|entries| FormValue::Hash(entries.into_iter().collect())),
                prop::collection::vec("[a-z0-9 ]{1,6}".prop_map(FormValue::Text), 1..4)
                    .prop_map(FormValue::List),
            ]
        });
        prop::collection::vec(("[a-z_]{1,6}", value), 0..5)
            .prop_map(|entries| entries.into_iter().collect())
    }

    fn fingerprint_of(input: &str) -> Vec<u8> {
        canonical_bytes(&tree(input))
    }

    #[test]
    fn fingerprints_ignore_order_and_encoding_but_not_values() {
        let base = fingerprint_of(
            "account=acct_1&components[payments][enabled]=true&expand[0]=components",
        );
        assert_eq!(
            base,
            fingerprint_of(
                "expand[]=components&components%5Bpayments%5D%5Benabled%5D=true&account=acct_1"
            )
        );
        assert_ne!(
            base,
            fingerprint_of(
                "account=acct_2&components[payments][enabled]=true&expand[0]=components"
            )
        );
        assert_ne!(
            base,
            fingerprint_of("account=acct_1&components[payments][enabled]=true")
        );
        // Array order is part of the parameters.
        assert_ne!(
            fingerprint_of("expand[]=a&expand[]=b"),
            fingerprint_of("expand[]=b&expand[]=a")
        );
        // A value is not a one-element hash.
        assert_ne!(fingerprint_of("a=b"), fingerprint_of("a[b]="));
    }

    proptest! {
        #[test]
        fn decoding_an_encoded_tree_gives_it_back(original in arb_tree()) {
            let decoded = parse(encode(&original).as_bytes(), FormLimits::default()).unwrap();
            prop_assert_eq!(decoded.tree, original);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
            let _ = parse(&bytes, FormLimits::default());
        }

        #[test]
        fn bracket_soup_never_panics(input in "[\\[\\]a-z=&%0-9]{0,64}") {
            let _ = parse(input.as_bytes(), FormLimits::default());
        }
    }
}
