use std::time::Duration;

use {{crate_name}}::{
    db::{DbPool, MIGRATOR},
    startup::App,
};

use crate::support::app::test_config;

/// A request still running after the drain holds its connection; the pool must not keep
/// the process from exiting for it.
#[sqlx::test(migrator = "MIGRATOR")]
async fn the_service_stops_while_a_database_connection_is_still_in_use(pool: DbPool) {
    let app = App::build_with_pool(test_config(&["--shutdown-timeout-secs", "1"]), pool.clone()).await.expect("the application builds");
    let in_use = pool.acquire().await.expect("a database connection");

    let stopped = tokio::time::timeout(Duration::from_secs(15), app.run_until_stopped(async {})).await;

    drop(in_use);
    assert!(stopped.is_ok(), "expected the service to stop within 15 s of being told to, saw it still waiting for the database pool");
}
