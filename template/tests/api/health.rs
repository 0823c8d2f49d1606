use {{crate_name}}::db::{DbPool, MIGRATOR};

use crate::support::{app::spawn_app, json_body};

#[sqlx::test(migrator = "MIGRATOR")]
async fn liveness_answers_200(pool: DbPool) {
    let app = spawn_app(pool).await;

    let response = app.get("/health").await;

    assert_eq!(response.status(), 200);
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn readiness_answers_200_when_every_dependency_is_up(pool: DbPool) {
    let app = spawn_app(pool).await;

    let response = app.get("/health/ready").await;

    assert_eq!(response.status(), 200);
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn readiness_answers_503_naming_the_database_within_a_second_of_it_going_down(pool: DbPool) {
    let app = spawn_app(pool).await;
    app.pool.close().await;
    let closed = std::time::Instant::now();

    let mut response = app.get("/health/ready").await;
    while response.status() != 503 && closed.elapsed() < std::time::Duration::from_secs(1) {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        response = app.get("/health/ready").await;
    }

    assert_eq!(response.status(), 503, "expected 503 within a second, saw {} after {:?}", response.status(), closed.elapsed());
    let body: serde_json::Value = json_body(response).await;
    assert_eq!(body["failing"], serde_json::json!(["database"]), "body: {body}");
}
