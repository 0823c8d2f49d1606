//! The request id: taken from `x-request-id` when it is a short printable token,
//! generated otherwise, echoed in the response, carried by the request's log span
//! and by every error body.

use std::task::{Context, Poll};

use axum::{
    extract::Request,
    http::{HeaderMap, HeaderName, HeaderValue},
};
use tokio::task::futures::TaskLocalFuture;
use tower::{Layer, Service};
use tower_http::request_id::PropagateRequestIdLayer;
use uuid::Uuid;

pub const HEADER: HeaderName = HeaderName::from_static("x-request-id");

tokio::task_local! {
    static CURRENT: String;
}

/// Gives every request a usable id in its `x-request-id` header, readable by [`current`]
/// while the layers beneath handle it. An incoming id that is empty, repeated, longer
/// than `max_length` or holds anything but printable ASCII is replaced by a generated
/// UUID: a client cannot make the service write kilobytes into every log line, nor send
/// an id that the response header, the error body and the logs would each show differently.
#[derive(Debug, Clone, Copy)]
pub struct AssignLayer {
    max_length: usize,
}

impl AssignLayer {
    pub fn new(max_length: usize) -> Self {
        Self { max_length }
    }
}

impl<S> Layer<S> for AssignLayer {
    type Service = Assign<S>;

    fn layer(&self, inner: S) -> Assign<S> {
        Assign { inner, max_length: self.max_length }
    }
}

/// The service of [`AssignLayer`]: a `tower::Service` rather than `from_fn`, which would
/// clone every layer beneath it for each request.
#[derive(Debug, Clone)]
pub struct Assign<S> {
    inner: S,
    max_length: usize,
}

impl<S: Service<Request>> Service<Request> for Assign<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = TaskLocalFuture<String, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        let id = usable(request.headers(), self.max_length).unwrap_or_else(|| Uuid::new_v4().to_string());
        // Printable ASCII, given or generated: always a valid header value.
        if let Ok(value) = HeaderValue::from_str(&id) {
            request.headers_mut().insert(HEADER, value);
        }
        CURRENT.scope(id, self.inner.call(request))
    }
}

/// The one incoming id, if it is fit to log and echo.
fn usable(headers: &HeaderMap, max_length: usize) -> Option<String> {
    let mut ids = headers.get_all(HEADER).iter();
    match (ids.next(), ids.next()) {
        (Some(id), None) if is_usable(id.as_bytes(), max_length) => id.to_str().ok().map(str::to_owned),
        _ => None,
    }
}

fn is_usable(id: &[u8], max_length: usize) -> bool {
    (1..=max_length).contains(&id.len()) && id.iter().all(u8::is_ascii_graphic)
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
