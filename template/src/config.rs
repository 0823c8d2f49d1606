//! Configuration, read from the environment only (12-factor).
//!
//! Every field is a flag with an environment variable of the same name, so
//! `--help` lists every variable the service reads and a bad value is reported
//! under the variable's name.

use std::time::Duration;

use anyhow::{Context, bail};
use axum::http::HeaderValue;
use clap::{Args, Parser, Subcommand, ValueEnum};
use secrecy::{ExposeSecret, SecretString};

#[derive(Debug, Parser)]
#[command(version, about = "{{project-name}} HTTP service")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub config: Config,
}

#[derive(Debug, Clone, Copy, Default, Subcommand)]
pub enum Command {
    /// Serve HTTP until SIGTERM or SIGINT (the default).
    #[default]
    Serve,
    /// Apply pending database migrations, then exit.
    Migrate,
    /// Exit 0 only if `GET /health` on the local port answers 200 (for container health checks).
    Healthcheck,
}

#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Deployment environment: `production` refuses placeholder secrets.
    #[arg(long, env = "APP_ENV", value_name = "APP_ENV", value_enum, default_value_t = AppEnv::Development)]
    pub app_env: AppEnv,
    #[command(flatten)]
    pub http: HttpConfig,
    #[command(flatten)]
    pub log: LogConfig,
    #[command(flatten)]
    pub database: DatabaseConfig,
{%- if redis %}
    #[command(flatten)]
    pub redis: RedisConfig,
{%- endif %}
{%- if sentry %}
    #[command(flatten)]
    pub sentry: SentryConfig,
{%- endif %}
{%- if otel %}
    #[command(flatten)]
    pub otel: OtelConfig,
{%- endif %}
}

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
    /// Address to listen on.
    #[arg(long, env = "HOST", value_name = "HOST", default_value = "0.0.0.0")]
    pub host: String,
    /// Port to listen on (0 picks a free one).
    #[arg(long, env = "PORT", value_name = "PORT", default_value_t = {{http_port}})]
    pub port: u16,
    /// Seconds a request may take before it is answered 408.
    #[arg(long, env = "REQUEST_TIMEOUT_SECS", value_name = "REQUEST_TIMEOUT_SECS", default_value_t = 30)]
    pub request_timeout_secs: u64,
    /// Largest accepted request body, in bytes.
    #[arg(long, env = "MAX_BODY_BYTES", value_name = "MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Comma-separated origins allowed by CORS (empty: no cross-origin access).
    #[arg(long, env = "CORS_ALLOWED_ORIGINS", value_name = "CORS_ALLOWED_ORIGINS", value_delimiter = ',', default_value = "")]
    pub cors_allowed_origins: Vec<String>,
    /// Seconds to drain in-flight requests after SIGTERM before giving up on them.
    #[arg(long, env = "SHUTDOWN_TIMEOUT_SECS", value_name = "SHUTDOWN_TIMEOUT_SECS", default_value_t = 20)]
    pub shutdown_timeout_secs: u64,
    /// Seconds a new connection gets to send its first request's headers before it is closed.
    #[arg(long, env = "HEADER_READ_TIMEOUT_SECS", value_name = "HEADER_READ_TIMEOUT_SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub header_read_timeout_secs: u64,
    /// Seconds a kept-alive connection may wait for its next request's headers before it is closed.
    #[arg(long, env = "KEEP_ALIVE_TIMEOUT_SECS", value_name = "KEEP_ALIVE_TIMEOUT_SECS", default_value_t = 75, value_parser = clap::value_parser!(u64).range(1..))]
    pub keep_alive_timeout_secs: u64,
    /// Most connections served at once; more wait in the kernel's queue until one closes.
    #[arg(long, env = "MAX_CONNECTIONS", value_name = "MAX_CONNECTIONS", default_value_t = 4096, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,
    /// Longest `x-request-id` taken from a client; a longer or non-printable one is replaced.
    #[arg(long, env = "MAX_REQUEST_ID_LENGTH", value_name = "MAX_REQUEST_ID_LENGTH", default_value_t = 128, value_parser = clap::value_parser!(u16).range(1..))]
    pub max_request_id_length: u16,
}

impl HttpConfig {
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

    pub fn cors_origins(&self) -> anyhow::Result<Vec<HeaderValue>> {
        self.cors_allowed_origins
            .iter()
            .filter(|origin| !origin.trim().is_empty())
            .map(|origin| {
                HeaderValue::from_str(origin.trim())
                    .with_context(|| format!("CORS_ALLOWED_ORIGINS: `{origin}` is not a valid origin"))
            })
            .collect()
    }
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
{%- if database == "postgres" %}
    /// Postgres URL; TLS is set by its `sslmode` parameter (for example `?sslmode=require`).
    #[arg(long, env = "DATABASE_URL", value_name = "DATABASE_URL", default_value = "postgres://postgres@localhost:5432/{{crate_name}}", hide_default_value = true)]
{%- else %}
    /// SQLite URL; the file and its directory are created if missing.
    #[arg(long, env = "DATABASE_URL", value_name = "DATABASE_URL", default_value = "sqlite:data/{{crate_name}}.db", hide_default_value = true)]
{%- endif %}
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
}
{%- if redis %}

#[derive(Debug, Clone, Args)]
pub struct RedisConfig {
    /// Redis URL (`rediss://` for TLS).
    #[arg(long, env = "REDIS_URL", value_name = "REDIS_URL", default_value = "redis://127.0.0.1:6379", hide_default_value = true)]
    pub redis_url: SecretString,
    /// Seconds a cached item lives in Redis.
    #[arg(long, env = "CACHE_TTL_SECS", value_name = "CACHE_TTL_SECS", default_value_t = 60)]
    pub cache_ttl_secs: u64,
    /// Prefix of every key this service writes, so services can share one Redis.
    #[arg(long, env = "CACHE_KEY_PREFIX", value_name = "CACHE_KEY_PREFIX", default_value = "{{crate_name}}")]
    pub cache_key_prefix: String,
}
{%- endif %}
{%- if sentry %}

#[derive(Debug, Clone, Args)]
pub struct SentryConfig {
    /// Sentry DSN; error reporting is off when unset.
    #[arg(long, env = "SENTRY_DSN", value_name = "SENTRY_DSN")]
    pub sentry_dsn: Option<SecretString>,
    /// Share of requests traced by Sentry performance monitoring, from 0.0 to 1.0.
    #[arg(long, env = "SENTRY_TRACES_SAMPLE_RATE", value_name = "SENTRY_TRACES_SAMPLE_RATE", default_value_t = 0.0)]
    pub sentry_traces_sample_rate: f32,
}
{%- endif %}
{%- if otel %}

/// The standard OpenTelemetry variables this service documents; the exporter
/// reads the rest of the `OTEL_*` family (headers, protocol, sampler) itself.
#[derive(Debug, Clone, Args)]
pub struct OtelConfig {
    /// OTLP/HTTP collector URL (for example `http://collector:4318`); tracing export is off when unset.
    #[arg(long, env = "OTEL_EXPORTER_OTLP_ENDPOINT", value_name = "OTEL_EXPORTER_OTLP_ENDPOINT")]
    pub otel_exporter_otlp_endpoint: Option<String>,
    /// Service name attached to every span.
    #[arg(long, env = "OTEL_SERVICE_NAME", value_name = "OTEL_SERVICE_NAME", default_value = "{{project-name}}")]
    pub otel_service_name: String,
}
{%- endif %}

/// Words that mark a value copied from an example file rather than set for real.
const PLACEHOLDERS: &[&str] = &["change_me", "changeme", "postgres:postgres@", "password@"];

impl Config {
    /// Checks what clap cannot: values that parse but make no sense together,
    /// and in production, secrets still holding a placeholder.
    pub fn validate(&self) -> anyhow::Result<()> {
        self.http.cors_origins()?;
        if self.database.database_min_connections > self.database.database_max_connections {
            bail!("DATABASE_MIN_CONNECTIONS must not exceed DATABASE_MAX_CONNECTIONS");
        }
{%- if sentry %}
        if let Some(dsn) = &self.sentry.sentry_dsn {
            dsn.expose_secret()
                .parse::<sentry::types::Dsn>()
                .context("SENTRY_DSN is not a valid Sentry DSN")?;
        }
        if !(0.0..=1.0).contains(&self.sentry.sentry_traces_sample_rate) {
            bail!("SENTRY_TRACES_SAMPLE_RATE must be between 0.0 and 1.0");
        }
{%- endif %}
        if self.app_env == AppEnv::Production {
            for (name, secret) in self.secrets() {
                let value = secret.expose_secret().to_ascii_lowercase();
                if PLACEHOLDERS.iter().any(|placeholder| value.contains(placeholder)) {
                    bail!("{name} still holds a placeholder value; set a real secret for APP_ENV=production");
                }
            }
        }
        Ok(())
    }

    fn secrets(&self) -> impl Iterator<Item = (&'static str, &SecretString)> + '_ {
        let always = [
            ("DATABASE_URL", &self.database.database_url),
{%- if redis %}
            ("REDIS_URL", &self.redis.redis_url),
{%- endif %}
        ];
        always.into_iter()
{%- if sentry %}
            .chain(self.sentry.sentry_dsn.iter().map(|dsn| ("SENTRY_DSN", dsn)))
{%- endif %}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Config {
        Cli::try_parse_from(["service"].iter().chain(args)).expect("flags parse").config
    }

    #[test]
    fn debug_output_redacts_the_database_url() {
        let config = parse(&["--database-url", "postgres://app:hunter2@db/app"]);

        let printed = format!("{config:?}");

        assert!(!printed.contains("hunter2"), "the password leaked: {printed}");
    }

    #[test]
    fn production_refuses_a_change_me_secret() {
        let config = parse(&["--app-env", "production", "--database-url", "postgres://app:CHANGE_ME@db/app"]);

        let error = config.validate().expect_err("a placeholder was accepted").to_string();

        assert!(error.contains("DATABASE_URL"), "error: {error}");
    }

    #[test]
    fn development_accepts_the_default_secrets() {
        let config = parse(&[]);

        config.validate().expect("the defaults are valid outside production");
    }

    #[test]
    fn an_invalid_cors_origin_is_refused_naming_its_variable() {
        let config = parse(&["--cors-allowed-origins", "https://ok.example,bad\norigin"]);

        let error = config.validate().expect_err("a bad origin was accepted").to_string();

        assert!(error.contains("CORS_ALLOWED_ORIGINS"), "error: {error}");
    }
}
