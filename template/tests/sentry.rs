//! Sentry reporting, against a stand-in Sentry endpoint on loopback.

mod support;

use std::time::Duration;

use support::{Server, TestDatabase, receiver};
use {{crate_name}}::db::DbPool;

#[tokio::test(flavor = "multi_thread")]
async fn a_server_error_is_reported_to_sentry() {
    let (endpoint, mut received) = receiver::start("/api/{project}/envelope/").await;
    let dsn = endpoint.replacen("http://", "http://public@", 1) + "/1";
    let database = TestDatabase::create().await;
    let server = Server::start(&database, &[("SENTRY_DSN", dsn.as_str())]);
    let pool = DbPool::connect(&database.url).await.expect("database reachable");
    sqlx::query("DROP TABLE items").execute(&pool).await.expect("table dropped");

    let response = reqwest::get(server.url("/api/v1/items")).await.expect("request sent");
    assert_eq!(response.status(), 500);
    let (status, _) = server.stop();
    assert!(status.success(), "exit status {status}");

    let mut envelopes = Vec::new();
    while let Ok(Some(envelope)) = tokio::time::timeout(Duration::from_secs(2), received.recv()).await {
        envelopes.push(String::from_utf8_lossy(&envelope.body).into_owned());
    }
    let event = envelopes
        .iter()
        .find(|envelope| envelope.contains(r#""type":"event""#))
        .unwrap_or_else(|| panic!("no event among {} envelopes: {envelopes:?}", envelopes.len()));
    assert!(event.contains(r#""environment":"development""#), "the event lacks the environment: {event}");
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
