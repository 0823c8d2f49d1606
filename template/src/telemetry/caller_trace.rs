//! Whose trace a request joins. A caller's `traceparent` sets the trace id its log lines
//! carry, and a sampled `sentry-trace` makes Sentry record a transaction whatever
//! `SENTRY_TRACES_SAMPLE_RATE` says: on the public edge, any client could plant trace
//! ids in the logs or spend the quota. So the service's own settings decide, and a
//! caller's trace is continued only where `TRUST_CALLER_TRACE` says every caller is
//! trusted to name it (behind a gateway that sets these headers itself).

use axum::{
    body::Body,
    http::{HeaderName, Request},
};
use clap::Args;
use tower::util::MapRequestLayer;

/// Whose trace a request joins, a section of `config::Config`.
#[derive(Debug, Clone, Args)]
pub struct CallerTraceConfig {
    /// Continue the trace a caller names (`traceparent`, `tracestate`, `sentry-trace`,
    /// `baggage`); off, those headers are ignored. Only behind a gateway that sets them.
    #[arg(long, env = "TRUST_CALLER_TRACE", value_name = "TRUST_CALLER_TRACE", default_value_t = false, action = clap::ArgAction::Set)]
    pub trust_caller_trace: bool,
}

/// The headers through which a caller names its trace: W3C Trace Context, and Sentry's.
const TRACE_HEADERS: [HeaderName; 4] = [
    HeaderName::from_static("traceparent"),
    HeaderName::from_static("tracestate"),
    HeaderName::from_static("sentry-trace"),
    HeaderName::from_static("baggage"),
];

type ForgetTrace = MapRequestLayer<fn(Request<Body>) -> Request<Body>>;

/// Unless callers are trusted, a layer that removes their trace headers before any
/// exporter reads them.
pub fn forget_untrusted(config: &CallerTraceConfig) -> Option<ForgetTrace> {
    let forget: fn(Request<Body>) -> Request<Body> = without_trace_headers;
    (!config.trust_caller_trace).then(|| MapRequestLayer::new(forget))
}

fn without_trace_headers(mut request: Request<Body>) -> Request<Body> {
    for name in &TRACE_HEADERS {
        request.headers_mut().remove(name);
    }
    request
}
