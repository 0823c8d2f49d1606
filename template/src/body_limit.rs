//! Limits on request bodies. One body: a `Content-Length` over `MAX_BODY_BYTES` is
//! refused before any of it is read (a client that asked `Expect: 100-continue` is not
//! invited to send it), and a body of unannounced length is cut off at the same limit as
//! it is read (axum's `DefaultBodyLimit`). All bodies at once: each request reserves what
//! its body may take from `MAX_BUFFERED_BODY_BYTES` before it is read, and one that finds
//! too little left is answered 503 at once, so that many connections sending large
//! bodies together cannot take more memory than the container has.

use std::sync::Arc;

use axum::{
    BoxError,
    extract::{Request, State},
    http::{StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use tokio::sync::Semaphore;
use tower::filter::Predicate;

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

/// The bytes of request bodies that may be held at once, shared by every connection.
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

/// Middleware: holds the request's share of the [`BodyBudget`] until its answer is
/// ready, or answers 503 at once when the budget has too little left.
pub async fn reserve(State(budget): State<BodyBudget>, request: Request, next: Next) -> Response {
    let Some(share) = budget.share_of(&request) else {
        return next.run(request).await;
    };
    let Ok(_reserved) = Arc::clone(&budget.bytes).try_acquire_many_owned(share) else {
        return AppError::Busy.into_response();
    };
    next.run(request).await
}
