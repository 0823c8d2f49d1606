//! The deadline on request headers: every request's headers must arrive within
//! `HEADER_READ_TIMEOUT_SECS` of its first byte, the first request's within that time
//! of the connection opening. hyper's own header timer restarts each time a kept-alive
//! connection goes idle, so it bounds the wait for a next request (the keep-alive
//! timeout), not how slowly that request's headers may trickle in.

use std::{
    io,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    task::{Context, Poll},
    time::Duration,
};

use super::send_timeout::SendTimeout;
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    sync::Notify,
    time::{Instant, sleep_until},
};

/// When the headers a connection awaits started arriving, if it awaits any.
pub(super) struct HeaderDeadline {
    opened: Instant,
    /// Milliseconds from `opened` to the first byte of the awaited headers, plus one;
    /// 0 while a request is being served or none has started.
    started: AtomicU64,
    serving: AtomicBool,
    changed: Notify,
}

impl HeaderDeadline {
    /// A connection just opened: its first request's headers are awaited from now.
    pub(super) fn new() -> Arc<Self> {
        Arc::new(Self {
            opened: Instant::now(),
            started: AtomicU64::new(1),
            serving: AtomicBool::new(false),
            changed: Notify::new(),
        })
    }

    /// A request's headers arrived: no deadline until its response is handed over.
    pub(super) fn request_arrived(&self) {
        self.serving.store(true, Ordering::Release);
        self.started.store(0, Ordering::Release);
    }

    /// The response is handed over: bytes read from now on start the next request.
    pub(super) fn response_sent(&self) {
        self.serving.store(false, Ordering::Release);
    }

    fn bytes_read(&self) {
        if !self.serving.load(Ordering::Acquire) && self.started.load(Ordering::Acquire) == 0 {
            let since_open = Instant::now().duration_since(self.opened);
            let millis = u64::try_from(since_open.as_millis()).unwrap_or(u64::MAX - 1);
            self.started.store(millis + 1, Ordering::Release);
            self.changed.notify_one();
        }
    }

    fn started(&self) -> Option<Instant> {
        match self.started.load(Ordering::Acquire) {
            0 => None,
            millis => Some(self.opened + Duration::from_millis(millis - 1)),
        }
    }

    /// Completes once headers have been awaited for `limit` since their first byte.
    pub(super) async fn overdue(&self, limit: Duration) {
        loop {
            match self.started() {
                Some(started) => {
                    sleep_until(started + limit).await;
                    if self.started() == Some(started) {
                        return;
                    }
                }
                None => self.changed.notified().await,
            }
        }
    }
}

/// A connection's stream, telling its [`HeaderDeadline`] when bytes arrive, and holding
/// its writes to the [`SendTimeout`].
pub(super) struct Watched<S> {
    stream: S,
    deadline: Arc<HeaderDeadline>,
    send: SendTimeout,
}

impl<S> Watched<S> {
    pub(super) fn new(stream: S, deadline: &Arc<HeaderDeadline>, send: SendTimeout) -> Self {
        Self {
            stream,
            deadline: Arc::clone(deadline),
            send,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let read = Pin::new(&mut self.stream).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.deadline.bytes_read();
        }
        read
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let write = Pin::new(&mut this.stream).poll_write(cx, buf);
        this.send.check(cx, write)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let write = Pin::new(&mut this.stream).poll_write_vectored(cx, bufs);
        this.send.check(cx, write)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let flush = Pin::new(&mut this.stream).poll_flush(cx);
        this.send.check(cx, flush)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}
