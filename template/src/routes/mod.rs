//! The HTTP surface: every route, and the fallbacks that keep errors JSON. Routes are
//! added through utoipa-axum's `OpenApiRouter`, so the OpenAPI document lists exactly
//! the routes served.

mod extract;
mod health;
mod items;

use axum::Router;
use utoipa::openapi::OpenApi;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{auth::Verifier, error::AppError, rate_limit::RateLimitLayer, state::AppState};

/// Where versioned API routes live: rate limited and authenticated, unlike the probes.
pub const API_PREFIX: &str = "/api/v1";

/// Whether `route` is a probe's: asked every few seconds by orchestrators and load
/// balancers, so logged only at `debug`.
pub fn is_probe(route: &str) -> bool {
    matches!(route, "/health" | "/health/ready")
}

/// The routes, and the OpenAPI paths that describe them; the API's checked by
/// `verifier` (every caller is answered without one). Each route is declared at its full
/// path: a nested router would rewrite every request's URI on its way in.
pub fn router(rate_limit: Option<RateLimitLayer>, verifier: Option<&Verifier>) -> (Router<AppState>, OpenApi) {
    let api = items::router(verifier);
    let api = match rate_limit {
        Some(rate_limit) => api.layer(rate_limit),
        None => api,
    };
    OpenApiRouter::new()
        .routes(routes!(health::live))
        .routes(routes!(health::ready))
        .merge(api)
        .split_for_parts()
}

/// Answers a path with no route, and a method its route does not take, in the error
/// format. Last, once every route is in: axum gives the 405 fallback to the routes
/// that exist when it is set.
pub fn with_fallbacks(router: Router<AppState>) -> Router<AppState> {
    router
        .fallback(|| async { AppError::NotFound })
        .method_not_allowed_fallback(|| async { AppError::MethodNotAllowed })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_probes_are_exactly_the_routes_outside_the_api() {
        let (_, document) = router(None, None);
        for path in document.paths.paths.keys() {
            assert_eq!(is_probe(path), !path.starts_with(API_PREFIX), "route {path}");
        }
        for probe in ["/health", "/health/ready"] {
            assert!(document.paths.paths.contains_key(probe), "no route for the probe {probe}");
        }
    }
}
