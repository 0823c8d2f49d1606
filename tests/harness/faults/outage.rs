//! Postgres and Redis stopped and started under a running service: what it answers
//! while each is down, and that it recovers without a restart.

use std::time::{Duration, Instant};

use super::{millis, postgres_for, scratch, timed};
use crate::{
    helpers::{Project, Response, all_projects, project_name},
    report::Table,
    services::{Postgres, Redis, Service, binary, database_url, poll},
};

/// How soon readiness must report a stopped database: its background check runs every
/// 500 ms, and a probe gets 500 ms.
const NOTICE_BUDGET: Duration = Duration::from_millis(1500);
/// What one readiness answer may take: it reads the background check's outcome.
const PROBE_BUDGET: Duration = Duration::from_millis(250);
/// What the API may take to refuse once readiness reports the database down: the
/// breaker answers at once, where each request used to wait the pool's acquire timeout
/// (`DATABASE_ACQUIRE_TIMEOUT_SECS`, 5 s by default).
const API_BUDGET: Duration = Duration::from_millis(500);
/// How long a dependency that came back may take to be used again.
const RECOVERY: Duration = Duration::from_secs(15);
/// How many item reads each phase of the Redis scenario times.
const READS: usize = 200;

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
    let mut table = Table::new(
        "Postgres stopped and started",
        "variant | /health/ready while down | API while down | back to ready",
    );
    for project in variants {
        table.outcome(&project.variant, postgres_outage(&project, &postgres));
        // The next variant needs the server up, whatever happened to this one.
        postgres.resume().ok();
    }
    table.finish("Postgres stopped and started");
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
    let (noticed, ready_took, api_slowest) = while_the_database_is_down(&service)?;
    postgres.resume()?;
    let recovered = back_without_a_restart(&mut service)?;
    Ok(format!(
        "503 {} after the stop, each in {} | 503 + Retry-After in at most {} | {}",
        millis(noticed),
        millis(ready_took),
        millis(api_slowest),
        millis(recovered)
    ))
}

/// Liveness, readiness and the API while the database is stopped: how soon readiness
/// said so, its slowest answer, and the slowest API answer.
fn while_the_database_is_down(service: &Service) -> Result<(Duration, Duration, Duration), String> {
    let stopped = Instant::now();
    let (live, _) = timed(|| service.get("/health"));
    if live?.status != 200 {
        return Err(
            "/health is not 200 while the database is down: liveness must not depend on it".into(),
        );
    }
    let mut ready_slowest = Duration::ZERO;
    let mut last = String::new();
    let noticed = poll(NOTICE_BUDGET, Duration::from_millis(20), || {
        let (ready, took) = timed(|| service.get("/health/ready"));
        let ready = ready?;
        ready_slowest = ready_slowest.max(took);
        last = format!("{} {}", ready.status, ready.body);
        Ok(ready.status == 503 && ready.body.contains("database"))
    })?;
    let noticed_after = stopped.elapsed();
    if !noticed || ready_slowest > PROBE_BUDGET {
        return Err(format!(
            "/health/ready while the database is down: expected 503 naming it within {NOTICE_BUDGET:?}, each answer within {PROBE_BUDGET:?}; saw `{last}` after {noticed_after:?}, the slowest answer in {ready_slowest:?}"
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
    Ok((noticed_after, ready_slowest, api_slowest))
}

/// Once the database is back: ready again, every item there, the same process; how long
/// readiness took to come back.
fn back_without_a_restart(service: &mut Service) -> Result<Duration, String> {
    let back = Instant::now();
    let ready =
        || Ok(matches!(service.get("/health/ready"), Ok(response) if response.status == 200));
    if !poll(RECOVERY, Duration::from_millis(100), ready)? {
        return Err(format!(
            "not ready 15 s after the database came back:\n{}",
            service.log()
        ));
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
    Ok(recovered)
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
    let postgres = postgres_for(&variants);
    let mut table = Table::new(
        "Redis stopped and started",
        "variant | read p99 with Redis up | while down | log lines per outage | cache used again after",
    );
    for project in variants {
        table.outcome(&project.variant, redis_outage(&project, postgres.as_ref()));
    }
    table.finish("Redis stopped and started");
}

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
    let up = read_p99(&service, &path, "with Redis up")?;

    redis.halt();
    let down = read_p99(&service, &path, "with Redis down")?;
    let outage_lines = while_redis_is_down(&service, up, down)?;

    redis.resume()?;
    let back = Instant::now();
    let cached_again = || {
        let id = service.create_item(&format!("after-{}", back.elapsed().as_millis()))?;
        service.get(&format!("/api/v1/items/{id}"))?;
        Ok(redis.cli(&["exists", &format!("{prefix}:item:{id}")]) == "1")
    };
    if !poll(RECOVERY, Duration::from_millis(100), cached_again)? {
        return Err(format!(
            "the cache was not used again 15 s after Redis came back:\n{}",
            service.log()
        ));
    }
    Ok(format!(
        "{} | {} | {outage_lines} | {}",
        millis(up),
        millis(down),
        millis(back.elapsed())
    ))
}

/// The p99 latency of `READS` reads of `path`, each of which must answer 200.
fn read_p99(service: &Service, path: &str, what: &str) -> Result<Duration, String> {
    let mut samples = Vec::with_capacity(READS);
    for _ in 0..READS {
        let (response, took) = timed(|| service.get(path));
        let response = response?;
        if response.status != 200 {
            return Err(format!(
                "GET {path} {what}: expected 200, saw {} {}",
                response.status, response.body
            ));
        }
        samples.push(took);
    }
    samples.sort();
    Ok(samples
        .get(samples.len() * 99 / 100)
        .or(samples.last())
        .copied()
        .unwrap_or_default())
}

/// Readiness, latency and the log while Redis is stopped: the outage's log lines.
fn while_redis_is_down(service: &Service, up: Duration, down: Duration) -> Result<usize, String> {
    let mut last = String::new();
    let degraded = poll(NOTICE_BUDGET, Duration::from_millis(20), || {
        let ready = service.get("/health/ready")?;
        last = format!("{} {}", ready.status, ready.body);
        Ok(ready.status == 200 && ready.body.contains("redis"))
    })?;
    if !degraded {
        return Err(format!(
            "/health/ready with Redis down: expected 200 naming redis as degraded within {NOTICE_BUDGET:?}, saw {last}"
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
    Ok(outage_lines)
}
