use std::{
    str::FromStr,
    time::{Duration, Instant},
};

use secrecy::ExposeSecret;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use {{crate_name}}::db::{self, DbPool};

use crate::support::{
    app::{spawn_app, test_config},
    json_body,
};

/// The server CI starts has TLS on, as managed Postgres services do.
#[tokio::test]
async fn connects_over_tls_when_the_url_requires_it() {
    let config = test_config(&[]).database;
    let url = config.database_url.expose_secret();
    let separator = if url.contains('?') { '&' } else { '?' };
    let tls_url = format!("{url}{separator}sslmode=require");
    let config = test_config(&["--database-url", &tls_url]).database;

    let pool = db::connect(&config).await.expect("a TLS connection to DATABASE_URL");
    let (tls,): (bool,) = sqlx::query_as("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        .fetch_one(&pool)
        .await
        .expect("pg_stat_ssl query");

    assert!(tls, "the connection is not encrypted");
}

#[tokio::test]
async fn a_refused_connection_is_named_with_its_address_and_without_the_password() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
    let url = format!("postgres://app:hunter2@127.0.0.1:{port}/app");
    let config = test_config(&["--database-url", &url]).database;

    let started = Instant::now();
    let error = format!("{:#}", db::connect(&config).await.expect_err("nothing listens there"));

    assert!(error.contains(&format!("127.0.0.1:{port}/app")), "the address is not named: {error}");
    assert!(error.to_lowercase().contains("refused"), "the cause is not named: {error}");
    assert!(!error.contains("hunter2"), "the password leaked: {error}");
    assert!(started.elapsed() < Duration::from_secs(2), "a refusal took {:?} to report", started.elapsed());
}

#[tokio::test]
async fn a_wrong_password_is_named_without_printing_it() {
    let server = PgConnectOptions::from_str(test_config(&[]).database.database_url.expose_secret()).expect("DATABASE_URL parses");
    let url = format!(
        "postgres://{}:wrong-pass-4711@{}:{}/{}",
        server.get_username(),
        server.get_host(),
        server.get_port(),
        server.get_database().unwrap_or("postgres")
    );
    let config = test_config(&["--database-url", &url]).database;

    let error = format!("{:#}", db::connect(&config).await.expect_err("a wrong password was accepted"));

    assert!(error.contains("password authentication failed"), "the cause is not named: {error}");
    assert!(!error.contains("wrong-pass-4711"), "the password leaked: {error}");
}

/// A pool whose server accepts connections in the kernel and never answers, and the
/// listener that keeps it so.
fn silent_database() -> (DbPool, std::net::TcpListener) {
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("a local port");
    let url = format!("postgres://app:secret@{}/app", silent.local_addr().expect("its address"));
    let pool = PgPoolOptions::new()
        .acquire_timeout(Duration::from_secs(5))
        .connect_lazy(&url)
        .expect("a lazy pool");
    (pool, silent)
}

/// Readiness answers from the background check: a probe request waits on no database.
#[tokio::test]
async fn readiness_answers_503_at_once_when_the_database_does_not_answer() {
    let (pool, _silent) = silent_database();
    let app = spawn_app(pool).await;

    let started = Instant::now();
    let response = app.get("/health/ready").await;
    let took = started.elapsed();

    assert_eq!(response.status(), 503);
    assert!(took < Duration::from_millis(200), "expected readiness to answer within 200 ms, saw {took:?}");
    let body: serde_json::Value = json_body(response).await;
    assert_eq!(body["failing"], serde_json::json!(["database"]), "body: {body}");
}

/// The breaker: once the service knows the database is down, no request waits the
/// pool's acquire timeout for an answer the service already has.
#[tokio::test]
async fn while_the_database_is_known_down_the_api_answers_503_at_once() {
    let (pool, _silent) = silent_database();
    let app = spawn_app(pool).await;

    let started = Instant::now();
    let response = app.get("/api/v1/items").await;
    let took = started.elapsed();

    assert_eq!(response.status(), 503);
    assert!(response.headers().contains_key("retry-after"), "no Retry-After: {:?}", response.headers());
    assert!(took < Duration::from_millis(500), "expected 503 within 500 ms, saw {took:?} (the acquire timeout is 5 s)");
}
