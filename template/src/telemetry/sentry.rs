//! Sentry: panics and 5xx errors (logged at ERROR) become Sentry events.

use secrecy::ExposeSecret;
use sentry::{ClientInitGuard, ClientOptions};
use sentry::integrations::tracing::{BreadcrumbLayer, ErrorLayer, SpanLayer};
use tracing::Level;
use tracing_subscriber::{Layer, filter::LevelFilter, filter::filter_fn, registry::LookupSpan};

use crate::config::{AppEnv, SentryConfig};

/// Starts the client when `SENTRY_DSN` is set; `None` keeps Sentry off.
pub fn init(config: &SentryConfig, environment: AppEnv) -> Option<ClientInitGuard> {
    let dsn = config.sentry_dsn.as_ref()?;
    // `Config::validate` has checked the DSN, so `dsn()` cannot panic here.
    let options = ClientOptions::new()
        .dsn(dsn.expose_secret())
        .release(sentry::release_name!().unwrap_or_default())
        .environment(environment.as_str())
        .traces_sample_rate(config.sentry_traces_sample_rate);
    Some(sentry::init(options))
}

/// Spans become transactions, INFO and WARN events breadcrumbs, ERROR events Sentry events.
pub fn layer<S>() -> impl Layer<S>
where
    S: tracing::Subscriber + for<'span> LookupSpan<'span>,
{
    SpanLayer::new()
        .with_filter(LevelFilter::INFO)
        .and_then(BreadcrumbLayer::new().with_filter(filter_fn(|metadata| {
            matches!(*metadata.level(), Level::INFO | Level::WARN)
        })))
        .and_then(ErrorLayer::new().with_filter(LevelFilter::ERROR))
}
