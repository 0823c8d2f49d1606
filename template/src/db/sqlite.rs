//! SQLite: the engine, its URL, and a connect that creates the database file and its directory.

use std::str::FromStr;

use anyhow::Context;
use secrecy::ExposeSecret;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use super::DbPool;
use crate::config::DatabaseConfig;

pub type Db = sqlx::Sqlite;

/// What `--help` says of `DATABASE_URL`.
pub const URL_HELP: &str = "SQLite URL; the file and its directory are created if missing";

/// `DATABASE_URL`'s default: a file under `data/`, named after the service.
pub const DEFAULT_URL: &str = "sqlite:data/{{crate_name}}.db";

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
pub(super) fn is_unavailable_code(code: &str) -> bool {
    matches!(code, "5" | "6" | "261" | "262" | "517" | "773")
}
