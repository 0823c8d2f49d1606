//! Builds the application from its configuration and runs it until told to stop.

use std::{future::Future, time::Duration};

use anyhow::Context;
use axum::{
    Router,
    extract::DefaultBodyLimit,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use metrics_exporter_prometheus::PrometheusHandle;
use tokio::{net::TcpListener, sync::watch};
use tower::ServiceBuilder;
use tower_http::{
    catch_panic::CatchPanicLayer,
    cors::{AllowHeaders, AllowMethods, AllowOrigin, CorsLayer},
    trace::{DefaultOnRequest, TraceLayer},
};
use tracing::Level;

use crate::{
    api_doc,
    auth::{self, Verifier},
    body_limit,
    config::{Config, HttpConfig},
    db::{self, DbPool},
    error::AppError,
    monitoring, rate_limit, refused, request_id, routes,
    server::{self, Limits},
    state::AppState,
    telemetry,
};

/// A bound, ready-to-serve application. The listeners are bound in [`App::build`],
/// so port 0 works and tests can read the real ports from [`App::port`] and
/// [`App::metrics_port`].
pub struct App {
    listener: TcpListener,
    router: Router,
    metrics_listener: TcpListener,
    metrics_router: Router,
    recorder: PrometheusHandle,
    state: AppState,
    limits: Limits,
    verifier: Option<Verifier>,
}

impl App {
    /// Connects to the database, applies migrations if configured, and binds the port.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let db = db::connect(&config.database).await?;
        if config.database.run_migrations_on_start {
            db::apply_migrations(&db).await?;
        }
        Self::build_with_pool(config, db).await
    }

    /// Like [`App::build`], on a pool the caller opened (tests pass a fresh database).
    pub async fn build_with_pool(config: Config, db: DbPool) -> anyhow::Result<Self> {
        let recorder = monitoring::recorder()?;
        let metrics_router = monitoring::router(recorder.clone(), db.clone());
        let state = AppState::new(&config, db)?;
        // Ready or not from the first request on; then kept current by `run_until_stopped`.
        state.readiness.check(&state).await;
        let verifier = auth::verifier(&config.auth).await?;
        let router = router(state.clone(), &config, verifier.as_ref());
        let limits = Limits::from(&config.http);
        let open_file_limit = server::raise_open_file_limit().context("could not raise the open-file limit")?;
        if open_file_limit < limits.max_connections as u64 + RESERVED_FILES {
            tracing::warn!(open_file_limit, max_connections = limits.max_connections, "the open-file limit leaves too little room for MAX_CONNECTIONS; lower it or raise the hard limit (ulimit -Hn)");
        }
        let listener = bind(&config.http.host, config.http.port, "PORT").await?;
        let metrics_listener = bind(&config.http.host, config.http.metrics_port, "METRICS_PORT").await?;
        tracing::info!(
            address = %listener.local_addr()?,
            metrics_address = %metrics_listener.local_addr()?,
            max_connections = limits.max_connections,
            open_file_limit,
            "listening"
        );
        Ok(Self {
            listener,
            router,
            metrics_listener,
            metrics_router,
            recorder,
            state,
            limits,
            verifier,
        })
    }

    pub fn port(&self) -> u16 {
        port_of(&self.listener)
    }

    pub fn metrics_port(&self) -> u16 {
        port_of(&self.metrics_listener)
    }

    /// Serves until `shutdown` completes. Then refuses new connections, answers those the
    /// kernel had already accepted, gives them [`server::FIRST_REQUEST_GRACE`] to send their
    /// request, and lets in-flight requests finish, all within the shutdown timeout.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let upkeep = monitoring::keep_up(self.recorder);
        let checks = tokio::spawn(self.state.readiness.clone().keep_checking(self.state.clone()));
        let key_refreshes = self.verifier.as_ref().and_then(Verifier::keep_fresh).map(tokio::spawn);
        // Both servers stop on the one signal: the public one drains, the metrics one
        // answers scrapes until then.
        let (stopping, stop) = watch::channel(());
        let stopped = |mut stop: watch::Receiver<()>| async move { stop.changed().await.ok(); };
        let (_, served, metrics_served) = tokio::join!(
            async move {
                shutdown.await;
                stopping.send_replace(());
            },
            server::serve(self.listener, self.router, self.limits, stopped(stop.clone())),
            server::serve(self.metrics_listener, self.metrics_router, self.limits, stopped(stop)),
        );
        upkeep.abort();
        checks.abort();
        if let Some(key_refreshes) = key_refreshes {
            key_refreshes.abort();
        }
        served.context("the HTTP server failed")?;
        metrics_served.context("the metrics server failed")?;
        if tokio::time::timeout(DATABASE_CLOSE_TIMEOUT, self.state.db.close()).await.is_err() {
            tracing::warn!(timeout = ?DATABASE_CLOSE_TIMEOUT, "database connections still in use after the drain; exiting without closing them");
        }
        tracing::info!("stopped");
        Ok(())
    }
}

async fn bind(host: &str, port: u16, variable: &str) -> anyhow::Result<TcpListener> {
    TcpListener::bind((host, port))
        .await
        .with_context(|| format!("could not listen on {host}:{port} ({variable})"))
}

fn port_of(listener: &TcpListener) -> u16 {
    listener.local_addr().map(|address| address.port()).unwrap_or_default()
}

/// How long the pool may take to close once the drain is over: `close` waits for every
/// connection to come back, and a request still running past the shutdown timeout holds
/// its connection.
const DATABASE_CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// File descriptors kept free of connections: the database pool, the log output and the
/// listener itself need some.
const RESERVED_FILES: u64 = 64;

/// The complete HTTP stack: routes, then middleware from the outside in.
pub fn router(state: AppState, config: &Config, verifier: Option<&Verifier>) -> Router {
    let (http, rate_limit) = (&config.http, &config.rate_limit);
    let middleware = ServiceBuilder::new()
        // Outermost, so that requests refused by any layer below are counted too.
        .layer(monitoring::track_requests())
        .layer(request_id::AssignLayer::new(usize::from(http.max_request_id_length)))
{%- if sentry or otel %}
        // Before any exporter reads them.
        .option_layer(telemetry::caller_trace::forget_untrusted(&config.caller_trace))
{%- endif %}
{%- if sentry %}
        .layer(telemetry::SentryRequestLayer::new(config))
{%- endif %}
        // Just outside the trace layer, whose span it stands in for.
        .layer(telemetry::RequestFieldsLayer)
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(telemetry::request_span)
                .on_request(DefaultOnRequest::new().level(Level::DEBUG))
                .on_response(telemetry::AccessLog),
        )
        .map_response(with_security_headers)
        // Only where browsers on other origins may call: without origins it has nothing to allow.
        .option_layer(cors(http))
        .layer(refused::AnswerLayer)
        .filter(body_limit::RefuseAnnouncedExcess { max_bytes: http.max_body_bytes })
        .layer(body_limit::BodyBudget::new(http.max_buffered_body_bytes, http.max_body_bytes))
        .timeout(http.request_timeout())
        .layer(CatchPanicLayer::custom(|_panic| {
            AppError::Internal(anyhow::anyhow!("a handler panicked")).into_response()
        }))
        .layer(DefaultBodyLimit::max(http.max_body_bytes));
    let (routes, paths) = routes::router(rate_limit::layer(rate_limit), verifier);
    let routes = routes.merge(api_doc::router(&api_doc::document(paths), http.api_docs));
    routes::with_fallbacks(routes).with_state(state).layer(middleware)
}

fn cors(http: &HttpConfig) -> Option<CorsLayer> {
    let origins: Vec<HeaderValue> = http.cors_allowed_origins.header_values().collect();
    (!origins.is_empty()).then(|| {
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods(AllowMethods::mirror_request())
            .allow_headers(AllowHeaders::mirror_request())
            .expose_headers([request_id::HEADER, header::RETRY_AFTER, header::LOCATION])
    })
}

/// A JSON API has nothing for a browser to sniff, frame, run or refer from. Each header
/// is set on every response whose handler did not set it (the docs page sets its own CSP).
fn with_security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::CONTENT_SECURITY_POLICY, "default-src 'none'; frame-ancestors 'none'"),
    ] {
        headers.entry(name).or_insert(HeaderValue::from_static(value));
    }
    response
}
