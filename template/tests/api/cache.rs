use std::time::{Duration, Instant};

use redis::AsyncCommands;
use {{crate_name}}::db::{DbPool, MIGRATOR};

use crate::support::{
    app::{TestApp, spawn_app, spawn_app_with},
    cache::unique_prefix,
    json_body,
};

async fn redis_connection() -> redis::aio::MultiplexedConnection {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    redis::Client::open(url)
        .expect("REDIS_URL parses")
        .get_multiplexed_async_connection()
        .await
        .expect("Redis is reachable at REDIS_URL")
}

async fn spawn_cached_app(pool: DbPool, prefix: &str) -> TestApp {
    spawn_app_with(pool, &["--cache-key-prefix", prefix]).await
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn a_fetched_item_is_stored_in_redis(pool: DbPool) {
    let prefix = unique_prefix();
    let app = spawn_cached_app(pool, &prefix).await;
    let id = app.create_item("cached").await["id"].clone();

    assert_eq!(app.get(&format!("/api/v1/items/{id}")).await.status(), 200);

    let cached: Option<String> = redis_connection().await.get(format!("{prefix}:item:{id}")).await.expect("GET");
    assert!(cached.is_some_and(|json| json.contains("cached")), "item {id} is not in Redis");
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn a_cached_item_is_served_from_redis(pool: DbPool) {
    let app = spawn_cached_app(pool, &unique_prefix()).await;
    let id = app.create_item("from cache").await["id"].as_i64().expect("numeric id");
    app.get(&format!("/api/v1/items/{id}")).await;
    sqlx::query("DELETE FROM items WHERE id = $1").bind(id).execute(&app.pool).await.expect("row deleted");

    let response = app.get(&format!("/api/v1/items/{id}")).await;

    assert_eq!(response.status(), 200, "the database no longer has the item; Redis should");
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn deleting_an_item_evicts_it_from_redis(pool: DbPool) {
    let prefix = unique_prefix();
    let app = spawn_cached_app(pool, &prefix).await;
    let id = app.create_item("evicted").await["id"].clone();
    app.get(&format!("/api/v1/items/{id}")).await;

    app.delete(&format!("/api/v1/items/{id}")).await;

    let exists: bool = redis_connection().await.exists(format!("{prefix}:item:{id}")).await.expect("EXISTS");
    assert!(!exists, "item {id} is still in Redis after DELETE");
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn test_apps_sharing_a_redis_do_not_serve_each_others_cached_items(pool: DbPool) {
    let first = spawn_app(pool.clone()).await;
    let id = first.create_item("the first app's").await["id"].as_i64().expect("numeric id");
    assert_eq!(first.get(&format!("/api/v1/items/{id}")).await.status(), 200);
    sqlx::query("DELETE FROM items WHERE id = $1").bind(id).execute(&pool).await.expect("row deleted");
    let second = spawn_app(pool).await;

    let response = second.get(&format!("/api/v1/items/{id}")).await;

    assert_eq!(response.status(), 404, "the second app served item {id} from the first app's cache");
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn items_are_served_from_the_database_when_redis_is_down(pool: DbPool) {
    let app = spawn_app_with(pool, &["--redis-url", "redis://127.0.0.1:1"]).await;
    let id = app.create_item("no cache").await["id"].clone();

    let response = app.get(&format!("/api/v1/items/{id}")).await;

    assert_eq!(response.status(), 200);
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn readiness_stays_200_naming_redis_as_degraded_when_it_is_down(pool: DbPool) {
    let app = spawn_app_with(pool, &["--redis-url", "redis://127.0.0.1:1"]).await;

    let response = app.get("/health/ready").await;

    assert_eq!(response.status(), 200, "a cache outage must not take the service out of rotation");
    let body: serde_json::Value = json_body(response).await;
    assert_eq!(body["degraded"], serde_json::json!(["redis"]), "body: {body}");
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn while_redis_does_not_answer_reads_stop_waiting_for_it(pool: DbPool) {
    // Connections to it complete in the kernel; nothing ever answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("a local port");
    let url = format!("redis://{}", silent.local_addr().expect("its address"));
    let app = spawn_app_with(pool, &["--redis-url", &url]).await;
    let path = format!("/api/v1/items/{}", app.create_item("no answer").await["id"]);
    assert_eq!(app.get(&path).await.status(), 200, "the first read, which finds Redis silent");

    let started = Instant::now();
    for _ in 0..20 {
        assert_eq!(app.get(&path).await.status(), 200);
    }
    let took = started.elapsed();

    // Waiting on Redis would cost each read its 500 ms timeout: 10 s for the twenty.
    assert!(took < Duration::from_secs(2), "twenty reads took {took:?}: they still waited for Redis");
}
