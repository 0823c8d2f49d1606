//! The signals that stop the service.

use std::future::Future;

use anyhow::Context;
use tokio::signal::unix::{SignalKind, signal};

/// Listens for SIGINT (Ctrl-C) and SIGTERM (what `docker stop` sends); the returned
/// future completes on the first of them. The handlers are installed before this
/// returns, so call it before the port is announced: a signal that arrives right after
/// start-up then drains the server instead of killing the process.
pub fn signal_received() -> anyhow::Result<impl Future<Output = ()>> {
    let mut interrupt = signal(SignalKind::interrupt()).context("cannot listen for SIGINT")?;
    let mut terminate = signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {},
            _ = terminate.recv() => {},
        }
        tracing::info!("shutdown signal received; draining in-flight requests");
    })
}
