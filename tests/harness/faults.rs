//! Fault scenarios, for every variant: its service (the debug binary the `build` tier
//! compiled) run against a Postgres and a Redis of this tier's own, which it stops and
//! starts under the running service.
//! - A dependency unreachable at start: the database stops `serve` at once, naming the
//!   cause and not the password; Redis, Sentry and OTLP endpoints do not stop it.
//! - Postgres stopped and started: liveness stays 200, readiness answers 503 naming the
//!   database within a second, the API answers 503 problem+json with `Retry-After` within
//!   its budget, and everything works again without a restart.
//! - Redis stopped and started: item reads stay 200 with under 10 ms of added p99
//!   latency, one log line per outage, readiness names Redis, the cache is used again.
//! - SIGTERM under a bounded load on loopback, `FAULT_TRIALS` times (default 10) for the
//!   default and maximal variants and at most 3 times for the others: no
//!   request lost, exit code 0.

use std::{
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    thread,
    time::{Duration, Instant},
};

use crate::{
    helpers::{
        Failures, Project, Response, Variant, all_projects, exchange, free_port, postgres,
        project_name, work_dir,
    },
    services::{Postgres, Redis, Service, binary},
};

/// What the API may take to answer while the database is down: the pool's acquire
/// timeout (`DATABASE_ACQUIRE_TIMEOUT_SECS`, 5 s by default) and a second of slack.
const API_BUDGET: Duration = Duration::from_secs(6);
/// Readiness must answer within an orchestrator's default probe timeout.
const PROBE_BUDGET: Duration = Duration::from_secs(1);
/// SIGTERM trials of a variant other than the default and the maximal one.
const OTHER_VARIANTS_TRIALS: usize = 3;

/// Clients of the SIGTERM trials.
const LOAD_CLIENTS: usize = 16;

/// Times `request`; its outcome and how long it took.
fn timed<T>(request: impl FnOnce() -> T) -> (T, Duration) {
    let started = Instant::now();
    let outcome = request();
    (outcome, started.elapsed())
}

fn millis(duration: Duration) -> String {
    format!("{:.0} ms", duration.as_secs_f64() * 1000.0)
}

fn p99(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples
        .get(samples.len() * 99 / 100)
        .or(samples.last())
        .copied()
        .unwrap_or_default()
}

/// Where each scenario keeps its logs and SQLite files.
fn scratch(scenario: &str, variant: &Variant) -> PathBuf {
    let dir = work_dir().join("faults").join(scenario).join(variant.id());
    std::fs::remove_dir_all(&dir).ok();
    std::fs::create_dir_all(&dir).expect("scratch directory");
    dir
}

/// A database of the variant's own: a file for SQLite, a new database on `postgres`.
fn database_url(
    variant: &Variant,
    postgres: Option<&Postgres>,
    dir: &Path,
    name: &str,
) -> Result<String, String> {
    match postgres {
        Some(postgres) if variant.is("database", "postgres") => postgres.database(&format!(
            "{}_{name}",
            project_name(variant).replace('-', "_")
        )),
        _ => Ok(format!("sqlite:{}/{name}.db", dir.display())),
    }
}

/// Prints a table of what each variant measured, then fails with every failure.
fn report(title: &str, header: &str, rows: Vec<String>, failures: Failures) {
    println!("\n{title}\n{header}\n{}", rows.join("\n"));
    failures.assert_none(title);
}

#[test]
fn an_unreachable_dependency_at_start_is_named_or_survived() {
    let mut failures = Failures::default();
    let mut rows = Vec::new();
    for project in all_projects() {
        let v = project.variant;
        match unreachable_at_start(&project) {
            Ok(row) => rows.push(format!("{v} | {row}")),
            Err(error) => {
                rows.push(format!("{v} | FAILED"));
                failures.add(&v, error);
            }
        }
    }
    report(
        "dependencies unreachable at start",
        "variant | serve with no database | with optional dependencies unreachable",
        rows,
        failures,
    );
}

fn unreachable_at_start(project: &Project) -> Result<String, String> {
    let v = project.variant;
    let binary = binary(project)?;
    let dir = scratch("start", &v);
    let closed = free_port();
    let (database_url, named) = if v.is("database", "postgres") {
        (
            format!("postgres://app:pw-never-printed@127.0.0.1:{closed}/app"),
            format!("127.0.0.1:{closed}/app"),
        )
    } else {
        // A path no process can create.
        (
            "sqlite:/proc/no-such-dir/app.db".to_owned(),
            "/proc/no-such-dir".to_owned(),
        )
    };
    let mut service = Service::spawn(
        &binary,
        &[("DATABASE_URL", database_url)],
        &dir.join("no-database.log"),
    )?;
    let (status, took) = timed(|| service.exit_within(Duration::from_secs(10)));
    let status = status?;
    let log = service.log();
    if status.success() {
        return Err(format!("serve exited 0 without a database:\n{log}"));
    }
    if !log.contains(&named)
        || (v.is("database", "postgres") && !log.to_lowercase().contains("refused"))
    {
        return Err(format!(
            "the start-up error does not name {named} and the cause:\n{log}"
        ));
    }
    if log.contains("pw-never-printed") {
        return Err(format!("the start-up error printed the password:\n{log}"));
    }
    if took > Duration::from_secs(3) {
        return Err(format!(
            "serve took {took:?} to give up on a refused connection"
        ));
    }
    let unreachable = format!("127.0.0.1:{}", free_port());
    let mut env = vec![("DATABASE_URL", database_url_for_start(&v, &dir)?)];
    if v.on("redis") {
        env.push(("REDIS_URL", format!("redis://{unreachable}")));
    }
    if v.on("sentry") {
        env.push(("SENTRY_DSN", format!("http://public@{unreachable}/1")));
    }
    if v.on("otel") {
        env.push((
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            format!("http://{unreachable}"),
        ));
    }
    let service = Service::start(&binary, &env, &dir.join("optional-unreachable.log"))?;
    let mut slowest = Duration::ZERO;
    let id = service.create_item("despite-outages")?;
    for path in [
        format!("/api/v1/items/{id}"),
        format!("/api/v1/items/{id}"),
        "/health/ready".to_owned(),
    ] {
        let (response, took) = timed(|| service.get(&path));
        let response = response?;
        if response.status != 200 {
            return Err(format!(
                "GET {path} with optional dependencies unreachable: expected 200, saw {} {}",
                response.status, response.body
            ));
        }
        slowest = slowest.max(took);
    }
    if slowest > Duration::from_secs(1) {
        return Err(format!(
            "a request took {slowest:?} with optional dependencies unreachable"
        ));
    }
    Ok(format!(
        "exit {} in {} naming {named} | 200s, slowest {}",
        status.code().unwrap_or(-1),
        millis(took),
        millis(slowest)
    ))
}

/// The SQLite variants' file, or the Postgres variants' database on the shared server.
fn database_url_for_start(variant: &Variant, dir: &Path) -> Result<String, String> {
    if !variant.is("database", "postgres") {
        return Ok(format!("sqlite:{}/app.db", dir.display()));
    }
    let name = format!("faults_start_{}", project_name(variant).replace('-', "_"));
    let admin = std::env::var("DATABASE_URL")
        .map_err(|_| "DATABASE_URL names no Postgres server".to_owned())?;
    postgres::fresh_database(&admin, &name, None)
}

#[test]
fn a_postgres_outage_answers_503_and_recovers_without_a_restart() {
    let variants: Vec<Project> = all_projects()
        .into_iter()
        .filter(|p| p.variant.is("database", "postgres"))
        .collect();
    if variants.is_empty() {
        return println!("skipped: VARIANTS selects no Postgres variant");
    }
    let postgres = Postgres::start().expect("a Postgres server of the tier's own");
    let mut failures = Failures::default();
    let mut rows = Vec::new();
    for project in variants {
        let v = project.variant;
        match postgres_outage(&project, &postgres) {
            Ok(row) => rows.push(format!("{v} | {row}")),
            Err(error) => {
                rows.push(format!("{v} | FAILED"));
                failures.add(&v, error);
            }
        }
        // The next variant needs the server up, whatever happened to this one.
        postgres.resume().ok();
    }
    report(
        "Postgres stopped and started",
        "variant | /health/ready while down | API while down | back to ready",
        rows,
        failures,
    );
}

fn postgres_outage(project: &Project, postgres: &Postgres) -> Result<String, String> {
    let v = project.variant;
    let binary = binary(project)?;
    let dir = scratch("postgres", &v);
    let mut env = vec![(
        "DATABASE_URL",
        database_url(&v, Some(postgres), &dir, "outage")?,
    )];
    // Redis of its own, so that the cache answers while the database does not.
    let redis = if v.on("redis") {
        Some(Redis::start()?)
    } else {
        None
    };
    if let Some(redis) = &redis {
        env.push(("REDIS_URL", redis.url()));
    }
    let mut service = Service::start(&binary, &env, &dir.join("service.log"))?;
    service.create_item("before")?;

    postgres.halt()?;
    let (live, _) = timed(|| service.get("/health"));
    if live?.status != 200 {
        return Err(
            "/health is not 200 while the database is down: liveness must not depend on it".into(),
        );
    }
    let (ready, ready_took) = timed(|| service.get("/health/ready"));
    let ready = ready?;
    if ready.status != 503 || !ready.body.contains("database") || ready_took > PROBE_BUDGET {
        return Err(format!(
            "/health/ready while the database is down: expected 503 naming it within {PROBE_BUDGET:?}, saw {} {} in {ready_took:?}",
            ready.status, ready.body
        ));
    }
    let mut api_slowest = Duration::ZERO;
    for (what, request) in [
        (
            "GET /api/v1/items",
            Box::new(|| service.get("/api/v1/items")) as Box<dyn Fn() -> Result<Response, String>>,
        ),
        (
            "POST /api/v1/items",
            Box::new(|| service.post_item("during")),
        ),
    ] {
        let (response, took) = timed(request);
        let response = response?;
        let problem = response.header("content-type") == Some("application/problem+json");
        if response.status != 503
            || !problem
            || response.header("retry-after").is_none()
            || took > API_BUDGET
        {
            return Err(format!(
                "{what} while the database is down: expected 503 problem+json with Retry-After within {API_BUDGET:?}, saw {} in {took:?}:\n{}\n\n{}",
                response.status, response.head, response.body
            ));
        }
        api_slowest = api_slowest.max(took);
    }

    postgres.resume()?;
    let back = Instant::now();
    loop {
        if matches!(service.get("/health/ready"), Ok(response) if response.status == 200) {
            break;
        }
        if back.elapsed() > Duration::from_secs(15) {
            return Err(format!(
                "not ready 15 s after the database came back:\n{}",
                service.log()
            ));
        }
        thread::sleep(Duration::from_millis(100));
    }
    let recovered = back.elapsed();
    service.create_item("after")?;
    let listed = service.get("/api/v1/items")?;
    if listed.status != 200 || !listed.body.contains("before") || !listed.body.contains("after") {
        return Err(format!(
            "after the outage, the items are not all there: {} {}",
            listed.status, listed.body
        ));
    }
    if !service.is_running() {
        return Err("the service restarted".into());
    }
    Ok(format!(
        "503 in {} | 503 + Retry-After in at most {} | {}",
        millis(ready_took),
        millis(api_slowest),
        millis(recovered)
    ))
}

#[test]
fn a_redis_outage_keeps_reads_fast_and_the_cache_returns() {
    let variants: Vec<Project> = all_projects()
        .into_iter()
        .filter(|p| p.variant.on("redis"))
        .collect();
    if variants.is_empty() {
        return println!("skipped: VARIANTS selects no Redis variant");
    }
    let postgres = if variants
        .iter()
        .any(|p| p.variant.is("database", "postgres"))
    {
        Some(Postgres::start().expect("a Postgres server of the tier's own"))
    } else {
        None
    };
    let mut failures = Failures::default();
    let mut rows = Vec::new();
    for project in variants {
        let v = project.variant;
        match redis_outage(&project, postgres.as_ref()) {
            Ok(row) => rows.push(format!("{v} | {row}")),
            Err(error) => {
                rows.push(format!("{v} | FAILED"));
                failures.add(&v, error);
            }
        }
    }
    report(
        "Redis stopped and started",
        "variant | read p99 with Redis up | while down | log lines per outage | cache used again after",
        rows,
        failures,
    );
}

/// How many item reads each phase of the Redis scenario times.
const READS: usize = 200;

fn redis_outage(project: &Project, postgres: Option<&Postgres>) -> Result<String, String> {
    let v = project.variant;
    let binary = binary(project)?;
    let dir = scratch("redis", &v);
    let mut redis = Redis::start()?;
    let prefix = format!("faults-{}", project_name(&v));
    let env = [
        ("DATABASE_URL", database_url(&v, postgres, &dir, "cache")?),
        ("REDIS_URL", redis.url()),
        ("CACHE_KEY_PREFIX", prefix.clone()),
    ];
    let service = Service::start(&binary, &env, &dir.join("service.log"))?;
    let path = format!("/api/v1/items/{}", service.create_item("cached")?);
    let reads = |what: &str| -> Result<Duration, String> {
        let mut samples = Vec::with_capacity(READS);
        for _ in 0..READS {
            let (response, took) = timed(|| service.get(&path));
            let response = response?;
            if response.status != 200 {
                return Err(format!(
                    "GET {path} {what}: expected 200, saw {} {}",
                    response.status, response.body
                ));
            }
            samples.push(took);
        }
        Ok(p99(samples))
    };
    let up = reads("with Redis up")?;

    redis.halt();
    let down = reads("with Redis down")?;
    let ready = service.get("/health/ready")?;
    if ready.status != 200 || !ready.body.contains("redis") {
        return Err(format!(
            "/health/ready with Redis down: expected 200 naming redis as degraded, saw {} {}",
            ready.status, ready.body
        ));
    }
    if down.saturating_sub(up) > Duration::from_millis(10) {
        return Err(format!(
            "reads with Redis down: p99 {down:?} against {up:?} with it up, more than 10 ms added"
        ));
    }
    let outage_lines = service
        .log()
        .lines()
        .filter(|line| line.contains("cache unavailable"))
        .count();
    if outage_lines != 1 {
        return Err(format!(
            "expected one `cache unavailable` line for the outage, saw {outage_lines}:\n{}",
            service.log()
        ));
    }

    redis.resume()?;
    let back = Instant::now();
    loop {
        let id = service.create_item(&format!("after-{}", back.elapsed().as_millis()))?;
        service.get(&format!("/api/v1/items/{id}"))?;
        if redis.cli(&["exists", &format!("{prefix}:item:{id}")]) == "1" {
            break;
        }
        if back.elapsed() > Duration::from_secs(15) {
            return Err(format!(
                "the cache was not used again 15 s after Redis came back:\n{}",
                service.log()
            ));
        }
        thread::sleep(Duration::from_millis(100));
    }
    Ok(format!(
        "{} | {} | {outage_lines} | {}",
        millis(up),
        millis(down),
        millis(back.elapsed())
    ))
}

#[test]
fn sigterm_under_load_loses_no_request() {
    let trials: usize = std::env::var("FAULT_TRIALS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10);
    // The drain is the same code in every variant; what differs is what each one starts
    // and stops. The extremes get every trial, the others a few.
    let trials_for = |variant: Variant| {
        if variant == Variant::default_choice() || variant == Variant::maximal() {
            trials
        } else {
            trials.min(OTHER_VARIANTS_TRIALS)
        }
    };
    let projects = all_projects();
    let postgres = if projects
        .iter()
        .any(|p| p.variant.is("database", "postgres"))
    {
        Some(Postgres::start().expect("a Postgres server of the tier's own"))
    } else {
        None
    };
    let mut failures = Failures::default();
    let mut rows = Vec::new();
    for project in projects {
        let v = project.variant;
        match stop_trials(&project, postgres.as_ref(), trials_for(v)) {
            Ok(row) => rows.push(format!("{v} | {} | {row}", trials_for(v))),
            Err(error) => {
                rows.push(format!("{v} | FAILED"));
                failures.add(&v, error);
            }
        }
    }
    report(
        &format!(
            "SIGTERM under load ({LOAD_CLIENTS} clients; {trials} trials for the default and maximal variants, at most {OTHER_VARIANTS_TRIALS} for the others)"
        ),
        "variant | trials | served | refused | lost | slowest exit after SIGTERM",
        rows,
        failures,
    );
}

/// What the clients of one trial saw: complete 200s, refused connections, and anything
/// else (a reset after the request was sent, an empty or partial answer, another status).
#[derive(Default)]
struct Outcomes {
    served: usize,
    refused: usize,
    lost: Vec<String>,
}

fn stop_trials(
    project: &Project,
    postgres: Option<&Postgres>,
    trials: usize,
) -> Result<String, String> {
    let v = project.variant;
    let binary = binary(project)?;
    let dir = scratch("sigterm", &v);
    let env = [("DATABASE_URL", database_url(&v, postgres, &dir, "sigterm")?)];
    let mut total = Outcomes::default();
    let mut slowest_exit = Duration::ZERO;
    for trial in 0..trials {
        let mut service = Service::start(&binary, &env, &dir.join(format!("trial-{trial}.log")))?;
        let outcomes = Arc::new(Mutex::new(Outcomes::default()));
        let deadline = Instant::now() + Duration::from_secs(30);
        let clients: Vec<_> = (0..LOAD_CLIENTS)
            .map(|_| {
                let (address, outcomes) = (service.address.clone(), Arc::clone(&outcomes));
                thread::spawn(move || {
                    while Instant::now() < deadline {
                        let result = exchange(&address, "GET", "/api/v1/items?limit=5", &[], "");
                        let mut outcomes = outcomes.lock().expect("outcomes");
                        match result {
                            Ok(response) if response.status == 200 => outcomes.served += 1,
                            Ok(response) => outcomes
                                .lost
                                .push(format!("{} {}", response.status, response.body)),
                            // Refused: the port is closed, and the client knows nothing was sent.
                            Err(error) if error.starts_with("connect") => {
                                outcomes.refused += 1;
                                return;
                            }
                            Err(error) => outcomes.lost.push(error),
                        }
                    }
                })
            })
            .collect();
        thread::sleep(Duration::from_millis(300));
        service.terminate();
        let (status, took) = timed(|| service.exit_within(Duration::from_secs(30)));
        let status = status?;
        for client in clients {
            client
                .join()
                .map_err(|_| "a load client panicked".to_owned())?;
        }
        if !status.success() {
            return Err(format!(
                "trial {trial}: exit {status} on SIGTERM:\n{}",
                service.log()
            ));
        }
        slowest_exit = slowest_exit.max(took);
        let outcomes = std::mem::take(&mut *outcomes.lock().expect("outcomes"));
        total.served += outcomes.served;
        total.refused += outcomes.refused;
        total.lost.extend(
            outcomes
                .lost
                .into_iter()
                .map(|lost| format!("trial {trial}: {lost}")),
        );
    }
    if !total.lost.is_empty() {
        return Err(format!(
            "{} request(s) lost over {trials} trials: {:?}",
            total.lost.len(),
            &total.lost[..total.lost.len().min(5)]
        ));
    }
    if total.served == 0 {
        return Err("no request was served".into());
    }
    Ok(format!(
        "{} | {} | 0 | {}",
        total.served,
        total.refused,
        millis(slowest_exit)
    ))
}
