//! The check in front of protected routes, and what the OpenAPI document says of it.

use std::{
    convert::Infallible,
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

use axum::{
    extract::Request,
    http::{HeaderMap, header},
    response::{IntoResponse, Response},
};
use pin_project_lite::pin_project;
use tower::{Layer, Service};
use utoipa::openapi::{
    path::Operation,
    response::ResponseBuilder,
    security::SecurityRequirement,
};
use utoipa_axum::router::OpenApiRouter;

use super::{Refusal, Scope, Verifier};
use crate::error::AppError;

/// The name of the bearer scheme in the OpenAPI document.
pub const SECURITY_SCHEME: &str = "bearer";

/// `routes`, each answering only callers whose bearer token grants `scope`, documented
/// so. Without a verifier (`AUTH_DISABLED`), every caller is answered; the document still
/// describes the tokens that a service with authentication on requires.
pub fn require<S>(scope: Scope, verifier: Option<&Verifier>, mut routes: OpenApiRouter<S>) -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
{
    for item in routes.get_openapi_mut().paths.paths.values_mut() {
        let operations = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
        for operation in operations.into_iter().flatten() {
            document(operation, scope);
        }
    }
    match verifier {
        Some(verifier) => routes.route_layer(RequireLayer { verifier: verifier.clone(), scope }),
        None => routes,
    }
}

#[derive(Clone)]
struct RequireLayer {
    verifier: Verifier,
    scope: Scope,
}

impl<S> Layer<S> for RequireLayer {
    type Service = Require<S>;

    fn layer(&self, inner: S) -> Require<S> {
        Require { inner, verifier: self.verifier.clone(), scope: self.scope }
    }
}

/// The service of [`require`]. A token the keys verified already and that grants the
/// scope is passed in `call`, straight to the routes; any other is checked in a future of
/// its own, which may wait for the keys to be fetched.
#[derive(Clone)]
pub struct Require<S> {
    inner: S,
    verifier: Verifier,
    scope: Scope,
}

impl<S> Service<Request> for Require<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Checked<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let remembered = bearer_token(request.headers()).and_then(|token| self.verifier.remembered(token));
        if remembered.is_some_and(|caller| caller.has(self.scope)) {
            return Checked::Passed { response: self.inner.call(request) };
        }
        // The service `poll_ready` made ready goes with the request; its clone stays.
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        Checked::Checking { response: Box::pin(check_then_call(self.verifier.clone(), self.scope, request, inner)) }
    }
}

pin_project! {
    /// The answer of a protected route, or the refusal.
    #[project = CheckedProjection]
    pub enum Checked<F> {
        Passed { #[pin] response: F },
        Checking { response: Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>> },
    }
}

impl<F: Future<Output = Result<Response, Infallible>>> Future for Checked<F> {
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            CheckedProjection::Passed { response } => response.poll(cx),
            CheckedProjection::Checking { response } => response.as_mut().poll(cx),
        }
    }
}

async fn check_then_call<S>(verifier: Verifier, scope: Scope, request: Request, mut inner: S) -> Result<Response, Infallible>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    match check(&verifier, scope, request.headers()).await {
        Ok(()) => inner.call(request).await,
        Err(refusal) => Ok(refusal.into_response()),
    }
}

async fn check(verifier: &Verifier, scope: Scope, headers: &HeaderMap) -> Result<(), AppError> {
    let token = bearer_token(headers).ok_or(AppError::Auth(Refusal::Missing))?;
    let caller = verifier.verify(token).await.map_err(AppError::Auth)?;
    if !caller.has(scope) {
        tracing::info!(sub = caller.sub, scope = scope.as_str(), "token lacks the scope");
        return Err(AppError::Auth(Refusal::InsufficientScope(scope)));
    }
    Ok(())
}

/// The token of an `Authorization: Bearer` header (the scheme in any case). Another
/// scheme counts as no token, as RFC 6750 asks; a header that is not text, an empty token,
/// or two headers, as an invalid one.
fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let (value, None) = (values.next()?, values.next()) else { return Some("") };
    let Ok(value) = value.to_str() else { return Some("") };
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Marks `operation` as needing a bearer token with `scope`, and lists the two refusals.
fn document(operation: &mut Operation, scope: Scope) {
    operation.security = Some(vec![SecurityRequirement::new(SECURITY_SCHEME, [scope.as_str()])]);
    let refusals = [
        ("401", "No bearer token, or one that is not valid (`WWW-Authenticate: Bearer`)".to_owned()),
        ("403", format!("The token does not grant `{scope}` (`WWW-Authenticate: Bearer error=\"insufficient_scope\"`)")),
    ];
    for (status, description) in refusals {
        operation.responses.responses.insert(status.to_owned(), ResponseBuilder::new().description(description).build().into());
    }
}
