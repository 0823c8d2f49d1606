//! Refuses a body whose `Content-Length` exceeds `MAX_BODY_BYTES` before reading any
//! of it: a client that asked `Expect: 100-continue` is not invited to send it, and no
//! bandwidth is spent on a body that would be refused anyway. A body of unannounced
//! length is cut off at the same limit as it is read (axum's `DefaultBodyLimit`).

use axum::{
    BoxError,
    extract::Request,
    http::{StatusCode, header},
};
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

impl Predicate<Request> for RefuseAnnouncedExcess {
    type Request = Request;

    fn check(&mut self, request: Request) -> Result<Request, BoxError> {
        let announced = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|length| length.to_str().ok())
            .and_then(|length| length.parse::<u64>().ok());
        if announced.is_some_and(|length| length > self.max_bytes as u64) {
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
