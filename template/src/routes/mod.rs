//! The HTTP surface: every route, and the fallbacks that keep errors JSON.

mod extract;
mod health;
mod items;

use axum::{Router, routing::get};

use crate::{error::AppError, state::AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/health", get(health::live))
        .route("/health/ready", get(health::ready))
        .nest("/api/v1/items", items::router())
        .fallback(|| async { AppError::NotFound })
        .method_not_allowed_fallback(|| async { AppError::MethodNotAllowed })
}
