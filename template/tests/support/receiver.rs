//! A stand-in for a telemetry backend: records every request body it receives.
//!
//! It runs on the test's runtime, so tests using it need the multi-threaded
//! flavour: [`super::Server::stop`] blocks while the service flushes to it.

use axum::{Router, body::Bytes, extract::State, routing::post};
use tokio::sync::mpsc;

pub struct Received {
    pub body: Bytes,
}

/// Listens on loopback; returns its base URL and the channel its requests arrive on.
pub async fn start(path: &'static str) -> (String, mpsc::UnboundedReceiver<Received>) {
    let (sender, receiver) = mpsc::unbounded_channel();
    let router = Router::new()
        .route(path, post(record))
        .with_state(sender);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("receiver binds");
    let address = listener.local_addr().expect("receiver address");
    tokio::spawn(async move { axum::serve(listener, router).await });
    (format!("http://{address}"), receiver)
}

async fn record(State(sender): State<mpsc::UnboundedSender<Received>>, body: Bytes) {
    sender.send(Received { body }).ok();
}
