//! Sentry: its settings, and the exporter through which panics and 5xx errors (logged
//! at ERROR) become Sentry events.

use std::{
    ffi::OsStr,
    task::{self, Poll, ready},
};

use axum::extract::{MatchedPath, Request};

use anyhow::Context;
use clap::{Args, builder::TypedValueParser, error::ErrorKind};
use secrecy::{ExposeSecret, SecretString};
use sentry::{ClientOptions, types::Dsn};
use sentry::integrations::{
    tower::{NewSentryLayer, NewSentryService, SentryHttpLayer, SentryHttpService},
    tracing::{BreadcrumbLayer, ErrorLayer, SpanLayer},
};
use tower::{Service, util::{Either, future::EitherResponseFuture}};
use tracing::Level;
use tracing_subscriber::{Layer, filter::LevelFilter, filter::filter_fn, registry::LookupSpan};

use super::Exporter;
use crate::{config::Config, routes};

/// Sentry's settings, a section of `config::Config`.
#[derive(Debug, Clone, Args)]
pub struct SentryConfig {
    /// Sentry DSN; error reporting is off when unset or empty.
    #[arg(long, env = "SENTRY_DSN", value_name = "SENTRY_DSN", value_parser = SentryDsnParser)]
    pub sentry_dsn: Option<SecretString>,
    /// Share of requests traced by Sentry performance monitoring, from 0.0 to 1.0; the probes never are.
    #[arg(long, env = "SENTRY_TRACES_SAMPLE_RATE", value_name = "SENTRY_TRACES_SAMPLE_RATE", default_value_t = 0.0, value_parser = parse_share)]
    pub sentry_traces_sample_rate: f32,
}

impl SentryConfig {
    /// The DSN to report to: `None` when unset or empty, as `SENTRY_DSN=` in an env file leaves it.
    pub fn dsn(&self) -> Option<&SecretString> {
        self.sentry_dsn.as_ref().filter(|dsn| !dsn.expose_secret().is_empty())
    }
}

/// A DSN Sentry's client accepts, kept secret; empty for none. A DSN holds a key, so
/// the refusal says why without the value, which clap would otherwise print.
#[derive(Debug, Clone, Copy)]
struct SentryDsnParser;

impl TypedValueParser for SentryDsnParser {
    type Value = SecretString;

    fn parse_ref(&self, _: &clap::Command, _: Option<&clap::Arg>, value: &OsStr) -> Result<SecretString, clap::Error> {
        let invalid = |why: String| clap::Error::raw(ErrorKind::ValueValidation, format!("SENTRY_DSN is not a valid Sentry DSN: {why}\n"));
        let dsn = value.to_str().ok_or_else(|| invalid("not UTF-8".into()))?;
        if !dsn.is_empty() {
            dsn.parse::<Dsn>().map_err(|error| invalid(error.to_string()))?;
        }
        Ok(dsn.into())
    }
}

/// A share, from 0.0 to 1.0.
fn parse_share(share: &str) -> Result<f32, String> {
    match share.parse::<f32>() {
        Ok(share) if (0.0..=1.0).contains(&share) => Ok(share),
        _ => Err(format!("`{share}` is not a number from 0.0 to 1.0")),
    }
}

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
        layer: layer(records_transactions(config)).boxed(),
        guard: Box::new(sentry::init((dsn, options))),
    }))
}

/// Whether Sentry may record a transaction: at a sample rate above 0, or for a trusted
/// caller whose `sentry-trace` says its trace is sampled. Otherwise none is ever sent, so
/// none is built: a request's transaction and spans cost more than the rest of its
/// middleware.
fn records_transactions(config: &Config) -> bool {
    config.sentry.sentry_traces_sample_rate > 0.0 || config.caller_trace.trust_caller_trace
}

/// Spans become transactions (while Sentry may record them), INFO and WARN events
/// breadcrumbs, ERROR events Sentry events.
pub fn layer<S>(records_transactions: bool) -> impl Layer<S>
where
    S: tracing::Subscriber + for<'span> LookupSpan<'span>,
{
    let spans = records_transactions.then(|| SpanLayer::new().with_filter(LevelFilter::INFO));
    let breadcrumbs = BreadcrumbLayer::new().with_filter(filter_fn(|metadata| matches!(*metadata.level(), Level::INFO | Level::WARN)));
    Layer::and_then(spans, breadcrumbs).and_then(ErrorLayer::new().with_filter(LevelFilter::ERROR))
}

/// Sentry's hub for each request but the probes', and its transaction while Sentry may
/// record one: orchestrators ask for the probes every few seconds, and nobody needs them
/// in Sentry.
#[derive(Debug, Clone, Copy)]
pub struct SentryRequestLayer {
    transactions: bool,
}

impl SentryRequestLayer {
    pub fn new(config: &Config) -> Self {
        Self {
            transactions: records_transactions(config),
        }
    }
}

impl<S: Clone> tower::Layer<S> for SentryRequestLayer {
    type Service = ExceptProbes<NewSentryService<SentryHttpService<S>, Request>, S>;

    fn layer(&self, inner: S) -> Self::Service {
        // The hub wraps the HTTP layer, or each request leaks a scope.
        let http = if self.transactions { SentryHttpLayer::new().enable_transaction() } else { SentryHttpLayer::new() };
        let reported = NewSentryLayer::new_from_top().layer(http.layer(inner.clone()));
        ExceptProbes { reported, probes: inner }
    }
}

/// The service of [`SentryRequestLayer`]: the probes go straight to the layers beneath.
#[derive(Clone)]
pub struct ExceptProbes<R, S> {
    reported: R,
    probes: S,
}

impl<R, S> Service<Request> for ExceptProbes<R, S>
where
    R: Service<Request>,
    S: Service<Request, Response = R::Response, Error = R::Error>,
{
    type Response = R::Response;
    type Error = R::Error;
    type Future = EitherResponseFuture<R::Future, S::Future>;

    fn poll_ready(&mut self, cx: &mut task::Context<'_>) -> Poll<Result<(), Self::Error>> {
        ready!(self.reported.poll_ready(cx))?;
        self.probes.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let probe = request.extensions().get::<MatchedPath>().is_some_and(|route| routes::is_probe(route.as_str()));
        let mut service = if probe { Either::Right(&mut self.probes) } else { Either::Left(&mut self.reported) };
        service.call(request)
    }
}
