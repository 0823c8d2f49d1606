use reqwest::header::HeaderValue;
use {{crate_name}}::db::{DbPool, MIGRATOR};

use crate::support::{
    app::{TestApp, spawn_app, spawn_app_with},
    json_body,
};

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

/// The id a 404 answer carries in its header and in its body.
async fn ids_of_a_404(app: &TestApp, sent: HeaderValue) -> (String, String) {
    let response = app
        .client
        .get(format!("{}/no/such/route", app.address))
        .header("x-request-id", sent)
        .send()
        .await
        .expect("request sent");
    let header = response.headers()["x-request-id"].to_str().expect("an ASCII id").to_owned();
    let body: serde_json::Value = json_body(response).await;
    (header, body["request_id"].as_str().unwrap_or_default().to_owned())
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn an_overlong_request_id_is_replaced_by_a_generated_one(pool: DbPool) {
    let app = spawn_app(pool).await;
    let sent = "a".repeat(10_000);

    let (header, body) = ids_of_a_404(&app, HeaderValue::from_str(&sent).expect("header")).await;

    assert!(uuid::Uuid::parse_str(&header).is_ok(), "expected a generated UUID, saw {} bytes", header.len());
    assert_eq!(body, header, "the body and the header disagree");
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn a_request_id_with_non_ascii_bytes_is_replaced_alike_in_header_and_body(pool: DbPool) {
    let app = spawn_app(pool).await;
    let sent = HeaderValue::from_bytes("café-42".as_bytes()).expect("obs-text is a valid header value");

    let (header, body) = ids_of_a_404(&app, sent).await;

    assert!(uuid::Uuid::parse_str(&header).is_ok(), "expected a generated UUID, saw {header:?}");
    assert_eq!(body, header, "the body and the header disagree");
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn a_request_id_at_the_configured_length_is_kept(pool: DbPool) {
    let app = spawn_app_with(pool, &["--max-request-id-length", "8"]).await;

    let (kept, _) = ids_of_a_404(&app, HeaderValue::from_static("12345678")).await;
    let (replaced, _) = ids_of_a_404(&app, HeaderValue::from_static("123456789")).await;

    assert_eq!(kept, "12345678");
    assert_ne!(replaced, "123456789", "an id over MAX_REQUEST_ID_LENGTH was echoed");
}
