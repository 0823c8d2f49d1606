//! Dependencies unreachable when `serve` starts: the database stops it at once with a
//! readable cause; Redis, Sentry and OTLP do not stop it.

use std::{path::Path, process::ExitStatus, time::Duration};

use super::{millis, scratch, timed};
use crate::{
    helpers::{Project, Variant, all_projects, free_port, postgres, project_name},
    report::Table,
    services::{Service, binary},
};

#[test]
fn an_unreachable_dependency_at_start_is_named_or_survived() {
    let mut table = Table::new(
        "dependencies unreachable at start",
        "variant | serve with no database | with optional dependencies unreachable",
    );
    for project in all_projects() {
        table.outcome(&project.variant, unreachable_at_start(&project));
    }
    table.finish("dependencies unreachable at start");
}

fn unreachable_at_start(project: &Project) -> Result<String, String> {
    let v = project.variant;
    let binary = binary(project)?;
    let dir = scratch("start", &v);
    let (status, took, named) = without_a_database(&v, &binary, &dir)?;
    let slowest = with_optional_dependencies_unreachable(&v, &binary, &dir)?;
    Ok(format!(
        "exit {} in {} naming {named} | 200s, slowest {}",
        status.code().unwrap_or(-1),
        millis(took),
        millis(slowest)
    ))
}

/// `serve` with a database it cannot reach: how it exited, how soon, and what it named.
fn without_a_database(
    v: &Variant,
    binary: &Path,
    dir: &Path,
) -> Result<(ExitStatus, Duration, String), String> {
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
        binary,
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
    Ok((status, took, named))
}

/// `serve` with Redis, Sentry and OTLP endpoints nobody listens on: the slowest of an
/// item's two reads and readiness, each of which must answer 200.
fn with_optional_dependencies_unreachable(
    v: &Variant,
    binary: &Path,
    dir: &Path,
) -> Result<Duration, String> {
    let unreachable = format!("127.0.0.1:{}", free_port());
    let mut env = vec![("DATABASE_URL", database_url_for_start(v, dir)?)];
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
    let service = Service::start(binary, &env, &dir.join("optional-unreachable.log"))?;
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
    Ok(slowest)
}

/// The SQLite variants' file, or the Postgres variants' database on the shared server.
fn database_url_for_start(variant: &Variant, dir: &Path) -> Result<String, String> {
    if !variant.is("database", "postgres") {
        return Ok(format!("sqlite:{}/app.db", dir.display()));
    }
    let name = format!("faults_start_{}", project_name(variant).replace('-', "_"));
    postgres::fresh_database(&postgres::admin_url(), &name, None)
}
