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

/// A `NETWORK_PREFIX` whose /24 overlaps no network on this engine. compose.production.yml
/// asks for that subnet, and the engine refuses one that overlaps another network's
/// ("Pool overlaps with other one on this address space"), such as the default one's
/// of a stack left by a run that was stopped.
pub(super) fn free_network_prefix() -> Result<String, String> {
    let ids = succeeded(
        &run(docker(60).args(["network", "ls", "--quiet"])),
        "docker network ls",
    )?;
    let subnets = succeeded(
        &run(docker(60)
            .args([
                "network",
                "inspect",
                "--format",
                "{{range .IPAM.Config}}{{.Subnet}} {{end}}",
            ])
            .args(ids.split_whitespace())),
        "docker network inspect",
    )?;
    let taken: Vec<Ipv4Network> = subnets
        .split_whitespace()
        .filter_map(Ipv4Network::parse)
        .collect();
    (94..=254)
        .map(|n| format!("172.30.{n}"))
        .chain((0..=255).map(|n| format!("10.94.{n}")))
        .find(|prefix| {
            Ipv4Network::parse(&format!("{prefix}.0/24"))
                .is_some_and(|wanted| !taken.iter().any(|network| network.overlaps(&wanted)))
        })
        .ok_or_else(|| format!("no free /24 for the stack's network among: {subnets}"))
}

/// An IPv4 network, as a subnet in `docker network inspect`.
struct Ipv4Network {
    address: u32,
    length: u32,
}

impl Ipv4Network {
    /// `a.b.c.d/n`; `None` for anything else (an IPv6 subnet).
    fn parse(cidr: &str) -> Option<Self> {
        let (address, length) = cidr.split_once('/')?;
        let address: std::net::Ipv4Addr = address.parse().ok()?;
        let length: u32 = length.parse().ok().filter(|length| *length <= 32)?;
        Some(Self {
            address: address.into(),
            length,
        })
    }

    /// Whether the two share an address: the wider one contains the other's first.
    fn overlaps(&self, other: &Self) -> bool {
        let length = self.length.min(other.length);
        let mask = u32::MAX.checked_shl(32 - length).unwrap_or(0);
        self.address & mask == other.address & mask
    }
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

impl Stack {
    /// Removes the stack's containers, network and volumes, those of an earlier run
    /// under its project name included: a volume a stopped run left would hand this run
    /// its data.
    pub(super) fn take_down(&self) {
        let output = self.compose(
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
        if !output.status.success() {
            eprintln!(
                "taking down the stack in {}: {}",
                self.dir.display(),
                tail(&output, 10)
            );
        }
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        self.take_down();
        if let Some(database) = &self.database {
            postgres::drop_database(&postgres::admin_url(), database);
        }
    }
}
