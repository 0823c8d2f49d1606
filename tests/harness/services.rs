//! The services the `faults` and `contract` tiers run each variant's binary against:
//! a Postgres and a Redis of the tier's own, and the variant's service itself, with a
//! scratch directory and a database of its own; how a variant is built and linted.

use std::{
    collections::BTreeMap,
    fs::File,
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus, Output, Stdio},
    sync::{Mutex, OnceLock},
    thread,
    time::{Duration, Instant},
};

use crate::helpers::{
    Project, Response, Variant, cargo_for, exchange, free_port, postgres, project_name, run,
    succeeded, work_dir,
};

/// The variant's service binary, built (or found up to date) with the `build` tier's
/// settings once per test process: every test of `faults` and `contract` runs it, and
/// asking cargo again each time would only wait on it. It is the binary the variant's
/// own tests run (`cargo test --no-run`), which the `build` tier has already built:
/// `cargo build` resolves features without the dev-dependencies, and where one of them
/// asks a shared dependency for more (tempfile's fastrand beside Redis's), it would
/// compile that dependency and the service again, in every variant.
pub fn binary(project: &Project) -> Result<PathBuf, String> {
    static BUILT: OnceLock<Mutex<BTreeMap<Variant, Result<PathBuf, String>>>> = OnceLock::new();
    let built = BUILT.get_or_init(Default::default);
    let mut built = built
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    built
        .entry(project.variant)
        .or_insert_with(|| {
            succeeded(
                &run(&mut cargo_for(project, &["test", "--locked", "--no-run"])),
                "cargo test --no-run",
            )?;
            Ok(work_dir()
                .join("target/debug")
                .join(project_name(&project.variant)))
        })
        .clone()
}

/// An empty directory for one variant's run of `what` (`faults/sigterm`, `contract`):
/// its logs, secrets and SQLite files.
pub fn scratch(what: &str, variant: &Variant) -> PathBuf {
    let dir = work_dir().join(what).join(variant.id());
    std::fs::remove_dir_all(&dir).ok();
    std::fs::create_dir_all(&dir).expect("scratch directory");
    dir
}

/// A database of the variant's own for `purpose`: a file in `dir` for SQLite, a new
/// database on `postgres` for Postgres.
pub fn database_url(
    variant: &Variant,
    postgres: Option<&Postgres>,
    dir: &Path,
    purpose: &str,
) -> Result<String, String> {
    match postgres {
        Some(postgres) if variant.is("database", "postgres") => postgres.database(&format!(
            "{purpose}_{}",
            project_name(variant).replace('-', "_")
        )),
        _ => Ok(format!("sqlite:{}/{purpose}.db", dir.display())),
    }
}

/// Asks `done` every `every` until it holds (true) or `limit` has passed (false); an
/// error from `done` ends the wait with that error.
pub fn poll(
    limit: Duration,
    every: Duration,
    mut done: impl FnMut() -> Result<bool, String>,
) -> Result<bool, String> {
    let deadline = Instant::now() + limit;
    loop {
        if done()? {
            return Ok(true);
        }
        if Instant::now() > deadline {
            return Ok(false);
        }
        thread::sleep(every);
    }
}

/// Runs `program` as the `postgres` user when this process is root (initdb refuses root).
pub fn as_postgres(program: &Path) -> Command {
    let is_root = run(Command::new("id").arg("-u")).stdout.starts_with(b"0\n");
    if is_root {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

/// A Postgres server of this tier's own, in a temporary directory, stopped on drop.
pub struct Postgres {
    pub bin: PathBuf,
    pub data: PathBuf,
    pub port: u16,
    pub _dir: tempfile::TempDir,
}

impl Postgres {
    pub fn start() -> Result<Self, String> {
        let versions = std::fs::read_dir("/usr/lib/postgresql")
            .map_err(|e| format!("no Postgres server installed: {e}"))?;
        let bin = versions
            .flatten()
            .map(|entry| entry.path().join("bin"))
            .filter(|bin| bin.join("initdb").exists())
            .max_by_key(|bin| bin.to_string_lossy().into_owned())
            .ok_or("no initdb under /usr/lib/postgresql")?;
        let dir = tempfile::Builder::new()
            .prefix("faults-postgres")
            .tempdir()
            .map_err(|e| e.to_string())?;
        let data = dir.path().join("data");
        std::fs::create_dir(&data).map_err(|e| e.to_string())?;
        // Owned by whoever runs the server: postgres when this process is root.
        run(Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(dir.path()));
        let initdb = run(as_postgres(&bin.join("initdb"))
            .args(["-D"])
            .arg(&data)
            .args(["-U", "postgres", "-A", "trust", "--no-sync"]));
        succeeded(&initdb, "initdb")?;
        let postgres = Self {
            bin,
            data,
            port: free_port(),
            _dir: dir,
        };
        postgres.resume()?;
        Ok(postgres)
    }

    pub fn pg_ctl(&self, args: &[&str]) -> Output {
        run(as_postgres(&self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(&self.data)
            .args(args))
    }

    pub fn resume(&self) -> Result<(), String> {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off",
            self.port,
            self.data.display()
        );
        let log = self.data.join("server.log");
        succeeded(
            &self.pg_ctl(&["-w", "-l", &log.to_string_lossy(), "-o", &options, "start"]),
            "pg_ctl start",
        )
        .map(drop)
    }

    pub fn halt(&self) -> Result<(), String> {
        succeeded(&self.pg_ctl(&["-w", "-m", "fast", "stop"]), "pg_ctl stop").map(drop)
    }

    /// A new, empty database on this server, and its URL.
    pub fn database(&self, name: &str) -> Result<String, String> {
        let admin = format!("postgres://postgres@127.0.0.1:{}/postgres", self.port);
        postgres::fresh_database(&admin, name, None)
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.pg_ctl(&["-w", "-m", "immediate", "stop"]);
    }
}

/// A Redis server of this tier's own, stopped on drop.
pub struct Redis {
    pub port: u16,
    pub server: Option<Child>,
}

impl Redis {
    pub fn start() -> Result<Self, String> {
        let mut redis = Self {
            port: free_port(),
            server: None,
        };
        redis.resume()?;
        Ok(redis)
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub fn cli(&self, args: &[&str]) -> String {
        let output = run(Command::new("redis-cli")
            .args(["-p", &self.port.to_string()])
            .args(args));
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }

    pub fn resume(&mut self) -> Result<(), String> {
        let server = Command::new("redis-server")
            .args([
                "--port",
                &self.port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .spawn()
            .map_err(|e| format!("redis-server: {e}"))?;
        self.server = Some(server);
        let pong = || Ok(self.cli(&["ping"]) == "PONG");
        if !poll(Duration::from_secs(10), Duration::from_millis(50), pong)? {
            return Err("redis-server did not answer PING within 10 s".into());
        }
        Ok(())
    }

    pub fn halt(&mut self) {
        if let Some(mut server) = self.server.take() {
            server.kill().ok();
            server.wait().ok();
        }
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.halt();
    }
}

/// The variant's service, its output in a log file; killed on drop.
pub struct Service {
    pub child: Child,
    pub address: String,
    pub metrics_address: String,
    pub log: PathBuf,
    /// `Bearer <token>`, as the service's own `dev-token` signs it with every scope.
    pub authorization: String,
}

impl Service {
    /// Starts `serve` with `env` on a free port, without waiting for it.
    pub fn spawn(binary: &Path, env: &[(&str, String)], log: &Path) -> Result<Self, String> {
        let (port, metrics_port) = (free_port(), free_port());
        let output = File::create(log).map_err(|e| e.to_string())?;
        let command = |args: &[&str]| {
            let mut command = Command::new(binary);
            command
                .args(args)
                .env_clear()
                .envs([
                    ("HOST", "127.0.0.1".to_owned()),
                    ("PORT", port.to_string()),
                    ("LOG_FORMAT", "json".into()),
                    ("RUST_LOG", "info".into()),
                ])
                .env("METRICS_PORT", metrics_port.to_string())
                // Load from one address would be over the per-client limit, which the
                // service's own tests cover; the tiers measure other behaviour.
                .env("RATE_LIMIT_PER_SECOND", "0")
                .envs(env.iter().map(|(name, value)| (*name, value.as_str())));
            command
        };
        let token = run(&mut command(&["dev-token"]));
        succeeded(&token, "dev-token")?;
        let authorization = format!("Bearer {}", String::from_utf8_lossy(&token.stdout).trim());
        let child = command(&[])
            .stdout(output.try_clone().map_err(|e| e.to_string())?)
            .stderr(output)
            .spawn()
            .map_err(|e| format!("{}: {e}", binary.display()))?;
        Ok(Self {
            child,
            address: format!("127.0.0.1:{port}"),
            metrics_address: format!("127.0.0.1:{metrics_port}"),
            log: log.to_owned(),
            authorization,
        })
    }

    /// Starts `serve` and waits until `/health` answers 200.
    pub fn start(binary: &Path, env: &[(&str, String)], log: &Path) -> Result<Self, String> {
        let mut service = Self::spawn(binary, env, log)?;
        let answered = poll(Duration::from_secs(30), Duration::from_millis(20), || {
            if matches!(service.get("/health"), Ok(response) if response.status == 200) {
                return Ok(true);
            }
            match service.child.try_wait() {
                Ok(Some(status)) => Err(format!(
                    "the service exited ({status}) before answering:\n{}",
                    service.log()
                )),
                _ => Ok(false),
            }
        })?;
        if !answered {
            return Err(format!(
                "the service did not answer /health within 30 s:\n{}",
                service.log()
            ));
        }
        Ok(service)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// `GET path` as a caller with every scope.
    pub fn get(&self, path: &str) -> Result<Response, String> {
        exchange(
            &self.address,
            "GET",
            path,
            &[("authorization", &self.authorization)],
            "",
        )
    }

    pub fn post_item(&self, name: &str) -> Result<Response, String> {
        exchange(
            &self.address,
            "POST",
            "/api/v1/items",
            &[
                ("content-type", "application/json"),
                ("authorization", &self.authorization),
            ],
            &format!(r#"{{"name":"{name}"}}"#),
        )
    }

    /// A new item's id.
    pub fn create_item(&self, name: &str) -> Result<i64, String> {
        let response = self.post_item(name)?;
        if response.status != 201 {
            return Err(format!(
                "POST /api/v1/items: expected 201, saw {} {}",
                response.status, response.body
            ));
        }
        serde_json::from_str::<serde_json::Value>(&response.body)
            .ok()
            .and_then(|item| item["id"].as_i64())
            .ok_or_else(|| format!("no id in {}", response.body))
    }

    pub fn terminate(&self) {
        run(Command::new("kill").args(["-TERM", &self.child.id().to_string()]));
    }

    /// Waits for the process to exit, for at most `limit`.
    pub fn exit_within(&mut self, limit: Duration) -> Result<ExitStatus, String> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().map_err(|e| e.to_string())? {
                return Ok(status);
            }
            if Instant::now() > deadline {
                return Err(format!("still running after {limit:?}"));
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}
