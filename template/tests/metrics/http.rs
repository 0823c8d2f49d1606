use {{crate_name}}::db::{DbPool, MIGRATOR};

use crate::{Metrics, one_at_a_time, support::app::spawn_app};

const ITEM: &str = "/api/v1/items/{id}";

#[sqlx::test(migrator = "MIGRATOR")]
async fn requests_are_counted_by_method_matched_route_and_status(pool: DbPool) {
    let _turn = one_at_a_time().await;
    let app = spawn_app(pool).await;
    let before = Metrics::scrape(&app).await;

    let id = app.create_item("counted").await["id"].clone();
    for _ in 0..2 {
        assert_eq!(app.get(&format!("/api/v1/items/{id}")).await.status(), 200);
    }
    for missing in [1_000_001, 1_000_002, 1_000_003] {
        assert_eq!(app.get(&format!("/api/v1/items/{missing}")).await.status(), 404);
    }

    let after = Metrics::scrape(&app).await;
    let count = |method, route, status| after.increase(&before, "http_requests_total", &[("method", method), ("route", route), ("status", status)]);
    let seen = after.show("http_requests_total");
    assert_eq!(count("POST", "/api/v1/items", "201"), 1.0, "POST /api/v1/items 201; saw\n{seen}");
    assert_eq!(count("GET", ITEM, "200"), 2.0, "GET {ITEM} 200; saw\n{seen}");
    assert_eq!(count("GET", ITEM, "404"), 3.0, "GET {ITEM} 404; saw\n{seen}");
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn each_request_lands_in_one_duration_bucket_and_every_bucket_above(pool: DbPool) {
    let _turn = one_at_a_time().await;
    let app = spawn_app(pool).await;
    let labels = [("method", "GET"), ("route", "/health"), ("status", "200")];
    let before = Metrics::scrape(&app).await.buckets("http_request_duration_seconds", &labels);

    for _ in 0..5 {
        assert_eq!(app.get("/health").await.status(), 200);
    }

    let after = Metrics::scrape(&app).await.buckets("http_request_duration_seconds", &labels);
    let before_count = |bound: f64| before.iter().find(|(le, _)| *le == bound).map_or(0.0, |(_, count)| *count);
    let growth: Vec<(f64, f64)> = after.iter().map(|(le, count)| (*le, count - before_count(*le))).collect();
    assert_eq!(growth.last(), Some(&(f64::INFINITY, 5.0)), "the +Inf bucket counts every request: {growth:?}");
    assert!(growth.windows(2).all(|pair| pair[0].1 <= pair[1].1), "buckets are cumulative: {growth:?}");
    let within_30s = growth.iter().find(|(le, _)| *le == 30.0).map(|(_, count)| *count);
    assert_eq!(within_30s, Some(5.0), "a /health answer takes under 30 s: {growth:?}");
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn an_unknown_path_adds_no_label_value(pool: DbPool) {
    let _turn = one_at_a_time().await;
    let app = spawn_app(pool).await;
    let before = Metrics::scrape(&app).await;

    for path in ["/no/such/path/1", "/no/such/path/2", "/api/v1/items/1/extra"] {
        assert_eq!(app.get(path).await.status(), 404, "{path}");
    }

    let after = Metrics::scrape(&app).await;
    let routes: Vec<&str> = after.samples("http_requests_total").filter_map(|sample| sample.labels.get("route").map(String::as_str)).collect();
    assert!(routes.iter().all(|route| !route.contains("no/such") && !route.contains("extra")), "raw paths became labels: {routes:?}");
    let unmatched = after.increase(&before, "http_requests_total", &[("method", "GET"), ("route", "unmatched"), ("status", "404")]);
    assert_eq!(unmatched, 3.0, "unknown paths share the `unmatched` route");
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn a_made_up_method_adds_no_label_value(pool: DbPool) {
    let _turn = one_at_a_time().await;
    let app = spawn_app(pool).await;
    let before = Metrics::scrape(&app).await;
    let brew = reqwest::Method::from_bytes(b"BREW").expect("an extension method");

    let response = app.client.request(brew, format!("{}/health", app.address)).send().await.expect("request sent");

    assert_eq!(response.status(), 405);
    let after = Metrics::scrape(&app).await;
    let methods: Vec<&str> = after.samples("http_requests_total").filter_map(|sample| sample.labels.get("method").map(String::as_str)).collect();
    assert!(!methods.contains(&"BREW"), "a client's method became a label: {methods:?}");
    let other = after.increase(&before, "http_requests_total", &[("method", "other"), ("route", "/health"), ("status", "405")]);
    assert_eq!(other, 1.0);
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn no_request_stays_in_flight_once_answered(pool: DbPool) {
    let _turn = one_at_a_time().await;
    let app = spawn_app(pool).await;
    for _ in 0..3 {
        app.get("/health").await;
    }

    let metrics = Metrics::scrape(&app).await;

    assert!(metrics.sample("http_requests_in_flight", &[]).is_some(), "the in-flight gauge is exported");
    assert_eq!(metrics.value("http_requests_in_flight", &[]), 0.0);
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn the_public_port_does_not_serve_metrics(pool: DbPool) {
    let _turn = one_at_a_time().await;
    let app = spawn_app(pool).await;

    let response = app.get("/metrics").await;

    assert_eq!(response.status(), 404);
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn the_metrics_port_serves_the_prometheus_text_format(pool: DbPool) {
    let _turn = one_at_a_time().await;
    let app = spawn_app(pool).await;

    let response = app.client.get(format!("{}/metrics", app.metrics_address)).send().await.expect("scrape sent");

    let content_type = response.headers()["content-type"].to_str().unwrap_or_default().to_owned();
    assert_eq!(content_type, "text/plain; version=0.0.4; charset=utf-8");
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn the_metrics_port_answers_other_paths_404(pool: DbPool) {
    let _turn = one_at_a_time().await;
    let app = spawn_app(pool).await;

    let response = app.client.get(format!("{}/api/v1/items", app.metrics_address)).send().await.expect("request sent");

    assert_eq!(response.status(), 404);
}
