//! Postgres: the engine, its URL, and a connect that names why a server cannot be reached.

use std::str::FromStr;

use anyhow::Context;
use secrecy::ExposeSecret;
use sqlx::{
    ConnectOptions, Connection,
    postgres::{PgConnectOptions, PgPoolOptions},
};

use super::DbPool;
use crate::config::DatabaseConfig;

pub type Db = sqlx::Postgres;

/// What `--help` says of `DATABASE_URL`.
pub const URL_HELP: &str = "Postgres URL; TLS is set by its `sslmode` parameter (for example `?sslmode=require`)";

/// `DATABASE_URL`'s default: a Postgres on this machine, with a database named after the service.
pub const DEFAULT_URL: &str = "postgres://postgres@localhost:5432/{{crate_name}}";

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
pub(super) fn is_unavailable_code(code: &str) -> bool {
    code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03" | "53300")
}
