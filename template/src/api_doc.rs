//! The OpenAPI 3.1 document, derived from the handlers' `#[utoipa::path]` annotations
//! and the types they take and return (utoipa: the document is built from the code, so
//! it cannot drift from it), served at `/api/openapi.json`; and the Swagger UI at
//! `/api/docs`, whose files are built into the binary.

use axum::{
    Router,
    http::{HeaderValue, StatusCode, header},
    middleware,
    response::IntoResponse,
    routing::get,
};
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa::{
    OpenApi,
    openapi::{
        self, Content, HeaderBuilder, ObjectBuilder, Ref, RefOr, Required, Type,
        path::{Operation, ParameterBuilder, ParameterIn},
        response::{Response, ResponseBuilder},
        security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
    },
};
use utoipa_swagger_ui::{Config, SwaggerUi};

use crate::{
    auth,
    error::{AppError, PROBLEM_JSON, Problem},
    request_id,
    routes::{self, API_PREFIX},
};

pub const DOCUMENT_PATH: &str = "/api/openapi.json";
pub const DOCS_PATH: &str = "/api/docs";

/// What the Swagger UI needs beyond the service's `default-src 'none'` (its validator
/// badge, an image from validator.swagger.io, is turned off): its own scripts
/// and styles (it sets inline styles), its icons (data: URLs), and the document and
/// "Try it out" requests on this origin. Nothing from another origin.
const DOCS_CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

#[derive(OpenApi)]
#[openapi(
    info(description = "Errors are RFC 9457 problem details (`application/problem+json`, schema \
        `Problem`), with the request's id in `request_id`: 404 for a path with no route, 405 with \
        `Allow` for a method a route does not take, and each operation's own statuses below. \
        `/api/v1` is rate limited per client (429 with `Retry-After`) and needs a bearer token \
        (JWT) granting each operation's scope (401 without a valid one, 403 without the scope); \
        the probes need neither."),
    components(schemas(Problem)),
    tags(
        (name = "health", description = "Probes for orchestrators and load balancers"),
        (name = "items", description = "The example resource"),
    ),
)]
struct ApiDoc;

/// The document: `paths` (from the router) with what every operation shares.
pub fn document(paths: openapi::OpenApi) -> openapi::OpenApi {
    let mut document = ApiDoc::openapi();
    // utoipa names the package's license, an empty one when Cargo.toml declares none.
    document.info.license.take_if(|license| license.name.is_empty());
    document.merge(paths);
    document.components.get_or_insert_with(Default::default).add_security_scheme(
        auth::SECURITY_SCHEME,
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .description(Some("A JWT from the identity provider, or from `dev-token` in development"))
                .build(),
        ),
    );
    add_shared_parts(&mut document);
    document
}

/// Prints the document this build serves, as `openapi.json` holds it.
pub fn print() -> anyhow::Result<()> {
    let (_, paths) = routes::router(None, None);
    std::io::Write::write_all(&mut std::io::stdout(), to_json(&document(paths)).as_bytes())?;
    Ok(())
}

/// The document as committed in `openapi.json`: pretty JSON, ending in a newline.
pub fn to_json(document: &openapi::OpenApi) -> String {
    let mut json = document.to_pretty_json().expect("an OpenAPI document always serializes");
    json.push('\n');
    json
}

/// Serves `document` at [`DOCUMENT_PATH`], and the Swagger UI at [`DOCS_PATH`] when `with_ui`.
pub fn router<S: Clone + Send + Sync + 'static>(document: &openapi::OpenApi, with_ui: bool) -> Router<S> {
    let json = to_json(document);
    let served = Router::new().route(
        DOCUMENT_PATH,
        get(|| async move { ([(header::CONTENT_TYPE, "application/json")], json) }),
    );
    if !with_ui {
        return served;
    }
    let ui = Router::from(SwaggerUi::new(DOCS_PATH).config(Config::from(DOCUMENT_PATH).validator_url("none")))
        .layer(middleware::map_response(problem_for_missing_file))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(DOCS_CONTENT_SECURITY_POLICY),
        ));
    served.merge(ui)
}

/// The UI answers a file it does not have with an empty 404: give it the service's body.
async fn problem_for_missing_file(response: axum::response::Response) -> axum::response::Response {
    if response.status() == StatusCode::NOT_FOUND {
        AppError::NotFound.into_response()
    } else {
        response
    }
}

const REQUEST_ID: &str = "RequestId";
const RETRY_AFTER: &str = "RetryAfter";
const PROBLEM: &str = "Problem";

/// What the middleware adds to every operation, so no handler has to say it: the
/// `x-request-id` header both ways, the statuses any request can get (413, 500, 504,
/// and 429 under the rate limit), the problem+json body of every error status, and
/// `Retry-After` on 429 and 503; and the fallbacks' 404 and 405, as reusable responses.
fn add_shared_parts(document: &mut openapi::OpenApi) {
    let components = document.components.get_or_insert_with(Default::default);
    components.parameters.insert(
        REQUEST_ID.into(),
        ParameterBuilder::new()
            .name(request_id::HEADER.as_str())
            .parameter_in(ParameterIn::Header)
            .required(Required::False)
            .description(Some(
                "Echoed in the response and in its log lines; generated when absent, empty, \
                 repeated, too long (`MAX_REQUEST_ID_LENGTH`) or not printable ASCII.",
            ))
            .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
            .build()
            .into(),
    );
    components.headers.insert(
        REQUEST_ID.into(),
        HeaderBuilder::new()
            .schema(Some(ObjectBuilder::new().schema_type(Type::String).min_length(Some(1))))
            .description(Some("The request's id, as sent or generated"))
            .build()
            .into(),
    );
    components.headers.insert(
        RETRY_AFTER.into(),
        HeaderBuilder::new()
            .schema(Some(ObjectBuilder::new().schema_type(Type::String).pattern(Some("^[0-9]+$"))))
            .description(Some("Seconds to wait before retrying"))
            .build()
            .into(),
    );
    for (name, response) in fallback_responses() {
        components.responses.insert(name.to_owned(), response.into());
    }
    for (path, item) in document.paths.paths.iter_mut() {
        let rate_limited = path.starts_with(API_PREFIX);
        let operations = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch, &mut item.head, &mut item.options, &mut item.trace];
        for operation in operations.into_iter().flatten() {
            add_shared_statuses(operation, rate_limited);
            describe_every_response(operation);
            operation
                .parameters
                .get_or_insert_with(Vec::new)
                .push(RefOr::Ref(Ref::new(format!("#/components/parameters/{REQUEST_ID}"))));
        }
    }
}

fn add_shared_statuses(operation: &mut Operation, rate_limited: bool) {
    let mut shared = vec![
        (StatusCode::GATEWAY_TIMEOUT, "The request took longer than `REQUEST_TIMEOUT_SECS`; a write may or may not have taken effect"),
        (StatusCode::PAYLOAD_TOO_LARGE, "The body, or its announced `Content-Length`, is over `MAX_BODY_BYTES`"),
        (StatusCode::INTERNAL_SERVER_ERROR, "An internal error; details are in the logs only"),
    ];
    if rate_limited {
        shared.push((StatusCode::TOO_MANY_REQUESTS, "This client is over its rate limit"));
    }
    for (status, description) in shared {
        operation
            .responses
            .responses
            .entry(status.as_str().to_owned())
            .or_insert_with(|| ResponseBuilder::new().description(description).build().into());
    }
}

fn describe_every_response(operation: &mut Operation) {
    for (status, response) in operation.responses.responses.iter_mut() {
        if let RefOr::T(response) = response {
            describe(status.parse().unwrap_or_default(), response);
        }
    }
}

/// Gives an error status the problem+json body unless it has its own, and every
/// response the `x-request-id` header.
fn describe(status: u16, response: &mut Response) {
    let is_problem = status >= 400 && response.content.is_empty();
    if is_problem {
        let problem = Content::new(Some(Ref::from_schema_name(PROBLEM)));
        response.content.insert(PROBLEM_JSON.to_owned(), problem.into());
    }
    // As `AppError` sets it: readiness answers 503 with its own body, and no header.
    if is_problem && (status == 429 || status == 503) {
        response.headers.insert(header::RETRY_AFTER.as_str().to_owned(), header_ref(RETRY_AFTER));
    }
    response
        .headers
        .insert(request_id::HEADER.as_str().to_owned(), header_ref(REQUEST_ID));
}

/// The answers of the router's fallbacks, which belong to no operation: a path with no
/// route, and a method its route does not take.
fn fallback_responses() -> [(&'static str, Response); 2] {
    let mut not_found = ResponseBuilder::new().description("No route has this path").build();
    describe(404, &mut not_found);
    let allow = HeaderBuilder::new()
        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
        .description(Some("The methods the route takes"))
        .build();
    let mut method_not_allowed = ResponseBuilder::new()
        .description("The route does not take this method")
        .header(header::ALLOW.as_str(), allow)
        .build();
    describe(405, &mut method_not_allowed);
    [("NotFound", not_found), ("MethodNotAllowed", method_not_allowed)]
}

fn header_ref(name: &str) -> RefOr<openapi::Header> {
    RefOr::Ref(Ref::new(format!("#/components/headers/{name}")))
}
