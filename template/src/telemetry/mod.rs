//! Logs, and the exporters chosen at generation (each in its own module): set up once at start-up.

{% if otel -%}
mod otel;
pub use otel::OtelConfig;
{% endif -%}
{% if sentry -%}
mod sentry;
pub use sentry::{SentryConfig, SentryRequestLayer};
{% endif -%}
{% if sentry or otel -%}
pub mod caller_trace;
pub use caller_trace::CallerTraceConfig;
{% endif %}
mod access_line;
#[cfg(test)]
mod captured;
mod request_log;
mod span_fields;

pub use request_log::RequestFieldsLayer;

use std::{
    borrow::Cow,
    io::{self, BufWriter},
    sync::OnceLock,
    time::Duration,
};

use anyhow::Context;
use axum::{
    extract::MatchedPath,
    http::{HeaderMap, Request, Response, Uri},
};
use tower_http::trace::{DefaultOnResponse, OnResponse};
use tracing::{Level, Span};
use tracing_appender::non_blocking::{ErrorCounter, NonBlockingBuilder};
use tracing_subscriber::{
    EnvFilter, Layer, Registry, fmt, layer::SubscriberExt, util::SubscriberInitExt,
};

use crate::{
    config::{Config, LogFormat},
    request_id, routes,
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

/// Log lines waiting for the writer thread; beyond this, new lines are dropped and
/// counted ([`dropped_log_lines`]) rather than making requests wait for stdout.
const BUFFERED_LOG_LINES: usize = 16_384;

/// Bytes gathered into one write to stdout when lines come faster than one at a time.
const STDOUT_BUFFER_BYTES: usize = 64 * 1024;

static LOG_WRITER_ERRORS: OnceLock<ErrorCounter> = OnceLock::new();

pub fn init(config: &Config) -> anyhow::Result<Telemetry> {
    let filter = EnvFilter::try_new(&config.log.rust_log).context("RUST_LOG is not a valid log filter")?;
    // Written by a thread of its own, which flushes after each batch and when dropped.
    let (stdout, stdout_guard) = NonBlockingBuilder::default()
        .buffered_lines_limit(BUFFERED_LOG_LINES)
        .lossy(true)
        .thread_name("log-writer")
        .finish(BufWriter::with_capacity(STDOUT_BUFFER_BYTES, io::stdout()));
    LOG_WRITER_ERRORS.get_or_init(|| stdout.error_counter());
    let mut layers = vec![log_layer(config.log.log_format, stdout.clone())];
    let mut guards = Vec::new();
    for start in EXPORTERS {
        if let Some(Exporter { layer, guard }) = start(config)? {
            layers.push(layer);
            guards.push(guard);
        }
    }
    if config.log.log_format == LogFormat::Json && guards.is_empty() {
        access_line::write_directly_to(stdout);
    }
    // Last, so that it flushes after the exporters, which may log while they flush.
    guards.push(Box::new(stdout_guard));
    tracing_subscriber::registry()
        .with(layers)
        .with(filter)
        .try_init()
        .context("a global log subscriber is already installed")?;
    Ok(Telemetry { _guards: guards })
}

/// Log lines dropped since start because stdout took them slower than they came.
pub fn dropped_log_lines() -> u64 {
    LOG_WRITER_ERRORS.get().map_or(0, ErrorCounter::dropped_lines) as u64
}

fn log_layer<W>(format: LogFormat, stdout: W) -> BoxedLayer
where
    W: for<'writer> fmt::MakeWriter<'writer> + Send + Sync + 'static,
{
    match format {
        LogFormat::Json => fmt::layer()
            .event_format(request_log::InRequest(fmt::format().json().flatten_event(true).with_current_span(false).with_span_list(true)))
            .fmt_fields(span_fields::SpanFields)
            .with_writer(stdout)
            .boxed(),
        LogFormat::Pretty => fmt::layer().with_writer(stdout).boxed(),
    }
}

/// The span every log line of a request is written in: at `info`, or at `debug` for
/// the probes, which orchestrators send every few seconds and nobody reads. None while
/// the service writes its access lines itself: [`request_log`] stands in for it then.
pub fn request_span<B>(request: &Request<B>) -> Span {
    if access_line::writes_directly() {
        return Span::none();
    }
    let route = request.extensions().get::<MatchedPath>().map(MatchedPath::as_str);
    macro_rules! request_span {
        ($level:expr) => {
            tracing::span!(
                $level,
                "request",
                method = %request.method(),
                uri = %loggable(request.uri()),
                route,
                request_id = request_id::of(request),
                // Set by an exporter that traces the request (OpenTelemetry); absent from the logs otherwise.
                trace_id = tracing::field::Empty,
            )
        };
    }
    let span = match request_span_level(route) {
        Level::DEBUG => request_span!(Level::DEBUG),
        _ => request_span!(Level::INFO),
    };
    for on_request_span in ON_REQUEST_SPAN {
        on_request_span(&span, request.headers());
    }
    span
}

fn request_span_level(route: Option<&str>) -> Level {
    if route.is_some_and(routes::is_probe) { Level::DEBUG } else { Level::INFO }
}

/// Whether the log filter lets the request span through at `level`, as it decides for the span.
fn request_span_enabled(level: Level) -> bool {
    match level {
        Level::DEBUG => tracing::span_enabled!(Level::DEBUG),
        _ => tracing::span_enabled!(Level::INFO),
    }
}

/// The access log: one line per answered request, at its span's level, so nothing is
/// written for a request whose span the filter left out.
#[derive(Debug, Clone, Copy)]
pub struct AccessLog;

impl<B> OnResponse<B> for AccessLog {
    fn on_response(self, response: &Response<B>, latency: Duration, span: &Span) {
        if let Some(metadata) = span.metadata().filter(|_| !span.is_disabled()) {
            DefaultOnResponse::new().level(*metadata.level()).on_response(response, latency, span);
        } else {
            request_log::with_current(|fields| access_line::write(response.status(), latency, fields));
        }
    }
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
