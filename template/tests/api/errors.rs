use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
use {{crate_name}}::db::{DbPool, MIGRATOR};

use crate::support::app::{assert_problem, spawn_app, spawn_app_with};

#[sqlx::test(migrator = "MIGRATOR")]
async fn malformed_json_answers_400_problem_json(pool: DbPool) {
    let app = spawn_app(pool).await;

    let response = app
        .post_raw("/api/v1/items", "application/json", b"{\"name\":".to_vec())
        .await;

    assert_problem(response, 400).await;
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn a_body_that_is_not_json_answers_415(pool: DbPool) {
    let app = spawn_app(pool).await;

    let response = app.post_raw("/api/v1/items", "text/plain", b"hello".to_vec()).await;

    assert_problem(response, 415).await;
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn an_unknown_field_answers_422(pool: DbPool) {
    let app = spawn_app(pool).await;

    let response = app.post_json("/api/v1/items", &json!({ "name": "x", "colour": "red" })).await;

    assert_problem(response, 422).await;
}

/// A write held up past the limit: clients resend a 408 on their own, so it is not one.
#[sqlx::test(migrator = "MIGRATOR")]
async fn a_request_over_the_time_limit_answers_504_problem_json(pool: DbPool) {
    let app = spawn_app_with(pool.clone(), &["--request-timeout-secs", "1"]).await;
    // An uncommitted item of the same name holds the insert up: Postgres waits on the
    // unique index, SQLite on the write lock.
    let mut holding = pool.begin().await.expect("a transaction");
    sqlx::query("INSERT INTO items (name, description, created_at) VALUES ('held', '', '2026-01-01T00:00:00Z')")
        .execute(&mut *holding)
        .await
        .expect("item inserted");

    let started = std::time::Instant::now();
    let response = app.post_json("/api/v1/items", &json!({ "name": "held" })).await;

    let took = started.elapsed();
    assert_problem(response, 504).await;
    assert!(took < Duration::from_secs(3), "answered after {took:?}, with a 1 s limit");
    holding.rollback().await.expect("rolled back");
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn a_body_over_the_size_limit_answers_413(pool: DbPool) {
    let app = spawn_app_with(pool, &["--max-body-bytes", "64"]).await;
    let body = serde_json::to_vec(&json!({ "name": "x".repeat(200) })).expect("JSON");

    let response = app.post_raw("/api/v1/items", "application/json", body).await;

    assert_problem(response, 413).await;
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn a_non_numeric_id_answers_400(pool: DbPool) {
    let app = spawn_app(pool).await;

    let response = app.get("/api/v1/items/abc").await;

    assert_problem(response, 400).await;
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn an_unknown_route_answers_json_404(pool: DbPool) {
    let app = spawn_app(pool).await;

    let response = app.get("/no/such/route").await;

    assert_problem(response, 404).await;
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn a_wrong_method_answers_json_405(pool: DbPool) {
    let app = spawn_app(pool).await;

    let response = app.delete("/health").await;

    assert_problem(response, 405).await;
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn a_wrong_method_answer_names_the_methods_the_route_takes(pool: DbPool) {
    let app = spawn_app(pool).await;

    let response = app.delete("/api/v1/items").await;

    let allow = response.headers().get("allow").and_then(|value| value.to_str().ok()).unwrap_or_default().to_owned();
    assert_problem(response, 405).await;
    assert!(allow.contains("GET") && allow.contains("POST"), "Allow: {allow:?}");
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn a_wrong_method_on_the_api_document_answers_json_405(pool: DbPool) {
    let app = spawn_app(pool).await;

    let response = app.post_json("/api/openapi.json", &json!({})).await;

    assert_problem(response, 405).await;
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn a_database_failure_answers_500_without_its_details(pool: DbPool) {
    let app = spawn_app(pool).await;
    sqlx::query("DROP TABLE items").execute(&app.pool).await.expect("table dropped");

    let response = app.get("/api/v1/items").await;

    let body = assert_problem(response, 500).await;
    assert_eq!(body["detail"], "an internal error occurred", "body: {body}");
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn an_unreachable_database_answers_503_with_retry_after(pool: DbPool) {
    let app = spawn_app(pool).await;
    app.pool.close().await;

    let response = app.get("/api/v1/items").await;

    let retry_after = response.headers().get("retry-after").cloned();
    let body = assert_problem(response, 503).await;
    assert!(retry_after.is_some(), "no Retry-After header; body: {body}");
    assert_eq!(body["detail"], "the database is unavailable; retry later", "body: {body}");
}

/// A raw HTTP/1.1 exchange: the first line the server sends back.
async fn first_response_line(address: &str, request: &str) -> String {
    let address = address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.expect("connects");
    stream.write_all(request.as_bytes()).await.expect("request sent");
    let mut reader = tokio::io::BufReader::new(stream);
    let mut line = String::new();
    tokio::time::timeout(Duration::from_secs(5), reader.read_line(&mut line))
        .await
        .expect("an answer within 5 s")
        .expect("a line read");
    line
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn an_announced_oversized_body_is_refused_before_the_client_sends_it(pool: DbPool) {
    let app = spawn_app_with(pool, &["--max-body-bytes", "1024"]).await;
    let request = "POST /api/v1/items HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n\
                   Content-Length: 10000000\r\nExpect: 100-continue\r\n\r\n";

    let line = first_response_line(&app.address, request).await;

    assert!(line.starts_with("HTTP/1.1 413"), "expected 413 before any 100 Continue, saw {line:?}");
}
