use {{crate_name}}::db::{DbPool, MIGRATOR};

use crate::helpers::{spawn_app, spawn_app_with};

#[sqlx::test(migrator = "MIGRATOR")]
async fn a_request_id_is_generated_when_none_is_sent(pool: DbPool) {
    let app = spawn_app(pool).await;

    let response = app.get("/health").await;

    let id = response.headers().get("x-request-id").expect("x-request-id header");
    assert!(!id.is_empty());
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn an_incoming_request_id_is_echoed(pool: DbPool) {
    let app = spawn_app(pool).await;

    let response = app.get_with_header("/health", ("x-request-id", "from-the-caller")).await;

    assert_eq!(response.headers()["x-request-id"], "from-the-caller");
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn cors_allows_a_configured_origin(pool: DbPool) {
    let app = spawn_app_with(pool, &["--cors-allowed-origins", "https://app.example.com"]).await;

    let response = app.get_with_header("/health", ("origin", "https://app.example.com")).await;

    assert_eq!(response.headers()["access-control-allow-origin"], "https://app.example.com");
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn cors_ignores_an_origin_not_configured(pool: DbPool) {
    let app = spawn_app_with(pool, &["--cors-allowed-origins", "https://app.example.com"]).await;

    let response = app.get_with_header("/health", ("origin", "https://evil.example.com")).await;

    assert!(response.headers().get("access-control-allow-origin").is_none());
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn responses_tell_browsers_not_to_sniff_frame_or_run_them(pool: DbPool) {
    let app = spawn_app(pool).await;

    let response = app.get("/no/such/route").await;

    let headers = response.headers();
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert_eq!(headers["content-security-policy"], "default-src 'none'; frame-ancestors 'none'");
}
