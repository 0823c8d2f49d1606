//! Bearer tokens on `/api/v1`, through the real HTTP stack: each refusal a test that
//! fails when the check it names is missing, and the keys a provider rotates.

use std::time::{Duration, Instant};

use reqwest::{Response, header::CONTENT_TYPE};
use serde_json::{Value, json};
use {{crate_name}}::db::{DbPool, MIGRATOR};

use crate::support::{
    app::{TestApp, assert_problem, spawn_app_with},
    tokens::{AUDIENCE, CLAIM_FLAGS, KeyServer, RsaKey, claims, hmac_token, now_plus, unsigned_token},
};

const SECRET: &str = "a-shared-secret-of-at-least-32-bytes";
const BOTH_SCOPES: &str = "items:read items:write";

/// A service verifying HMAC tokens signed with [`SECRET`].
async fn hmac_app(pool: DbPool) -> TestApp {
    let flags: Vec<&str> = CLAIM_FLAGS.iter().copied().chain(["--auth-hmac-secret", SECRET]).collect();
    spawn_app_with(pool, &flags).await
}

/// A service verifying with `key`'s public key, from a PEM file.
async fn public_key_app(pool: DbPool, key: &RsaKey) -> TestApp {
    let path = std::env::temp_dir().join(format!("public-key-{}-{}.pem", std::process::id(), key.kid));
    std::fs::write(&path, &key.public_pem).expect("the key file is written");
    let path = path.to_str().expect("a UTF-8 temporary path");
    let flags: Vec<&str> = CLAIM_FLAGS.iter().copied().chain(["--auth-public-key-file", path]).collect();
    spawn_app_with(pool, &flags).await
}

/// A service verifying with the keys `server` publishes, refreshed every second.
async fn jwks_app(pool: DbPool, server: &KeyServer) -> TestApp {
    let refresh = ["--auth-jwks-refresh-secs", "1", "--auth-jwks-min-refresh-secs", "1"];
    let flags: Vec<&str> = CLAIM_FLAGS.iter().copied().chain(["--auth-jwks-url", &server.url]).chain(refresh).collect();
    spawn_app_with(pool, &flags).await
}

/// `GET /api/v1/items` with this `Authorization` header, or none.
async fn list_items(app: &TestApp, authorization: Option<&str>) -> Response {
    let request = reqwest::Client::new().get(format!("{}/api/v1/items", app.address));
    let request = match authorization {
        Some(value) => request.header("authorization", value),
        None => request,
    };
    request.send().await.expect("request sent")
}

async fn list_items_with(app: &TestApp, token: &str) -> Response {
    list_items(app, Some(&format!("Bearer {token}"))).await
}

/// Asserts a 401 problem whose challenge is `challenge`, and returns its body.
async fn assert_unauthorized(response: Response, challenge: &str) -> Value {
    let seen = response.headers().get("www-authenticate").map(|value| value.to_str().unwrap_or_default().to_owned());
    assert_eq!(seen.as_deref(), Some(challenge), "WWW-Authenticate");
    assert_problem(response, 401).await
}

const INVALID_TOKEN: &str = r#"Bearer error="invalid_token""#;

#[sqlx::test(migrator = "MIGRATOR")]
async fn a_request_without_a_token_is_answered_401_with_a_bearer_challenge(pool: DbPool) {
    let app = hmac_app(pool).await;

    let body = assert_unauthorized(list_items(&app, None).await, "Bearer").await;

    assert_eq!(body["detail"], "this operation needs a bearer token");
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn another_scheme_than_bearer_counts_as_no_token(pool: DbPool) {
    let app = hmac_app(pool).await;

    assert_unauthorized(list_items(&app, Some("Basic dXNlcjpwYXNz")).await, "Bearer").await;
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn a_token_that_is_not_a_jwt_is_refused(pool: DbPool) {
    let app = hmac_app(pool).await;

    assert_unauthorized(list_items_with(&app, "not-a-token").await, INVALID_TOKEN).await;
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn a_valid_token_with_the_scope_is_answered(pool: DbPool) {
    let app = hmac_app(pool).await;

    let response = list_items_with(&app, &hmac_token(SECRET.as_bytes(), &claims("items:read"))).await;

    assert_eq!(response.status(), 200);
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn a_token_signed_with_another_secret_is_refused(pool: DbPool) {
    let app = hmac_app(pool).await;
    let forged = hmac_token(b"another-secret-of-at-least-32-bytes!", &claims(BOTH_SCOPES));

    let body = assert_unauthorized(list_items_with(&app, &forged).await, INVALID_TOKEN).await;

    assert_eq!(body["detail"], "the bearer token is not valid", "no hint at the reason: {body}");
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn an_unsigned_token_with_alg_none_is_refused(pool: DbPool) {
    let app = hmac_app(pool).await;

    assert_unauthorized(list_items_with(&app, &unsigned_token(&claims(BOTH_SCOPES))).await, INVALID_TOKEN).await;
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn an_rs256_token_is_accepted_with_the_public_key_file(pool: DbPool) {
    let key = RsaKey::generate("file-key");
    let app = public_key_app(pool, &key).await;

    assert_eq!(list_items_with(&app, &key.sign(&claims(BOTH_SCOPES))).await.status(), 200);
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn a_token_signed_hs256_with_the_public_key_as_secret_is_refused(pool: DbPool) {
    let key = RsaKey::generate("confused-key");
    let app = public_key_app(pool, &key).await;
    let forged = hmac_token(key.public_pem.as_bytes(), &claims(BOTH_SCOPES));

    assert_unauthorized(list_items_with(&app, &forged).await, INVALID_TOKEN).await;
}

/// `claims(BOTH_SCOPES)` with `changes` applied, signed with [`SECRET`].
fn token_with(changes: Value) -> String {
    let mut claims = claims(BOTH_SCOPES);
    let fields = claims.as_object_mut().expect("claims are an object");
    for (name, value) in changes.as_object().expect("changes are an object") {
        if value.is_null() {
            fields.remove(name);
        } else {
            fields.insert(name.clone(), value.clone());
        }
    }
    hmac_token(SECRET.as_bytes(), &claims)
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn an_expired_token_is_refused(pool: DbPool) {
    let app = hmac_app(pool).await;

    let expired = token_with(json!({ "exp": now_plus(-120) }));

    assert_unauthorized(list_items_with(&app, &expired).await, INVALID_TOKEN).await;
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn a_token_expired_within_the_leeway_is_still_accepted(pool: DbPool) {
    let app = hmac_app(pool).await;

    let just_expired = token_with(json!({ "exp": now_plus(-5) }));

    assert_eq!(list_items_with(&app, &just_expired).await.status(), 200);
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn a_token_whose_expiry_has_a_fraction_of_a_second_is_accepted_twice(pool: DbPool) {
    let app = hmac_app(pool).await;

    let token = token_with(json!({ "exp": now_plus(300) as f64 + 0.5 }));

    assert_eq!(list_items_with(&app, &token).await.status(), 200, "first request");
    assert_eq!(list_items_with(&app, &token).await.status(), 200, "second request");
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn a_token_accepted_before_is_refused_once_it_expires(pool: DbPool) {
    let flags: Vec<&str> = CLAIM_FLAGS.iter().copied().chain(["--auth-hmac-secret", SECRET, "--auth-leeway-secs", "0"]).collect();
    let app = spawn_app_with(pool, &flags).await;
    let token = token_with(json!({ "exp": now_plus(1) }));
    assert_eq!(list_items_with(&app, &token).await.status(), 200);

    // `exp` counts whole seconds: the token is past it within two.
    tokio::time::sleep(Duration::from_millis(2100)).await;

    assert_unauthorized(list_items_with(&app, &token).await, INVALID_TOKEN).await;
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn a_token_without_an_expiry_is_refused(pool: DbPool) {
    let app = hmac_app(pool).await;

    assert_unauthorized(list_items_with(&app, &token_with(json!({ "exp": null }))).await, INVALID_TOKEN).await;
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn a_token_not_valid_yet_is_refused(pool: DbPool) {
    let app = hmac_app(pool).await;

    let early = token_with(json!({ "nbf": now_plus(120) }));

    assert_unauthorized(list_items_with(&app, &early).await, INVALID_TOKEN).await;
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn a_token_from_another_issuer_is_refused(pool: DbPool) {
    let app = hmac_app(pool).await;

    let elsewhere = token_with(json!({ "iss": "https://another-issuer.test" }));

    assert_unauthorized(list_items_with(&app, &elsewhere).await, INVALID_TOKEN).await;
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn a_token_for_another_audience_is_refused(pool: DbPool) {
    let app = hmac_app(pool).await;

    let for_another_api = token_with(json!({ "aud": "another-api" }));

    assert_unauthorized(list_items_with(&app, &for_another_api).await, INVALID_TOKEN).await;
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn a_token_listing_the_audience_among_others_is_accepted(pool: DbPool) {
    let app = hmac_app(pool).await;

    let token = token_with(json!({ "aud": ["another-api", AUDIENCE] }));

    assert_eq!(list_items_with(&app, &token).await.status(), 200);
}

async fn create_item_with(app: &TestApp, token: &str) -> Response {
    reqwest::Client::new()
        .post(format!("{}/api/v1/items", app.address))
        .bearer_auth(token)
        .header(CONTENT_TYPE, "application/json")
        .body(json!({ "name": "Not allowed" }).to_string())
        .send()
        .await
        .expect("request sent")
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn writing_with_a_read_only_token_is_answered_403_naming_the_scope(pool: DbPool) {
    let app = hmac_app(pool).await;
    let read_only = hmac_token(SECRET.as_bytes(), &claims("items:read"));

    let response = create_item_with(&app, &read_only).await;

    assert_eq!(response.headers()["www-authenticate"], r#"Bearer error="insufficient_scope", scope="items:write""#);
    let body = assert_problem(response, 403).await;
    assert!(body["detail"].as_str().unwrap_or_default().contains("items:write"), "detail: {body}");
}

/// A token verified before is remembered with its caller, not with the scopes it was
/// used for: each request still needs its own.
#[sqlx::test(migrator = "MIGRATOR")]
async fn a_read_only_token_accepted_for_a_read_is_still_refused_a_write(pool: DbPool) {
    let app = hmac_app(pool).await;
    let read_only = hmac_token(SECRET.as_bytes(), &claims("items:read"));
    assert_eq!(list_items_with(&app, &read_only).await.status(), 200, "the read");

    assert_problem(create_item_with(&app, &read_only).await, 403).await;
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn reading_needs_the_read_scope(pool: DbPool) {
    let app = hmac_app(pool).await;
    let write_only = hmac_token(SECRET.as_bytes(), &claims("items:write"));

    assert_problem(list_items_with(&app, &write_only).await, 403).await;
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn scopes_are_read_from_an_scp_list_too(pool: DbPool) {
    let app = hmac_app(pool).await;

    let token = token_with(json!({ "scope": null, "scp": ["items:read"] }));

    assert_eq!(list_items_with(&app, &token).await.status(), 200);
}

/// Validly signed, but over the 8 KiB a token may take: refused before it is parsed.
#[sqlx::test(migrator = "MIGRATOR")]
async fn a_token_over_the_size_limit_is_refused_even_when_validly_signed(pool: DbPool) {
    let app = hmac_app(pool).await;
    let oversized = token_with(json!({ "padding": "x".repeat(9000) }));

    assert_unauthorized(list_items_with(&app, &oversized).await, INVALID_TOKEN).await;
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn an_authorization_header_over_the_header_limit_is_answered_431(pool: DbPool) {
    let app = hmac_app(pool).await;

    let response = list_items(&app, Some(&format!("Bearer {}", "e".repeat(20_000)))).await;

    assert_eq!(response.status(), 431);
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn probes_and_the_api_document_need_no_token(pool: DbPool) {
    let app = hmac_app(pool).await;

    for path in ["/health", "/health/ready", "/api/openapi.json", "/api/docs/"] {
        let response = reqwest::get(format!("{}{path}", app.address)).await.expect("request sent");
        assert_eq!(response.status(), 200, "{path}");
    }
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn with_authentication_disabled_a_request_without_a_token_is_answered(pool: DbPool) {
    let app = spawn_app_with(pool, &["--auth-disabled", "true"]).await;

    assert_eq!(list_items(&app, None).await.status(), 200);
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn a_key_the_provider_adds_is_fetched_and_accepted(pool: DbPool) {
    let (first, second) = (RsaKey::generate("first"), RsaKey::generate("second"));
    let server = KeyServer::start(&[&first]).await;
    let app = jwks_app(pool, &server).await;
    assert_eq!(list_items_with(&app, &first.sign(&claims("items:read"))).await.status(), 200);

    server.publish(&[&first, &second]);
    tokio::time::sleep(Duration::from_millis(1100)).await;

    assert_eq!(list_items_with(&app, &second.sign(&claims("items:read"))).await.status(), 200);
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn a_key_the_provider_removes_is_refused_after_the_refresh(pool: DbPool) {
    let (old, new) = (RsaKey::generate("old"), RsaKey::generate("new"));
    let server = KeyServer::start(&[&old]).await;
    let app = jwks_app(pool, &server).await;
    let token = old.sign(&claims("items:read"));
    assert_eq!(list_items_with(&app, &token).await.status(), 200);

    server.publish(&[&new]);
    tokio::time::sleep(Duration::from_millis(2500)).await;

    assert_unauthorized(list_items_with(&app, &token).await, INVALID_TOKEN).await;
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn tokens_for_unknown_key_ids_fetch_the_keys_at_most_once_per_interval(pool: DbPool) {
    let key = RsaKey::generate("known");
    let server = KeyServer::start(&[&key]).await;
    let app = jwks_app(pool, &server).await;
    let fetches_before = server.fetches();

    for attempt in 0..20 {
        list_items_with(&app, &key.sign_as(&format!("made-up-{attempt}"), &claims("items:read"))).await;
    }

    let fetched = server.fetches() - fetches_before;
    assert!(fetched <= 2, "{fetched} fetches for 20 unknown key ids within a second or so");
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn cached_keys_keep_working_while_the_key_endpoint_is_down(pool: DbPool) {
    let key = RsaKey::generate("cached");
    let server = KeyServer::start(&[&key]).await;
    let app = jwks_app(pool, &server).await;

    server.fail();
    tokio::time::sleep(Duration::from_millis(2500)).await;

    assert_eq!(list_items_with(&app, &key.sign(&claims("items:read"))).await.status(), 200);
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn without_any_key_a_token_is_answered_503_at_once(pool: DbPool) {
    let key = RsaKey::generate("never-published");
    let server = KeyServer::start(&[]).await;
    server.fail();
    let app = jwks_app(pool, &server).await;

    let started = Instant::now();
    let response = list_items_with(&app, &key.sign(&claims("items:read"))).await;

    assert!(started.elapsed() < Duration::from_secs(4), "took {:?}", started.elapsed());
    assert!(response.headers().contains_key("retry-after"), "no Retry-After");
    assert_problem(response, 503).await;
}
