//! OpenTelemetry: its settings, and a span per request exported over OTLP/HTTP,
//! continuing the caller's trace from its W3C `traceparent` header where
//! `TRUST_CALLER_TRACE` lets it through (`caller_trace.rs`).

use anyhow::Context;
use axum::http::{HeaderMap, Uri};
use clap::Args;
use opentelemetry::{global, trace::TraceContextExt, trace::TracerProvider};
use opentelemetry_http::HeaderExtractor;
use opentelemetry_otlp::{SpanExporter, WithExportConfig};
use opentelemetry_sdk::{Resource, propagation::TraceContextPropagator, trace::SdkTracerProvider};
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::Layer;

use super::Exporter;
use crate::config::Config;

/// The standard OpenTelemetry variables this service documents, a section of
/// `config::Config`; the exporter reads the rest of the `OTEL_*` family (headers,
/// protocol, sampler) itself.
#[derive(Debug, Clone, Args)]
pub struct OtelConfig {
    /// OTLP/HTTP collector URL (for example `http://collector:4318`); tracing export is off when unset or empty.
    #[arg(long, env = "OTEL_EXPORTER_OTLP_ENDPOINT", value_name = "OTEL_EXPORTER_OTLP_ENDPOINT", value_parser = parse_endpoint)]
    pub otel_exporter_otlp_endpoint: Option<String>,
    /// Service name attached to every span.
    #[arg(long, env = "OTEL_SERVICE_NAME", value_name = "OTEL_SERVICE_NAME", default_value = "{{project-name}}")]
    pub otel_service_name: String,
}

impl OtelConfig {
    /// The collector to export to: `None` when unset or empty.
    pub fn endpoint(&self) -> Option<&str> {
        self.otel_exporter_otlp_endpoint.as_deref().filter(|endpoint| !endpoint.is_empty())
    }
}

/// An http(s) URL with a host; empty for none.
fn parse_endpoint(endpoint: &str) -> Result<String, String> {
    let is_url = endpoint.parse::<Uri>().is_ok_and(|uri| {
        matches!(uri.scheme_str(), Some("http" | "https")) && uri.host().is_some_and(|host| !host.is_empty())
    });
    if endpoint.is_empty() || is_url {
        Ok(endpoint.to_owned())
    } else {
        Err(format!("`{endpoint}` is not an http(s) URL, for example http://collector:4318"))
    }
}

/// Flushes and stops the exporter when dropped, so the last spans are not lost on shutdown.
pub struct Guard(SdkTracerProvider);

impl Drop for Guard {
    fn drop(&mut self) {
        if let Err(error) = self.0.shutdown() {
            eprintln!("could not flush traces: {error}");
        }
    }
}

/// Starts the exporter when `OTEL_EXPORTER_OTLP_ENDPOINT` is set; `None` keeps tracing export off.
pub fn exporter(config: &Config) -> anyhow::Result<Option<Exporter>> {
    let config = &config.otel;
    let Some(endpoint) = config.endpoint() else {
        return Ok(None);
    };
    global::set_text_map_propagator(TraceContextPropagator::new());
    // The generic OTLP endpoint is a base URL: the traces path goes after it.
    let exporter = SpanExporter::builder()
        .with_http()
        .with_endpoint(format!("{}/v1/traces", endpoint.trim_end_matches('/')))
        .build()
        .context("OTEL_EXPORTER_OTLP_ENDPOINT: could not build the OTLP exporter")?;
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(
            Resource::builder()
                .with_service_name(config.otel_service_name.clone())
                .build(),
        )
        .build();
    let tracer = provider.tracer(env!("CARGO_PKG_NAME"));
    global::set_tracer_provider(provider.clone());
    Ok(Some(Exporter {
        layer: tracing_opentelemetry::layer().with_tracer(tracer).boxed(),
        guard: Box::new(Guard(provider)),
    }))
}

/// Makes `span` a child of the caller's trace, if one is trusted and sent, and records the trace id for the logs.
pub fn continue_trace(span: &Span, headers: &HeaderMap) {
    let parent = global::get_text_map_propagator(|propagator| {
        propagator.extract(&HeaderExtractor(headers))
    });
    // Fails only when no OpenTelemetry layer is installed: then there is no trace to join.
    if span.set_parent(parent).is_err() {
        return;
    }
    let trace_id = span.context().span().span_context().trace_id();
    if trace_id != opentelemetry::trace::TraceId::INVALID {
        span.record("trace_id", trace_id.to_string());
    }
}
