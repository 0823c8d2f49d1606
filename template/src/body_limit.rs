//! Limits on request bodies. One body: a `Content-Length` over `MAX_BODY_BYTES` is
//! refused before any of it is read (a client that asked `Expect: 100-continue` is not
//! invited to send it), and a body of unannounced length is cut off at the same limit as
//! it is read (axum's `DefaultBodyLimit`). All bodies at once: each request reserves what
//! its body may take from `MAX_BUFFERED_BODY_BYTES` before it is read, and one that finds
//! too little left is answered 503 at once, so that many connections sending large
//! bodies together cannot take more memory than the container has.

use std::{
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use axum::{
    BoxError,
    extract::Request,
    http::{StatusCode, header},
};
use pin_project_lite::pin_project;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tower::{Layer, Service, filter::Predicate};

use crate::error::AppError;

/// A `tower::filter` predicate: the request passes, or fails with [`TooLarge`].
#[derive(Debug, Clone, Copy)]
pub struct RefuseAnnouncedExcess {
    pub max_bytes: usize,
}

/// Why a request was refused, turned into its 413 answer by [`AppError::from`].
#[derive(Debug, thiserror::Error)]
#[error("the request body is larger than the limit of {max_bytes} bytes")]
pub struct TooLarge {
    max_bytes: usize,
}

/// The length a request's `Content-Length` announces, if it announces one.
fn announced_length(request: &Request) -> Option<u64> {
    request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|length| length.to_str().ok())
        .and_then(|length| length.parse::<u64>().ok())
}

impl Predicate<Request> for RefuseAnnouncedExcess {
    type Request = Request;

    fn check(&mut self, request: Request) -> Result<Request, BoxError> {
        if announced_length(&request).is_some_and(|length| length > self.max_bytes as u64) {
            return Err(TooLarge { max_bytes: self.max_bytes }.into());
        }
        Ok(request)
    }
}

impl From<&TooLarge> for AppError {
    fn from(refusal: &TooLarge) -> Self {
        AppError::BadRequest {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            detail: refusal.to_string(),
        }
    }
}

/// The bytes of request bodies that may be held at once, shared by every connection: a
/// layer whose service holds each request's share until its answer is ready, or refuses
/// it with [`OverBudget`] at once when the budget has too little left.
#[derive(Debug, Clone)]
pub struct BodyBudget {
    bytes: Arc<Semaphore>,
    max_body_bytes: usize,
}

impl BodyBudget {
    pub fn new(total_bytes: u32, max_body_bytes: usize) -> Self {
        Self { bytes: Arc::new(Semaphore::new(total_bytes as usize)), max_body_bytes }
    }

    /// What `request`'s body may take: its announced length, else the most one body
    /// may be; nothing for a request without a body.
    fn share_of(&self, request: &Request) -> Option<u32> {
        let unannounced = request.headers().contains_key(header::TRANSFER_ENCODING).then_some(self.max_body_bytes as u64);
        let bytes = announced_length(request).or(unannounced).filter(|bytes| *bytes > 0)?;
        u32::try_from(bytes.min(self.max_body_bytes as u64)).ok()
    }
}

/// Why a request was refused before its body was read, turned into its 503 answer.
#[derive(Debug, thiserror::Error)]
#[error("the request bodies being read take the whole body budget")]
pub struct OverBudget;

impl<S> Layer<S> for BodyBudget {
    type Service = Reserve<S>;

    fn layer(&self, inner: S) -> Reserve<S> {
        Reserve { inner, budget: self.clone() }
    }
}

/// The service of [`BodyBudget`]: decides in `call`, without cloning the layers beneath
/// it as `from_fn` would for each request.
#[derive(Debug, Clone)]
pub struct Reserve<S> {
    inner: S,
    budget: BodyBudget,
}

impl<S> Service<Request> for Reserve<S>
where
    S: Service<Request>,
    S::Error: Into<BoxError>,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = Reserved<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let share = self.budget.share_of(&request).map(|share| Arc::clone(&self.budget.bytes).try_acquire_many_owned(share));
        match share.transpose() {
            Ok(share) => Reserved::Answering { response: self.inner.call(request), _share: share },
            Err(_) => Reserved::Refused,
        }
    }
}

pin_project! {
    /// The answer of a request that holds its share of the budget until it is ready.
    #[project = ReservedProjection]
    pub enum Reserved<F> {
        Answering { #[pin] response: F, _share: Option<OwnedSemaphorePermit> },
        Refused,
    }
}

impl<F, T, E> Future for Reserved<F>
where
    F: Future<Output = Result<T, E>>,
    E: Into<BoxError>,
{
    type Output = Result<T, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            ReservedProjection::Answering { response, .. } => response.poll(cx).map_err(Into::into),
            ReservedProjection::Refused => Poll::Ready(Err(OverBudget.into())),
        }
    }
}
