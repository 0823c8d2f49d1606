//! Bare axum: `GET /health` answering the same JSON as the generated service, with no
//! middleware, no logging and no configuration. The ceiling the service is measured against.

use axum::{Json, Router, routing::get};
use serde::Serialize;

#[derive(Serialize)]
struct Liveness {
    status: &'static str,
}

async fn live() -> Json<Liveness> {
    Json(Liveness { status: "ok" })
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let router = Router::new().route("/health", get(live));
    let listener = tokio::net::TcpListener::bind(bench_baselines::address()).await?;
    axum::serve(listener, router).await
}
