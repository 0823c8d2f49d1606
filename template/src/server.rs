//! Serves HTTP/1.1 connections with bounds on what clients can hold (a deadline for
//! every request's headers, a connection limit, an open-file limit raised to the hard
//! limit), and stops without dropping a connection the kernel has already accepted.

mod header_deadline;
mod send_timeout;

use std::{
    future::Future,
    io,
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use axum::{Router, body::Body, extract::ConnectInfo, http::Request};
use hyper::{body::Incoming, server::conn::http1, service::service_fn};
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    server::graceful::GracefulShutdown,
};
use tokio::{
    net::{TcpListener, TcpStream},
    sync::{OwnedSemaphorePermit, Semaphore, watch},
    time::{Instant, sleep, timeout_at},
};
use tower::ServiceExt;

use self::header_deadline::{HeaderDeadline, Watched};
use self::send_timeout::SendTimeout;
use crate::config::HttpConfig;

/// How long connections accepted just before shutdown get to send their first request.
/// hyper closes a connection that has not delivered a request when it is told to shut
/// down, so a client whose connection was accepted a moment earlier would get no answer
/// at all (hyperium/hyper#3792); Go's `http.Server` gives such connections a grace
/// period for the same reason. The wait ends as soon as every such request has arrived.
pub const FIRST_REQUEST_GRACE: Duration = Duration::from_secs(1);

/// How long handshakes already under way when shutdown starts get to complete into the
/// listener's queue before it is drained: a round trip, with room for a slow network.
const HANDSHAKES_SETTLE: Duration = Duration::from_millis(100);

/// Pause after an accept error such as running out of file descriptors, so the loop
/// waits for connections to close instead of spinning.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);

/// What bounds the server's connections, from its configuration.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub header_read_timeout: Duration,
    pub keep_alive_timeout: Duration,
    pub max_connections: usize,
    pub max_header_bytes: usize,
    pub send_timeout: Duration,
    pub shutdown_timeout: Duration,
}

impl From<&HttpConfig> for Limits {
    fn from(http: &HttpConfig) -> Self {
        Self {
            header_read_timeout: http.header_read_timeout(),
            keep_alive_timeout: http.keep_alive_timeout(),
            max_connections: usize::try_from(http.max_connections).unwrap_or(usize::MAX),
            max_header_bytes: usize::try_from(http.max_header_bytes).unwrap_or(usize::MAX),
            send_timeout: http.send_timeout(),
            shutdown_timeout: http.shutdown_timeout(),
        }
    }
}

/// Raises this process's open-file soft limit to its hard limit, as Go's runtime does,
/// so that `MAX_CONNECTIONS` rather than a default soft limit of 1024 decides how many
/// clients are served. Returns the limit now in force.
pub fn raise_open_file_limit() -> io::Result<u64> {
    rlimit::increase_nofile_limit(u64::MAX)
}

/// Serves `router` on `listener` until `shutdown` completes, then answers every
/// connection already accepted and drains in-flight requests within the shutdown timeout.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let connections = Connections::new(router, limits);
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = free_slot(&slots, limits.max_connections) => slot,
            () = &mut shutdown => break,
        };
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => connections.serve(stream, peer, Some(slot)),
                Err(error) => pause_after(error).await,
            },
            () = &mut shutdown => break,
        }
    }
    let deadline = Instant::now() + limits.shutdown_timeout;
    let listener = listener.into_std()?;
    stop_completing_connections(&listener);
    sleep(HANDSHAKES_SETTLE).await;
    for (stream, peer) in queued_connections(&listener) {
        connections.serve(stream, peer, None);
    }
    drop(listener);
    connections.shut_down(deadline).await;
    Ok(())
}

/// A slot under `MAX_CONNECTIONS`, waiting (and saying so once) while none is free.
async fn free_slot(slots: &Arc<Semaphore>, max_connections: usize) -> OwnedSemaphorePermit {
    if let Ok(slot) = Arc::clone(slots).try_acquire_owned() {
        return slot;
    }
    tracing::warn!(max_connections, "MAX_CONNECTIONS reached; new connections wait in the kernel's queue");
    match Arc::clone(slots).acquire_owned().await {
        Ok(slot) => slot,
        // The semaphore is never closed.
        Err(_) => std::future::pending().await,
    }
}

async fn pause_after(error: io::Error) {
    // The client gave up before it was accepted: nothing to do.
    if is_client_gone(&error) {
        return;
    }
    tracing::error!(%error, "could not accept a connection");
    sleep(ACCEPT_ERROR_PAUSE).await;
}

fn is_client_gone(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionRefused
    )
}

/// Makes the kernel drop new connection attempts (SYN packets) instead of completing
/// them into the listener's queue, so that the queue can be drained to empty before the
/// listener closes. Without it, a connection completed between the last accept and the
/// close would be reset with its request unanswered, which a client cannot tell from a
/// failed request; a dropped attempt is retried by the client and then refused, which it
/// can. Handshakes already under way still complete: see [`HANDSHAKES_SETTLE`].
#[cfg(target_os = "linux")]
fn stop_completing_connections(listener: &std::net::TcpListener) {
    use socket2::SockFilter;
    // Classic BPF over the TCP header: load the flags byte, drop (keep 0 bytes) if SYN
    // is set, keep everything else, so the last packets of started handshakes pass.
    let drop_syn = [
        SockFilter::new(0x30, 0, 0, 13),         // ldb [13]
        SockFilter::new(0x45, 0, 1, 0x02),       // jset #SYN, drop, keep
        SockFilter::new(0x06, 0, 0, 0),          // drop: ret #0
        SockFilter::new(0x06, 0, 0, u32::MAX),   // keep: ret #-1
    ];
    if let Err(error) = socket2::SockRef::from(listener).attach_filter(&drop_syn) {
        tracing::warn!(%error, "could not stop new connections; some may be reset during shutdown");
    }
}

#[cfg(not(target_os = "linux"))]
fn stop_completing_connections(_listener: &std::net::TcpListener) {}

/// Every connection the kernel has completed and queued, without waiting for more.
fn queued_connections(listener: &std::net::TcpListener) -> Vec<(TcpStream, SocketAddr)> {
    let mut queued = Vec::new();
    loop {
        match listener.accept() {
            Ok((stream, peer)) => match stream.set_nonblocking(true).and_then(|()| TcpStream::from_std(stream)) {
                Ok(stream) => queued.push((stream, peer)),
                Err(error) => tracing::warn!(%error, "could not serve a queued connection"),
            },
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => return queued,
            Err(error) if is_client_gone(&error) => {}
            Err(error) => {
                tracing::error!(%error, "could not accept a queued connection");
                return queued;
            }
        }
    }
}

/// The connections being served, and what each one is held to.
struct Connections {
    router: Router,
    http: http1::Builder,
    graceful: GracefulShutdown,
    awaiting_first_request: Arc<watch::Sender<usize>>,
    header_read_timeout: Duration,
    send_timeout: Duration,
}

impl Connections {
    fn new(router: Router, limits: Limits) -> Self {
        let mut http = http1::Builder::new();
        // hyper's timer starts when a connection opens and again each time it goes idle:
        // it bounds the wait for a kept-alive connection's next request, headers included.
        http.timer(TokioTimer::new()).header_read_timeout(limits.keep_alive_timeout);
        // hyper's read buffer: headers that do not fit are answered 431, and no connection
        // holds more (hyper's default is about 400 KB).
        http.max_buf_size(limits.max_header_bytes);
        Self {
            router,
            http,
            graceful: GracefulShutdown::new(),
            awaiting_first_request: Arc::new(watch::Sender::new(0)),
            header_read_timeout: limits.header_read_timeout,
            send_timeout: limits.send_timeout,
        }
    }

    /// Serves one connection in a task of its own; `slot` is released when it closes.
    /// Handlers find the client's address as axum's `ConnectInfo`.
    fn serve(&self, stream: TcpStream, peer: SocketAddr, slot: Option<OwnedSemaphorePermit>) {
        // Responses leave at once instead of waiting on Nagle's algorithm.
        stream.set_nodelay(true).ok();
        let first_request = FirstRequest::new(&self.awaiting_first_request);
        let headers = HeaderDeadline::new();
        let service = service_fn({
            let router = self.router.clone();
            let headers = Arc::clone(&headers);
            move |mut request: Request<Incoming>| {
                first_request.arrived();
                headers.request_arrived();
                request.extensions_mut().insert(ConnectInfo(peer));
                let response = router.clone().oneshot(request.map(Body::new));
                let headers = Arc::clone(&headers);
                async move {
                    let response = response.await;
                    headers.response_sent();
                    response
                }
            }
        });
        let stream = TokioIo::new(Watched::new(stream, &headers, SendTimeout::new(self.send_timeout)));
        let connection = self.graceful.watch(self.http.serve_connection(stream, service));
        let header_read_timeout = self.header_read_timeout;
        tokio::spawn(async move {
            let _slot = slot;
            tokio::select! {
                served = connection => if let Err(error) = served {
                    tracing::debug!(%error, "connection ended with an error");
                },
                () = headers.overdue(header_read_timeout) => {
                    tracing::debug!("closed a connection whose request headers did not arrive within HEADER_READ_TIMEOUT_SECS");
                }
            }
        });
    }

    /// Lets connections accepted before the signal send their first request, then asks
    /// every connection to close after its in-flight request, waiting until `deadline`.
    async fn shut_down(self, deadline: Instant) {
        let mut awaiting = self.awaiting_first_request.subscribe();
        let grace_ends = deadline.min(Instant::now() + FIRST_REQUEST_GRACE);
        timeout_at(grace_ends, awaiting.wait_for(|count| *count == 0)).await.ok();
        if timeout_at(deadline, self.graceful.shutdown()).await.is_err() {
            tracing::warn!("in-flight requests did not finish within SHUTDOWN_TIMEOUT_SECS; dropping them");
        }
    }
}

/// A connection's first request, counted while it is awaited, so that a shutdown can
/// wait for it.
struct FirstRequest {
    awaited: AtomicBool,
    awaiting: Arc<watch::Sender<usize>>,
}

impl FirstRequest {
    fn new(awaiting: &Arc<watch::Sender<usize>>) -> Arc<Self> {
        awaiting.send_modify(|count| *count += 1);
        Arc::new(Self {
            awaited: AtomicBool::new(true),
            awaiting: Arc::clone(awaiting),
        })
    }

    fn arrived(&self) {
        if self.awaited.swap(false, Ordering::AcqRel) {
            self.awaiting.send_modify(|count| *count -= 1);
        }
    }
}

impl Drop for FirstRequest {
    fn drop(&mut self) {
        if *self.awaited.get_mut() {
            self.awaiting.send_modify(|count| *count -= 1);
        }
    }
}
