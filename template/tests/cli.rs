//! The binary as operators and containers use it.

mod support;

use std::{
    io::{Read, Write},
    net::TcpStream,
    thread,
    time::Duration,
};

use {{crate_name}}::db::DbPool;
use support::{Server, TestDatabase, free_port, run};

#[test]
fn an_invalid_value_is_refused_naming_its_variable() {
    let output = run(&[], &[("PORT", "not-a-port")]);

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "a bad PORT was accepted");
    assert!(stderr.contains("PORT"), "the error does not name PORT: {stderr}");
}

#[test]
fn production_refuses_a_placeholder_secret() {
    let output = run(
        &[],
        &[
            ("APP_ENV", "production"),
            ("DATABASE_URL", "postgres://app:CHANGE_ME@db:5432/app"),
        ],
    );

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "a placeholder secret was accepted");
    assert!(stderr.contains("DATABASE_URL"), "the error does not name DATABASE_URL: {stderr}");
}

#[test]
fn help_documents_the_environment() {
    let output = run(&["--help"], &[]);

    let help = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success());
    for variable in ["DATABASE_URL", "PORT", "RUST_LOG", "LOG_FORMAT", "SHUTDOWN_TIMEOUT_SECS"] {
        assert!(help.contains(&format!("[env: {variable}")), "--help does not document {variable}:\n{help}");
    }
}

#[test]
fn healthcheck_fails_when_nothing_listens() {
    let port = free_port().to_string();

    let output = run(&["healthcheck"], &[("PORT", &port)]);

    assert!(!output.status.success(), "healthcheck passed with no server");
}

#[tokio::test]
async fn healthcheck_passes_against_a_running_server() {
    let database = TestDatabase::create().await;
    let server = Server::start(&database, &[]);

    let output = run(&["healthcheck"], &[("PORT", &server.port.to_string())]);

    assert!(output.status.success(), "healthcheck failed: {}", String::from_utf8_lossy(&output.stderr));
}

#[tokio::test]
async fn sigterm_stops_the_server_with_exit_code_0() {
    let database = TestDatabase::create().await;
    let server = Server::start(&database, &[]);

    let (status, lines) = server.stop();

    assert!(status.success(), "exit status {status}; logs:\n{}", lines.join("\n"));
}

#[tokio::test]
async fn a_connection_accepted_before_sigterm_still_gets_its_request_answered() {
    let database = TestDatabase::create().await;
    let server = Server::start(&database, &[]);
    let mut connection = TcpStream::connect(("127.0.0.1", server.port)).expect("connects");
    // The server accepts the connection; its request is still on the way when the signal lands.
    thread::sleep(Duration::from_millis(300));
    server.terminate();
    thread::sleep(Duration::from_millis(200));

    connection
        .write_all(b"GET /health HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        .expect("request sent");
    let mut response = Vec::new();
    let read = connection.read_to_end(&mut response);
    let (_, lines) = server.wait();

    let response = String::from_utf8_lossy(&response);
    assert!(
        response.starts_with("HTTP/1.1 200"),
        "expected a 200 response, saw {read:?} {response:?}; logs:\n{}",
        lines.join("\n")
    );
}

#[tokio::test]
async fn logs_are_json_lines_carrying_the_request_id() {
    let database = TestDatabase::create().await;
    let server = Server::start(&database, &[]);

    reqwest::Client::new()
        .get(server.url("/api/v1/items/424242"))
        .header("x-request-id", "trace-me-123")
        .send()
        .await
        .expect("request sent");
    let (_, lines) = server.stop();

    for line in &lines {
        serde_json::from_str::<serde_json::Value>(line).unwrap_or_else(|error| panic!("not JSON ({error}): {line}"));
    }
    let request_lines: Vec<_> = lines.iter().filter(|line| line.contains("/api/v1/items/424242")).collect();
    assert!(!request_lines.is_empty(), "no log line for the request:\n{}", lines.join("\n"));
    for line in request_lines {
        assert!(line.contains("trace-me-123"), "a line of the request lacks its id: {line}");
    }
}

#[tokio::test]
async fn migrate_applies_the_migrations_and_exits_0() {
    let database = TestDatabase::create().await;

    let output = run(&["migrate"], &[("DATABASE_URL", &database.url)]);

    assert!(output.status.success(), "migrate failed: {}", String::from_utf8_lossy(&output.stderr));
    let pool = DbPool::connect(&database.url).await.expect("database reachable");
    sqlx::query("SELECT count(*) FROM items").execute(&pool).await.expect("the items table exists");
}
