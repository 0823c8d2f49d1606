//! Container end to end: each chosen variant's production image is built from
//! its Dockerfile and run through compose.production.yml on the local Docker
//! engine, against Postgres and Redis running on the host as external services.
//!
//! Builds on stand-in base images (tests/container/stand-in-images.sh, run here;
//! `HARNESS_STAND_INS=0` uses the real ones where a registry is reachable). `E2E_VARIANTS` picks variants (comma-separated ids, or `all`);
//! by default the two extremes run. Without a Docker engine it fails under
//! `CI=true` and is skipped, loudly, elsewhere.

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::TcpListener,
    path::PathBuf,
    process::{Command, Output},
    sync::{
        Arc, Mutex, OnceLock,
        atomic::{AtomicBool, Ordering},
    },
    thread,
    time::{Duration, Instant},
};

use crate::{
    helpers::{
        Failures, Project, Variant, clean_env, container_port, free_port, generated, http,
        postgres, project_name, repo_root, run, secrets_of, succeeded, tail, variants, work_dir,
    },
    prometheus::Scrape,
};

const TRACE_ID: &str = "0af7651916cd43dd8448eb211c80319c";

fn e2e_variants() -> Vec<Variant> {
    let every = variants();
    match std::env::var("E2E_VARIANTS").as_deref() {
        Ok("all") => every,
        Ok(ids) if !ids.trim().is_empty() => every
            .into_iter()
            .filter(|v| ids.split(',').any(|id| id.trim() == v.id()))
            .collect(),
        _ => every
            .into_iter()
            .filter(|v| *v == Variant::default_choice() || *v == Variant::maximal())
            .collect(),
    }
}

/// A bounded `docker` command.
fn docker(seconds: u64) -> Command {
    let mut command = Command::new("timeout");
    command.arg(seconds.to_string()).arg("docker");
    command
}

/// The address containers reach the host on: the default bridge's, where
/// .ci/services.sh also has Postgres and Redis listen.
fn host_address() -> Result<String, String> {
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
fn example_settings(project: &Project) -> Vec<String> {
    project
        .read(".env.production.example")
        .lines()
        .filter(|line| !line.starts_with('#') && line.contains('='))
        .map(str::to_owned)
        .collect()
}

/// Sets `name` in `NAME=value` lines, replacing its line if there is one.
fn set_setting(settings: &mut Vec<String>, name: &str, value: String) {
    settings.retain(|line| !line.starts_with(&format!("{name}=")));
    settings.push(format!("{name}={value}"));
}

/// A stand-in for a telemetry backend on the host: records every request body.
struct Receiver {
    port: u16,
    bodies: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl Receiver {
    fn start() -> Self {
        let listener = TcpListener::bind("0.0.0.0:0").expect("receiver binds");
        let port = listener.local_addr().expect("receiver address").port();
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let recorded = Arc::clone(&bodies);
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let recorded = Arc::clone(&recorded);
                thread::spawn(move || {
                    let mut reader = BufReader::new(&stream);
                    let mut length = 0;
                    let mut line = String::new();
                    while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                        if let Some(value) =
                            line.to_ascii_lowercase().strip_prefix("content-length:")
                        {
                            length = value.trim().parse().unwrap_or(0);
                        }
                        line.clear();
                    }
                    let mut body = vec![0; length];
                    if reader.read_exact(&mut body).is_ok() {
                        recorded.lock().expect("bodies").push(body);
                    }
                    (&stream)
                        .write_all(
                            b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}",
                        )
                        .ok();
                });
            }
        });
        Self { port, bodies }
    }

    fn received(&self) -> Vec<Vec<u8>> {
        self.bodies.lock().expect("bodies").clone()
    }
}

/// Everything one variant's run starts, torn down on drop even when a check fails.
/// Compose commands use the project name the compose file gives, as scripts/deploy.sh does.
struct Stack {
    dir: PathBuf,
    database: Option<String>,
    /// The compose files, compose.production.yml first, then its overrides
    /// (compose.secrets.yml when the secrets are files rather than variables).
    files: Vec<String>,
    env_file: String,
    /// A compose project name of its own, for a stack beside the deployed one.
    project: Option<String>,
}

impl Stack {
    fn deployed(dir: PathBuf, database: Option<String>, secret_files: bool) -> Self {
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

    fn compose(&self, seconds: u64, args: &[&str]) -> Output {
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
        run(command.args(["--env-file", &self.env_file]).args(args))
    }

    fn container(&self, service: &str) -> Result<String, String> {
        let id = succeeded(
            &self.compose(60, &["ps", "-a", "-q", service]),
            "compose ps",
        )?;
        id.lines()
            .next()
            .map(str::to_owned)
            .ok_or_else(|| format!("no {service} container"))
    }

    fn inspect(&self, container: &str, format: &str) -> String {
        let output = run(Command::new("docker").args(["inspect", "--format", format, container]));
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }

    /// A container's address on its compose network.
    fn ip(&self, container: &str) -> String {
        self.inspect(
            container,
            "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
        )
    }

    /// The app's address on its compose network: no userland proxy in between.
    fn app_address(&self) -> Result<String, String> {
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
    fn metrics_address(&self) -> Result<String, String> {
        let container = self.container("app")?;
        let ip = self.ip(&container);
        Ok(format!("{ip}:{METRICS_PORT}"))
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

/// An empty database `name`, owned by the e2e user, in place of any of that name.
fn create_database(name: &str) -> Result<(), String> {
    postgres::fresh_database(&postgres::admin_url(), name, Some("e2e")).map(drop)
}

/// What the tier establishes for each variant, each its own test, in the order it checks them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fact {
    Built,
    Healthy,
    Hardened,
    Persistent,
    Logged,
    Migrates,
    Proxied,
    Drains,
    Telemetry,
    Metrics,
    Replicas,
}

/// `METRICS_PORT` as compose.production.yml sets it by default.
const METRICS_PORT: &str = "9090";

impl Fact {
    const ALL: [Fact; 11] = [
        Fact::Built,
        Fact::Healthy,
        Fact::Hardened,
        Fact::Persistent,
        Fact::Logged,
        Fact::Migrates,
        Fact::Proxied,
        Fact::Metrics,
        Fact::Drains,
        Fact::Telemetry,
        // Last: it tears the deployed stack down to run its own.
        Fact::Replicas,
    ];

    fn name(self) -> &'static str {
        match self {
            Fact::Built => "built",
            Fact::Healthy => "healthy",
            Fact::Hardened => "hardened",
            Fact::Persistent => "persistent",
            Fact::Logged => "logged",
            Fact::Migrates => "migrate",
            Fact::Proxied => "proxy/TLS",
            Fact::Drains => "drain",
            Fact::Telemetry => "telemetry",
            Fact::Metrics => "metrics",
            Fact::Replicas => "replicas",
        }
    }

    /// The fact this one cannot be checked without: an image, then a running stack.
    fn needs(self) -> Option<Fact> {
        match self {
            Fact::Built => None,
            Fact::Healthy | Fact::Replicas => Some(Fact::Built),
            _ => Some(Fact::Healthy),
        }
    }
}

/// How checking one fact on one variant went.
#[derive(Debug, Clone)]
enum Outcome {
    Held,
    Failed(String),
    /// Not checked: the fact it needs did not hold.
    Unchecked(Fact),
    /// The variant has nothing to check (telemetry without Sentry or OpenTelemetry,
    /// replicas of a SQLite variant).
    NotApplicable,
}

/// What one variant's run measured.
#[derive(Default)]
struct Report {
    image_mb: f64,
    cold_build: Duration,
    rebuild: Duration,
    to_healthy: Duration,
    served: usize,
    refused: usize,
    stop: Duration,
    /// The replicas fact's figures, when it ran.
    replicas: String,
}

fn secs(duration: Duration) -> String {
    format!("{:.0}s", duration.as_secs_f64())
}

type Runs = Vec<(Variant, Vec<(Fact, Outcome)>)>;

/// Every chosen variant run once through every fact, on first use; `None` when no
/// Docker engine answers outside CI. An error stops every fact's test with the same
/// message, without running the tier again.
fn runs() -> Option<&'static Runs> {
    static RUNS: OnceLock<Result<Option<Runs>, String>> = OnceLock::new();
    match RUNS.get_or_init(run_every_variant) {
        Ok(runs) => runs.as_ref(),
        Err(error) => panic!("{error}"),
    }
}

fn run_every_variant() -> Result<Option<Runs>, String> {
    let docker_up = Command::new("docker")
        .arg("info")
        .output()
        .is_ok_and(|o| o.status.success());
    if !docker_up {
        if std::env::var("CI").as_deref() == Ok("true") {
            return Err("CI=true but no Docker engine answers `docker info`".into());
        }
        eprintln!(
            "\n!!! SKIPPED: container end-to-end tests need a Docker engine (`docker info` failed) !!!\n"
        );
        return Ok(None);
    }
    if std::env::var("HARNESS_STAND_INS").as_deref() != Ok("0") {
        let stand_ins =
            run(Command::new("bash").arg(repo_root().join("tests/container/stand-in-images.sh")));
        if !stand_ins.status.success() {
            return Err(format!("stand-in images:\n{}", tail(&stand_ins, 30)));
        }
    }
    let mut facts = vec![format!(
        "variant | {}",
        Fact::ALL.map(Fact::name).join(" | ")
    )];
    let mut figures = vec!["variant | image | cold build | rebuild | deploy.sh to healthy | drain (served/refused, failed=0) | stop | replicas".to_owned()];
    let runs: Vec<_> = e2e_variants()
        .into_iter()
        .map(|variant| {
            let (outcomes, r) = run_variant(&generated(variant));
            let marks = outcomes.iter().map(|(_, outcome)| match outcome {
                Outcome::Held => "pass",
                Outcome::Failed(_) => "FAIL",
                Outcome::Unchecked(_) => "not checked",
                Outcome::NotApplicable => "n/a",
            });
            facts.push(format!(
                "{variant} | {}",
                marks.collect::<Vec<_>>().join(" | ")
            ));
            figures.push(format!(
                "{variant} | {:.1} MB | {} | {} | {} | {}/{} | {} | {}",
                r.image_mb,
                secs(r.cold_build),
                secs(r.rebuild),
                secs(r.to_healthy),
                r.served,
                r.refused,
                secs(r.stop),
                r.replicas
            ));
            (variant, outcomes)
        })
        .collect();
    println!("\n{}\n\n{}", facts.join("\n"), figures.join("\n"));
    Ok(Some(runs))
}

/// Fails naming every variant on which `fact` did not hold, or could not be checked.
fn assert_fact(fact: Fact) {
    let Some(runs) = runs() else { return };
    let mut failures = Failures::default();
    for (variant, outcomes) in runs {
        match outcomes
            .iter()
            .find(|(checked, _)| *checked == fact)
            .map(|(_, outcome)| outcome)
        {
            Some(Outcome::Failed(error)) => failures.add(variant, error),
            Some(Outcome::Unchecked(needed)) => failures.add(
                variant,
                format!("not checked: {} did not hold", needed.name()),
            ),
            Some(Outcome::Held | Outcome::NotApplicable) => {}
            None => failures.add(variant, "never checked"),
        }
    }
    failures.assert_none(fact.name());
}

#[test]
fn the_image_builds_cold_and_a_source_change_rebuilds_on_cached_dependencies() {
    assert_fact(Fact::Built);
}

#[test]
fn deploy_sh_brings_the_production_stack_to_healthy_and_says_how_to_roll_back() {
    assert_fact(Fact::Healthy);
}

#[test]
fn the_service_runs_hardened_as_uid_65532() {
    assert_fact(Fact::Hardened);
}

#[test]
fn an_item_survives_the_container_being_recreated() {
    assert_fact(Fact::Persistent);
}

#[test]
fn every_log_line_is_json_and_a_request_id_reaches_the_logs() {
    assert_fact(Fact::Logged);
}

#[test]
fn the_migrate_profile_runs_on_its_own() {
    assert_fact(Fact::Migrates);
}

#[test]
fn the_metrics_port_answers_a_scrape_on_the_compose_network_only() {
    assert_fact(Fact::Metrics);
}

#[test]
fn the_proxy_profile_serves_the_app_over_tls_with_hsts() {
    assert_fact(Fact::Proxied);
}

#[test]
fn stopping_under_load_fails_no_request_and_exits_0_in_time() {
    assert_fact(Fact::Drains);
}

#[test]
fn traces_and_error_reports_reach_their_backends() {
    assert_fact(Fact::Telemetry);
}

#[test]
fn replicas_start_together_and_are_replaced_one_by_one_under_load_failing_nothing() {
    assert_fact(Fact::Replicas);
}

/// One variant's production stack, as the checks share it.
struct Deployment<'a> {
    generated: &'a Project,
    variant: Variant,
    /// A copy of the project of its own: the rebuild's one-line change must not touch the shared one.
    dir: PathBuf,
    image: String,
    database: Option<String>,
    /// The app's port published on loopback.
    published: String,
    otlp: Receiver,
    sentry: Receiver,
    stack: Option<Stack>,
    report: Report,
}

/// Checks every fact in order; a fact whose prerequisite failed is reported unchecked.
fn run_variant(generated: &Project) -> (Vec<(Fact, Outcome)>, Report) {
    let variant = generated.variant;
    let mut deployment = Deployment {
        generated,
        variant,
        dir: work_dir().join("container").join(variant.id()),
        image: format!("e2e/{}", project_name(&variant)),
        database: variant
            .is("database", "postgres")
            .then(|| format!("e2e_{}", project_name(&variant).replace('-', "_"))),
        published: String::new(),
        otlp: Receiver::start(),
        sentry: Receiver::start(),
        stack: None,
        report: Report::default(),
    };
    let mut outcomes: Vec<(Fact, Outcome)> = Vec::new();
    for fact in Fact::ALL {
        let held = |needed: Fact, outcomes: &[(Fact, Outcome)]| {
            outcomes
                .iter()
                .any(|(f, o)| *f == needed && matches!(o, Outcome::Held))
        };
        let outcome = match fact.needs() {
            Some(needed) if !held(needed, &outcomes) => Outcome::Unchecked(needed),
            _ if fact == Fact::Telemetry && !variant.on("otel") && !variant.on("sentry") => {
                Outcome::NotApplicable
            }
            // SQLite allows one writer process: its manifests never scale it.
            _ if fact == Fact::Replicas && !variant.is("database", "postgres") => {
                Outcome::NotApplicable
            }
            _ => match deployment.check(fact) {
                Ok(()) => Outcome::Held,
                Err(error) => Outcome::Failed(error),
            },
        };
        outcomes.push((fact, outcome));
    }
    // Tears the stack down before the next variant's starts.
    deployment.stack.take();
    (outcomes, deployment.report)
}

impl Deployment<'_> {
    fn check(&mut self, fact: Fact) -> Result<(), String> {
        match fact {
            Fact::Built => self.build(),
            Fact::Healthy => self.deploy(),
            Fact::Hardened => self.check_hardening(),
            Fact::Persistent => self.check_persistence(),
            Fact::Logged => self.check_logs(),
            Fact::Migrates => self.check_migrate_profile(),
            Fact::Proxied => self.check_proxy(),
            Fact::Drains => self.check_drain(),
            Fact::Telemetry => self.check_telemetry(),
            Fact::Metrics => self.check_metrics(),
            Fact::Replicas => self.check_replicas(),
        }
    }

    fn stack(&self) -> Result<&Stack, String> {
        self.stack
            .as_ref()
            .ok_or_else(|| "no stack is running".to_owned())
    }

    fn request_id(&self) -> String {
        format!("e2e-{}", project_name(&self.variant))
    }

    /// Cold, then again after a one-line change in src/, which must reuse the cached dependencies.
    fn build(&mut self) -> Result<(), String> {
        let dir = &self.dir;
        std::fs::remove_dir_all(dir).ok();
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        succeeded(
            &run(Command::new("cp")
                .arg("-a")
                .arg(format!("{}/.", self.generated.dir.display()))
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
        succeeded(
            &run(docker(1800).current_dir(dir).args([
                "build",
                cold,
                "--network",
                "host",
                "-t",
                &format!("{}:1", self.image),
                ".",
            ])),
            "cold docker build",
        )?;
        self.report.cold_build = started.elapsed();
        let size = run(Command::new("docker").args([
            "image",
            "inspect",
            "--format",
            "{{.Size}}",
            &format!("{}:1", self.image),
        ]));
        self.report.image_mb = String::from_utf8_lossy(&size.stdout)
            .trim()
            .parse::<f64>()
            .unwrap_or(0.0)
            / 1e6;
        let lib = dir.join("src/lib.rs");
        let mut source = std::fs::read_to_string(&lib).map_err(|e| e.to_string())?;
        source.push_str("// Rebuilt by the container test.\n");
        std::fs::write(&lib, source).map_err(|e| e.to_string())?;
        let started = Instant::now();
        let rebuild = run(docker(1800).current_dir(dir).args([
            "build",
            "--network",
            "host",
            "-t",
            &format!("{}:2", self.image),
            ".",
        ]));
        let log =
            succeeded(&rebuild, "rebuild")? + String::from_utf8_lossy(&rebuild.stderr).as_ref();
        self.report.rebuild = started.elapsed();
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
    /// `up --wait`), against Postgres and Redis on the host; then ready through the proxy-less port.
    fn deploy(&mut self) -> Result<(), String> {
        let (dir, v) = (self.dir.clone(), self.variant);
        let host = host_address()?;
        let app_port = free_port();
        let mut settings = example_settings(self.generated);
        let mut set = |name: &str, value: String| set_setting(&mut settings, name, value);
        set("IMAGE", self.image.clone());
        set("IMAGE_TAG", "2".into());
        set("APP_PORT", app_port.to_string());
        set("APP_BIND_ADDRESS", "127.0.0.1".into());
        // The drain fact loads the service from one address, far over the per-client
        // limit, which the service's own tests cover.
        set("RATE_LIMIT_PER_SECOND", "0".into());
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
        // Where the variant has secrets, they go as files (compose.secrets.yml), as the
        // docs have operators switch: each in secrets/, readable by the service's user only.
        let secret_files = self.generated.exists("compose.secrets.yml");
        if secret_files {
            let secrets_dir = dir.join("secrets");
            std::fs::create_dir_all(&secrets_dir).map_err(|e| e.to_string())?;
            for line in settings.iter_mut() {
                let Some((name, value)) = line.split_once('=') else {
                    continue;
                };
                if !secrets_of(&v).contains(&name) {
                    continue;
                }
                let file = secrets_dir.join(name.to_ascii_lowercase());
                std::fs::write(&file, format!("{value}\n")).map_err(|e| e.to_string())?;
                std::os::unix::fs::chown(&file, Some(65532), Some(65532))
                    .map_err(|e| format!("chown {}: {e}", file.display()))?;
                std::fs::set_permissions(
                    &file,
                    std::os::unix::fs::PermissionsExt::from_mode(0o400),
                )
                .map_err(|e| e.to_string())?;
                *line = format!("{name}=");
            }
        }
        // The settings file deploy.sh reads by default; git ignores it, so the deploy's stash leaves it.
        std::fs::write(dir.join(".env.production"), settings.join("\n") + "\n")
            .map_err(|e| e.to_string())?;
        self.stack = Some(Stack::deployed(
            dir.clone(),
            self.database.clone(),
            secret_files,
        ));
        self.published = format!("127.0.0.1:{app_port}");

        let git = |args: &[&str]| {
            succeeded(
                &run(Command::new("git").current_dir(&dir).args(args)),
                &format!("git {args:?}"),
            )
        };
        let origin = work_dir().join("container").join(format!("{}.git", v.id()));
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
        let started = Instant::now();
        // As on a host: compose would let this process's DATABASE_URL and REDIS_URL override the settings file.
        let mut deploy = Command::new("timeout");
        deploy
            .arg("900")
            .arg("scripts/deploy.sh")
            .arg("--build")
            .current_dir(&dir);
        if secret_files {
            deploy.arg("--secrets");
        }
        let printed = succeeded(&run(clean_env(&mut deploy)), "scripts/deploy.sh --build")?;
        self.report.to_healthy = started.elapsed();
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

    /// Hardened as the compose file says, down to the uid the kernel sees.
    fn check_hardening(&mut self) -> Result<(), String> {
        let stack = self.stack()?;
        let container = stack.container("app")?;
        let hardening = [
            ("{{.Config.User}}", "65532:65532"),
            ("{{.HostConfig.ReadonlyRootfs}}", "true"),
            ("{{.HostConfig.CapDrop}}", "[ALL]"),
            ("{{.HostConfig.SecurityOpt}}", "[no-new-privileges:true]"),
        ];
        for (format, expected) in hardening {
            let seen = stack.inspect(&container, format);
            if seen != expected {
                return Err(format!("{format}: expected {expected}, saw {seen}"));
            }
        }
        let environment = stack.inspect(&container, "{{json .Config.Env}}");
        if environment.contains("e2e-s3cret") || environment.contains("public@") {
            return Err(format!(
                "a secret is in the container's environment, where docker inspect shows it: {environment}"
            ));
        }
        let pid = stack.inspect(&container, "{{.State.Pid}}");
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let uid = status
            .lines()
            .find(|l| l.starts_with("Uid:"))
            .unwrap_or_default()
            .to_owned();
        if !uid.split_whitespace().skip(1).all(|id| id == "65532") {
            return Err(format!("the service does not run as uid 65532: {uid}"));
        }
        Ok(())
    }

    /// The production container's metrics port answers a scrape on the compose network,
    /// is not published on the host, and `/metrics` is not served on the public port.
    fn check_metrics(&mut self) -> Result<(), String> {
        let stack = self.stack()?;
        let container = stack.container("app")?;
        let published = stack.inspect(&container, "{{json .NetworkSettings.Ports}}");
        let bound: serde_json::Value =
            serde_json::from_str(&published).map_err(|e| format!("{e}: {published}"))?;
        if !bound[format!("{METRICS_PORT}/tcp")].is_null() {
            return Err(format!(
                "the metrics port is published on the host: {published}"
            ));
        }
        let (status, _) = http(&self.published, "GET", "/metrics", &[], "")?;
        if status != 404 {
            return Err(format!(
                "GET /metrics on the public port: expected 404, saw {status}"
            ));
        }
        http(&self.published, "GET", "/health", &[], "")?;
        let scrape = Scrape::of(&stack.metrics_address()?)?;
        let health = scrape.value(
            "http_requests_total",
            &[("method", "GET"), ("route", "/health"), ("status", "200")],
        );
        if health < 1.0 || scrape.value("process_resident_memory_bytes", &[]) <= 0.0 {
            return Err(format!(
                "the scrape lacks GET /health 200 (saw {health}) or the process's memory"
            ));
        }
        // deploy.sh --build passes the commit as REVISION; the binary reports it.
        let commit = succeeded(
            &run(Command::new("git")
                .current_dir(&self.dir)
                .args(["rev-parse", "HEAD"])),
            "git rev-parse",
        )?;
        let build = scrape
            .0
            .iter()
            .find(|sample| sample.name == "build_info")
            .map(|sample| &sample.labels);
        if build
            .and_then(|labels| labels.get("revision"))
            .map(String::as_str)
            != Some(commit.trim())
        {
            return Err(format!(
                "build_info: expected revision {}, saw {build:?}",
                commit.trim()
            ));
        }
        Ok(())
    }

    fn check_persistence(&mut self) -> Result<(), String> {
        let (status, created) = http(
            &self.published,
            "POST",
            "/api/v1/items",
            &[("content-type", "application/json")],
            r#"{"name":"survivor"}"#,
        )?;
        if status != 201 {
            return Err(format!(
                "POST /api/v1/items: expected 201, saw {status} {created}"
            ));
        }
        let id =
            serde_json::from_str::<serde_json::Value>(&created).map_err(|e| e.to_string())?["id"]
                .clone();
        succeeded(
            &self
                .stack()?
                .compose(300, &["up", "-d", "--wait", "--force-recreate", "app"]),
            "up --force-recreate",
        )?;
        let (status, body) = http(
            &self.published,
            "GET",
            &format!("/api/v1/items/{id}"),
            &[],
            "",
        )?;
        if status != 200 || !body.contains("survivor") {
            return Err(format!(
                "the item did not survive --force-recreate: {status} {body}"
            ));
        }
        Ok(())
    }

    fn check_logs(&mut self) -> Result<(), String> {
        let request_id = self.request_id();
        // An API request: probes are logged only at debug.
        http(
            &self.published,
            "GET",
            "/api/v1/items/424242",
            &[("x-request-id", &request_id)],
            "",
        )?;
        let logs = succeeded(
            &self
                .stack()?
                .compose(60, &["logs", "--no-log-prefix", "--no-color", "app"]),
            "compose logs",
        )?;
        let mut tagged = 0;
        for line in logs.lines().filter(|l| !l.trim().is_empty()) {
            serde_json::from_str::<serde_json::Value>(line)
                .map_err(|e| format!("a log line is not JSON ({e}): {line}"))?;
            tagged += usize::from(line.contains(&request_id));
        }
        if tagged == 0 {
            return Err(format!(
                "no log line carries request id {request_id}:\n{logs}"
            ));
        }
        Ok(())
    }

    fn check_migrate_profile(&mut self) -> Result<(), String> {
        succeeded(
            &self
                .stack()?
                .compose(300, &["--profile", "migrate", "run", "--rm", "migrate"]),
            "the migrate profile",
        )
        .map(drop)
    }

    fn check_proxy(&mut self) -> Result<(), String> {
        let stack = self.stack()?;
        succeeded(
            &stack.compose(300, &["--profile", "proxy", "up", "-d", "--wait", "proxy"]),
            "the proxy profile",
        )?;
        let proxied = run(Command::new("curl").args([
            "-sk",
            "--retry",
            "15",
            "--retry-all-errors",
            "--retry-delay",
            "1",
            "-o",
            "/dev/null",
            "-D",
            "-",
            "https://localhost/health",
        ]));
        succeeded(
            &stack.compose(120, &["--profile", "proxy", "stop", "proxy"]),
            "stop the proxy",
        )?;
        // The headers of the last attempt: a retried one dumps its own first.
        let headers = String::from_utf8_lossy(&proxied.stdout).to_ascii_lowercase();
        let last = headers
            .trim_end()
            .rsplit("\r\n\r\n")
            .next()
            .unwrap_or_default();
        if last
            .lines()
            .next()
            .and_then(|status| status.split_whitespace().nth(1))
            != Some("200")
        {
            return Err(format!(
                "https://localhost/health through the proxy: expected 200, saw {last:?} {}",
                tail(&proxied, 5)
            ));
        }
        if !last
            .lines()
            .any(|line| line.trim_end() == "strict-transport-security: max-age=31536000")
        {
            return Err(format!(
                "the proxy sent no Strict-Transport-Security header: {last:?}"
            ));
        }
        Ok(())
    }

    /// Every request the service answered completes, and it exits 0 within the grace period.
    fn check_drain(&mut self) -> Result<(), String> {
        let stack = self.stack.as_ref().ok_or("no stack is running")?;
        let (served, refused, failed, stop) = stop_under_load(stack)?;
        (self.report.served, self.report.refused, self.report.stop) = (served, refused, stop);
        if !failed.is_empty() {
            return Err(format!(
                "{} request(s) failed while stopping: {:?}",
                failed.len(),
                &failed[..failed.len().min(5)]
            ));
        }
        let exit_code = stack.inspect(&stack.container("app")?, "{{.State.ExitCode}}");
        if exit_code != "0" {
            return Err(format!("the service exited with {exit_code} on stop"));
        }
        if stop > Duration::from_secs(30) {
            return Err(format!("stopping took {stop:?}, beyond stop_grace_period"));
        }
        Ok(())
    }

    /// Makes every item request fail with a server error: the table is gone from under the service.
    fn drop_items_table(&self) -> Result<(), String> {
        let drop = match &self.database {
            Some(database) => run(Command::new("psql")
                .arg(format!(
                    "postgres://e2e:e2e-s3cret@127.0.0.1:5432/{database}"
                ))
                .args(["-q", "-c", "DROP TABLE items"])),
            None => {
                // The SQLite file in the app's data volume, from the host.
                let name = project_name(&self.variant);
                let volume = run(Command::new("docker").args([
                    "volume",
                    "inspect",
                    "--format",
                    "{{.Mountpoint}}",
                    &format!("{name}_app-data"),
                ]));
                let mountpoint = succeeded(&volume, "docker volume inspect")?;
                let file = format!("{}/{}.db", mountpoint.trim(), name.replace('-', "_"));
                run(Command::new("sqlite3").args([&file, "DROP TABLE items"]))
            }
        };
        succeeded(&drop, "drop the items table").map(|_| ())
    }

    /// A traced request's span reaches the OTLP receiver by the time the service has
    /// stopped; a server error reaches the Sentry endpoint.
    fn check_telemetry(&mut self) -> Result<(), String> {
        let stack = self.stack()?;
        if self.variant.on("otel") {
            succeeded(
                &stack.compose(300, &["up", "-d", "--wait", "app"]),
                "start the app for the trace check",
            )?;
            // An API request: probes are traced only at debug.
            http(
                &self.published,
                "GET",
                "/api/v1/items/424242",
                &[("traceparent", &format!("00-{TRACE_ID}-b7ad6b7169203331-01"))],
                "",
            )?;
            succeeded(&stack.compose(120, &["stop", "app"]), "stop")?;
            let trace_id: Vec<u8> = (0..32)
                .step_by(2)
                .map(|i| u8::from_str_radix(&TRACE_ID[i..i + 2], 16).unwrap_or(0))
                .collect();
            let exported = self
                .otlp
                .received()
                .iter()
                .any(|body| body.windows(16).any(|w| w == trace_id));
            if !exported {
                return Err(format!(
                    "no span of trace {TRACE_ID} reached the OTLP receiver ({} exports)",
                    self.otlp.received().len()
                ));
            }
        }
        if self.variant.on("sentry") {
            succeeded(
                &stack.compose(300, &["up", "-d", "--wait", "app"]),
                "start the app for the Sentry check",
            )?;
            self.drop_items_table()?;
            let (status, _) = http(&self.published, "GET", "/api/v1/items", &[], "")?;
            if status != 500 {
                return Err(format!(
                    "GET /api/v1/items without its table: expected 500, saw {status}"
                ));
            }
            succeeded(&stack.compose(120, &["stop", "app"]), "stop")?;
            let reported = self
                .sentry
                .received()
                .iter()
                .any(|body| String::from_utf8_lossy(body).contains(r#""type":"event""#));
            if !reported {
                return Err(format!(
                    "no error event reached the Sentry endpoint ({} envelopes)",
                    self.sentry.received().len()
                ));
            }
        }
        Ok(())
    }
}

impl Deployment<'_> {
    /// What the Kubernetes manifests assume, on this engine: [`REPLICAS`] replicas of the
    /// image behind a load-balancing Caddy that sends requests to ready replicas only,
    /// against one Postgres (and Redis). They start at once on an empty database with
    /// migrations on start, then each is replaced by one of the rebuilt image, the new one
    /// started and in rotation before the old one stops, while the host loads the proxy.
    /// Among the upstreams is one that is alive but never ready, and fails every request:
    /// no request may reach it.
    fn check_replicas(&mut self) -> Result<(), String> {
        // The deployed stack goes first: this one is a compose project of its own.
        self.stack.take();
        let name = project_name(&self.variant);
        let project = format!("{name}-replicas");
        let database = format!(
            "{}_replicas",
            self.database.as_deref().ok_or("no database")?
        );
        let mut settings = example_settings(self.generated);
        let app_port = container_port(self.generated);
        let host = host_address()?;
        let unready = Unready::start();
        // Every name a replica of this run will have (compose numbers them on), and the unready one.
        let mut upstreams: Vec<String> = (1..=2 * REPLICAS)
            .map(|n| format!("{project}-app-{n}:{app_port}"))
            .collect();
        upstreams.push(format!("{host}:{}", unready.port));
        let lb = format!("127.0.0.1:{}", free_port());
        let mut set = |name: &str, value: String| set_setting(&mut settings, name, value);
        set("IMAGE", self.image.clone());
        set("IMAGE_TAG", "1".into());
        set(
            "DATABASE_URL",
            format!("postgres://e2e:e2e-s3cret@{host}:5432/{database}"),
        );
        if self.variant.on("redis") {
            set("REDIS_URL", format!("redis://{host}:6379"));
            set("CACHE_KEY_PREFIX", database.clone());
        }
        set("RUN_MIGRATIONS_ON_START", "true".into());
        set("RATE_LIMIT_PER_SECOND", "0".into());
        set("UPSTREAMS", format!("\"{}\"", upstreams.join(" ")));
        set(
            "REPLICAS_CADDYFILE",
            repo_root()
                .join("tests/container/replicas.Caddyfile")
                .to_string_lossy()
                .into_owned(),
        );
        set(
            "LB_PORT",
            lb.rsplit(':').next().unwrap_or_default().to_owned(),
        );
        let env_file = self.dir.join(".env.replicas");
        let write_settings = |settings: &[String]| {
            std::fs::write(&env_file, settings.join("\n") + "\n").map_err(|e| e.to_string())
        };
        write_settings(&settings)?;
        create_database(&database)?;
        let stack = Stack {
            dir: self.dir.clone(),
            database: Some(database.clone()),
            files: vec![
                "compose.production.yml".into(),
                repo_root()
                    .join("tests/container/replicas.compose.yml")
                    .to_string_lossy()
                    .into_owned(),
            ],
            env_file: ".env.replicas".into(),
            project: Some(project),
        };

        // All at once, on an empty database: Postgres's advisory lock lets one apply the
        // migrations while the others wait; a replica that raced would exit and restart.
        let started = Instant::now();
        let scale = format!("app={REPLICAS}");
        succeeded(
            &stack.compose(300, &["up", "-d", "--wait", "--scale", &scale, "app"]),
            "three replicas at once",
        )?;
        let together = started.elapsed();
        let replicas = stack.replicas()?;
        if replicas.len() != REPLICAS {
            return Err(format!("expected {REPLICAS} replicas, saw {replicas:?}"));
        }
        for replica in &replicas {
            let restarts = stack.inspect(replica, "{{.RestartCount}} {{.State.Health.Status}}");
            if restarts != "0 healthy" {
                return Err(format!(
                    "replica {replica}: expected 0 restarts and healthy, saw {restarts}: {}",
                    container_logs(replica)
                ));
            }
        }
        let migrations = std::fs::read_dir(self.generated.path("migrations"))
            .map_err(|e| e.to_string())?
            .count();
        let applied = run(Command::new("psql")
            .arg(format!(
                "postgres://e2e:e2e-s3cret@127.0.0.1:5432/{database}"
            ))
            .args([
                "-tAc",
                "SELECT count(*) FROM _sqlx_migrations WHERE success",
            ]));
        let applied = succeeded(&applied, "count the applied migrations")?;
        if applied.trim() != migrations.to_string() {
            return Err(format!(
                "expected each of the {migrations} migrations applied once, saw {}",
                applied.trim()
            ));
        }

        succeeded(
            &stack.compose(300, &["up", "-d", "lb"]),
            "the load balancer",
        )?;
        let deadline = Instant::now() + Duration::from_secs(30);
        while http(&lb, "GET", "/health/ready", &[], "").map(|(status, _)| status) != Ok(200) {
            if Instant::now() > deadline {
                return Err(format!(
                    "the load balancer did not answer GET /health/ready 200 within 30 s: {}",
                    tail(&stack.compose(60, &["logs", "lb"]), 20)
                ));
            }
            thread::sleep(Duration::from_millis(200));
        }
        let mut paths = Vec::new();
        for n in 0..10 {
            let (status, body) = http(
                &lb,
                "POST",
                "/api/v1/items",
                &[("content-type", "application/json")],
                &format!(r#"{{"name":"replicated-{n}"}}"#),
            )?;
            if status != 201 {
                return Err(format!(
                    "POST /api/v1/items through the load balancer: expected 201, saw {status} {body}"
                ));
            }
            let id = serde_json::from_str::<serde_json::Value>(&body)
                .map_err(|e| format!("{status} {body}: {e}"))?["id"]
                .clone();
            paths.push(format!("/api/v1/items/{id}"));
        }

        // One replica at a time: the new one healthy and in rotation, then the old one stopped.
        let load = Load::start(&lb, paths);
        set_setting(&mut settings, "IMAGE_TAG", "2".into());
        write_settings(&settings)?;
        let mut replaced = Vec::new();
        let grow = format!("app={}", REPLICAS + 1);
        for old in &replicas {
            let started = Instant::now();
            let before = stack.replicas()?;
            succeeded(
                &stack.compose(
                    300,
                    &[
                        "up",
                        "-d",
                        "--wait",
                        "--no-deps",
                        "--no-recreate",
                        "--scale",
                        &grow,
                        "app",
                    ],
                ),
                "start a replacement",
            )?;
            let new = stack
                .replicas()?
                .into_iter()
                .find(|replica| !before.contains(replica))
                .ok_or("no replacement started")?;
            let image = stack.inspect(&new, "{{.Config.Image}}");
            if !image.ends_with(":2") {
                return Err(format!(
                    "the replacement runs {image}, not the rebuilt image"
                ));
            }
            stack.await_in_rotation(&new)?;
            succeeded(
                &run(docker(60).args(["stop", "--time", "30", old])),
                "stop the old replica",
            )?;
            succeeded(&run(docker(60).args(["rm", old])), "remove the old replica")?;
            replaced.push(started.elapsed());
        }
        thread::sleep(Duration::from_secs(2));
        let (served, failed) = load.stop()?;
        let (checked, sent) = unready.seen();
        let replaced_text: Vec<String> = replaced.iter().map(|time| secs(*time)).collect();
        self.report.replicas = format!(
            "{REPLICAS} at once {}; replaced in {}; {served} served, {} failed; unready: {checked} checks, {sent} requests",
            secs(together),
            replaced_text.join("/"),
            failed.len()
        );
        if !failed.is_empty() {
            return Err(format!(
                "{} of {} requests failed while replicas were replaced: {:?}",
                failed.len(),
                served + failed.len(),
                &failed[..failed.len().min(5)]
            ));
        }
        if checked == 0 || sent > 0 {
            return Err(format!(
                "the unready upstream: expected readiness checks and no request, saw {checked} checks and {sent} requests"
            ));
        }
        Ok(())
    }
}

/// A check that returns early stops the load too.
impl Drop for Load {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
    }
}

/// An upstream that is alive but never ready, like a replica that lost its database:
/// `/health` 200, `/health/ready` 503, and a 500 for anything else, which it counts.
struct Unready {
    port: u16,
    /// Readiness checks answered, and other requests.
    seen: Arc<Mutex<(usize, usize)>>,
}

impl Unready {
    fn start() -> Self {
        let listener = TcpListener::bind("0.0.0.0:0").expect("the unready upstream binds");
        let port = listener.local_addr().expect("its address").port();
        let seen = Arc::new(Mutex::new((0, 0)));
        let counted = Arc::clone(&seen);
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut reader = BufReader::new(&stream);
                let mut request_line = String::new();
                reader.read_line(&mut request_line).ok();
                let mut header = String::new();
                while reader.read_line(&mut header).is_ok_and(|n| n > 2) {
                    header.clear();
                }
                let path = request_line
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or_default()
                    .to_owned();
                let status = match path.as_str() {
                    "/health" => "200 OK",
                    "/health/ready" => {
                        counted.lock().expect("counts").0 += 1;
                        "503 Service Unavailable"
                    }
                    _ => {
                        counted.lock().expect("counts").1 += 1;
                        "500 Internal Server Error"
                    }
                };
                (&stream)
                    .write_all(
                        format!(
                            "HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                        )
                        .as_bytes(),
                    )
                    .ok();
            }
        });
        Self { port, seen }
    }

    fn seen(&self) -> (usize, usize) {
        *self.seen.lock().expect("counts")
    }
}

/// The replicas run of [`Deployment::check_replicas`].
const REPLICAS: usize = 3;

impl Stack {
    /// Waits until `replica` has answered an item request through the load balancer: the
    /// proxy found it ready and sends it a share of the load.
    fn await_in_rotation(&self, replica: &str) -> Result<(), String> {
        let ip = self.ip(replica);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let scrape = Scrape::of(&format!("{ip}:{METRICS_PORT}"))?;
            if scrape.value(
                "http_requests_total",
                &[
                    ("method", "GET"),
                    ("route", "/api/v1/items/{id}"),
                    ("status", "200"),
                ],
            ) >= 1.0
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "replica {replica} answered no item request through the load balancer within 30 s"
                ));
            }
            thread::sleep(Duration::from_millis(100));
        }
    }

    /// The app's running containers, by name.
    fn replicas(&self) -> Result<Vec<String>, String> {
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

fn container_logs(container: &str) -> String {
    tail(
        &run(Command::new("docker").args(["logs", "--tail", "20", container])),
        20,
    )
}

/// Requests from four threads, each on a new connection, until stopped (or 5 minutes).
struct Load {
    stopping: Arc<AtomicBool>,
    workers: Vec<thread::JoinHandle<(usize, Vec<String>)>>,
}

impl Load {
    fn start(address: &str, paths: Vec<String>) -> Self {
        let stopping = Arc::new(AtomicBool::new(false));
        let deadline = Instant::now() + Duration::from_secs(300);
        let workers = (0..4)
            .map(|worker| {
                let (address, paths, stopping) =
                    (address.to_owned(), paths.clone(), Arc::clone(&stopping));
                thread::spawn(move || {
                    let (mut served, mut failed) = (0, Vec::new());
                    for path in paths.iter().cycle().skip(worker) {
                        if stopping.load(Ordering::SeqCst) || Instant::now() > deadline {
                            break;
                        }
                        match http(&address, "GET", path, &[], "") {
                            Ok((200, _)) => served += 1,
                            Ok((status, body)) => failed.push(format!("{path}: {status} {body}")),
                            Err(error) => failed.push(format!("{path}: {error}")),
                        }
                    }
                    (served, failed)
                })
            })
            .collect();
        Self { stopping, workers }
    }

    /// Requests answered 200, and every other outcome.
    fn stop(mut self) -> Result<(usize, Vec<String>), String> {
        self.stopping.store(true, Ordering::SeqCst);
        let mut totals = (0, Vec::new());
        for worker in std::mem::take(&mut self.workers) {
            let (served, failed) = worker
                .join()
                .map_err(|_| "a load thread panicked".to_owned())?;
            totals.0 += served;
            totals.1.extend(failed);
        }
        Ok(totals)
    }
}

/// Loads the service from four threads, stops it mid-load with `docker compose stop`,
/// and sorts every request: served (a complete 200), refused (never accepted by the
/// service: connection refused, or reset before any byte of a response), or failed.
fn stop_under_load(stack: &Stack) -> Result<(usize, usize, Vec<String>, Duration), String> {
    let address = stack.app_address()?;
    let stopping = Arc::new(AtomicBool::new(false));
    let outcomes = Arc::new(Mutex::new((0usize, 0usize, Vec::new())));
    let deadline = Instant::now() + Duration::from_secs(60);
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let (address, stopping, outcomes) = (
                address.clone(),
                Arc::clone(&stopping),
                Arc::clone(&outcomes),
            );
            thread::spawn(move || {
                let mut refused_since: Option<Instant> = None;
                while Instant::now() < deadline {
                    let result = http(&address, "GET", "/api/v1/items?limit=20", &[], "");
                    let mut outcomes = outcomes.lock().expect("outcomes");
                    match result {
                        Ok((200, _)) => outcomes.0 += 1,
                        Ok((status, body)) => outcomes.2.push(format!("{status} {body}")),
                        Err(error)
                            if error.starts_with("connect") || error.starts_with("unanswered") =>
                        {
                            outcomes.1 += 1;
                            let since = *refused_since.get_or_insert_with(Instant::now);
                            if stopping.load(Ordering::SeqCst)
                                && since.elapsed() > Duration::from_secs(1)
                            {
                                break;
                            }
                        }
                        Err(error) => outcomes.2.push(error),
                    }
                }
            })
        })
        .collect();
    thread::sleep(Duration::from_secs(3));
    stopping.store(true, Ordering::SeqCst);
    let started = Instant::now();
    let stopped = stack.compose(120, &["stop", "app"]);
    let stop = started.elapsed();
    for worker in workers {
        worker
            .join()
            .map_err(|_| "a load thread panicked".to_owned())?;
    }
    succeeded(&stopped, "compose stop")?;
    let (served, refused, failed) = std::mem::take(&mut *outcomes.lock().expect("outcomes"));
    if served == 0 {
        return Err("the load generator got no answer at all".into());
    }
    Ok((served, refused, failed, stop))
}
