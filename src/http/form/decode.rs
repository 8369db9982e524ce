//! The first step of decoding: bytes (a body or a query string) into an
//! ordered tree of [`FormValue`]s, under [`FormLimits`], and the canonical
//! bytes of a tree that idempotency fingerprints.

use indexmap::IndexMap;

use super::{FormTree, FormValue};
use crate::http::error::ApiError;

/// Bounds on what [`parse`] accepts, so hostile input costs little.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FormLimits {
    /// Most `key=value` pairs.
    pub max_pairs: usize,
    /// Most bracket levels below the top-level name.
    pub max_depth: usize,
    /// Most characters in one value: Stripe caps every string at 5,000.
    pub max_value_chars: usize,
}

impl Default for FormLimits {
    fn default() -> Self {
        Self {
            max_pairs: 1_000,
            max_depth: 8,
            max_value_chars: MAX_STRING_CHARS,
        }
    }
}

/// Stripe's cap on the length of any string parameter.
pub const MAX_STRING_CHARS: usize = 5_000;

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
    /// A key or value holding a control character. PostgreSQL cannot store
    /// NUL in text at all, and the others have no place in Stripe's strings,
    /// so both backends refuse them here, before anything is stored.
    #[error(
        "Invalid string: {param} contains the control character {}; only tab, line feed and carriage return are allowed in values.",
        code_point(*character)
    )]
    ControlCharacter {
        /// The parameter (its key as sent).
        param: String,
        /// The first offending character.
        character: char,
    },
    /// A value longer than [`FormLimits::max_value_chars`].
    #[error("This value must be at most {limit} characters long.")]
    TooLong {
        /// The parameter.
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
            FormError::TooDeep { param, .. }
            | FormError::Conflict { param }
            | FormError::ControlCharacter { param, .. }
            | FormError::TooLong { param, .. } => ApiError::InvalidParam { param, message },
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
        if let Some(character) = key.chars().find(|c| c.is_control()) {
            return Err(FormError::ControlCharacter {
                param: key,
                character,
            });
        }
        if let Some(character) = value.chars().find(|&c| forbidden_in_value(c)) {
            return Err(FormError::ControlCharacter {
                param: key,
                character,
            });
        }
        if value.len() > limits.max_value_chars && value.chars().count() > limits.max_value_chars {
            return Err(FormError::TooLong {
                param: key,
                limit: limits.max_value_chars,
            });
        }
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

/// Whether `c` may not appear in a value: the C0 controls (NUL among them),
/// except the tab, line feed and carriage return that free text (an address,
/// a description) may hold.
fn forbidden_in_value(c: char) -> bool {
    c.is_ascii_control() && c != '\x7f' && !matches!(c, '\t' | '\n' | '\r')
}

/// `U+0000`: how an error names a character it cannot show.
fn code_point(c: char) -> String {
    format!("U+{:04X}", u32::from(c))
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
    fn control_characters_are_refused_in_values_and_keys_except_tab_and_line_ends() {
        let refused = |input: &str| parse(input.as_bytes(), FormLimits::default()).unwrap_err();
        assert_eq!(
            refused("email=a%00b@example.com"),
            FormError::ControlCharacter {
                param: "email".to_owned(),
                character: '\0',
            }
        );
        assert!(matches!(
            refused("business_profile[name]=a%1Bb"),
            FormError::ControlCharacter { ref param, character: '\x1b' } if param == "business_profile[name]"
        ));
        assert!(matches!(
            refused("metadata[a%00]=x"),
            FormError::ControlCharacter {
                character: '\0',
                ..
            }
        ));
        assert_eq!(
            tree("address=line%09one%0D%0Aline%0Atwo")["address"],
            text("line\tone\r\nline\ntwo")
        );
    }

    #[test]
    fn values_longer_than_five_thousand_characters_are_refused() {
        let at_limit = format!("name={}", "é".repeat(5_000));
        assert!(parse(at_limit.as_bytes(), FormLimits::default()).is_ok());
        let over = format!("name={}", "a".repeat(5_001));
        assert_eq!(
            parse(over.as_bytes(), FormLimits::default()).unwrap_err(),
            FormError::TooLong {
                param: "name".to_owned(),
                limit: 5_000,
            }
        );
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
            ..FormLimits::default()
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
