//! OpenTelemetry export, against an OTLP/HTTP receiver on loopback.

mod support;

use std::time::Duration;

use support::{Server, TestDatabase, receiver};

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

/// One API request naming the caller's trace, served with `TRUST_CALLER_TRACE=trusted`:
/// the service's log lines and what reached the OTLP receiver.
async fn serve_one_traced_request(trusted: &str) -> (Vec<String>, Vec<receiver::Received>) {
    let (endpoint, mut received) = receiver::start("/v1/traces").await;
    let database = TestDatabase::create().await;
    let server = Server::start(&database, &[("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()), ("TRUST_CALLER_TRACE", trusted)]);

    support::api_client()
        // An API request: probes are traced and logged only at debug.
        .get(server.url("/api/v1/items/424242"))
        .header("traceparent", TRACEPARENT)
        .send()
        .await
        .expect("request sent");
    let (status, lines) = server.stop();
    assert!(status.success(), "exit status {status}");

    let mut exports = Vec::new();
    while let Ok(Some(export)) = tokio::time::timeout(Duration::from_millis(500), received.recv()).await {
        exports.push(export);
    }
    (lines, exports)
}

/// Whether an export holds the caller's trace id, in the binary form OTLP sends.
fn carries_the_callers_trace(export: &receiver::Received) -> bool {
    let trace_id = (0..TRACE_ID.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&TRACE_ID[i..i + 2], 16).expect("hex"))
        .collect::<Vec<_>>();
    export.body.windows(trace_id.len()).any(|window| window == trace_id)
}

fn access_line(lines: &[String]) -> &str {
    lines
        .iter()
        .find(|line| line.contains("finished processing request"))
        .unwrap_or_else(|| panic!("no request log line in:\n{}", lines.join("\n")))
}

#[tokio::test(flavor = "multi_thread")]
async fn spans_are_exported_on_shutdown_in_the_callers_trace_when_callers_are_trusted() {
    let (_, exports) = serve_one_traced_request("true").await;

    assert!(!exports.is_empty(), "no OTLP export reached the receiver");
    assert!(exports.iter().any(carries_the_callers_trace), "no exported span carries the caller's trace id {TRACE_ID}");
}

#[tokio::test(flavor = "multi_thread")]
async fn request_logs_carry_the_callers_trace_id_when_callers_are_trusted() {
    let (lines, _) = serve_one_traced_request("true").await;

    let request_line = access_line(&lines);
    assert!(request_line.contains(TRACE_ID), "the request's log line lacks trace id {TRACE_ID}: {request_line}");
}

/// By default a client cannot choose the trace id its requests are logged and exported under.
#[tokio::test(flavor = "multi_thread")]
async fn a_callers_traceparent_is_ignored_by_default() {
    let (lines, exports) = serve_one_traced_request("false").await;

    let request_line = access_line(&lines);
    assert!(!request_line.contains(TRACE_ID), "expected a trace id of the service's own, saw the caller's {TRACE_ID}: {request_line}");
    assert!(request_line.contains("trace_id"), "expected the service's own trace id in: {request_line}");
    assert!(!exports.is_empty(), "no OTLP export reached the receiver");
    assert!(!exports.iter().any(carries_the_callers_trace), "an exported span carries the caller's trace id {TRACE_ID}");
}

/// `OTEL_EXPORTER_OTLP_ENDPOINT=` in an env file leaves export off.
#[tokio::test]
async fn an_empty_endpoint_starts_the_service_with_export_off() {
    support::assert_serves_with(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "")]).await;
}

#[test]
fn an_endpoint_that_is_not_a_url_is_refused_naming_its_variable() {
    support::assert_refused_naming("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318");
}
