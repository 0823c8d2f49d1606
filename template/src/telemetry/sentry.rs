//! Sentry: panics and 5xx errors (logged at ERROR) become Sentry events.

use anyhow::Context;
use secrecy::ExposeSecret;
use sentry::{ClientOptions, types::Dsn};
use sentry::integrations::tracing::{BreadcrumbLayer, ErrorLayer, SpanLayer};
use tracing::Level;
use tracing_subscriber::{Layer, filter::LevelFilter, filter::filter_fn, registry::LookupSpan};

use super::Exporter;
use crate::config::Config;

/// Starts the client when `SENTRY_DSN` is set; `None` keeps Sentry off.
pub fn exporter(config: &Config) -> anyhow::Result<Option<Exporter>> {
    let Some(dsn) = config.sentry.dsn() else {
        return Ok(None);
    };
    let dsn: Dsn = dsn.expose_secret().parse().context("SENTRY_DSN is not a valid Sentry DSN")?;
    let options = ClientOptions::new()
        .release(sentry::release_name!().unwrap_or_default())
        .environment(config.app_env.as_str())
        .traces_sample_rate(config.sentry.sentry_traces_sample_rate);
    Ok(Some(Exporter {
        layer: layer().boxed(),
        guard: Box::new(sentry::init((dsn, options))),
    }))
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
