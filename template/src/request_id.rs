//! The request id: taken from `x-request-id` when it is a short printable token,
//! generated otherwise, echoed in the response, carried by the request's log span
//! and by every error body.

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll, ready},
};

use axum::{
    extract::Request,
    http::{HeaderMap, HeaderName, HeaderValue, Response},
};
use pin_project_lite::pin_project;
use tokio::task::futures::TaskLocalFuture;
use tower::{Layer, Service};
use uuid::Uuid;

pub const HEADER: HeaderName = HeaderName::from_static("x-request-id");

tokio::task_local! {
    static CURRENT: HeaderValue;
}

/// Gives every request a usable id in its `x-request-id` header, readable by [`current`]
/// while the layers beneath handle it, and echoes it in the response. An incoming id that
/// is empty, repeated, longer than `max_length` or holds anything but printable ASCII is
/// replaced by a generated UUID: a client cannot make the service write kilobytes into
/// every log line, nor send an id that the response header, the error body and the logs
/// would each show differently.
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

impl<S, B> Service<Request> for Assign<S>
where
    S: Service<Request, Response = Response<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Echoed<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        let id = usable(request.headers(), self.max_length).unwrap_or_else(generated);
        request.headers_mut().insert(HEADER, id.clone());
        Echoed { response: CURRENT.scope(id.clone(), self.inner.call(request)), id: Some(id) }
    }
}

pin_project! {
    /// The answer to a request, carrying its id in the `x-request-id` header.
    pub struct Echoed<F: Future> {
        #[pin]
        response: TaskLocalFuture<HeaderValue, F>,
        id: Option<HeaderValue>,
    }
}

impl<F, B, E> Future for Echoed<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut response = ready!(this.response.poll(cx))?;
        if let Some(id) = this.id.take() {
            response.headers_mut().entry(HEADER).or_insert(id);
        }
        Poll::Ready(Ok(response))
    }
}

/// A new random id, formatted on the stack rather than in a `String` of its own.
fn generated() -> HeaderValue {
    let mut text = [0; uuid::fmt::Hyphenated::LENGTH];
    HeaderValue::from_str(Uuid::new_v4().hyphenated().encode_lower(&mut text)).expect("a UUID is a valid header value")
}

/// The one incoming id, if it is fit to log and echo.
fn usable(headers: &HeaderMap, max_length: usize) -> Option<HeaderValue> {
    let mut ids = headers.get_all(HEADER).iter();
    match (ids.next(), ids.next()) {
        (Some(id), None) if is_usable(id.as_bytes(), max_length) => Some(id.clone()),
        _ => None,
    }
}

fn is_usable(id: &[u8], max_length: usize) -> bool {
    (1..=max_length).contains(&id.len()) && id.iter().all(u8::is_ascii_graphic)
}

/// The id of the request being handled, if any.
pub fn current() -> Option<String> {
    CURRENT.try_with(|id| id.to_str().map(str::to_owned)).ok()?.ok()
}

pub fn of<B>(request: &axum::http::Request<B>) -> &str {
    request
        .headers()
        .get(HEADER)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
}
