use serde_json::{Value, json};
use {{crate_name}}::db::{DbPool, MIGRATOR};

use crate::support::{
    app::{assert_problem, spawn_app},
    json_body,
};

#[sqlx::test(migrator = "MIGRATOR")]
async fn creating_an_item_answers_201_with_its_location(pool: DbPool) {
    let app = spawn_app(pool).await;

    let response = app.post_json("/api/v1/items", &json!({ "name": "first" })).await;

    assert_eq!(response.status(), 201);
    let location = response.headers()["location"].to_str().unwrap_or_default().to_owned();
    let item: Value = json_body(response).await;
    assert_eq!(location, format!("/api/v1/items/{}", item["id"]));
    assert_eq!(item["name"], "first");
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn a_created_item_can_be_fetched_by_id(pool: DbPool) {
    let app = spawn_app(pool).await;
    let created = app.create_item("fetch me").await;

    let response = app.get(&format!("/api/v1/items/{}", created["id"])).await;

    assert_eq!(response.status(), 200);
    assert_eq!(json_body(response).await, created);
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn listing_pages_through_items_in_creation_order(pool: DbPool) {
    let app = spawn_app(pool).await;
    for name in ["a", "b", "c"] {
        app.create_item(name).await;
    }

    let first: Value = json_body(app.get("/api/v1/items?limit=2").await).await;
    let after = &first["next_after"];
    let second: Value = json_body(app
        .get(&format!("/api/v1/items?limit=2&after={after}")).await).await;

    let names = |page: &Value| -> Vec<Value> {
        page["items"].as_array().expect("items array").iter().map(|item| item["name"].clone()).collect()
    };
    assert_eq!(names(&first), [json!("a"), json!("b")]);
    assert_eq!(names(&second), [json!("c")]);
    assert_eq!(second["next_after"], Value::Null, "the last page has no next page");
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn deleting_an_item_answers_204_and_it_is_gone(pool: DbPool) {
    let app = spawn_app(pool).await;
    let path = format!("/api/v1/items/{}", app.create_item("doomed").await["id"]);

    let deleted = app.delete(&path).await;

    assert_eq!(deleted.status(), 204);
    assert_problem(app.get(&path).await, 404).await;
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn deleting_a_missing_item_answers_404(pool: DbPool) {
    let app = spawn_app(pool).await;

    let response = app.delete("/api/v1/items/999999").await;

    assert_problem(response, 404).await;
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn fetching_a_missing_item_answers_404(pool: DbPool) {
    let app = spawn_app(pool).await;

    let response = app.get("/api/v1/items/999999").await;

    assert_problem(response, 404).await;
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn an_empty_name_answers_422(pool: DbPool) {
    let app = spawn_app(pool).await;

    let response = app.post_json("/api/v1/items", &json!({ "name": "  " })).await;

    let body = assert_problem(response, 422).await;
    assert!(body["detail"].as_str().unwrap_or_default().contains("name"), "body: {body}");
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn a_duplicate_name_answers_409(pool: DbPool) {
    let app = spawn_app(pool).await;
    app.create_item("unique").await;

    let response = app.post_json("/api/v1/items", &json!({ "name": "unique" })).await;

    assert_problem(response, 409).await;
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn a_page_size_over_100_answers_422(pool: DbPool) {
    let app = spawn_app(pool).await;

    let response = app.get("/api/v1/items?limit=101").await;

    assert_problem(response, 422).await;
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn a_nul_character_in_the_name_answers_422(pool: DbPool) {
    let app = spawn_app(pool).await;

    let response = app.post_json("/api/v1/items", &json!({ "name": "bad\u{0}name" })).await;

    assert_problem(response, 422).await;
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn a_control_character_in_the_white_space_around_a_name_answers_422(pool: DbPool) {
    let app = spawn_app(pool).await;

    let response = app.post_json("/api/v1/items", &json!({ "name": "\tTeapot" })).await;

    assert_problem(response, 422).await;
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn a_nul_character_in_the_description_answers_422(pool: DbPool) {
    let app = spawn_app(pool).await;

    let response = app
        .post_json("/api/v1/items", &json!({ "name": "fine", "description": "bad\u{0}text" }))
        .await;

    assert_problem(response, 422).await;
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn a_description_may_hold_line_breaks(pool: DbPool) {
    let app = spawn_app(pool).await;

    let response = app
        .post_json("/api/v1/items", &json!({ "name": "lines", "description": "one\ntwo\tthree" }))
        .await;

    assert_eq!(response.status(), 201);
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn an_overlong_description_answers_422(pool: DbPool) {
    let app = spawn_app(pool).await;

    let response = app
        .post_json("/api/v1/items", &json!({ "name": "long", "description": "x".repeat(2001) }))
        .await;

    assert_problem(response, 422).await;
}
