use {{crate_name}}::db::{DbPool, MIGRATOR};

use crate::{
    Metrics, one_at_a_time,
    support::app::{spawn_app, spawn_app_with},
};

#[sqlx::test(migrator = "MIGRATOR")]
async fn cache_hits_and_misses_are_counted(pool: DbPool) {
    let _turn = one_at_a_time().await;
    let app = spawn_app(pool).await;
    let id = app.create_item("cached").await["id"].clone();
    let before = Metrics::scrape(&app).await;

    for _ in 0..3 {
        assert_eq!(app.get(&format!("/api/v1/items/{id}")).await.status(), 200);
    }

    let after = Metrics::scrape(&app).await;
    assert_eq!(after.increase(&before, "cache_misses_total", &[]), 1.0, "the first read misses");
    assert_eq!(after.increase(&before, "cache_hits_total", &[]), 2.0, "the next two hit");
    assert_eq!(after.increase(&before, "cache_errors_total", &[]), 0.0);
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn an_unreachable_redis_counts_an_error_and_steps_the_cache_aside(pool: DbPool) {
    let _turn = one_at_a_time().await;
    // The counters are the process's: read them before the app below checks Redis at start.
    let before = Metrics::scrape(&spawn_app(pool.clone()).await).await;
    let app = spawn_app_with(pool, &["--redis-url", "redis://127.0.0.1:1"]).await;
    let id = app.create_item("uncached").await["id"].clone();

    assert_eq!(app.get(&format!("/api/v1/items/{id}")).await.status(), 200);

    let after = Metrics::scrape(&app).await;
    assert_eq!(after.increase(&before, "cache_errors_total", &[]), 1.0, "the failed round trip is counted, once: the cache then steps aside");
    assert_eq!(after.increase(&before, "cache_misses_total", &[]), 1.0, "the read went to the database");
    assert_eq!(after.value("cache_available", &[]), 0.0);
}
