//! Configuration, read from the environment only (12-factor).
//!
//! Every field is a flag with an environment variable of the same name, so
//! `--help` lists every variable the service reads and a bad value is reported
//! under the variable's name.

use std::{
    any::TypeId,
    ffi::{OsStr, OsString},
    net::IpAddr,
    path::Path,
    str::FromStr,
    time::Duration,
};

use axum::http::{HeaderValue, Uri};
use ipnet::IpNet;
use clap::{ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum, error::ErrorKind};
use secrecy::{ExposeSecret, SecretString};

#[derive(Debug, Parser)]
#[command(version, about = "{{project-name}} HTTP service")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub config: Config,
}

impl Cli {
    /// The command line and environment, parsed and checked: every entry point reads its
    /// settings through here. A bad value exits with clap's message naming the variable.
    pub fn parse_checked() -> Self {
        Self::try_parse_checked_from(std::env::args_os()).unwrap_or_else(|error| error.exit())
    }

    /// [`Cli::parse_checked`] for `args`, returning the error instead of exiting.
    pub fn try_parse_checked_from<I, T>(args: I) -> Result<Self, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        Self::try_parse_checked_with_env(args, |name| std::env::var_os(name))
    }

    /// The command line clap derives, with `--help` saying which settings can come from a file.
    fn full_command() -> clap::Command {
        Self::command().mut_args(mention_secret_file)
    }

    /// [`Cli::try_parse_checked_from`] with `env` in place of the process environment
    /// for the `NAME_FILE` variables of secrets.
    pub fn try_parse_checked_with_env<I, T>(args: I, env: impl Fn(&str) -> Option<OsString>) -> Result<Self, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        let mut command = Self::full_command();
        let args = args.into_iter().map(Into::into).collect();
        let args = secrets_from_files(&command, args, env)
            .map_err(|problem| command.error(ErrorKind::ValueValidation, problem))?;
        let matches = command.try_get_matches_from_mut(args)?;
        let cli = Self::from_arg_matches(&matches)?;
        cli.config
            .check_combination(&matches)
            .map_err(|problem| command.error(ErrorKind::ValueValidation, problem))?;
        Ok(cli)
    }
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
    /// Print the OpenAPI document this build serves (`openapi.json` holds a copy).
    Openapi,
}

#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Deployment environment: `production` refuses placeholder secrets.
    #[arg(long, env = "APP_ENV", value_name = "APP_ENV", value_enum, default_value_t = AppEnv::Development)]
    pub app_env: AppEnv,
    #[command(flatten)]
    pub http: HttpConfig,
    #[command(flatten)]
    pub rate_limit: RateLimitConfig,
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
    /// Port of the Prometheus metrics (`GET /metrics`), kept apart from the public one (0 picks a free one).
    #[arg(long, env = "METRICS_PORT", value_name = "METRICS_PORT", default_value_t = 9090)]
    pub metrics_port: u16,
    /// Seconds a request may take before it is answered 408.
    #[arg(long, env = "REQUEST_TIMEOUT_SECS", value_name = "REQUEST_TIMEOUT_SECS", default_value_t = 30)]
    pub request_timeout_secs: u64,
    /// Largest accepted request body, in bytes.
    #[arg(long, env = "MAX_BODY_BYTES", value_name = "MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Comma-separated origins allowed by CORS, each `scheme://host[:port]` (empty: no cross-origin access).
    #[arg(long, env = "CORS_ALLOWED_ORIGINS", value_name = "CORS_ALLOWED_ORIGINS", default_value = "")]
    pub cors_allowed_origins: AllowedOrigins,
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
    /// Serve the interactive API docs at `/api/docs` (`/api/openapi.json` is always served).
    #[arg(long, env = "API_DOCS", value_name = "API_DOCS", default_value_t = true, action = clap::ArgAction::Set)]
    pub api_docs: bool,
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
}

/// The origins CORS allows, each as the `Origin` header a browser sends for it.
#[derive(Debug, Clone, Default)]
pub struct AllowedOrigins(Vec<HeaderValue>);

impl AllowedOrigins {
    pub fn header_values(&self) -> impl Iterator<Item = HeaderValue> + '_ {
        self.0.iter().cloned()
    }
}

impl FromStr for AllowedOrigins {
    type Err = String;

    fn from_str(list: &str) -> Result<Self, String> {
        let origins = list.split(',').map(str::trim).filter(|origin| !origin.is_empty());
        origins.map(parse_origin).collect::<Result<_, _>>().map(Self)
    }
}

/// `scheme://host[:port]` with an http(s) scheme and nothing else: a browser's `Origin`
/// never has a path, a user or a wildcard, so such an entry could never match.
fn parse_origin(origin: &str) -> Result<HeaderValue, String> {
    let origin = origin.trim_end_matches('/');
    let refused = || format!("`{origin}` is not an origin: use scheme://host[:port], for example https://app.example.com");
    let uri: Uri = origin.parse().map_err(|_| refused())?;
    let is_origin = matches!(uri.scheme_str(), Some("http" | "https"))
        && uri.authority().is_some_and(|authority| !authority.as_str().contains('@'))
        && uri.path_and_query().is_none_or(|target| target.as_str() == "/");
    if !is_origin {
        return Err(refused());
    }
    HeaderValue::from_str(origin).map_err(|_| refused())
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

/// The networks a request may come through and still name its client in `X-Forwarded-For`.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    pub fn contains(&self, address: &IpAddr) -> bool {
        self.0.iter().any(|network| network.contains(address))
    }
}

impl FromStr for TrustedProxies {
    type Err = String;

    fn from_str(list: &str) -> Result<Self, String> {
        let entries = list.split(',').map(str::trim).filter(|entry| !entry.is_empty());
        entries.map(parse_network).collect::<Result<_, _>>().map(Self)
    }
}

/// A CIDR such as `10.0.0.0/8`, or one address.
fn parse_network(entry: &str) -> Result<IpNet, String> {
    entry
        .parse::<IpNet>()
        .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| format!("`{entry}` is not an address or a CIDR such as 10.0.0.0/8"))
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
    /// Sentry DSN; error reporting is off when unset or empty.
    #[arg(long, env = "SENTRY_DSN", value_name = "SENTRY_DSN", value_parser = parse_sentry_dsn)]
    pub sentry_dsn: Option<SecretString>,
    /// Share of requests traced by Sentry performance monitoring, from 0.0 to 1.0.
    #[arg(long, env = "SENTRY_TRACES_SAMPLE_RATE", value_name = "SENTRY_TRACES_SAMPLE_RATE", default_value_t = 0.0, value_parser = parse_share)]
    pub sentry_traces_sample_rate: f32,
}

impl SentryConfig {
    /// The DSN to report to: `None` when unset or empty, as `SENTRY_DSN=` in an env file leaves it.
    pub fn dsn(&self) -> Option<&SecretString> {
        self.sentry_dsn.as_ref().filter(|dsn| !dsn.expose_secret().is_empty())
    }
}

/// A DSN Sentry's client accepts, kept secret; empty for none.
fn parse_sentry_dsn(dsn: &str) -> Result<SecretString, String> {
    if !dsn.is_empty() {
        dsn.parse::<sentry::types::Dsn>().map_err(|error| format!("not a valid Sentry DSN: {error}"))?;
    }
    Ok(dsn.into())
}

/// A share, from 0.0 to 1.0.
fn parse_share(share: &str) -> Result<f32, String> {
    match share.parse::<f32>() {
        Ok(share) if (0.0..=1.0).contains(&share) => Ok(share),
        _ => Err(format!("`{share}` is not a number from 0.0 to 1.0")),
    }
}
{%- endif %}
{%- if otel %}

/// The standard OpenTelemetry variables this service documents; the exporter
/// reads the rest of the `OTEL_*` family (headers, protocol, sampler) itself.
#[derive(Debug, Clone, Args)]
pub struct OtelConfig {
    /// OTLP/HTTP collector URL (for example `http://collector:4318`); tracing export is off when unset or empty.
    #[arg(long, env = "OTEL_EXPORTER_OTLP_ENDPOINT", value_name = "OTEL_EXPORTER_OTLP_ENDPOINT", value_parser = parse_endpoint)]
    pub otel_exporter_otlp_endpoint: Option<String>,
    /// Service name attached to every span.
    #[arg(long, env = "OTEL_SERVICE_NAME", value_name = "OTEL_SERVICE_NAME", default_value = "{{project-name}}")]
    pub otel_service_name: String,
}

impl OtelConfig {
    /// The collector to export to: `None` when unset or empty.
    pub fn endpoint(&self) -> Option<&str> {
        self.otel_exporter_otlp_endpoint.as_deref().filter(|endpoint| !endpoint.is_empty())
    }
}

/// An http(s) URL with a host; empty for none.
fn parse_endpoint(endpoint: &str) -> Result<String, String> {
    let is_url = endpoint.parse::<Uri>().is_ok_and(|uri| {
        matches!(uri.scheme_str(), Some("http" | "https")) && uri.host().is_some_and(|host| !host.is_empty())
    });
    if endpoint.is_empty() || is_url {
        Ok(endpoint.to_owned())
    } else {
        Err(format!("`{endpoint}` is not an http(s) URL, for example http://collector:4318"))
    }
}
{%- endif %}

/// Whether `arg` is a secret: parsed as a [`SecretString`], whichever module declares it.
fn is_secret(arg: &clap::Arg) -> bool {
    arg.get_value_parser().type_id() == TypeId::of::<SecretString>()
}

/// Says in `--help` that a secret can come from a file.
fn mention_secret_file(arg: clap::Arg) -> clap::Arg {
    match (is_secret(&arg), arg.get_env().and_then(OsStr::to_str)) {
        (true, Some(name)) => {
            let help = arg.get_help().map(ToString::to_string).unwrap_or_default();
            let help = format!("{help} Or set {name}_FILE to a file holding it (Docker and Kubernetes secrets).");
            arg.help(help)
        }
        _ => arg,
    }
}

/// `args` with the value of every secret whose `NAME_FILE` variable is set, read from
/// that file, as if given on the command line (after the program name, before any
/// subcommand). The file's final newline is not part of the secret. Setting `NAME` too
/// is refused: which one wins would be a guess.
fn secrets_from_files(
    command: &clap::Command,
    args: Vec<OsString>,
    env: impl Fn(&str) -> Option<OsString>,
) -> Result<Vec<OsString>, String> {
    let mut read = Vec::new();
    for arg in command.get_arguments().filter(|arg| is_secret(arg)) {
        let (Some(name), Some(long)) = (arg.get_env().and_then(OsStr::to_str), arg.get_long()) else { continue };
        let file_variable = format!("{name}_FILE");
        let Some(path) = env(&file_variable) else { continue };
        let flag = format!("--{long}");
        let given_as_flag = args.iter().filter_map(|arg| arg.to_str()).any(|arg| {
            arg == flag || arg.strip_prefix(flag.as_str()).is_some_and(|rest| rest.starts_with('='))
        });
        if given_as_flag || env(name).is_some_and(|value| !value.is_empty()) {
            return Err(format!("{name} and {file_variable} are both set; set only one of them"));
        }
        read.push(OsString::from(flag));
        read.push(OsString::from(read_secret(&file_variable, Path::new(&path))?));
    }
    let mut args = args.into_iter();
    Ok(args.next().into_iter().chain(read).chain(args).collect())
}

/// The content of a secret's file without its final newline; the error names the
/// variable and the path, never the content.
fn read_secret(variable: &str, path: &Path) -> Result<String, String> {
    let mut secret = std::fs::read_to_string(path)
        .map_err(|error| format!("{variable}: could not read {}: {error}", path.display()))?;
    if secret.ends_with('\n') {
        secret.pop();
        if secret.ends_with('\r') {
            secret.pop();
        }
    }
    Ok(secret)
}

/// Words that mark a value copied from an example file rather than set for real.
const PLACEHOLDERS: &[&str] = &["change_me", "changeme", "postgres:postgres@", "password@"];

impl Config {
    /// Checks what no single value's parser can: values that parse but make no sense
    /// together, and in production, secrets still holding a placeholder. Every setting
    /// parsed as a [`SecretString`] is a secret, whichever module declares it.
    fn check_combination(&self, matches: &ArgMatches) -> Result<(), String> {
        if self.database.database_min_connections > self.database.database_max_connections {
            return Err("DATABASE_MIN_CONNECTIONS must not exceed DATABASE_MAX_CONNECTIONS".into());
        }
        if self.app_env != AppEnv::Production {
            return Ok(());
        }
        for id in matches.ids() {
            let Ok(Some(secret)) = matches.try_get_one::<SecretString>(id.as_str()) else { continue };
            let value = secret.expose_secret().to_ascii_lowercase();
            if PLACEHOLDERS.iter().any(|placeholder| value.contains(placeholder)) {
                let name = id.as_str().to_ascii_uppercase();
                return Err(format!("{name} still holds a placeholder value; set a real secret for APP_ENV=production"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Config, String> {
        parse_with_env(args, &[])
    }

    /// Parses `args` as if the environment also held `env` (only `NAME_FILE` variables
    /// and the secrets they stand for are read from it).
    fn parse_with_env(args: &[&str], env: &[(&str, &str)]) -> Result<Config, String> {
        let env = |name: &str| env.iter().find(|(variable, _)| *variable == name).map(|(_, value)| OsString::from(value));
        Cli::try_parse_checked_with_env(["service"].iter().chain(args), env)
            .map(|cli| cli.config)
            .map_err(|error| error.to_string())
    }

    /// A file holding `content`, removed when dropped.
    struct SecretFile(std::path::PathBuf);

    impl SecretFile {
        fn holding(content: &str) -> Self {
            static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
            let number = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let path = std::env::temp_dir().join(format!("secret-{}-{number}", std::process::id()));
            std::fs::write(&path, content).expect("secret file written");
            Self(path)
        }

        fn path(&self) -> &str {
            self.0.to_str().expect("a UTF-8 temporary path")
        }
    }

    impl Drop for SecretFile {
        fn drop(&mut self) {
            std::fs::remove_file(&self.0).ok();
        }
    }

    #[test]
    fn a_secret_is_read_from_the_file_its_file_variable_names() {
        let file = SecretFile::holding("postgres://app:from-file@db/app\n");

        let config = parse_with_env(&[], &[("DATABASE_URL_FILE", file.path())]).expect("the file is read");

        assert_eq!(config.database.database_url.expose_secret(), "postgres://app:from-file@db/app");
    }

    #[test]
    fn only_the_final_newline_of_a_secret_file_is_dropped() {
        let file = SecretFile::holding("postgres://app:two-lines@db/app\r\n\r\n");

        let config = parse_with_env(&[], &[("DATABASE_URL_FILE", file.path())]).expect("the file is read");

        assert_eq!(config.database.database_url.expose_secret(), "postgres://app:two-lines@db/app\r\n");
    }

    #[test]
    fn a_secret_set_both_directly_and_by_file_is_refused_naming_both() {
        let file = SecretFile::holding("postgres://app:from-file@db/app");
        let env = [("DATABASE_URL", "postgres://app:direct@db/app"), ("DATABASE_URL_FILE", file.path())];

        let error = parse_with_env(&[], &env).expect_err("both were accepted");

        assert!(error.contains("DATABASE_URL and DATABASE_URL_FILE are both set"), "error: {error}");
    }

    #[test]
    fn a_secret_given_as_a_flag_and_by_file_is_refused() {
        let file = SecretFile::holding("postgres://app:from-file@db/app");

        let error = parse_with_env(&["--database-url=postgres://app:flag@db/app"], &[("DATABASE_URL_FILE", file.path())])
            .expect_err("both were accepted");

        assert!(error.contains("both set"), "error: {error}");
    }

    #[test]
    fn an_unreadable_secret_file_is_one_line_naming_the_variable_and_the_path() {
        let error = parse_with_env(&[], &[("DATABASE_URL_FILE", "/nonexistent/database_url")]).expect_err("a missing file was accepted");

        let first_line = error.lines().next().unwrap_or_default();
        assert!(first_line.contains("DATABASE_URL_FILE: could not read /nonexistent/database_url"), "error: {error}");
    }

    #[test]
    fn the_help_says_which_settings_can_come_from_a_file() {
        let help = Cli::full_command().render_long_help().to_string();

        assert!(help.contains("DATABASE_URL_FILE"), "help: {help}");
    }

    #[test]
    fn debug_output_redacts_the_database_url() {
        let config = parse(&["--database-url", "postgres://app:hunter2@db/app"]).expect("flags parse");

        let printed = format!("{config:?}");

        assert!(!printed.contains("hunter2"), "the password leaked: {printed}");
    }

    #[test]
    fn production_refuses_a_change_me_secret() {
        let error = parse(&["--app-env", "production", "--database-url", "postgres://app:CHANGE_ME@db/app"])
            .expect_err("a placeholder was accepted");

        assert!(error.contains("DATABASE_URL"), "error: {error}");
    }

    #[test]
    fn development_accepts_the_default_secrets() {
        parse(&[]).expect("the defaults are valid outside production");
    }

    #[test]
    fn an_invalid_cors_origin_is_refused_naming_its_variable() {
        let error = parse(&["--cors-allowed-origins", "https://ok.example,bad\norigin"])
            .expect_err("a bad origin was accepted");

        assert!(error.contains("CORS_ALLOWED_ORIGINS"), "error: {error}");
    }

    #[test]
    fn a_wildcard_or_a_path_is_not_an_origin() {
        for list in ["*", "https://app.example/path", "app.example", "ftp://app.example", "https://user@app.example"] {
            let error = parse(&["--cors-allowed-origins", list]).expect_err(list);

            assert!(error.contains("is not an origin"), "{list}: {error}");
        }
    }

    #[test]
    fn origins_are_read_trimmed_without_their_trailing_slash() {
        let config = parse(&["--cors-allowed-origins", " https://a.example/, http://b.example:8080 ,"]).expect("origins parse");

        let origins: Vec<_> = config.http.cors_allowed_origins.header_values().collect();

        assert_eq!(origins, ["https://a.example", "http://b.example:8080"]);
    }

    #[test]
    fn trusted_proxies_take_cidrs_and_single_addresses() {
        let config = parse(&["--trusted-proxies", "10.0.0.0/8, 192.0.2.7,fd00::/8"]).expect("proxies parse");

        let proxies = &config.rate_limit.trusted_proxies;

        for inside in ["10.1.2.3", "192.0.2.7", "fd00::1"] {
            assert!(proxies.contains(&inside.parse().expect("an address")), "{inside} is trusted");
        }
        for outside in ["11.0.0.1", "192.0.2.8", "::1"] {
            assert!(!proxies.contains(&outside.parse().expect("an address")), "{outside} is not trusted");
        }
    }

    #[test]
    fn a_trusted_proxy_that_is_not_a_network_is_refused_naming_its_variable() {
        let error = parse(&["--trusted-proxies", "10.0.0.0/8,proxy.internal"]).expect_err("a host name was accepted");

        assert!(error.contains("TRUSTED_PROXIES") && error.contains("proxy.internal"), "error: {error}");
    }

    #[test]
    fn no_proxy_is_trusted_by_default() {
        let config = parse(&[]).expect("the defaults parse");

        assert!(!config.rate_limit.trusted_proxies.contains(&"127.0.0.1".parse().expect("an address")));
    }

    #[test]
    fn more_idle_than_open_connections_are_refused() {
        let error = parse(&["--database-min-connections", "11", "--database-max-connections", "10"])
            .expect_err("min above max was accepted");

        assert!(error.contains("DATABASE_MIN_CONNECTIONS"), "error: {error}");
    }
}
