//! `GET /connect-js/v1.0/connect.js`: the offline runtime for Stripe's
//! Connect.js loader (`web/connect-js/connect.js`), embedded in the binary and
//! served without authentication, cacheable, to any origin.

use std::sync::OnceLock;

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sha2::{Digest, Sha256};

use crate::http::state::AppState;

/// The runtime's source, as built into this binary.
pub const RUNTIME: &str = include_str!("../../../web/connect-js/connect.js");

/// The path it is served at: the loader's own path on Stripe's host.
pub const PATH: &str = "/connect-js/v1.0/connect.js";

/// Browsers may reuse it for five minutes without asking, then revalidate
/// with the ETag (a new binary may carry a new runtime).
const CACHE_CONTROL: &str = "public, max-age=300";

/// The runtime route.
pub fn router() -> Router<AppState> {
    Router::new().route(PATH, get(get_runtime))
}

/// The runtime's strong ETag: a digest of its bytes.
fn etag() -> &'static HeaderValue {
    static ETAG: OnceLock<HeaderValue> = OnceLock::new();
    ETAG.get_or_init(|| {
        let digest = Sha256::digest(RUNTIME.as_bytes());
        let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
        // Hex digits and quotes always make a valid header value.
        HeaderValue::from_str(&format!("\"{hex}\""))
            .unwrap_or_else(|_| HeaderValue::from_static("\"connect-js\""))
    })
}

/// The script, or 304 when the browser's copy is current.
async fn get_runtime(headers: HeaderMap) -> Response {
    let etag = etag();
    let cached = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .any(|tag| tag == "*" || tag.trim_start_matches("W/").as_bytes() == etag.as_bytes());
    let common = [
        (header::ETAG, etag.clone()),
        (
            header::CACHE_CONTROL,
            HeaderValue::from_static(CACHE_CONTROL),
        ),
    ];
    if cached {
        return (StatusCode::NOT_MODIFIED, common).into_response();
    }
    (
        common,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/javascript; charset=utf-8"),
        )],
        RUNTIME,
    )
        .into_response()
}
