//! The request id: taken from `x-request-id` when it is a short printable token,
//! generated otherwise, echoed in the response, carried by the request's log span
//! and by every error body.

use axum::{
    extract::{Request, State},
    http::HeaderName,
    middleware::Next,
    response::Response,
};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};

pub const HEADER: HeaderName = HeaderName::from_static("x-request-id");

tokio::task_local! {
    static CURRENT: String;
}

/// Drops an incoming id that is empty, repeated, longer than `max_length` or holds
/// anything but printable ASCII, so that [`set_layer`] generates one in its place: a
/// client cannot make the service write kilobytes into every log line, nor send an id
/// that the response header, the error body and the logs would each show differently.
pub async fn refuse_unusable(State(max_length): State<usize>, mut request: Request, next: Next) -> Response {
    let mut ids = request.headers().get_all(HEADER).iter();
    let usable = match (ids.next(), ids.next()) {
        (Some(id), None) => is_usable(id.as_bytes(), max_length),
        (None, _) => true,
        (Some(_), Some(_)) => false,
    };
    if !usable {
        request.headers_mut().remove(HEADER);
    }
    next.run(request).await
}

fn is_usable(id: &[u8], max_length: usize) -> bool {
    (1..=max_length).contains(&id.len()) && id.iter().all(u8::is_ascii_graphic)
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
