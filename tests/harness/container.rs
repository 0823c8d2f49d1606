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
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    thread,
    time::{Duration, Instant},
};

use crate::helpers::{Failures, Project, Variant, clean_env, generated, http, project_name, repo_root, tail, variants, work_dir};

const TRACE_ID: &str = "0af7651916cd43dd8448eb211c80319c";

fn e2e_variants() -> Vec<Variant> {
    let every = variants();
    match std::env::var("E2E_VARIANTS").as_deref() {
        Ok("all") => every,
        Ok(ids) if !ids.trim().is_empty() => {
            every.into_iter().filter(|v| ids.split(',').any(|id| id.trim() == v.id())).collect()
        }
        _ => every
            .into_iter()
            .filter(|v| *v == Variant::default_choice() || *v == Variant::maximal())
            .collect(),
    }
}

fn run(command: &mut Command) -> Output {
    command.output().unwrap_or_else(|error| panic!("cannot run {command:?}: {error}"))
}

fn ok(output: &Output, what: &str) -> Result<String, String> {
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(format!("{what} failed:\n{}", tail(output, 30)))
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
                        if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                            length = value.trim().parse().unwrap_or(0);
                        }
                        line.clear();
                    }
                    let mut body = vec![0; length];
                    if reader.read_exact(&mut body).is_ok() {
                        recorded.lock().expect("bodies").push(body);
                    }
                    (&stream).write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}").ok();
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
}

impl Stack {
    fn compose(&self, seconds: u64, args: &[&str]) -> Output {
        let mut command = docker(seconds);
        clean_env(&mut command)
            .current_dir(&self.dir)
            .args(["compose", "-f", "compose.production.yml", "--env-file", ".env.production"])
            .args(args);
        run(&mut command)
    }

    fn container(&self, service: &str) -> Result<String, String> {
        let id = ok(&self.compose(60, &["ps", "-a", "-q", service]), "compose ps")?;
        id.lines().next().map(str::to_owned).ok_or_else(|| format!("no {service} container"))
    }

    fn inspect(&self, container: &str, format: &str) -> String {
        let output = run(Command::new("docker").args(["inspect", "--format", format, container]));
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }

    /// The app's address on its compose network: no userland proxy in between.
    fn app_address(&self) -> Result<String, String> {
        let container = self.container("app")?;
        let ip = self.inspect(&container, "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}");
        let port = self.inspect(&container, "{{range $p, $_ := .Config.ExposedPorts}}{{$p}}{{end}}");
        Ok(format!("{ip}:{}", port.trim_end_matches("/tcp")))
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        self.compose(180, &["--profile", "migrate", "--profile", "proxy", "down", "--volumes", "--remove-orphans", "--timeout", "5"]);
        if let Some(database) = &self.database {
            run(Command::new("psql").arg(admin_url()).args(["-q", "-c", &format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)")]));
        }
    }
}

fn admin_url() -> String {
    std::env::var("DATABASE_URL").unwrap_or_else(|_| "postgres://postgres:postgres@127.0.0.1:5432/postgres".into())
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
}

fn secs(duration: Duration) -> String {
    format!("{:.0}s", duration.as_secs_f64())
}

#[test]
fn production_images_run_end_to_end() {
    let docker_up = Command::new("docker").arg("info").output().is_ok_and(|o| o.status.success());
    if !docker_up {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true but no Docker engine answers `docker info`");
        eprintln!("\n!!! SKIPPED: container end-to-end tests need a Docker engine (`docker info` failed) !!!\n");
        return;
    }
    if std::env::var("HARNESS_STAND_INS").as_deref() != Ok("0") {
        let stand_ins = run(Command::new("bash").arg(repo_root().join("tests/container/stand-in-images.sh")));
        assert!(stand_ins.status.success(), "stand-in images:\n{}", tail(&stand_ins, 30));
    }

    let mut failures = Failures::default();
    let mut table = vec!["variant | image | cold build | rebuild | deploy.sh to healthy | drain (served/refused, failed=0) | stop".to_owned()];
    for variant in e2e_variants() {
        match run_variant(&generated(variant)) {
            Ok(r) => table.push(format!(
                "{variant} | {:.1} MB | {} | {} | {} | {}/{} | {}",
                r.image_mb, secs(r.cold_build), secs(r.rebuild), secs(r.to_healthy), r.served, r.refused, secs(r.stop)
            )),
            Err(error) => {
                table.push(format!("{variant} | FAILED"));
                failures.add(&variant, error);
            }
        }
    }
    println!("\n{}", table.join("\n"));
    failures.assert_none("container end to end");
}

fn run_variant(generated: &Project) -> Result<Report, String> {
    let v = generated.variant;
    let mut report = Report::default();
    // A copy of its own: the one-line change below must not touch the shared project.
    let dir = work_dir().join("container").join(v.id());
    std::fs::remove_dir_all(&dir).ok();
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    ok(&run(Command::new("cp").arg("-a").arg(format!("{}/.", generated.dir.display())).arg(&dir)), "copy")?;
    let image = format!("e2e/{}", project_name(&v));

    // 1. Build cold, then again after a one-line change in src/.
    let started = Instant::now();
    // `E2E_COLD=0` keeps Docker's layer cache, to iterate on this test quickly.
    let cold = if std::env::var("E2E_COLD").as_deref() == Ok("0") { "--pull=false" } else { "--no-cache" };
    ok(&run(docker(1800).current_dir(&dir).args(["build", cold, "--network", "host", "-t", &format!("{image}:1"), "."])), "cold docker build")?;
    report.cold_build = started.elapsed();
    let size = run(Command::new("docker").args(["image", "inspect", "--format", "{{.Size}}", &format!("{image}:1")]));
    report.image_mb = String::from_utf8_lossy(&size.stdout).trim().parse::<f64>().unwrap_or(0.0) / 1e6;
    let lib = dir.join("src/lib.rs");
    let mut source = std::fs::read_to_string(&lib).map_err(|e| e.to_string())?;
    source.push_str("// Rebuilt by the container test.\n");
    std::fs::write(&lib, source).map_err(|e| e.to_string())?;
    let started = Instant::now();
    let rebuild = run(docker(1800).current_dir(&dir).args(["build", "--network", "host", "-t", &format!("{image}:2"), "."]));
    let log = ok(&rebuild, "rebuild")? + &String::from_utf8_lossy(&rebuild.stderr);
    report.rebuild = started.elapsed();
    let lines: Vec<&str> = log.lines().collect();
    let dependencies_cached = lines.windows(2).any(|pair| pair[0].contains("rm -rf src") && pair[1].contains("Using cache"));
    if !dependencies_cached {
        return Err(format!("the rebuild did not take dependencies from the cache:\n{log}"));
    }

    // 2. The production stack, against services on the host.
    let host = host_address()?;
    let app_port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map_err(|e| e.to_string())?.port();
    let otlp = Receiver::start();
    let sentry = Receiver::start();
    let mut settings: Vec<String> = generated
        .read(".env.production.example")
        .lines()
        .filter(|line| !line.starts_with('#') && line.contains('='))
        .map(str::to_owned)
        .collect();
    let database = v.is("database", "postgres").then(|| format!("e2e_{}", project_name(&v).replace('-', "_")));
    let mut set = |name: &str, value: String| {
        settings.retain(|line| !line.starts_with(&format!("{name}=")));
        settings.push(format!("{name}={value}"));
    };
    set("IMAGE", image.clone());
    set("IMAGE_TAG", "2".into());
    set("APP_PORT", app_port.to_string());
    set("APP_BIND_ADDRESS", "127.0.0.1".into());
    if let Some(database) = &database {
        run(Command::new("psql").arg(admin_url()).args(["-q", "-c", &format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)")]));
        ok(&run(Command::new("psql").arg(admin_url()).args(["-q", "-c", &format!("CREATE DATABASE {database} OWNER e2e")])), "create the database")?;
        set("DATABASE_URL", format!("postgres://e2e:e2e-s3cret@{host}:5432/{database}"));
    }
    if v.on("redis") {
        set("REDIS_URL", format!("redis://{host}:6379"));
    }
    if v.on("otel") {
        set("OTEL_EXPORTER_OTLP_ENDPOINT", format!("http://{host}:{}", otlp.port));
    }
    if v.on("sentry") {
        set("SENTRY_DSN", format!("http://public@{host}:{}/1", sentry.port));
    }
    // The settings file deploy.sh reads by default; git ignores it, so the deploy's stash leaves it.
    std::fs::write(dir.join(".env.production"), settings.join("\n") + "\n").map_err(|e| e.to_string())?;
    let stack = Stack { dir: dir.clone(), database: database.clone() };

    // 2a. scripts/deploy.sh, as on a host: a clone of a remote, then build, migrate, up --wait.
    let git = |args: &[&str]| ok(&run(Command::new("git").current_dir(&dir).args(args)), &format!("git {args:?}"));
    let origin = work_dir().join("container").join(format!("{}.git", v.id()));
    std::fs::remove_dir_all(&origin).ok();
    std::fs::remove_dir_all(dir.join(".git")).ok();
    git(&["init", "--quiet", "--initial-branch", "main"])?;
    git(&["add", "--all"])?;
    git(&["-c", "user.name=e2e", "-c", "user.email=e2e@localhost", "commit", "--quiet", "-m", "generated"])?;
    git(&["clone", "--quiet", "--bare", ".", &origin.to_string_lossy()])?;
    git(&["remote", "add", "origin", &origin.to_string_lossy()])?;
    let started = Instant::now();
    // As on a host: compose would let this process's DATABASE_URL and REDIS_URL override the settings file.
    let deploy = run(clean_env(Command::new("timeout").arg("900").arg("scripts/deploy.sh").arg("--build").current_dir(&dir)));
    let printed = ok(&deploy, "scripts/deploy.sh --build")?;
    report.to_healthy = started.elapsed();
    if !printed.contains("To roll back: scripts/deploy.sh --branch main --tag 2") {
        return Err(format!("deploy.sh did not print how to roll back:\n{printed}"));
    }

    // 3. Hardened as the compose file says, and healthy through the image's own HEALTHCHECK.
    let container = stack.container("app")?;
    let hardening = [
        ("{{.State.Health.Status}}", "healthy"),
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
    let pid = stack.inspect(&container, "{{.State.Pid}}");
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let uid = status.lines().find(|l| l.starts_with("Uid:")).unwrap_or_default().to_owned();
    if !uid.split_whitespace().skip(1).all(|id| id == "65532") {
        return Err(format!("the service does not run as uid 65532: {uid}"));
    }

    // 4. Ready, and an item survives the container being recreated.
    let published = format!("127.0.0.1:{app_port}");
    let (status, body) = http(&published, "GET", "/health/ready", &[], "")?;
    if status != 200 {
        return Err(format!("/health/ready: expected 200, saw {status} {body}"));
    }
    let request_id = format!("e2e-{}", project_name(&v));
    let (status, created) = http(&published, "POST", "/api/v1/items", &[("content-type", "application/json")], r#"{"name":"survivor"}"#)?;
    if status != 201 {
        return Err(format!("POST /api/v1/items: expected 201, saw {status} {created}"));
    }
    let id = serde_json::from_str::<serde_json::Value>(&created).map_err(|e| e.to_string())?["id"].clone();
    ok(&stack.compose(300, &["up", "-d", "--wait", "--force-recreate", "app"]), "up --force-recreate")?;
    let (status, body) = http(&published, "GET", &format!("/api/v1/items/{id}"), &[("x-request-id", &request_id)], "")?;
    if status != 200 || !body.contains("survivor") {
        return Err(format!("the item did not survive --force-recreate: {status} {body}"));
    }

    // 5. Logs are JSON lines carrying the request id.
    let logs = ok(&stack.compose(60, &["logs", "--no-log-prefix", "--no-color", "app"]), "compose logs")?;
    let mut tagged = 0;
    for line in logs.lines().filter(|l| !l.trim().is_empty()) {
        serde_json::from_str::<serde_json::Value>(line).map_err(|e| format!("a log line is not JSON ({e}): {line}"))?;
        tagged += usize::from(line.contains(&request_id));
    }
    if tagged == 0 {
        return Err(format!("no log line carries request id {request_id}:\n{logs}"));
    }

    // 6. The migrate profile on its own, then the proxy profile serving the app over TLS.
    ok(&stack.compose(300, &["--profile", "migrate", "run", "--rm", "migrate"]), "the migrate profile")?;
    ok(&stack.compose(300, &["--profile", "proxy", "up", "-d", "--wait", "proxy"]), "the proxy profile")?;
    let proxied = run(Command::new("curl").args(["-sk", "--retry", "15", "--retry-all-errors", "--retry-delay", "1", "-o", "/dev/null", "-D", "-", "https://localhost/health"]));
    // The headers of the last attempt: a retried one dumps its own first.
    let headers = String::from_utf8_lossy(&proxied.stdout).to_ascii_lowercase();
    let last = headers.trim_end().rsplit("\r\n\r\n").next().unwrap_or_default();
    if last.lines().next().and_then(|status| status.split_whitespace().nth(1)) != Some("200") {
        return Err(format!("https://localhost/health through the proxy: expected 200, saw {last:?} {}", tail(&proxied, 5)));
    }
    if !last.lines().any(|line| line.trim_end() == "strict-transport-security: max-age=31536000") {
        return Err(format!("the proxy sent no Strict-Transport-Security header: {last:?}"));
    }
    ok(&stack.compose(120, &["--profile", "proxy", "stop", "proxy"]), "stop the proxy")?;

    // 7. Stop under load: every request the service answered completes, and it exits 0 in time.
    if v.on("otel") {
        http(&published, "GET", "/health", &[("traceparent", &format!("00-{TRACE_ID}-b7ad6b7169203331-01"))], "")?;
    }
    let (served, refused, failed, stop) = stop_under_load(&stack)?;
    report.served = served;
    report.refused = refused;
    report.stop = stop;
    if !failed.is_empty() {
        return Err(format!("{} request(s) failed while stopping: {:?}", failed.len(), &failed[..failed.len().min(5)]));
    }
    let exit_code = stack.inspect(&stack.container("app")?, "{{.State.ExitCode}}");
    if exit_code != "0" {
        return Err(format!("the service exited with {exit_code} on stop"));
    }
    if stop > Duration::from_secs(30) {
        return Err(format!("stopping took {stop:?}, beyond stop_grace_period"));
    }

    // 8. Telemetry reached its backends on the host.
    if v.on("otel") {
        let trace_id: Vec<u8> = (0..32).step_by(2).map(|i| u8::from_str_radix(&TRACE_ID[i..i + 2], 16).unwrap_or(0)).collect();
        let exported = otlp.received().iter().any(|body| body.windows(16).any(|w| w == trace_id));
        if !exported {
            return Err(format!("no span of trace {TRACE_ID} reached the OTLP receiver ({} exports)", otlp.received().len()));
        }
    }
    if v.on("sentry") {
        ok(&stack.compose(300, &["up", "-d", "--wait", "app"]), "restart for the Sentry check")?;
        let database = database.as_deref().unwrap_or_default();
        ok(&run(Command::new("psql").arg(format!("postgres://e2e:e2e-s3cret@127.0.0.1:5432/{database}")).args(["-q", "-c", "DROP TABLE items"])), "drop the items table")?;
        let (status, _) = http(&published, "GET", "/api/v1/items", &[], "")?;
        if status != 500 {
            return Err(format!("GET /api/v1/items without its table: expected 500, saw {status}"));
        }
        ok(&stack.compose(120, &["stop", "app"]), "stop")?;
        let reported = sentry.received().iter().any(|body| String::from_utf8_lossy(body).contains(r#""type":"event""#));
        if !reported {
            return Err(format!("no error event reached the Sentry endpoint ({} envelopes)", sentry.received().len()));
        }
    }
    drop(stack);
    Ok(report)
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
            let (address, stopping, outcomes) = (address.clone(), Arc::clone(&stopping), Arc::clone(&outcomes));
            thread::spawn(move || {
                let mut refused_since: Option<Instant> = None;
                while Instant::now() < deadline {
                    let result = http(&address, "GET", "/api/v1/items?limit=20", &[], "");
                    let mut outcomes = outcomes.lock().expect("outcomes");
                    match result {
                        Ok((200, _)) => outcomes.0 += 1,
                        Ok((status, body)) => outcomes.2.push(format!("{status} {body}")),
                        Err(error) if error.starts_with("connect") || error.starts_with("unanswered") => {
                            outcomes.1 += 1;
                            let since = *refused_since.get_or_insert_with(Instant::now);
                            if stopping.load(Ordering::SeqCst) && since.elapsed() > Duration::from_secs(1) {
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
        worker.join().map_err(|_| "a load thread panicked".to_owned())?;
    }
    ok(&stopped, "compose stop")?;
    let (served, refused, failed) = std::mem::take(&mut *outcomes.lock().expect("outcomes"));
    if served == 0 {
        return Err("the load generator got no answer at all".into());
    }
    Ok((served, refused, failed, stop))
}
