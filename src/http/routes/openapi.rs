//! `GET /v1/openapi.json`: the OpenAPI document, without authentication.

use std::sync::OnceLock;

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

use crate::http::state::AppState;

/// The document route.
pub fn router() -> Router<AppState> {
    Router::new().route("/v1/openapi.json", get(get_openapi))
}

/// The document, built once.
async fn get_openapi() -> impl IntoResponse {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    let body = DOCUMENT.get_or_init(|| crate::http::openapi::document().to_string());
    ([(header::CONTENT_TYPE, "application/json")], body.as_str())
}
