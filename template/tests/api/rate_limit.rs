use reqwest::Response;
use {{crate_name}}::db::{DbPool, MIGRATOR};

use crate::support::app::{TestApp, assert_problem, spawn_app_with};

/// One request a second, two at once: the third request in a row is over the limit.
const TWO_AT_ONCE: &[&str] = &["--rate-limit-per-second", "1", "--rate-limit-burst", "2"];

async fn list_items_as(app: &TestApp, forwarded_for: Option<&str>) -> Response {
    let request = app.client.get(format!("{}/api/v1/items", app.address));
    let request = match forwarded_for {
        Some(client) => request.header("x-forwarded-for", client),
        None => request,
    };
    request.send().await.expect("request sent")
}

/// Statuses of `count` requests in a row.
async fn statuses(app: &TestApp, forwarded_for: Option<&str>, count: usize) -> Vec<u16> {
    let mut statuses = Vec::new();
    for _ in 0..count {
        statuses.push(list_items_as(app, forwarded_for).await.status().as_u16());
    }
    statuses
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn a_client_over_its_burst_gets_429_problem_json_with_retry_after(pool: DbPool) {
    let app = spawn_app_with(pool, TWO_AT_ONCE).await;
    assert_eq!(statuses(&app, None, 2).await, [200, 200]);

    let response = list_items_as(&app, None).await;

    let retry_after = response.headers().get("retry-after").and_then(|value| value.to_str().ok()).map(str::to_owned);
    assert_problem(response, 429).await;
    let seconds: u64 = retry_after.as_deref().and_then(|value| value.parse().ok()).expect("Retry-After in seconds");
    assert!((1..=2).contains(&seconds), "Retry-After: {seconds}");
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn probes_are_not_rate_limited(pool: DbPool) {
    let app = spawn_app_with(pool, TWO_AT_ONCE).await;
    statuses(&app, None, 3).await;

    for path in ["/health", "/health/ready", "/health", "/health/ready"] {
        assert_eq!(app.get(path).await.status(), 200, "{path}");
    }
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn a_forwarded_for_header_from_an_untrusted_peer_buys_no_new_bucket(pool: DbPool) {
    let app = spawn_app_with(pool, TWO_AT_ONCE).await;

    let spoofed = [
        list_items_as(&app, Some("198.51.100.1")).await.status(),
        list_items_as(&app, Some("198.51.100.2")).await.status(),
        list_items_as(&app, Some("198.51.100.3")).await.status(),
    ];

    assert_eq!(spoofed.map(|status| status.as_u16()), [200, 200, 429]);
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_bucket(pool: DbPool) {
    let flags = [TWO_AT_ONCE, &["--trusted-proxies", "127.0.0.0/8"]].concat();
    let app = spawn_app_with(pool, &flags).await;
    assert_eq!(statuses(&app, Some("198.51.100.1"), 3).await, [200, 200, 429]);

    let other_client = statuses(&app, Some("198.51.100.2"), 2).await;

    assert_eq!(other_client, [200, 200]);
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn behind_a_trusted_proxy_addresses_the_client_prepended_are_ignored(pool: DbPool) {
    let flags = [TWO_AT_ONCE, &["--trusted-proxies", "127.0.0.1"]].concat();
    let app = spawn_app_with(pool, &flags).await;

    let spoofed = [
        list_items_as(&app, Some("10.0.0.1, 198.51.100.1")).await.status(),
        list_items_as(&app, Some("10.0.0.2, 198.51.100.1")).await.status(),
        list_items_as(&app, Some("10.0.0.3, 198.51.100.1")).await.status(),
    ];

    assert_eq!(spoofed.map(|status| status.as_u16()), [200, 200, 429]);
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn a_rate_of_zero_turns_the_limit_off(pool: DbPool) {
    let app = spawn_app_with(pool, &["--rate-limit-per-second", "0", "--rate-limit-burst", "1"]).await;

    let all = statuses(&app, None, 20).await;

    assert!(all.iter().all(|status| *status == 200), "statuses: {all:?}");
}
