//! The compose stack a variant runs, and the tier's way to the Docker engine: bounded
//! `docker` commands, compose with the stack's files and settings, the containers'
//! addresses, and a teardown that runs even when a check fails.

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
};

use crate::helpers::{Project, clean_env, postgres, run, succeeded, tail};

/// `METRICS_PORT` as compose.production.yml sets it by default.
pub(super) const METRICS_PORT: &str = "9090";

/// A bounded `docker` command: a hung engine fails the check instead of the run.
pub(super) fn docker(seconds: u64) -> Command {
    let mut command = Command::new("timeout");
    command.arg(seconds.to_string()).arg("docker");
    command
}

/// The address containers reach the host on: the default bridge's, where
/// .ci/services.sh also has Postgres and Redis listen.
pub(super) fn host_address() -> Result<String, String> {
    let output = run(Command::new("ip").args(["-4", "-o", "addr", "show", "docker0"]));
    let text = String::from_utf8_lossy(&output.stdout);
    text.split_whitespace()
        .skip_while(|word| *word != "inet")
        .nth(1)
        .and_then(|cidr| cidr.split('/').next())
        .map(str::to_owned)
        .ok_or_else(|| format!("no IPv4 address on docker0: {text}"))
}

/// The `NAME=value` lines of the project's .env.production.example.
pub(super) fn example_settings(project: &Project) -> Vec<String> {
    project
        .read(".env.production.example")
        .lines()
        .filter(|line| !line.starts_with('#') && line.contains('='))
        .map(str::to_owned)
        .collect()
}

/// Sets `name` in `NAME=value` lines, replacing its line if there is one.
pub(super) fn set_setting(settings: &mut Vec<String>, name: &str, value: String) {
    settings.retain(|line| !line.starts_with(&format!("{name}=")));
    settings.push(format!("{name}={value}"));
}

/// Writes `NAME=value` lines as an env file compose reads.
pub(super) fn write_settings(file: &Path, settings: &[String]) -> Result<(), String> {
    std::fs::write(file, settings.join("\n") + "\n").map_err(|e| format!("{}: {e}", file.display()))
}

/// An empty database `name`, owned by the e2e user, in place of any of that name.
pub(super) fn create_database(name: &str) -> Result<(), String> {
    postgres::fresh_database(&postgres::admin_url(), name, Some("e2e")).map(drop)
}

/// The last lines a container logged, for a failure report.
pub(super) fn container_logs(container: &str) -> String {
    tail(
        &run(Command::new("docker").args(["logs", "--tail", "20", container])),
        20,
    )
}

/// Everything one variant's run starts, torn down on drop even when a check fails.
/// Compose commands use the project name the compose file gives, as scripts/deploy.sh does.
pub(super) struct Stack {
    pub(super) dir: PathBuf,
    pub(super) database: Option<String>,
    /// The compose files, compose.production.yml first, then its overrides
    /// (compose.secrets.yml when the secrets are files rather than variables).
    pub(super) files: Vec<String>,
    pub(super) env_file: String,
    /// A compose project name of its own, for a stack beside the deployed one.
    pub(super) project: Option<String>,
}

impl Stack {
    pub(super) fn deployed(dir: PathBuf, database: Option<String>, secret_files: bool) -> Self {
        let mut files = vec!["compose.production.yml".to_owned()];
        if secret_files {
            files.push("compose.secrets.yml".to_owned());
        }
        Self {
            dir,
            database,
            files,
            env_file: ".env.production".into(),
            project: None,
        }
    }

    pub(super) fn compose(&self, seconds: u64, args: &[&str]) -> Output {
        self.compose_with(&self.env_file, seconds, args)
    }

    /// Like [`Stack::compose`], with the settings of `env_file` in the stack's directory.
    pub(super) fn compose_with(&self, env_file: &str, seconds: u64, args: &[&str]) -> Output {
        let mut command = docker(seconds);
        clean_env(&mut command)
            .current_dir(&self.dir)
            .arg("compose");
        if let Some(project) = &self.project {
            command.args(["--project-name", project]);
        }
        for file in &self.files {
            command.args(["-f", file]);
        }
        run(command.args(["--env-file", env_file]).args(args))
    }

    pub(super) fn container(&self, service: &str) -> Result<String, String> {
        let id = succeeded(
            &self.compose(60, &["ps", "-a", "-q", service]),
            "compose ps",
        )?;
        id.lines()
            .next()
            .map(str::to_owned)
            .ok_or_else(|| format!("no {service} container"))
    }

    pub(super) fn inspect(&self, container: &str, format: &str) -> String {
        let output = run(Command::new("docker").args(["inspect", "--format", format, container]));
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }

    /// A container's address on its compose network.
    pub(super) fn ip(&self, container: &str) -> String {
        self.inspect(
            container,
            "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
        )
    }

    /// The app's address on its compose network: no userland proxy in between.
    pub(super) fn app_address(&self) -> Result<String, String> {
        let container = self.container("app")?;
        let ip = self.ip(&container);
        let ports = self.inspect(
            &container,
            "{{range $p, $_ := .Config.ExposedPorts}}{{$p}} {{end}}",
        );
        let port = ports
            .split_whitespace()
            .map(|port| port.trim_end_matches("/tcp"))
            .find(|port| *port != METRICS_PORT);
        Ok(format!(
            "{ip}:{}",
            port.ok_or_else(|| format!("no exposed port but the metrics one: {ports}"))?
        ))
    }

    /// The metrics port on the app's compose network, where a Prometheus would scrape it.
    pub(super) fn metrics_address(&self) -> Result<String, String> {
        let container = self.container("app")?;
        let ip = self.ip(&container);
        Ok(format!("{ip}:{METRICS_PORT}"))
    }

    /// The app's running containers, by name.
    pub(super) fn replicas(&self) -> Result<Vec<String>, String> {
        let ids = succeeded(&self.compose(60, &["ps", "-q", "app"]), "compose ps")?;
        Ok(ids
            .lines()
            .map(|id| {
                self.inspect(id, "{{.Name}}")
                    .trim_start_matches('/')
                    .to_owned()
            })
            .collect())
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        self.compose(
            180,
            &[
                "--profile",
                "migrate",
                "--profile",
                "proxy",
                "down",
                "--volumes",
                "--remove-orphans",
                "--timeout",
                "5",
            ],
        );
        if let Some(database) = &self.database {
            postgres::drop_database(&postgres::admin_url(), database);
        }
    }
}
