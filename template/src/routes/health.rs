use axum::{Json, extract::State, http::StatusCode};
use serde_json::{Value, json};

use crate::state::AppState;

/// Liveness: the process answers.
pub async fn live() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// Readiness: every backing service answers; otherwise 503 naming the ones that do not.
pub async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let failing: Vec<&str> = state
        .check_dependencies()
        .await
        .into_iter()
        .filter_map(|(name, outcome)| match outcome {
            Ok(()) => None,
            Err(error) => {
                tracing::warn!(dependency = name, %error, "readiness check failed");
                Some(name)
            }
        })
        .collect();
    if failing.is_empty() {
        (StatusCode::OK, Json(json!({ "status": "ready" })))
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "unavailable", "failing": failing })),
        )
    }
}
