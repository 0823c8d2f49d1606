//! The built and healthy facts: the image built cold, then `scripts/deploy.sh --build`
//! run as on a host after a one-line source change. That one deploy makes the rebuilt
//! image the built fact reads (`:2`, its dependency layer from the cache) and the stack
//! the healthy fact and every later one check: a separate rebuild would be a third
//! release build of the service per variant, the same as the deploy's.

use std::{
    io::{BufRead, BufReader},
    path::Path,
    process::{Command, Stdio},
    thread::{self, JoinHandle},
    time::{Duration, Instant},
};

use super::{
    Deployment,
    stack::{
        Stack, create_database, docker, example_settings, free_network_prefix, host_address,
        set_setting, write_settings,
    },
};
use crate::helpers::{clean_env, free_port, http, run, secrets_of, succeeded, work_dir};

/// CPU shares of a cold build started ahead, against the default 1024 of every other
/// container: it takes the CPU the previous variant's checks leave idle.
const AHEAD_CPU_SHARES: &str = "128";

/// What deploy.sh prints before and after its image build.
const BUILDING: &str = "==> building ";
const BUILT: &str = "==> applying migrations";

/// One run of `scripts/deploy.sh --build`: its standard output and error as one
/// stream, each line with when it came, and whether it succeeded.
pub(super) struct DeployRun {
    lines: Vec<(Duration, String)>,
    succeeded: bool,
}

impl DeployRun {
    /// Its output, or that it failed with its last lines.
    fn printed(&self) -> Result<String, String> {
        let all: Vec<&str> = self.lines.iter().map(|(_, line)| line.as_str()).collect();
        if self.succeeded {
            Ok(all.join("\n"))
        } else {
            let last = &all[all.len().saturating_sub(30)..];
            Err(format!(
                "scripts/deploy.sh --build failed:\n{}",
                last.join("\n")
            ))
        }
    }

    /// The image build's part of the output and how long it took, if the build finished.
    fn build(&self) -> Option<(Duration, String)> {
        let start = self
            .lines
            .iter()
            .position(|(_, line)| line.starts_with(BUILDING))?;
        let end = start
            + self.lines[start..]
                .iter()
                .position(|(_, line)| line == BUILT)?;
        let lines: Vec<&str> = self.lines[start..end]
            .iter()
            .map(|(_, line)| line.as_str())
            .collect();
        Some((self.lines[end].0 - self.lines[start].0, lines.join("\n")))
    }
}

/// Runs `command` with its standard output and error on one pipe, noting when each line
/// came, as a terminal would show them.
fn run_timed(mut command: Command) -> Result<DeployRun, String> {
    let (reader, writer) = std::io::pipe().map_err(|e| format!("a pipe: {e}"))?;
    let errors = writer.try_clone().map_err(|e| format!("a pipe: {e}"))?;
    command.stdin(Stdio::null()).stdout(writer).stderr(errors);
    let started = Instant::now();
    let mut child = command
        .spawn()
        .map_err(|e| format!("cannot run {command:?}: {e}"))?;
    // The command holds the pipe's writing ends: the output ends only once they are closed.
    drop(command);
    let (mut reader, mut line, mut lines) = (BufReader::new(reader), Vec::new(), Vec::new());
    while reader.read_until(b'\n', &mut line).is_ok_and(|n| n > 0) {
        let text = String::from_utf8_lossy(&line).trim_end().to_owned();
        lines.push((started.elapsed(), text));
        line.clear();
    }
    let status = child.wait().map_err(|e| format!("deploy.sh: {e}"))?;
    Ok(DeployRun {
        lines,
        succeeded: status.success(),
    })
}

impl Deployment<'_> {
    /// Cold, then again by deploy.sh after a one-line change in src/: that build must
    /// reuse the cached dependencies.
    pub(super) fn build(&mut self) -> Result<(), String> {
        let cold = match self.cold.take() {
            Some(started) => started
                .join()
                .unwrap_or_else(|_| Err("the cold build's thread panicked".into()))?,
            None => cold_build(&self.generated.dir, &self.dir, &self.image)?,
        };
        self.report.cold_build = cold.took;
        self.report.image_mb = cold.image_mb;
        let lib = self.dir.join("src/lib.rs");
        let mut source = std::fs::read_to_string(&lib).map_err(|e| e.to_string())?;
        source.push_str("// Rebuilt by the container test.\n");
        std::fs::write(&lib, source).map_err(|e| e.to_string())?;
        let deployed = self
            .run_deploy_sh()
            .map_err(|error| format!("the deploy that rebuilds the image: {error}"))?;
        let build = deployed.build();
        let failed = deployed.printed().err();
        self.deployed = Some(deployed);
        let (took, log) = build.ok_or_else(|| {
            let why = failed.unwrap_or_else(|| "it printed no build".into());
            format!("the rebuild by deploy.sh did not finish: {why}")
        })?;
        self.report.rebuild = took;
        let lines: Vec<&str> = log.lines().collect();
        let dependencies_cached = lines
            .windows(2)
            .any(|pair| pair[0].contains("rm -rf src") && pair[1].contains("Using cache"));
        if !dependencies_cached {
            return Err(format!(
                "the rebuild did not take dependencies from the cache:\n{log}"
            ));
        }
        Ok(())
    }

    /// scripts/deploy.sh, as on a host (a clone of a remote, then build, migrate,
    /// `up --wait`), against Postgres and Redis on the host.
    fn run_deploy_sh(&mut self) -> Result<DeployRun, String> {
        let app_port = free_port();
        let mut settings = self.deploy_settings(app_port)?;
        let secret_files = self.generated.exists("compose.secrets.yml");
        if secret_files {
            self.move_secrets_to_files(&mut settings)?;
        }
        // The settings file deploy.sh reads by default; git ignores it, so the deploy's stash leaves it.
        write_settings(&self.dir.join(".env.production"), &settings)?;
        let stack = Stack::deployed(self.dir.clone(), self.database.clone(), secret_files);
        stack.take_down();
        self.stack = Some(stack);
        self.published = format!("127.0.0.1:{app_port}");
        self.commit_with_an_origin()?;
        // As on a host: compose would let this process's DATABASE_URL and REDIS_URL override the settings file.
        let mut deploy = Command::new("timeout");
        deploy
            .arg("900")
            .arg("scripts/deploy.sh")
            .arg("--build")
            .current_dir(&self.dir);
        if secret_files {
            deploy.arg("--secrets");
        }
        clean_env(&mut deploy);
        let started = Instant::now();
        let deployed = run_timed(deploy)?;
        self.report.to_healthy = started.elapsed();
        Ok(deployed)
    }

    /// .env.production.example filled in for this host: the images, a free port, and
    /// the host's Postgres, Redis and telemetry stand-ins.
    fn deploy_settings(&self, app_port: u16) -> Result<Vec<String>, String> {
        let v = self.variant;
        let host = host_address()?;
        let mut settings = example_settings(self.generated);
        let mut set = |name: &str, value: String| set_setting(&mut settings, name, value);
        set("IMAGE", self.image.clone());
        set("IMAGE_TAG", "2".into());
        set("APP_PORT", app_port.to_string());
        set("APP_BIND_ADDRESS", "127.0.0.1".into());
        set("NETWORK_PREFIX", free_network_prefix()?);
        // The drain fact loads the service from one address, far over the per-client
        // limit, which the service's own tests cover.
        set("RATE_LIMIT_PER_SECOND", "0".into());
        set("AUTH_HMAC_SECRET", super::AUTH_SECRET.into());
        if let Some(database) = &self.database {
            create_database(database)?;
            set(
                "DATABASE_URL",
                format!("postgres://e2e:e2e-s3cret@{host}:5432/{database}"),
            );
        }
        if v.on("redis") {
            set("REDIS_URL", format!("redis://{host}:6379"));
        }
        if v.on("otel") {
            set(
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                format!("http://{host}:{}", self.otlp.port),
            );
        }
        if v.on("sentry") {
            set(
                "SENTRY_DSN",
                format!("http://public@{host}:{}/1", self.sentry.port),
            );
        }
        Ok(settings)
    }

    /// Where the variant has secrets, they go as files (compose.secrets.yml), as the
    /// docs have operators switch: each in secrets/, readable by the service's user
    /// only, its variable left empty.
    fn move_secrets_to_files(&self, settings: &mut [String]) -> Result<(), String> {
        let secrets_dir = self.dir.join("secrets");
        std::fs::create_dir_all(&secrets_dir).map_err(|e| e.to_string())?;
        for line in settings.iter_mut() {
            let Some((name, value)) = line.split_once('=') else {
                continue;
            };
            if !secrets_of(&self.variant).contains(&name) {
                continue;
            }
            let file = secrets_dir.join(name.to_ascii_lowercase());
            std::fs::write(&file, format!("{value}\n")).map_err(|e| e.to_string())?;
            std::os::unix::fs::chown(&file, Some(65532), Some(65532))
                .map_err(|e| format!("chown {}: {e}", file.display()))?;
            std::fs::set_permissions(&file, std::os::unix::fs::PermissionsExt::from_mode(0o400))
                .map_err(|e| e.to_string())?;
            *line = format!("{name}=");
        }
        Ok(())
    }

    /// The copy as deploy.sh expects a host's checkout: one commit (the source change
    /// included), and an `origin` to fetch it from.
    fn commit_with_an_origin(&self) -> Result<(), String> {
        let dir = &self.dir;
        let git = |args: &[&str]| {
            succeeded(
                &run(Command::new("git").current_dir(dir).args(args)),
                &format!("git {args:?}"),
            )
        };
        let origin = work_dir()
            .join("container")
            .join(format!("{}.git", self.variant.id()));
        std::fs::remove_dir_all(&origin).ok();
        std::fs::remove_dir_all(dir.join(".git")).ok();
        git(&["init", "--quiet", "--initial-branch", "main"])?;
        git(&["add", "--all"])?;
        git(&[
            "-c",
            "user.name=e2e",
            "-c",
            "user.email=e2e@localhost",
            "commit",
            "--quiet",
            "-m",
            "generated",
        ])?;
        git(&["clone", "--quiet", "--bare", ".", &origin.to_string_lossy()])?;
        git(&["remote", "add", "origin", &origin.to_string_lossy()])?;
        Ok(())
    }

    /// deploy.sh, run by the built fact, ended healthy and said how to roll back; the
    /// service is ready through its published port.
    pub(super) fn deploy(&mut self) -> Result<(), String> {
        let deployed = self
            .deployed
            .take()
            .ok_or("scripts/deploy.sh did not run")?;
        let printed = deployed.printed()?;
        if !printed.contains("To roll back: scripts/deploy.sh --branch main --tag 2") {
            return Err(format!(
                "deploy.sh did not print how to roll back:\n{printed}"
            ));
        }
        let stack = self.stack()?;
        let health = stack.inspect(&stack.container("app")?, "{{.State.Health.Status}}");
        if health != "healthy" {
            return Err(format!(
                "the image's HEALTHCHECK: expected healthy, saw {health}"
            ));
        }
        let (status, body) = http(&self.published, "GET", "/health/ready", &[], "")?;
        if status != 200 {
            return Err(format!("/health/ready: expected 200, saw {status} {body}"));
        }
        Ok(())
    }
}

/// A cold build: how long it took and the image's size.
pub(super) struct ColdBuild {
    took: Duration,
    image_mb: f64,
}

/// [`cold_build`] on a thread of its own, at low CPU priority, for a variant whose turn
/// comes after the one being checked.
pub(super) fn cold_build_ahead(
    generated: &Path,
    dir: &Path,
    image: &str,
) -> JoinHandle<Result<ColdBuild, String>> {
    let (generated, dir, image) = (generated.to_owned(), dir.to_owned(), image.to_owned());
    thread::spawn(move || {
        cold_build_with(
            &generated,
            &dir,
            &image,
            &["--cpu-shares", AHEAD_CPU_SHARES],
        )
    })
}

/// The old image, `image:1`, built from scratch in `dir`, a copy of the project of its own.
fn cold_build(generated: &Path, dir: &Path, image: &str) -> Result<ColdBuild, String> {
    cold_build_with(generated, dir, image, &[])
}

fn cold_build_with(
    generated: &Path,
    dir: &Path,
    image: &str,
    options: &[&str],
) -> Result<ColdBuild, String> {
    std::fs::remove_dir_all(dir).ok();
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    succeeded(
        &run(Command::new("cp")
            .arg("-a")
            .arg(format!("{}/.", generated.display()))
            .arg(dir)),
        "copy",
    )?;
    let started = Instant::now();
    // `E2E_COLD=0` keeps Docker's layer cache, to iterate on this test quickly.
    let cold = if std::env::var("E2E_COLD").as_deref() == Ok("0") {
        "--pull=false"
    } else {
        "--no-cache"
    };
    let tag = format!("{image}:1");
    succeeded(
        &run(docker(1800)
            .current_dir(dir)
            .args(["build", cold, "--network", "host"])
            .args(options)
            .args(["-t", &tag, "."])),
        "cold docker build",
    )?;
    let took = started.elapsed();
    let size =
        run(Command::new("docker").args(["image", "inspect", "--format", "{{.Size}}", &tag]));
    let image_mb = String::from_utf8_lossy(&size.stdout)
        .trim()
        .parse::<f64>()
        .unwrap_or(0.0)
        / 1e6;
    Ok(ColdBuild { took, image_mb })
}
