//! The service in-process on a free port, with its real middleware, and a client for it.

use std::sync::Once;

use reqwest::{
    Client, Response,
    header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue},
};
use serde_json::{Value, json};
use {{crate_name}}::{
    auth::{DevTokenArgs, Scope, development_token},
    config::{Cli, Config},
    db::DbPool,
    startup::App,
};

use super::json_body;

pub struct TestApp {
    pub address: String,
    pub metrics_address: String,
    /// Sends a token granting every scope, when the settings let `dev-token` sign one.
    pub client: Client,
    pub pool: DbPool,
}

/// Configuration as the service would read it, with the given flags on top.
pub fn test_config(flags: &[&str]) -> Config {
    let args = ["test", "--host", "127.0.0.1", "--port", "0", "--metrics-port", "0"].iter().chain(flags);
    Cli::try_parse_checked_from(args).expect("test flags parse").config
}

/// Starts the application on a free port over `pool`, with its real middleware.
pub async fn spawn_app(pool: DbPool) -> TestApp {
    spawn_app_with(pool, &[]).await
}

/// Makes a value no other test app has.
type UniqueValue = fn() -> String;

/// Settings each test app gets a value of its own for, unless the test gives one: the
/// state an app keeps in a service the tests share stays apart.
const OWN_PER_APP: &[(&str, UniqueValue)] = &[
{%- if redis %}
    ("--cache-key-prefix", super::cache::unique_prefix),
{%- endif %}
];

pub async fn spawn_app_with(pool: DbPool, flags: &[&str]) -> TestApp {
    init_logs();
    let own: Vec<String> = OWN_PER_APP
        .iter()
        .filter(|(flag, _)| !flags.contains(flag))
        .flat_map(|(flag, value)| [flag.to_string(), value()])
        .collect();
    let config = test_config(&own.iter().map(String::as_str).chain(flags.iter().copied()).collect::<Vec<_>>());
    let client = client_with_token(&config);
    let app = App::build_with_pool(config, pool.clone())
        .await
        .expect("the application builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let metrics_address = format!("http://127.0.0.1:{}", app.metrics_port());
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    TestApp {
        address,
        metrics_address,
        client,
        pool,
    }
}

/// A development token granting every scope, as `dev-token` prints it.
pub fn token_for(config: &Config, sub: &str) -> Option<String> {
    let args = DevTokenArgs {
        scopes: Scope::ALL.map(|scope| scope.as_str().to_owned()).to_vec(),
        sub: sub.to_owned(),
        ttl_secs: 600,
    };
    development_token(&config.auth, config.app_env, &args).ok()
}

/// A client that sends a token granting every scope, when the settings let one be signed.
fn client_with_token(config: &Config) -> Client {
    let mut headers = HeaderMap::new();
    if let Some(token) = token_for(config, "test") {
        let value = HeaderValue::try_from(format!("Bearer {token}")).expect("a token is a header value");
        headers.insert(AUTHORIZATION, value);
    }
    Client::builder().default_headers(headers).build().expect("the client builds")
}

/// Logs only when `TEST_LOG` is set, to keep test output readable.
fn init_logs() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            tracing_subscriber::fmt().with_env_filter("debug").try_init().ok();
        }
    });
}

impl TestApp {
    pub async fn get(&self, path: &str) -> Response {
        self.get_with_header(path, ("accept", "application/json")).await
    }

    pub async fn get_with_header(&self, path: &str, (name, value): (&str, &str)) -> Response {
        self.client
            .get(format!("{}{path}", self.address))
            .header(name, value)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn delete(&self, path: &str) -> Response {
        self.client
            .delete(format!("{}{path}", self.address))
            .send()
            .await
            .expect("request sent")
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.client
            .post(format!("{}{path}", self.address))
            .header(CONTENT_TYPE, "application/json")
            .body(body.to_string())
            .send()
            .await
            .expect("request sent")
    }

    pub async fn post_raw(&self, path: &str, content_type: &str, body: Vec<u8>) -> Response {
        self.client
            .post(format!("{}{path}", self.address))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("request sent")
    }

    /// Creates an item and returns its JSON.
    pub async fn create_item(&self, name: &str) -> Value {
        let response = self
            .post_json("/api/v1/items", &json!({ "name": name, "description": "made by a test" }))
            .await;
        assert_eq!(response.status(), 201, "creating `{name}`");
        json_body(response).await
    }
}

/// Asserts an RFC 9457 problem response and returns its body.
pub async fn assert_problem(response: Response, status: u16) -> Value {
    assert_eq!(response.status(), status, "status");
    let content_type = response.headers()["content-type"].to_str().unwrap_or_default().to_owned();
    assert_eq!(content_type, "application/problem+json", "content type");
    let request_id = response.headers()["x-request-id"].to_str().unwrap_or_default().to_owned();
    let body: Value = json_body(response).await;
    assert_eq!(body["status"], status, "status in body: {body}");
    assert_eq!(body["request_id"], request_id.as_str(), "request id in body: {body}");
    body
}
