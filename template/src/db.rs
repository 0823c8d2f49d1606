//! The database: the one place that knows which engine the service runs on.

use std::str::FromStr;

use anyhow::Context;
use secrecy::ExposeSecret;
{%- if database == "postgres" %}
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::config::DatabaseConfig;

pub type Db = sqlx::Postgres;
{%- else %}
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::config::DatabaseConfig;

pub type Db = sqlx::Sqlite;
{%- endif %}
pub type DbPool = sqlx::Pool<Db>;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");
{% if database == "postgres" %}
/// Opens the pool; the URL's `sslmode` decides TLS.
pub async fn connect(config: &DatabaseConfig) -> anyhow::Result<DbPool> {
    let options = PgConnectOptions::from_str(config.database_url.expose_secret())
        .context("DATABASE_URL is not a valid Postgres URL")?;
    PgPoolOptions::new()
        .max_connections(config.database_max_connections)
        .min_connections(config.database_min_connections)
        .acquire_timeout(config.acquire_timeout())
        .connect_with(options)
        .await
        .context("could not connect to the database at DATABASE_URL")
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
    if let Some(directory) = options.get_filename().parent() {
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
        .context("could not open the SQLite database at DATABASE_URL")
}
{% endif %}
/// A round trip to the database, for readiness.
pub async fn ping(pool: &DbPool) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT 1").execute(pool).await.map(drop)
}

/// Applies pending migrations. On Postgres they take an advisory lock, so
/// replicas starting together apply them once.
pub async fn migrate(config: &DatabaseConfig) -> anyhow::Result<()> {
    let pool = connect(config).await?;
    MIGRATOR.run(&pool).await.context("could not apply migrations")?;
    tracing::info!("migrations applied");
    pool.close().await;
    Ok(())
}
