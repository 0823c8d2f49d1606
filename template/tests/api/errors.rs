use serde_json::json;
use {{crate_name}}::db::{DbPool, MIGRATOR};

use crate::helpers::{assert_problem, spawn_app, spawn_app_with};

#[sqlx::test(migrator = "MIGRATOR")]
async fn malformed_json_answers_400_problem_json(pool: DbPool) {
    let app = spawn_app(pool).await;

    let response = app
        .post_raw("/api/v1/items", "application/json", b"{\"name\":".to_vec())
        .await;

    assert_problem(response, 400).await;
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn a_body_that_is_not_json_answers_415(pool: DbPool) {
    let app = spawn_app(pool).await;

    let response = app.post_raw("/api/v1/items", "text/plain", b"hello".to_vec()).await;

    assert_problem(response, 415).await;
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn an_unknown_field_answers_422(pool: DbPool) {
    let app = spawn_app(pool).await;

    let response = app.post_json("/api/v1/items", &json!({ "name": "x", "colour": "red" })).await;

    assert_problem(response, 422).await;
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn a_body_over_the_size_limit_answers_413(pool: DbPool) {
    let app = spawn_app_with(pool, &["--max-body-bytes", "64"]).await;
    let body = serde_json::to_vec(&json!({ "name": "x".repeat(200) })).expect("JSON");

    let response = app.post_raw("/api/v1/items", "application/json", body).await;

    assert_problem(response, 413).await;
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn a_non_numeric_id_answers_400(pool: DbPool) {
    let app = spawn_app(pool).await;

    let response = app.get("/api/v1/items/abc").await;

    assert_problem(response, 400).await;
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn an_unknown_route_answers_json_404(pool: DbPool) {
    let app = spawn_app(pool).await;

    let response = app.get("/no/such/route").await;

    assert_problem(response, 404).await;
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn a_wrong_method_answers_json_405(pool: DbPool) {
    let app = spawn_app(pool).await;

    let response = app.delete("/health").await;

    assert_problem(response, 405).await;
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn a_database_failure_answers_500_without_its_details(pool: DbPool) {
    let app = spawn_app(pool).await;
    sqlx::query("DROP TABLE items").execute(&app.pool).await.expect("table dropped");

    let response = app.get("/api/v1/items").await;

    let body = assert_problem(response, 500).await;
    assert_eq!(body["detail"], "an internal error occurred", "body: {body}");
}
