//! Refuses a body whose `Content-Length` exceeds `MAX_BODY_BYTES` before reading any
//! of it: a client that asked `Expect: 100-continue` is not invited to send it, and no
//! bandwidth is spent on a body that would be refused anyway. A body of unannounced
//! length is cut off at the same limit as it is read (axum's `DefaultBodyLimit`).

use axum::{
    extract::{Request, State},
    http::{StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

use crate::error::AppError;

pub async fn refuse_announced_excess(State(max_bytes): State<usize>, request: Request, next: Next) -> Response {
    let announced = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|length| length.to_str().ok())
        .and_then(|length| length.parse::<u64>().ok());
    if announced.is_some_and(|length| length > max_bytes as u64) {
        return AppError::BadRequest {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            detail: format!("the request body is larger than the limit of {max_bytes} bytes"),
        }
        .into_response();
    }
    next.run(request).await
}
