//! Stripe's request encoding: `application/x-www-form-urlencoded` with bracket
//! nesting (`components[payments][features][refund_management]=true`), brackets
//! literal or percent-encoded, arrays as `a[0]=` or `a[]=`, spaces as `+` or `%20`.
//!
//! Decoding happens in two steps, one module each. [`decode`] turns the bytes
//! into an ordered tree of [`FormValue`]s, under explicit limits. Then each
//! endpoint reads the tree through [`params::Params`], which takes the
//! parameters it knows and reports everything left over as unknown, with its
//! full bracketed path, when it is dropped.
//!
//! We do not deserialize with serde here, although serde_qs can decode the
//! nesting: Stripe's errors need what serde's model cannot give — *every* unknown
//! parameter in one message (`Received unknown parameters: a, b`), the request's
//! own order (the `disable_stripe_user_authentication` rule names components in
//! it), and three states for optional fields (absent, empty = "unset", value).

use indexmap::IndexMap;

pub mod decode;
pub mod params;

pub use decode::{DecodedForm, FormError, FormLimits, canonical_bytes, parse};
pub use params::{Cleared, Decoder, Params, first_leaf_param, one_of};

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
