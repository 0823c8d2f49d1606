//! The replicas fact, for Postgres variants: what the Kubernetes manifests assume, on
//! this engine. [`REPLICAS`] replicas of the old image (`:1`) behind a load-balancing
//! Caddy that sends requests to ready replicas only, against one Postgres (and Redis).
//! They start at once on an empty database with migrations on start, then each is
//! replaced by one of the rebuilt image (`:2`), the new one started and in rotation
//! before the old one stops, while the host loads the proxy. Among the upstreams is one
//! that is alive but never ready, and fails every request: no request may reach it.

use std::{
    path::PathBuf,
    process::Command,
    thread,
    time::{Duration, Instant},
};

use super::{
    Deployment,
    load::Load,
    secs,
    stack::{
        METRICS_PORT, Stack, container_logs, create_database, docker, example_settings,
        free_network_prefix, host_address, set_setting, write_settings,
    },
    upstreams::Unready,
};
use crate::{
    helpers::{
        Project, container_port, free_port, http, project_name, repo_root, run, succeeded, tail,
    },
    prometheus::Scrape,
};

/// The replicas run of [`Deployment::check_replicas`].
const REPLICAS: usize = 3;

/// The replicas' compose project, beside where the deployed one was, and what it runs against.
struct Replicas {
    stack: Stack,
    settings: Vec<String>,
    env_file: PathBuf,
    database: String,
    /// The load balancer's address on loopback.
    lb: String,
    unready: Unready,
}

impl Deployment<'_> {
    pub(super) fn check_replicas(&mut self) -> Result<(), String> {
        // The deployed stack goes first: this one is a compose project of its own.
        self.stack.take();
        let mut replicas = self.replicas()?;
        let (together, old) = replicas.start_together()?;
        replicas.check_each_migration_applied_once(self.generated)?;
        let authorization = self.authorization()?;
        let paths = replicas.open_load_balancer(&authorization)?;
        let load = Load::start(&replicas.lb, paths, &authorization);
        let replaced = replicas.replace_one_by_one(&old)?;
        thread::sleep(Duration::from_secs(2));
        let (served, failed) = load.stop()?;
        let (checked, sent) = replicas.unready.seen();
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

    /// The replicas' settings, written, on an empty database of their own.
    fn replicas(&self) -> Result<Replicas, String> {
        let project = format!("{}-replicas", project_name(&self.variant));
        let database = format!(
            "{}_replicas",
            self.database.as_deref().ok_or("no database")?
        );
        let host = host_address()?;
        let unready = Unready::start();
        let lb = format!("127.0.0.1:{}", free_port());
        let mut settings = self.replicas_settings(&project, &database, &host, &unready, &lb);
        set_setting(&mut settings, "NETWORK_PREFIX", free_network_prefix()?);
        let env_file = self.dir.join(".env.replicas");
        write_settings(&env_file, &settings)?;
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
        stack.take_down();
        Ok(Replicas {
            stack,
            settings,
            env_file,
            database,
            lb,
            unready,
        })
    }

    /// .env.production.example for the old image, migrations on start, and the Caddy's
    /// upstreams: every name a replica of this run will have, and the unready one.
    fn replicas_settings(
        &self,
        project: &str,
        database: &str,
        host: &str,
        unready: &Unready,
        lb: &str,
    ) -> Vec<String> {
        let app_port = container_port(self.generated);
        // Compose numbers replicas on: the replacements are 4 to 6.
        let mut upstreams: Vec<String> = (1..=2 * REPLICAS)
            .map(|n| format!("{project}-app-{n}:{app_port}"))
            .collect();
        upstreams.push(format!("{host}:{}", unready.port));
        let mut settings = example_settings(self.generated);
        let mut set = |name: &str, value: String| set_setting(&mut settings, name, value);
        set("IMAGE", self.image.clone());
        set("IMAGE_TAG", "1".into());
        set(
            "DATABASE_URL",
            format!("postgres://e2e:e2e-s3cret@{host}:5432/{database}"),
        );
        if self.variant.on("redis") {
            set("REDIS_URL", format!("redis://{host}:6379"));
            set("CACHE_KEY_PREFIX", database.to_owned());
        }
        set("RUN_MIGRATIONS_ON_START", "true".into());
        set("RATE_LIMIT_PER_SECOND", "0".into());
        set("AUTH_HMAC_SECRET", super::AUTH_SECRET.into());
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
        settings
    }
}

impl Replicas {
    /// All at once, on an empty database: Postgres's advisory lock lets one apply the
    /// migrations while the others wait; a replica that raced would exit and restart.
    /// How long they took, and the replicas, each healthy and never restarted.
    fn start_together(&self) -> Result<(Duration, Vec<String>), String> {
        let started = Instant::now();
        let scale = format!("app={REPLICAS}");
        succeeded(
            &self
                .stack
                .compose(300, &["up", "-d", "--wait", "--scale", &scale, "app"]),
            "three replicas at once",
        )?;
        let together = started.elapsed();
        let replicas = self.stack.replicas()?;
        if replicas.len() != REPLICAS {
            return Err(format!("expected {REPLICAS} replicas, saw {replicas:?}"));
        }
        for replica in &replicas {
            let restarts = self
                .stack
                .inspect(replica, "{{.RestartCount}} {{.State.Health.Status}}");
            if restarts != "0 healthy" {
                return Err(format!(
                    "replica {replica}: expected 0 restarts and healthy, saw {restarts}: {}",
                    container_logs(replica)
                ));
            }
        }
        Ok((together, replicas))
    }

    fn check_each_migration_applied_once(&self, generated: &Project) -> Result<(), String> {
        let migrations = std::fs::read_dir(generated.path("migrations"))
            .map_err(|e| e.to_string())?
            .count();
        let applied = run(Command::new("psql")
            .arg(format!(
                "postgres://e2e:e2e-s3cret@127.0.0.1:5432/{}",
                self.database
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
        Ok(())
    }

    /// Starts the load balancer and, once it answers ready, creates items through it:
    /// the paths the load requests.
    fn open_load_balancer(&self, authorization: &str) -> Result<Vec<String>, String> {
        succeeded(
            &self.stack.compose(300, &["up", "-d", "lb"]),
            "the load balancer",
        )?;
        let deadline = Instant::now() + Duration::from_secs(30);
        while http(&self.lb, "GET", "/health/ready", &[], "").map(|(status, _)| status) != Ok(200) {
            if Instant::now() > deadline {
                return Err(format!(
                    "the load balancer did not answer GET /health/ready 200 within 30 s: {}",
                    tail(&self.stack.compose(60, &["logs", "lb"]), 20)
                ));
            }
            thread::sleep(Duration::from_millis(200));
        }
        let mut paths = Vec::new();
        for n in 0..10 {
            let (status, body) = http(
                &self.lb,
                "POST",
                "/api/v1/items",
                &[
                    ("content-type", "application/json"),
                    ("authorization", authorization),
                ],
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
        Ok(paths)
    }

    /// Each of `old` replaced by the rebuilt image; how long each replacement took.
    fn replace_one_by_one(&mut self, old: &[String]) -> Result<Vec<Duration>, String> {
        set_setting(&mut self.settings, "IMAGE_TAG", "2".into());
        write_settings(&self.env_file, &self.settings)?;
        let mut replaced = Vec::new();
        for replica in old {
            let started = Instant::now();
            self.replace(replica)?;
            replaced.push(started.elapsed());
        }
        Ok(replaced)
    }

    /// One replica at a time: the new one healthy and in rotation, then the old one stopped.
    fn replace(&self, old: &str) -> Result<(), String> {
        let before = self.stack.replicas()?;
        let grow = format!("app={}", REPLICAS + 1);
        let up = [
            "up",
            "-d",
            "--wait",
            "--no-deps",
            "--no-recreate",
            "--scale",
            &grow,
            "app",
        ];
        succeeded(&self.stack.compose(300, &up), "start a replacement")?;
        let new = self
            .stack
            .replicas()?
            .into_iter()
            .find(|replica| !before.contains(replica))
            .ok_or("no replacement started")?;
        let image = self.stack.inspect(&new, "{{.Config.Image}}");
        if !image.ends_with(":2") {
            return Err(format!(
                "the replacement runs {image}, not the rebuilt image"
            ));
        }
        self.await_in_rotation(&new)?;
        succeeded(
            &run(docker(60).args(["stop", "--time", "30", old])),
            "stop the old replica",
        )?;
        succeeded(&run(docker(60).args(["rm", old])), "remove the old replica")?;
        Ok(())
    }

    /// Waits until `replica` has answered an item request through the load balancer: the
    /// proxy found it ready and sends it a share of the load.
    fn await_in_rotation(&self, replica: &str) -> Result<(), String> {
        let ip = self.stack.ip(replica);
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
}
