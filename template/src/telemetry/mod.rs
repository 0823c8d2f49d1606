//! Logs, and the exporters chosen at generation (each in its own module): set up once at start-up.

{% if otel -%}
mod otel;
{% endif -%}
{% if sentry -%}
mod sentry;
{% endif -%}

use std::borrow::Cow;

use anyhow::Context;
use axum::http::{HeaderMap, Request, Uri};
use tracing::Span;
use tracing_subscriber::{
    EnvFilter, Layer, Registry, fmt, layer::SubscriberExt, util::SubscriberInitExt,
};

use crate::{
    config::{Config, LogFormat},
    request_id,
};

/// A layer over every span and event of the service.
type BoxedLayer = Box<dyn Layer<Registry> + Send + Sync>;

/// What an exporter adds to the logs: its layer, and a guard that flushes it when dropped.
pub struct Exporter {
    layer: BoxedLayer,
    guard: Box<dyn Send>,
}

/// Starts an exporter, or gives `None` while its setting is unset.
type StartExporter = fn(&Config) -> anyhow::Result<Option<Exporter>>;

/// The exporters this service was generated with, each in its own module.
const EXPORTERS: &[StartExporter] = &[
{%- if sentry %}
    sentry::exporter,
{%- endif %}
{%- if otel %}
    otel::exporter,
{%- endif %}
];

/// What an exporter does with a request's span before the request runs.
type OnRequestSpan = fn(&Span, &HeaderMap);

const ON_REQUEST_SPAN: &[OnRequestSpan] = &[
{%- if otel %}
    otel::continue_trace,
{%- endif %}
];

/// Keeps the exporters alive; dropping it flushes what they still hold.
#[must_use]
pub struct Telemetry {
    _guards: Vec<Box<dyn Send>>,
}

pub fn init(config: &Config) -> anyhow::Result<Telemetry> {
    let filter = EnvFilter::try_new(&config.log.rust_log).context("RUST_LOG is not a valid log filter")?;
    let mut layers = vec![log_layer(config.log.log_format)];
    let mut guards = Vec::new();
    for start in EXPORTERS {
        if let Some(Exporter { layer, guard }) = start(config)? {
            layers.push(layer);
            guards.push(guard);
        }
    }
    tracing_subscriber::registry()
        .with(layers)
        .with(filter)
        .try_init()
        .context("a global log subscriber is already installed")?;
    Ok(Telemetry { _guards: guards })
}

fn log_layer(format: LogFormat) -> BoxedLayer {
    match format {
        LogFormat::Json => fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(true)
            .boxed(),
        LogFormat::Pretty => fmt::layer().boxed(),
    }
}

/// The span every log line of a request is written in.
pub fn request_span<B>(request: &Request<B>) -> Span {
    let span = tracing::info_span!(
        "request",
        method = %request.method(),
        uri = %loggable(request.uri()),
        request_id = request_id::of(request),
        // Set by an exporter that continues the caller's trace; absent from the logs otherwise.
        trace_id = tracing::field::Empty,
    );
    for on_request_span in ON_REQUEST_SPAN {
        on_request_span(&span, request.headers());
    }
    span
}

/// At most this much of a request's path and query goes into its log lines, so that a
/// client cannot decide how long the service's log lines are.
const MAX_LOGGED_URI_BYTES: usize = 512;

/// The request target as logged: cut at [`MAX_LOGGED_URI_BYTES`], saying how long it was.
fn loggable(uri: &Uri) -> Cow<'_, str> {
    let target = uri.path_and_query().map_or(uri.path(), |target| target.as_str());
    if target.len() <= MAX_LOGGED_URI_BYTES {
        return Cow::Borrowed(target);
    }
    let mut end = MAX_LOGGED_URI_BYTES;
    while !target.is_char_boundary(end) {
        end -= 1;
    }
    Cow::Owned(format!("{}...({} bytes)", &target[..end], target.len()))
}
