use axum::{Json, extract::State, http::StatusCode};
use serde_json::{Value, json};

use crate::state::{AppState, Need};

/// Liveness: the process answers.
pub async fn live() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// Readiness: 503 naming what fails while a required dependency does; 200 otherwise,
/// naming an optional one (the cache) that is down as degraded.
pub async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let mut failing = Vec::new();
    let mut required_failing = false;
    for dependency in state.check_dependencies().await {
        if let Err(error) = dependency.outcome {
            tracing::warn!(dependency = dependency.name, %error, "readiness check failed");
            required_failing |= dependency.need == Need::Required;
            failing.push(dependency.name);
        }
    }
    if required_failing {
        let body = json!({ "status": "unavailable", "failing": failing });
        (StatusCode::SERVICE_UNAVAILABLE, Json(body))
    } else if failing.is_empty() {
        (StatusCode::OK, Json(json!({ "status": "ready" })))
    } else {
        (StatusCode::OK, Json(json!({ "status": "degraded", "degraded": failing })))
    }
}
