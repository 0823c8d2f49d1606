//! One error type for every handler, answered as `application/problem+json`.

use axum::{
    Json,
    extract::rejection::{JsonRejection, PathRejection, QueryRejection},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;
use utoipa::ToSchema;

use crate::{auth::Refusal, db, request_id};

/// What a 503 asks clients to wait before retrying, in seconds.
const RETRY_AFTER_SECS: u64 = 5;
/// What a request shed for its body asks: the bodies ahead of it take moments to read.
const BUSY_RETRY_AFTER_SECS: u64 = 1;

/// The media type of every error answer.
pub const PROBLEM_JSON: &str = "application/problem+json";

pub type Result<T, E = AppError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The request itself is wrong: malformed JSON, a bad path or query.
    #[error("{detail}")]
    BadRequest { status: StatusCode, detail: String },
    #[error("{0}")]
    Validation(String),
    #[error("no such resource")]
    NotFound,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("{0}")]
    Conflict(String),
    /// The caller's bearer token is missing, not valid, or short of a scope; or there is
    /// no key to check it with yet.
    #[error("{}", auth_detail(*.0))]
    Auth(Refusal),
    /// Over `REQUEST_TIMEOUT_SECS`. Not 408: clients resend a 408 on their own, and a
    /// write that timed out may have been committed.
    #[error("the request took longer than the service allows; it may or may not have taken effect")]
    Timeout,
    #[error("too many requests; retry in {retry_after_secs} s")]
    TooManyRequests { retry_after_secs: u64 },
    /// More request bodies are being received at once than `MAX_BUFFERED_BODY_BYTES`
    /// allows: shed before this one is read.
    #[error("the service is receiving too many request bodies at once; retry shortly")]
    Busy,
    /// A backing service the request needs is down or overloaded: worth retrying later.
    #[error("the {dependency} is unavailable; retry later")]
    Unavailable {
        dependency: &'static str,
        #[source]
        cause: sqlx::Error,
    },
    #[error(transparent)]
    Database(sqlx::Error),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest { status, .. } => *status,
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::Auth(Refusal::Missing | Refusal::Invalid) => StatusCode::UNAUTHORIZED,
            Self::Auth(Refusal::InsufficientScope(_)) => StatusCode::FORBIDDEN,
            Self::Auth(Refusal::NoKeys) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Timeout => StatusCode::GATEWAY_TIMEOUT,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Busy | Self::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Database(_) | Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Seconds a client should wait before trying again, for the errors that pass.
    fn retry_after_secs(&self) -> Option<u64> {
        match self {
            Self::TooManyRequests { retry_after_secs } => Some(*retry_after_secs),
            Self::Busy => Some(BUSY_RETRY_AFTER_SECS),
            Self::Unavailable { .. } | Self::Auth(Refusal::NoKeys) => Some(RETRY_AFTER_SECS),
            _ => None,
        }
    }
}

/// What a refused caller is told: nothing about why a token failed, which would help
/// an attacker more than a client.
fn auth_detail(refusal: Refusal) -> String {
    match refusal {
        Refusal::Missing => "this operation needs a bearer token".into(),
        Refusal::Invalid => "the bearer token is not valid".into(),
        Refusal::InsufficientScope(scope) => format!("the bearer token does not grant the scope {scope}"),
        Refusal::NoKeys => "the keys that verify tokens are unavailable; retry later".into(),
    }
}

/// RFC 6750's challenge for a refused caller: no error code when no token was sent.
fn www_authenticate(refusal: Refusal) -> Option<String> {
    match refusal {
        Refusal::Missing => Some("Bearer".into()),
        Refusal::Invalid => Some(r#"Bearer error="invalid_token""#.into()),
        Refusal::InsufficientScope(scope) => Some(format!(r#"Bearer error="insufficient_scope", scope="{scope}""#)),
        Refusal::NoKeys => None,
    }
}

/// The body of every error answer: RFC 9457 problem details.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// Always `about:blank`: the status tells the kind of problem.
    #[serde(rename = "type")]
    #[schema(rename = "type", example = "about:blank")]
    kind: &'static str,
    /// The status's reason phrase.
    #[schema(example = "Not Found")]
    title: &'static str,
    #[schema(example = 404)]
    status: u16,
    /// What went wrong, for a person to read; never internal details.
    #[schema(example = "no such resource")]
    detail: String,
    /// The request's `x-request-id`, to find its log lines.
    #[schema(required = true)]
    request_id: Option<String>,
}

impl From<sqlx::Error> for AppError {
    fn from(error: sqlx::Error) -> Self {
        match &error {
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                Self::Conflict("a resource with the same unique field already exists".into())
            }
            _ if db::is_unavailable(&error) => Self::Unavailable {
                dependency: "database",
                cause: error,
            },
            _ => Self::Database(error),
        }
    }
}

macro_rules! from_rejection {
    ($($rejection:ty),+) => {$(
        impl From<$rejection> for AppError {
            fn from(rejection: $rejection) -> Self {
                Self::BadRequest { status: rejection.status(), detail: rejection.body_text() }
            }
        }
    )+};
}
from_rejection!(JsonRejection, PathRejection, QueryRejection);

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        // Server-side causes are logged, never sent: they can hold internal details. An
        // outage is not a bug: a warning, so that error trackers are not flooded by it.
        let detail = match &self {
            Self::Unavailable { cause, .. } => {
                tracing::warn!(error = %self, %cause, "request failed: a dependency is unavailable");
                self.to_string()
            }
            // Shedding under load, not a fault: the access line's 503 says it. Missing
            // keys were logged where they were found missing.
            Self::Busy | Self::Auth(_) => self.to_string(),
            _ if status.is_server_error() => {
                tracing::error!(error = %self, cause = ?self, "request failed");
                "an internal error occurred".to_owned()
            }
            _ => self.to_string(),
        };
        let body = Problem {
            kind: "about:blank",
            title: status.canonical_reason().unwrap_or("Error"),
            status: status.as_u16(),
            detail,
            request_id: request_id::current(),
        };
        let mut response = (status, [(header::CONTENT_TYPE, PROBLEM_JSON)], Json(body)).into_response();
        if let Some(seconds) = self.retry_after_secs() {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if let Self::Auth(refusal) = self
            && let Some(challenge) = www_authenticate(refusal).and_then(|challenge| HeaderValue::try_from(challenge).ok())
        {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, challenge);
        }
        response
    }
}
