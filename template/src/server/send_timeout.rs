//! The send timeout: a response the client stops reading may wait `SEND_TIMEOUT_SECS`
//! for it to read again, then the connection is closed (nginx's `send_timeout`). Without
//! it, a stalled reader would hold its connection slot and the unsent response for as
//! long as the other timers happened to allow.

use std::{
    future::Future,
    io,
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use tokio::time::{Sleep, sleep};

/// Times how long writes to one connection have been waiting for the client.
pub(super) struct SendTimeout {
    limit: Duration,
    /// Set when a write found the client's buffers full; cleared when one goes through.
    stalled: Option<Pin<Box<Sleep>>>,
}

impl SendTimeout {
    pub(super) fn new(limit: Duration) -> Self {
        Self { limit, stalled: None }
    }

    /// `write`'s outcome, or an error once writes have waited [`Self::limit`] for the
    /// client to read.
    pub(super) fn check<T>(&mut self, cx: &mut Context<'_>, write: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        if write.is_ready() {
            self.stalled = None;
            return write;
        }
        let limit = self.limit;
        let stalled = self.stalled.get_or_insert_with(|| Box::pin(sleep(limit)));
        match stalled.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client read nothing for SEND_TIMEOUT_SECS",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}
