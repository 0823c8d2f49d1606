//! How the service stops: a signal, then no new connections, then a bounded drain.

use std::{future::Future, io, net::SocketAddr, time::Duration};

use anyhow::Context;
use tokio::{
    net::{TcpListener, TcpStream},
    signal::unix::{SignalKind, signal},
    sync::watch,
};

/// How long connections accepted just before shutdown get to send their request.
/// hyper closes a connection that has not delivered a request when it is told to
/// shut down, so a client whose connection was accepted a moment earlier would get
/// no answer at all (hyperium/hyper#3792); Go's `http.Server` gives such connections
/// a grace period for the same reason.
pub const FIRST_REQUEST_GRACE: Duration = Duration::from_secs(1);

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

/// The server's listener, closed the moment `stopping` turns true: from then on the
/// kernel refuses new clients at once, instead of queueing them for a server that
/// will never accept them.
pub struct StopAccepting {
    listener: Option<TcpListener>,
    stopping: watch::Receiver<bool>,
}

impl StopAccepting {
    pub fn new(listener: TcpListener, stopping: watch::Receiver<bool>) -> Self {
        Self {
            listener: Some(listener),
            stopping,
        }
    }
}

impl axum::serve::Listener for StopAccepting {
    type Io = TcpStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (TcpStream, SocketAddr) {
        if let Some(listener) = self.listener.as_mut() {
            tokio::select! {
                accepted = axum::serve::Listener::accept(listener) => return accepted,
                _ = self.stopping.wait_for(|stopping| *stopping) => {}
            }
        }
        self.listener = None;
        std::future::pending().await
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        match &self.listener {
            Some(listener) => listener.local_addr(),
            None => Err(io::ErrorKind::NotConnected.into()),
        }
    }
}
