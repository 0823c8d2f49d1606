//! The check in front of protected routes, and what the OpenAPI document says of it.

use axum::{
    extract::{Request, State},
    http::{HeaderMap, header},
    middleware::{self, Next},
    response::Response,
};
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
        Some(verifier) => routes.route_layer(middleware::from_fn_with_state((verifier.clone(), scope), check)),
        None => routes,
    }
}

async fn check(State((verifier, scope)): State<(Verifier, Scope)>, request: Request, next: Next) -> Result<Response, AppError> {
    let token = bearer_token(request.headers()).ok_or(AppError::Auth(Refusal::Missing))?;
    let caller = verifier.verify(token).await.map_err(AppError::Auth)?;
    if !caller.has(scope) {
        tracing::info!(sub = caller.sub, scope = scope.as_str(), "token lacks the scope");
        return Err(AppError::Auth(Refusal::InsufficientScope(scope)));
    }
    Ok(next.run(request).await)
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
