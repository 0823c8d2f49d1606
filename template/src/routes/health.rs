//! Probes for orchestrators and load balancers; exempt from rate limits.

use axum::{Json, extract::State, http::StatusCode};
use serde::Serialize;
use utoipa::ToSchema;

use crate::{readiness::Need, state::AppState};

#[derive(Debug, Serialize, ToSchema)]
pub struct Liveness {
    #[schema(example = "ok")]
    status: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    status: ReadinessStatus,
    /// Optional dependencies that fail: the service answers without them.
    #[serde(skip_serializing_if = "Option::is_none")]
    degraded: Option<Vec<&'static str>>,
    /// Dependencies that fail and that the service cannot answer without.
    #[serde(skip_serializing_if = "Option::is_none")]
    failing: Option<Vec<&'static str>>,
}

#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReadinessStatus {
    Ready,
    Degraded,
    Unavailable,
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/health", tag = "health", responses(
    (status = OK, description = "The process is alive", body = Liveness),
))]
pub async fn live() -> Json<Liveness> {
    Json(Liveness { status: "ok" })
}

/// Readiness: 503 naming what fails while a required dependency does; 200 otherwise,
/// naming an optional one (the cache) that is down as degraded.
#[utoipa::path(get, path = "/health/ready", tag = "health", responses(
    (status = OK, description = "Ready, or degraded: an optional dependency fails", body = Readiness),
    (status = SERVICE_UNAVAILABLE, description = "A required dependency fails", body = Readiness),
))]
pub async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Readiness>) {
    // From the background check: a probe request makes no round trip to any dependency.
    let failing_now = state.readiness.failing();
    let required_failing = failing_now.iter().any(|(_, need)| *need == Need::Required);
    let failing: Vec<_> = failing_now.into_iter().map(|(name, _)| name).collect();
    let readiness = |status, degraded, failing| Readiness { status, degraded, failing };
    if required_failing {
        (StatusCode::SERVICE_UNAVAILABLE, Json(readiness(ReadinessStatus::Unavailable, None, Some(failing))))
    } else if failing.is_empty() {
        (StatusCode::OK, Json(readiness(ReadinessStatus::Ready, None, None)))
    } else {
        (StatusCode::OK, Json(readiness(ReadinessStatus::Degraded, Some(failing), None)))
    }
}
