//! Logs{% if sentry %}, error reports{% endif %}{% if otel %}, traces{% endif %}: set up once at start-up.

{% if otel -%}
mod otel;
{% endif -%}
{% if sentry -%}
mod sentry;
{% endif -%}

use std::borrow::Cow;

use anyhow::Context;
use axum::http::{Request, Uri};
use tracing::Span;
use tracing_subscriber::{
    EnvFilter, Layer, Registry, fmt, layer::SubscriberExt, util::SubscriberInitExt,
};

use crate::{
    config::{Config, LogFormat},
    request_id,
};

/// Keeps the exporters alive; dropping it flushes what they still hold.
#[must_use]
pub struct Telemetry {
{%- if sentry %}
    _sentry: Option<::sentry::ClientInitGuard>,
{%- endif %}
{%- if otel %}
    _otel: Option<otel::Guard>,
{%- endif %}
}

pub fn init(config: &Config) -> anyhow::Result<Telemetry> {
    let filter = EnvFilter::try_new(&config.log.rust_log).context("RUST_LOG is not a valid log filter")?;
{%- if otel %}
    let (otel_guard, otel_layer) = otel::init(&config.otel)?.unzip();
{%- endif %}
    tracing_subscriber::registry()
        .with(log_layer(config.log.log_format))
{%- if otel %}
        .with(otel_layer)
{%- endif %}
{%- if sentry %}
        .with(sentry::layer())
{%- endif %}
        .with(filter)
        .try_init()
        .context("a global log subscriber is already installed")?;
    Ok(Telemetry {
{%- if sentry %}
        _sentry: sentry::init(&config.sentry, config.app_env),
{%- endif %}
{%- if otel %}
        _otel: otel_guard,
{%- endif %}
    })
}

fn log_layer(format: LogFormat) -> Box<dyn Layer<Registry> + Send + Sync> {
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
{%- if otel %}
        trace_id = tracing::field::Empty,
{%- endif %}
    );
{%- if otel %}
    otel::continue_trace(&span, request.headers());
{%- endif %}
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
