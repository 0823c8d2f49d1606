//! The database: the one place that knows which engine the service runs on.

use std::{str::FromStr, time::Instant};

use anyhow::Context;
use secrecy::ExposeSecret;
use sqlx::migrate::MigrateError;
{%- if database == "postgres" %}
use sqlx::{
    ConnectOptions, Connection,
    postgres::{PgConnectOptions, PgPoolOptions},
};

use crate::config::DatabaseConfig;

pub type Db = sqlx::Postgres;
{%- else %}
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::config::DatabaseConfig;

pub type Db = sqlx::Sqlite;
{%- endif %}
pub type DbPool = sqlx::Pool<Db>;
pub type DbConnection = sqlx::pool::PoolConnection<Db>;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");
{% if database == "postgres" %}
/// Opens the pool; the URL's `sslmode` decides TLS.
pub async fn connect(config: &DatabaseConfig) -> anyhow::Result<DbPool> {
    let options = PgConnectOptions::from_str(config.database_url.expose_secret())
        .context("DATABASE_URL is not a valid Postgres URL")?;
    // The pool retries a refused connection until its acquire timeout, then reports
    // only that it timed out: one direct attempt first names the real cause (refused,
    // authentication, unknown database, TLS), with the address but not the password.
    let server = format!(
        "{}:{}/{}",
        options.get_host(),
        options.get_port(),
        options.get_database().unwrap_or_default()
    );
    let cannot_connect = || format!("could not connect to the database at {server} (DATABASE_URL)");
    match tokio::time::timeout(config.acquire_timeout(), options.connect()).await {
        Ok(Ok(connection)) => connection.close().await.ok(),
        Ok(Err(error)) => return Err(anyhow::Error::new(error).context(cannot_connect())),
        Err(_) => anyhow::bail!("{}: no answer within DATABASE_ACQUIRE_TIMEOUT_SECS", cannot_connect()),
    };
    PgPoolOptions::new()
        .max_connections(config.database_max_connections)
        .min_connections(config.database_min_connections)
        .acquire_timeout(config.acquire_timeout())
        .connect_with(options)
        .await
        .with_context(cannot_connect)
}

/// Postgres error codes that mean the server cannot take work right now: connection
/// exceptions (class 08), shutting down or starting up (57P0x), out of connections.
fn is_unavailable_code(code: &str) -> bool {
    code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03" | "53300")
}
{% else %}
/// Opens the pool on a SQLite file, creating the file and its directory if missing.
pub async fn connect(config: &DatabaseConfig) -> anyhow::Result<DbPool> {
    let options = SqliteConnectOptions::from_str(config.database_url.expose_secret())
        .context("DATABASE_URL is not a valid SQLite URL")?
        .create_if_missing(true)
        // WAL lets readers proceed while one writer commits.
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(config.acquire_timeout());
    let filename = options.get_filename().to_path_buf();
    if let Some(directory) = filename.parent() {
        std::fs::create_dir_all(directory).with_context(|| {
            format!("could not create the data directory {}", directory.display())
        })?;
    }
    SqlitePoolOptions::new()
        .max_connections(config.database_max_connections)
        .min_connections(config.database_min_connections)
        .acquire_timeout(config.acquire_timeout())
        .connect_with(options)
        .await
        .with_context(|| format!("could not open the SQLite database {} (DATABASE_URL)", filename.display()))
}

/// SQLite result codes that mean another writer holds the database for longer than the
/// busy timeout: SQLITE_BUSY, SQLITE_LOCKED and their extended forms.
fn is_unavailable_code(code: &str) -> bool {
    matches!(code, "5" | "6" | "261" | "262" | "517" | "773")
}
{% endif %}
/// Whether `error` means the database cannot be reached or cannot take work right now,
/// rather than a fault in the request or the query: worth retrying later.
pub fn is_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(error) => error.code().is_some_and(|code| is_unavailable_code(&code)),
        _ => false,
    }
}

/// A connection from the pool for the queries of one operation; the wait for it is
/// recorded, so that an exhausted pool shows before requests time out.
pub async fn acquire(pool: &DbPool) -> Result<DbConnection, sqlx::Error> {
    let started = Instant::now();
    let connection = pool.acquire().await;
    metrics::histogram!("db_pool_acquire_duration_seconds").record(started.elapsed());
    connection
}

/// A round trip to the database, for readiness.
pub async fn ping(pool: &DbPool) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT 1").execute(pool).await.map(drop)
}

/// Applies the migrations of this build that the database lacks.{% if database == "postgres" %} They take an
/// advisory lock, so replicas starting together apply them once.{% endif %} A database that
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
