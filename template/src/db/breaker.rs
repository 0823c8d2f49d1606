//! The database's breaker: open while the database is known to be down, so that a
//! request that needs it is answered 503 at once instead of waiting
//! `DATABASE_ACQUIRE_TIMEOUT_SECS` for a connection that cannot come. Readiness's
//! background check opens and closes it; a request that finds the database unreachable
//! opens it at once and has that check run now.

use std::{
    io,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

use tokio::sync::Notify;

use super::{DbConnection, DbPool};

#[derive(Clone, Default)]
pub struct Breaker {
    open: Arc<AtomicBool>,
    tripped: Arc<Notify>,
}

impl Breaker {
    /// A connection from `pool`, or an error at once while the breaker is open.
    pub async fn acquire(&self, pool: &DbPool) -> Result<DbConnection, sqlx::Error> {
        if self.open.load(Ordering::Acquire) {
            return Err(sqlx::Error::Io(io::Error::new(
                io::ErrorKind::NotConnected,
                "the database is down; refused without waiting for a connection until a background check reaches it",
            )));
        }
        let connection = super::acquire(pool).await;
        if connection.as_ref().is_err_and(super::is_unavailable) && !self.open.swap(true, Ordering::AcqRel) {
            self.tripped.notify_one();
        }
        connection
    }

    /// What the background check found: the database answers (closed) or not (open).
    pub fn set_open(&self, open: bool) {
        self.open.store(open, Ordering::Release);
    }

    /// Completes when a request has opened the breaker since the last call.
    pub async fn tripped(&self) {
        self.tripped.notified().await;
    }
}
