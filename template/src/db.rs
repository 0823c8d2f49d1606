//! The database: what every engine shares. The engine chosen at generation has a module
//! of its own (`db/postgres.rs` or `db/sqlite.rs`): its pool type, how it connects,
//! what its URL looks like, and which of its errors mean it cannot take work right now.

{% if database == "postgres" -%}
mod postgres;
use postgres as engine;
{% else -%}
mod sqlite;
use sqlite as engine;
{% endif %}
mod breaker;

use std::time::Instant;

use anyhow::Context;
use sqlx::migrate::MigrateError;

pub use breaker::Breaker;
pub use engine::{DEFAULT_URL, Db, URL_HELP, connect};

use crate::config::DatabaseConfig;

pub type DbPool = sqlx::Pool<Db>;
pub type DbConnection = sqlx::pool::PoolConnection<Db>;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Whether `error` means the database cannot be reached or cannot take work right now,
/// rather than a fault in the request or the query: worth retrying later.
pub fn is_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(error) => error.code().is_some_and(|code| engine::is_unavailable_code(&code)),
        _ => false,
    }
}

/// A connection from the pool for the queries of one operation; the wait for it is
/// recorded, so that an exhausted pool shows before requests time out.
async fn acquire(pool: &DbPool) -> Result<DbConnection, sqlx::Error> {
    let started = Instant::now();
    let connection = pool.acquire().await;
    metrics::histogram!("db_pool_acquire_duration_seconds").record(started.elapsed());
    connection
}

/// A round trip to the database, for readiness.
pub async fn ping(pool: &DbPool) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT 1").execute(pool).await.map(drop)
}

/// Applies the migrations of this build that the database lacks (on Postgres under an
/// advisory lock, so replicas starting together apply them once). A database that
/// holds a migration this build does not know was migrated by a newer release: this is a
/// rollback, or an old replica during a rolling update, and migrations are written for the
/// previous release to run on, so it runs as it is.
pub async fn apply_migrations(pool: &DbPool) -> anyhow::Result<()> {
    match MIGRATOR.run(pool).await {
        Err(MigrateError::VersionMissing(version)) => {
            tracing::warn!(version, "the database holds a newer release's migration; running on it");
            Ok(())
        }
        applied => applied.context("could not apply migrations"),
    }
}

/// Connects, applies pending migrations, and closes.
pub async fn migrate(config: &DatabaseConfig) -> anyhow::Result<()> {
    let pool = connect(config).await?;
    apply_migrations(&pool).await?;
    tracing::info!("migrations applied");
    pool.close().await;
    Ok(())
}
