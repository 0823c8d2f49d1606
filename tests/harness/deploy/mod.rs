//! The deployment layout of every variant: compose files as Docker Compose itself
//! reads them, the Dockerfile, the scripts and the workflows through their linters,
//! and the environment variables across code, templates, docs and deployment paths.
//! The checks, by module:
//! - `production`: `compose.production.yml` has every production property (released
//!   image, restart, healthcheck, limits, log rotation, read-only and capability-free,
//!   a drain shorter than the stop grace period, one loopback port, the metrics port
//!   exposed and never published, the right volume and replicas, APP_ENV and REDIS_URL);
//!   a missing required variable stops compose naming it; publishing beyond loopback is
//!   an explicit setting; images can be pinned by digest; every service of every profile
//!   has a CPU and a memory limit; MAX_CONNECTIONS connections, each holding a full
//!   MAX_HEADER_BYTES buffer, and MAX_BUFFERED_BODY_BYTES of bodies fit in half the app
//!   container's memory limit;
//! - `proxy`: the migrate and proxy profiles are valid; the proxy is hardened, limited
//!   and health-checked; deploy.sh stops naming `NETWORK_PREFIX` and the network when
//!   another network overlaps the stack's subnet, or when the prefix is not three numbers,
//!   before it changes anything, and goes on past the stack's own network;
//! - `secrets`: `compose.secrets.yml` exists exactly when there is a secret and gives
//!   every secret as a file, none in the environment; deploy.sh, which adds it by
//!   default, stops naming a missing secret file before it changes anything;
//! - `development`: `compose.yml` is valid with and without its profiles, and publishes
//!   every port on loopback only;
//! - `picture`: the topology picture that opens `docs/deployment.md` names every service
//!   of the production stack and every port it publishes, exposes or listens on;
//! - `lint`: compose-lint on the production stack resolved as the docs deploy it (with
//!   compose.secrets.yml, both profiles, images pinned by digest) finds nothing at medium
//!   or above but the proxy's public 80 and 443, each justified on its line;
//! - `tools`: hadolint on the Dockerfile, promtool on the alert rules, shellcheck and
//!   `--help` on every script, zizmor and the workflow schema on the workflows, and
//!   checkov's secret scanner on every generated file;
//! - `backup`: backup and restore bring the data back; no password reaches a command line
//!   of the database tools they start; a backup and its directory are its owner's only;
//! - `settings`: every variable is read, documented and in the env templates;
//! - `paths`: every setting the service reads and `.env.production.example` documents
//!   reaches the app in every deployment path (compose, compose with secrets,
//!   Kubernetes), naming the variant, the path and the variable; and a test of that
//!   check's rule on a hand-made environment.

use std::process::Output;

use serde_json::Value;

use crate::helpers::{Project, clean_env, tail};

mod backup;
mod development;
mod lint;
mod paths;
mod picture;
mod production;
mod proxy;
mod secrets;
mod settings;
mod tools;

/// The deployment scripts a user runs; `scripts/common.sh` is what they share.
const SCRIPTS: &[&str] = &[
    "scripts/deploy.sh",
    "scripts/backup.sh",
    "scripts/restore.sh",
];

/// `docker compose` with nothing from this process's environment leaking into interpolation.
fn compose(project: &Project, args: &[&str]) -> Output {
    clean_env(&mut project.command("docker"))
        .arg("compose")
        .args(args)
        .output()
        .expect("docker compose runs (see .ci/run)")
}

/// The parsed `config` of `files` (each after a `-f`) with the settings of `env_file`,
/// then `extra` arguments (profiles).
fn config_of(
    project: &Project,
    files: &[&str],
    env_file: &str,
    extra: &[&str],
) -> Result<Value, String> {
    let mut args: Vec<&str> = files.iter().flat_map(|file| ["-f", file]).collect();
    args.extend_from_slice(&["--env-file", env_file]);
    args.extend_from_slice(extra);
    args.extend_from_slice(&["config", "--format", "json"]);
    let output = compose(project, &args);
    if !output.status.success() {
        return Err(tail(&output, 10));
    }
    serde_json::from_slice(&output.stdout).map_err(|error| error.to_string())
}

/// The parsed `config` of the production file with the example settings.
fn production_config(project: &Project, extra: &[&str]) -> Result<Value, String> {
    config_of(
        project,
        &["compose.production.yml"],
        ".env.production.example",
        extra,
    )
}

/// The production stack with both its profiles, migrate and proxy.
fn production_stack(project: &Project) -> Result<Value, String> {
    production_config(project, &["--profile", "migrate", "--profile", "proxy"])
}

/// The example settings with `replacements` (`NAME=value` lines) applied, in a file.
fn example_with(project: &Project, name: &str, replacements: &[(&str, &str)]) -> String {
    let mut settings = project.read(".env.production.example");
    for (variable, value) in replacements {
        let line = settings
            .lines()
            .find(|line| line.starts_with(&format!("{variable}=")))
            .unwrap_or_default()
            .to_owned();
        settings = settings.replace(&format!("{line}\n"), &format!("{variable}={value}\n"));
    }
    let env_file = project.path(&format!("target/{name}.env"));
    std::fs::create_dir_all(env_file.parent().expect("parent")).expect("target dir");
    std::fs::write(&env_file, settings).expect("env file written");
    env_file.to_string_lossy().into_owned()
}

/// `program args` in the project's directory; a tool that is missing panics naming it.
fn run_tool(project: &Project, program: &str, args: &[&str]) -> Output {
    project
        .command(program)
        .args(args)
        .output()
        .unwrap_or_else(|error| panic!("{program} cannot run ({error}): .ci/run installs it"))
}
