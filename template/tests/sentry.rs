//! Sentry reporting, against a stand-in Sentry endpoint on loopback.

mod support;

use std::time::Duration;

use support::{Server, TestDatabase, receiver};
use tokio::sync::mpsc::UnboundedReceiver;
use {{crate_name}}::db::DbPool;

/// A stand-in Sentry on loopback, its DSN, and what it receives.
async fn stand_in_sentry() -> (String, UnboundedReceiver<receiver::Received>) {
    let (endpoint, received) = receiver::start("/api/{project}/envelope/").await;
    (endpoint.replacen("http://", "http://public@", 1) + "/1", received)
}

/// Every envelope the stand-in received until none came for 2 s.
async fn envelopes(received: &mut UnboundedReceiver<receiver::Received>) -> Vec<String> {
    let mut envelopes = Vec::new();
    while let Ok(Some(envelope)) = tokio::time::timeout(Duration::from_secs(2), received.recv()).await {
        envelopes.push(String::from_utf8_lossy(&envelope.body).into_owned());
    }
    envelopes
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_error_is_reported_to_sentry() {
    let (dsn, mut received) = stand_in_sentry().await;
    let database = TestDatabase::create().await;
    let server = Server::start(&database, &[("SENTRY_DSN", dsn.as_str())]);
    let pool = DbPool::connect(&database.url).await.expect("database reachable");
    sqlx::query("DROP TABLE items").execute(&pool).await.expect("table dropped");

    let response = support::api_client().get(server.url("/api/v1/items")).send().await.expect("request sent");
    assert_eq!(response.status(), 500);
    let (status, _) = server.stop();
    assert!(status.success(), "exit status {status}");

    let envelopes = envelopes(&mut received).await;
    let event = envelopes
        .iter()
        .find(|envelope| envelope.contains(r#""type":"event""#))
        .unwrap_or_else(|| panic!("no event among {} envelopes: {envelopes:?}", envelopes.len()));
    assert!(event.contains(r#""environment":"development""#), "the event lacks the environment: {event}");
}

/// The transactions Sentry received for one API request whose `sentry-trace` header
/// says the caller's trace is sampled, served with `settings`.
async fn transactions_for_a_sampled_callers_request(settings: &[(&str, &str)]) -> Vec<String> {
    let (dsn, mut received) = stand_in_sentry().await;
    let database = TestDatabase::create().await;
    let server = Server::start(&database, &[&[("SENTRY_DSN", dsn.as_str())], settings].concat());

    let response = support::api_client()
        .get(server.url("/api/v1/items"))
        .header("sentry-trace", "4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1")
        .send()
        .await
        .expect("request sent");
    assert_eq!(response.status(), 200);
    let (status, _) = server.stop();
    assert!(status.success(), "exit status {status}");

    let envelopes = envelopes(&mut received).await;
    envelopes.into_iter().filter(|envelope| envelope.contains(r#""type":"transaction""#)).collect()
}

/// At `SENTRY_TRACES_SAMPLE_RATE=0` (the default) no transaction is recorded, even for a
/// client whose `sentry-trace` header says its trace is sampled: clients do not spend
/// the quota.
#[tokio::test(flavor = "multi_thread")]
async fn a_clients_sampled_sentry_trace_records_no_transaction_by_default() {
    let transactions = transactions_for_a_sampled_callers_request(&[]).await;
    assert!(transactions.is_empty(), "expected no transaction at a sample rate of 0, saw {}: {transactions:?}", transactions.len());
}

/// Callers trusted to name their trace (`TRUST_CALLER_TRACE=true`) also decide whether it
/// is recorded: a sampled one is, at a sample rate of 0.
#[tokio::test(flavor = "multi_thread")]
async fn a_trusted_callers_sampled_sentry_trace_records_a_transaction_at_a_sample_rate_of_0() {
    let transactions = transactions_for_a_sampled_callers_request(&[("TRUST_CALLER_TRACE", "true")]).await;
    assert!(
        transactions.iter().any(|transaction| transaction.contains("4bf92f3577b34da6a3ce929d0e0e4736")),
        "expected a transaction in the caller's trace, saw {}: {transactions:?}",
        transactions.len()
    );
}

/// The probes, asked every few seconds, record no transaction even when every request is
/// sampled; an API request beside them does.
#[tokio::test(flavor = "multi_thread")]
async fn the_probes_record_no_transaction_when_every_request_is_sampled() {
    let (dsn, mut received) = stand_in_sentry().await;
    let database = TestDatabase::create().await;
    let server = Server::start(&database, &[("SENTRY_DSN", dsn.as_str()), ("SENTRY_TRACES_SAMPLE_RATE", "1.0")]);

    for path in ["/health", "/health/ready", "/api/v1/items"] {
        let response = support::api_client().get(server.url(path)).send().await.expect("request sent");
        assert_eq!(response.status(), 200, "GET {path}");
    }
    let (status, _) = server.stop();
    assert!(status.success(), "exit status {status}");

    let envelopes = envelopes(&mut received).await;
    let transactions: Vec<_> = envelopes.iter().filter(|envelope| envelope.contains(r#""type":"transaction""#)).collect();
    assert!(transactions.iter().any(|transaction| transaction.contains("/api/v1/items")), "expected the API request's transaction, saw {transactions:?}");
    assert!(!transactions.iter().any(|transaction| transaction.contains("/health")), "expected no probe's transaction, saw {transactions:?}");
}

/// `SENTRY_DSN=` in an env file (as `.env.production.example` has it) leaves reporting off.
#[tokio::test]
async fn an_empty_sentry_dsn_starts_the_service_with_reporting_off() {
    support::assert_serves_with(&[("SENTRY_DSN", "")]).await;
}

#[test]
fn an_invalid_sentry_dsn_is_refused_naming_its_variable() {
    support::assert_refused_naming("SENTRY_DSN", "not a dsn");
}

/// A malformed DSN still holds its secret key: the refusal names the variable, not the value.
#[test]
fn an_invalid_sentry_dsn_is_refused_without_printing_it() {
    // `openapi` exits once its settings parse, so a DSN wrongly accepted fails the test, not hangs it.
    let output = support::run(&["openapi"], &[("SENTRY_DSN", "https://s3cret-key@sentry.example.com")]);

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "an invalid DSN was accepted");
    assert!(stderr.contains("SENTRY_DSN"), "the error does not name SENTRY_DSN: {stderr}");
    assert!(!stderr.contains("s3cret-key"), "the error printed the DSN: {stderr}");
}
