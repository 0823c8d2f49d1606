//! The request id: taken from `x-request-id` or generated, echoed in the
//! response, carried by the request's log span and by every error body.

use axum::{extract::Request, http::HeaderName, middleware::Next, response::Response};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};

pub const HEADER: HeaderName = HeaderName::from_static("x-request-id");

tokio::task_local! {
    static CURRENT: String;
}

pub fn set_layer() -> SetRequestIdLayer<MakeRequestUuid> {
    SetRequestIdLayer::new(HEADER, MakeRequestUuid)
}

pub fn propagate_layer() -> PropagateRequestIdLayer {
    PropagateRequestIdLayer::new(HEADER)
}

/// The id of the request being handled, if any.
pub fn current() -> Option<String> {
    CURRENT.try_with(Clone::clone).ok()
}

pub fn of<B>(request: &axum::http::Request<B>) -> &str {
    request
        .headers()
        .get(HEADER)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
}

/// Makes the id readable by [`current`] while the rest of the stack handles the request.
pub async fn scope(request: Request, next: Next) -> Response {
    let id = of(&request).to_owned();
    CURRENT.scope(id, next.run(request)).await
}
