use serde_json::Value;
use {{crate_name}}::{
    api_doc::{DOCS_PATH, DOCUMENT_PATH},
    db::{DbPool, MIGRATOR},
};

use crate::support::{
    app::{assert_problem, spawn_app, spawn_app_with},
    json_body,
};

const COMMITTED: &str = include_str!("../../openapi.json");

#[sqlx::test(migrator = "MIGRATOR")]
async fn the_served_document_is_the_committed_openapi_json(pool: DbPool) {
    let app = spawn_app(pool).await;

    let served = app.get(DOCUMENT_PATH).await.text().await.expect("the document");

    if served != COMMITTED {
        let (line, (served_line, committed_line)) = served
            .lines()
            .chain(std::iter::repeat(""))
            .zip(COMMITTED.lines().chain(std::iter::repeat("")))
            .enumerate()
            .find(|(_, (served, committed))| served != committed)
            .unwrap_or((0, ("", "")));
        panic!(
            "openapi.json is not the document the service serves; refresh it with \
             `cargo run -q -- openapi > openapi.json`.\nfirst difference, line {}:\n  served:    {served_line}\n  committed: {committed_line}",
            line + 1
        );
    }
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn the_document_is_openapi_3_1(pool: DbPool) {
    let app = spawn_app(pool).await;

    let document: Value = json_body(app.get(DOCUMENT_PATH).await).await;

    assert_eq!(document["openapi"], "3.1.0");
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn every_error_response_is_documented_as_problem_json(pool: DbPool) {
    let app = spawn_app(pool).await;
    let document: Value = json_body(app.get(DOCUMENT_PATH).await).await;

    let mut undocumented = Vec::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("a path item") {
            for (status, response) in operation["responses"].as_object().expect("responses") {
                let body = &response["content"];
                let is_error = status.starts_with('4') || status.starts_with('5');
                if is_error && body.get("application/problem+json").is_none() && path != "/health/ready" {
                    undocumented.push(format!("{method} {path} {status}"));
                }
            }
        }
    }

    assert!(undocumented.is_empty(), "error responses without a problem+json body: {undocumented:?}");
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn the_docs_page_loads_only_files_the_service_serves_itself(pool: DbPool) {
    let app = spawn_app(pool).await;

    let page = app.get(&format!("{DOCS_PATH}/")).await;

    assert_eq!(page.status(), 200);
    let policy = page.headers()["content-security-policy"].to_str().expect("ASCII").to_owned();
    let html = page.text().await.expect("the page");
    for source in html.split(['"', '\'']).filter(|part| part.ends_with(".js") || part.ends_with(".css")) {
        assert!(!source.contains("//"), "the page loads {source} from another origin");
        let asset = app.get(&format!("{DOCS_PATH}/{}", source.trim_start_matches("./"))).await;
        assert_eq!(asset.status(), 200, "{source} is not served");
    }
    assert!(!html.contains("<script>"), "an inline script would break the page's CSP: {policy}");
    assert!(policy.contains("script-src 'self';"), "scripts may come from elsewhere: {policy}");
    assert!(!policy.contains("http"), "the policy names another origin: {policy}");
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn the_docs_page_keeps_its_relaxed_policy_to_itself(pool: DbPool) {
    let app = spawn_app(pool).await;

    let document = app.get(DOCUMENT_PATH).await;

    assert_eq!(document.headers()["content-security-policy"], "default-src 'none'; frame-ancestors 'none'");
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn a_file_the_docs_page_does_not_have_answers_json_404(pool: DbPool) {
    let app = spawn_app(pool).await;

    let response = app.get(&format!("{DOCS_PATH}/no-such-file.js")).await;

    assert_problem(response, 404).await;
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn api_docs_false_turns_the_page_off_and_keeps_the_document(pool: DbPool) {
    let app = spawn_app_with(pool, &["--api-docs", "false"]).await;

    let page = app.get(&format!("{DOCS_PATH}/")).await;
    let document = app.get(DOCUMENT_PATH).await;

    assert_problem(page, 404).await;
    assert_eq!(document.status(), 200);
}
