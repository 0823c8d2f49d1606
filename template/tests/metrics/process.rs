use {{crate_name}}::db::{DbPool, MIGRATOR};

use crate::{Metrics, one_at_a_time, support::app::spawn_app};

#[sqlx::test(migrator = "MIGRATOR")]
async fn build_info_names_the_running_version(pool: DbPool) {
    let _turn = one_at_a_time().await;
    let app = spawn_app(pool).await;

    let metrics = Metrics::scrape(&app).await;

    let build = metrics.samples("build_info").next().expect("build_info is exported");
    assert_eq!(build.labels.get("version").map(String::as_str), Some(env!("CARGO_PKG_VERSION")));
    assert!(build.labels.get("revision").is_some_and(|revision| !revision.is_empty()), "labels: {:?}", build.labels);
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn memory_cpu_time_and_open_files_of_the_process_are_exported(pool: DbPool) {
    let _turn = one_at_a_time().await;
    let app = spawn_app(pool).await;

    let metrics = Metrics::scrape(&app).await;

    for series in ["process_resident_memory_bytes", "process_open_fds", "process_max_fds"] {
        assert!(metrics.value(series, &[]) > 0.0, "{series} is exported and positive");
    }
    assert!(metrics.sample("process_cpu_seconds_total", &[]).is_some(), "process_cpu_seconds_total is exported");
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn the_pool_is_sampled_at_each_scrape(pool: DbPool) {
    let _turn = one_at_a_time().await;
    let app = spawn_app(pool).await;
    let before = Metrics::scrape(&app).await;

    app.create_item("pooled").await;

    let after = Metrics::scrape(&app).await;
    let max = f64::from(app.pool.options().get_max_connections());
    assert_eq!(after.value("db_pool_max_connections", &[]), max);
    let (open, idle) = (after.value("db_pool_connections", &[]), after.value("db_pool_idle_connections", &[]));
    assert!((1.0..=max).contains(&open) && idle <= open, "open {open}, idle {idle}, max {max}");
    let waits = |metrics: &Metrics| metrics.buckets("db_pool_acquire_duration_seconds", &[]).last().map_or(0.0, |(_, count)| *count);
    assert_eq!(waits(&after) - waits(&before), 1.0, "creating an item waited once for a connection");
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn dropped_log_lines_are_exported_and_none_are_dropped_at_rest(pool: DbPool) {
    let _turn = one_at_a_time().await;
    let app = spawn_app(pool).await;

    let metrics = Metrics::scrape(&app).await;

    assert_eq!(metrics.sample("log_lines_dropped_total", &[]).map(|sample| sample.value), Some(0.0));
}
