//! The command line: the subcommands and [`Config`], every setting, parsed and checked
//! through [`Cli::parse_checked`]. `Config` flattens the core sections of `config` and
//! the settings of each option chosen at generation, one field per option: the one
//! part of `config` that varies with the options.

use std::ffi::OsString;

use clap::{ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand, error::ErrorKind};

use super::{AppEnv, DatabaseConfig, HttpConfig, LogConfig, RateLimitConfig, secrets};

/// `PORT`'s default: the port chosen at generation.
pub(super) const DEFAULT_PORT: u16 = {{http_port}};

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

    /// The command line clap derives, with `--help` saying which settings can come from a
    /// file and showing no secret's value.
    pub(super) fn full_command() -> clap::Command {
        Self::command().mut_args(secrets::describe_secret)
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
        let args = secrets::secrets_from_files(&command, args, env)
            .map_err(|problem| command.error(ErrorKind::ValueValidation, problem))?;
        let matches = command.try_get_matches_from_mut(args)?;
        let cli = Self::from_arg_matches(&matches)?;
        cli.config
            .check_combination(&matches)
            .and_then(|()| match cli.command {
                None | Some(Command::Serve) => cli.config.auth.check_serving(cli.config.app_env),
                Some(_) => Ok(()),
            })
            .map_err(|problem| command.error(ErrorKind::ValueValidation, problem))?;
        Ok(cli)
    }
}

#[derive(Debug, Clone, Default, Subcommand)]
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
    /// Print a bearer token for trying the API locally (refused with APP_ENV=production).
    DevToken(crate::auth::DevTokenArgs),
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
    #[command(flatten)]
    pub auth: crate::auth::AuthConfig,
{%- if redis %}
    #[command(flatten)]
    pub redis: crate::cache::RedisConfig,
{%- endif %}
{%- if sentry %}
    #[command(flatten)]
    pub sentry: crate::telemetry::SentryConfig,
{%- endif %}
{%- if otel %}
    #[command(flatten)]
    pub otel: crate::telemetry::OtelConfig,
{%- endif %}
{%- if sentry or otel %}
    #[command(flatten)]
    pub caller_trace: crate::telemetry::CallerTraceConfig,
{%- endif %}
}

impl Config {
    /// Checks what no single value's parser can: values that parse but make no sense
    /// together, and in production, secrets still holding a placeholder.
    fn check_combination(&self, matches: &ArgMatches) -> Result<(), String> {
        self.database.check_pool_sizes()?;
        self.http.check_body_budget()?;
        self.auth.check(self.app_env)?;
        if self.app_env == AppEnv::Production {
            secrets::refuse_placeholders(matches)?;
        }
        Ok(())
    }
}

/// Parses `args` (after the program name) for the tests of `config`, as if the
/// environment also held `env` (only `NAME_FILE` variables and the secrets they stand
/// for are read from it); the error as clap prints it.
#[cfg(test)]
pub(super) fn parse_with_env(args: &[&str], env: &[(&str, &str)]) -> Result<Config, String> {
    let env = |name: &str| env.iter().find(|(variable, _)| *variable == name).map(|(_, value)| OsString::from(value));
    Cli::try_parse_checked_with_env(["service"].iter().chain(args), env)
        .map(|cli| cli.config)
        .map_err(|error| error.to_string())
}

/// [`parse_with_env`] with no environment.
#[cfg(test)]
pub(super) fn parse(args: &[&str]) -> Result<Config, String> {
    parse_with_env(args, &[])
}
