use reqwest::Response;
use {{crate_name}}::db::{DbPool, MIGRATOR};

use crate::support::app::{TestApp, assert_problem, spawn_app_with};

/// One request a second, two at once: of ten requests in a row, the first two pass and
/// the rest meet the limit (one may pass on a second's refill, if the runner stalls).
const TWO_AT_ONCE: &[&str] = &["--rate-limit-per-second", "1", "--rate-limit-burst", "2"];
const IN_A_ROW: usize = 10;

async fn list_items_as(app: &TestApp, forwarded_for: Option<&str>) -> Response {
    let request = app.client.get(format!("{}/api/v1/items", app.address));
    let request = match forwarded_for {
        Some(client) => request.header("x-forwarded-for", client),
        None => request,
    };
    request.send().await.expect("request sent")
}

/// Statuses of requests in a row, each with the `X-Forwarded-For` `forwarded_for` gives.
async fn statuses(app: &TestApp, forwarded_for: impl Fn(usize) -> Option<String>) -> Vec<u16> {
    let mut statuses = Vec::new();
    for request in 0..IN_A_ROW {
        let response = list_items_as(app, forwarded_for(request).as_deref()).await;
        statuses.push(response.status().as_u16());
    }
    statuses
}

fn first_two_pass_then_limited(statuses: &[u16]) -> bool {
    statuses[..2] == [200, 200] && statuses[2..].iter().filter(|status| **status == 429).count() >= IN_A_ROW - 3
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn a_client_over_its_burst_gets_429_problem_json_with_retry_after(pool: DbPool) {
    let app = spawn_app_with(pool, TWO_AT_ONCE).await;
    let before = statuses(&app, |_| None).await;
    assert!(first_two_pass_then_limited(&before), "statuses: {before:?}");

    let response = list_items_as(&app, None).await;

    let retry_after = response.headers().get("retry-after").and_then(|value| value.to_str().ok()).map(str::to_owned);
    assert_problem(response, 429).await;
    let seconds: u64 = retry_after.as_deref().and_then(|value| value.parse().ok()).expect("Retry-After in seconds");
    assert!((1..=2).contains(&seconds), "Retry-After: {seconds}");
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn probes_and_docs_are_not_rate_limited(pool: DbPool) {
    let app = spawn_app_with(pool, TWO_AT_ONCE).await;
    statuses(&app, |_| None).await;

    for path in ["/health", "/health/ready", "/api/openapi.json", "/api/docs/"].repeat(3) {
        assert_eq!(app.get(path).await.status(), 200, "{path}");
    }
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn a_forwarded_for_header_from_an_untrusted_peer_buys_no_new_bucket(pool: DbPool) {
    let app = spawn_app_with(pool, TWO_AT_ONCE).await;

    let spoofed = statuses(&app, |request| Some(format!("198.51.100.{request}"))).await;

    assert!(first_two_pass_then_limited(&spoofed), "statuses: {spoofed:?}");
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_bucket(pool: DbPool) {
    let flags = [TWO_AT_ONCE, &["--trusted-proxies", "127.0.0.0/8"]].concat();
    let app = spawn_app_with(pool, &flags).await;
    let first_client = statuses(&app, |_| Some("198.51.100.1".into())).await;
    assert!(first_two_pass_then_limited(&first_client), "statuses: {first_client:?}");

    let other_client = [
        list_items_as(&app, Some("198.51.100.2")).await.status(),
        list_items_as(&app, Some("198.51.100.2")).await.status(),
    ];

    assert_eq!(other_client.map(|status| status.as_u16()), [200, 200]);
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn behind_a_trusted_proxy_addresses_the_client_prepended_are_ignored(pool: DbPool) {
    let flags = [TWO_AT_ONCE, &["--trusted-proxies", "127.0.0.1"]].concat();
    let app = spawn_app_with(pool, &flags).await;

    let spoofed = statuses(&app, |request| Some(format!("10.0.0.{request}, 198.51.100.1"))).await;

    assert!(first_two_pass_then_limited(&spoofed), "statuses: {spoofed:?}");
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn a_rate_of_zero_turns_the_limit_off(pool: DbPool) {
    let app = spawn_app_with(pool, &["--rate-limit-per-second", "0", "--rate-limit-burst", "1"]).await;

    let all = statuses(&app, |_| None).await;

    assert!(all.iter().all(|status| *status == 200), "statuses: {all:?}");
}
