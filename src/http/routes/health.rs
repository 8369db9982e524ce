//! `GET /healthz`: readiness, without authentication.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use serde_json::{Value, json};

use crate::http::error::ApiError;
use crate::http::state::AppState;

/// The health route.
pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(check_health))
}

/// 200 once the database answers a read.
async fn check_health(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    state.store.has_platforms().await?;
    Ok(Json(json!({"status": "ok"})))
}
