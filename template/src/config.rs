//! Configuration, read from the environment only (12-factor): the core settings,
//! one section per concern, which [`Config`] flattens together with the settings of
//! each option (declared in the option's own module, such as `cache::RedisConfig`).
//!
//! Every field is a flag with an environment variable of the same name, so
//! `--help` lists every variable the service reads and a bad value is reported
//! under the variable's name.

mod cli;
mod lists;
mod secrets;

use std::time::Duration;

use clap::{Args, ValueEnum};
use secrecy::SecretString;

pub use cli::{Cli, Command, Config};
pub use lists::{AllowedOrigins, TrustedProxies};

use crate::db;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AppEnv {
    Development,
    Production,
}

impl AppEnv {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Development => "development",
            Self::Production => "production",
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct HttpConfig {
    /// Address to listen on. Loopback unless set: the image sets `0.0.0.0`, since a
    /// container is reached through its own network.
    #[arg(long, env = "HOST", value_name = "HOST", default_value = "127.0.0.1")]
    pub host: String,
    /// Port to listen on (0 picks a free one).
    #[arg(long, env = "PORT", value_name = "PORT", default_value_t = cli::DEFAULT_PORT)]
    pub port: u16,
    /// Port of the Prometheus metrics (`GET /metrics`), kept apart from the public one (0 picks a free one).
    #[arg(long, env = "METRICS_PORT", value_name = "METRICS_PORT", default_value_t = 9090)]
    pub metrics_port: u16,
    /// Seconds a request may take before it is answered 504.
    #[arg(long, env = "REQUEST_TIMEOUT_SECS", value_name = "REQUEST_TIMEOUT_SECS", default_value_t = 30)]
    pub request_timeout_secs: u64,
    /// Largest accepted request body, in bytes.
    #[arg(long, env = "MAX_BODY_BYTES", value_name = "MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Most request-body bytes held at once across all requests (each counts its announced
    /// length, or `MAX_BODY_BYTES` when unannounced); a body that would pass it is answered
    /// 503 before it is read. At least `MAX_BODY_BYTES`.
    #[arg(long, env = "MAX_BUFFERED_BODY_BYTES", value_name = "MAX_BUFFERED_BODY_BYTES", default_value_t = 64 * 1024 * 1024, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_buffered_body_bytes: u32,
    /// Comma-separated origins allowed by CORS, each `scheme://host[:port]` (empty: no cross-origin access).
    #[arg(long, env = "CORS_ALLOWED_ORIGINS", value_name = "CORS_ALLOWED_ORIGINS", default_value = "")]
    pub cors_allowed_origins: AllowedOrigins,
    /// Seconds to drain in-flight requests after SIGTERM before giving up on them.
    #[arg(long, env = "SHUTDOWN_TIMEOUT_SECS", value_name = "SHUTDOWN_TIMEOUT_SECS", default_value_t = 20)]
    pub shutdown_timeout_secs: u64,
    /// Seconds each request's headers get to arrive, from their first byte (a new
    /// connection's first request: from the connection opening), before it is closed.
    #[arg(long, env = "HEADER_READ_TIMEOUT_SECS", value_name = "HEADER_READ_TIMEOUT_SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub header_read_timeout_secs: u64,
    /// Seconds a kept-alive connection may wait for its next request's headers before it is closed.
    #[arg(long, env = "KEEP_ALIVE_TIMEOUT_SECS", value_name = "KEEP_ALIVE_TIMEOUT_SECS", default_value_t = 75, value_parser = clap::value_parser!(u64).range(1..))]
    pub keep_alive_timeout_secs: u64,
    /// Seconds a response may wait for the client to read any of it before the connection is closed.
    #[arg(long, env = "SEND_TIMEOUT_SECS", value_name = "SEND_TIMEOUT_SECS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    pub send_timeout_secs: u64,
    /// Most connections served at once; more wait in the kernel's queue until one closes.
    #[arg(long, env = "MAX_CONNECTIONS", value_name = "MAX_CONNECTIONS", default_value_t = 4096, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,
    /// Largest request line and headers together, in bytes; a larger block is answered 431.
    /// It also bounds what one connection buffers, so that `MAX_CONNECTIONS` of them fit
    /// in the container's memory.
    #[arg(long, env = "MAX_HEADER_BYTES", value_name = "MAX_HEADER_BYTES", default_value_t = 16 * 1024, value_parser = clap::value_parser!(u32).range(8192..))]
    pub max_header_bytes: u32,
    /// Longest `x-request-id` taken from a client; a longer or non-printable one is replaced.
    #[arg(long, env = "MAX_REQUEST_ID_LENGTH", value_name = "MAX_REQUEST_ID_LENGTH", default_value_t = 128, value_parser = clap::value_parser!(u16).range(1..))]
    pub max_request_id_length: u16,
    /// Serve the interactive API docs at `/api/docs` (`/api/openapi.json` is always served).
    #[arg(long, env = "API_DOCS", value_name = "API_DOCS", default_value_t = true, action = clap::ArgAction::Set)]
    pub api_docs: bool,
}

impl HttpConfig {
    pub(crate) fn check_body_budget(&self) -> Result<(), String> {
        if (self.max_buffered_body_bytes as usize) < self.max_body_bytes {
            return Err("MAX_BUFFERED_BODY_BYTES must be at least MAX_BODY_BYTES, or no body of the largest size is ever accepted".into());
        }
        Ok(())
    }

    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_secs)
    }

    pub fn shutdown_timeout(&self) -> Duration {
        Duration::from_secs(self.shutdown_timeout_secs)
    }

    pub fn header_read_timeout(&self) -> Duration {
        Duration::from_secs(self.header_read_timeout_secs)
    }

    pub fn keep_alive_timeout(&self) -> Duration {
        Duration::from_secs(self.keep_alive_timeout_secs)
    }

    pub fn send_timeout(&self) -> Duration {
        Duration::from_secs(self.send_timeout_secs)
    }
}

/// Per-client limits on `/api/v1`, each client a token bucket. Per process: N replicas
/// let a client through at N times the rate.
#[derive(Debug, Clone, Args)]
pub struct RateLimitConfig {
    /// Requests per second a client may sustain on the API (0 turns the limit off).
    #[arg(long, env = "RATE_LIMIT_PER_SECOND", value_name = "RATE_LIMIT_PER_SECOND", default_value_t = 20, value_parser = clap::value_parser!(u32).range(0..=1_000_000))]
    pub rate_limit_per_second: u32,
    /// Requests a client may send at once above the sustained rate.
    #[arg(long, env = "RATE_LIMIT_BURST", value_name = "RATE_LIMIT_BURST", default_value_t = 40, value_parser = clap::value_parser!(u32).range(1..))]
    pub rate_limit_burst: u32,
    /// Comma-separated proxies (CIDRs or addresses) whose `X-Forwarded-For` names the client;
    /// empty: the peer address is the client, and the header is ignored.
    #[arg(long, env = "TRUSTED_PROXIES", value_name = "TRUSTED_PROXIES", default_value = "")]
    pub trusted_proxies: TrustedProxies,
}

#[derive(Debug, Clone, Args)]
pub struct LogConfig {
    /// Log line format: `json` (one object per line) or `pretty` (for humans).
    #[arg(long, env = "LOG_FORMAT", value_name = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Json)]
    pub log_format: LogFormat,
    /// Log filter, in `tracing` EnvFilter syntax (for example `info,sqlx=warn`).
    #[arg(long, env = "RUST_LOG", value_name = "RUST_LOG", default_value = "info")]
    pub rust_log: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Json,
    Pretty,
}

#[derive(Debug, Clone, Args)]
pub struct DatabaseConfig {
    // What the URL looks like and where it points by default depend on the engine:
    // its module says (`db/postgres.rs` or `db/sqlite.rs`).
    #[arg(long, env = "DATABASE_URL", value_name = "DATABASE_URL", help = db::URL_HELP, default_value = db::DEFAULT_URL, hide_default_value = true)]
    pub database_url: SecretString,
    /// Most connections the pool opens.
    #[arg(long, env = "DATABASE_MAX_CONNECTIONS", value_name = "DATABASE_MAX_CONNECTIONS", default_value_t = 10)]
    pub database_max_connections: u32,
    /// Connections the pool keeps open when idle.
    #[arg(long, env = "DATABASE_MIN_CONNECTIONS", value_name = "DATABASE_MIN_CONNECTIONS", default_value_t = 0)]
    pub database_min_connections: u32,
    /// Seconds to wait for a free connection before failing the request.
    #[arg(long, env = "DATABASE_ACQUIRE_TIMEOUT_SECS", value_name = "DATABASE_ACQUIRE_TIMEOUT_SECS", default_value_t = 5)]
    pub database_acquire_timeout_secs: u64,
    /// Apply pending migrations when `serve` starts.
    #[arg(long, env = "RUN_MIGRATIONS_ON_START", value_name = "RUN_MIGRATIONS_ON_START", default_value_t = true, action = clap::ArgAction::Set)]
    pub run_migrations_on_start: bool,
}

impl DatabaseConfig {
    pub fn acquire_timeout(&self) -> Duration {
        Duration::from_secs(self.database_acquire_timeout_secs)
    }

    /// The pool cannot keep more connections open when idle than it may open at all.
    fn check_pool_sizes(&self) -> Result<(), String> {
        if self.database_min_connections > self.database_max_connections {
            return Err("DATABASE_MIN_CONNECTIONS must not exceed DATABASE_MAX_CONNECTIONS".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::cli::parse;

    #[test]
    fn more_idle_than_open_connections_are_refused() {
        let error = parse(&["--database-min-connections", "11", "--database-max-connections", "10"])
            .expect_err("min above max was accepted");

        assert!(error.contains("DATABASE_MIN_CONNECTIONS"), "error: {error}");
    }

    #[test]
    fn two_sources_of_token_keys_are_refused_naming_the_three() {
        let error = parse(&["--auth-hmac-secret", "a-shared-secret-of-at-least-32-bytes", "--auth-jwks-url", "https://login.example.com/jwks.json"])
            .expect_err("two key sources were accepted");

        assert!(error.contains("AUTH_JWKS_URL, AUTH_PUBLIC_KEY_FILE and AUTH_HMAC_SECRET"), "error: {error}");
    }

    #[test]
    fn production_refuses_a_jwks_url_without_tls() {
        let error = parse(&["--app-env", "production", "--auth-jwks-url", "http://login.example.com/jwks.json"])
            .expect_err("keys over plain HTTP were accepted");

        assert!(error.contains("AUTH_JWKS_URL must be an https:// URL"), "error: {error}");
    }

    #[test]
    fn an_empty_key_setting_counts_as_unset() {
        parse(&["--auth-hmac-secret", "", "--auth-jwks-url", "", "--auth-public-key-file", ""]).expect("empty key settings are unset");
    }

    #[test]
    fn a_body_budget_below_the_largest_body_is_refused() {
        let error = parse(&["--max-body-bytes", "2048", "--max-buffered-body-bytes", "1024"])
            .expect_err("a budget below one body was accepted");

        assert!(error.contains("MAX_BUFFERED_BODY_BYTES") && error.contains("MAX_BODY_BYTES"), "error: {error}");
    }
}
