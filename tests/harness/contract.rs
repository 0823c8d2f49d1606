//! The API contract, for every variant: the committed `openapi.json` is a valid OpenAPI
//! 3.1 document (openapi-spec-validator), and Schemathesis, run as the project's README
//! documents it (`st run <url>/api/openapi.json` in the project, which reads its
//! `schemathesis.toml`), finds nothing against the variant's service (the debug binary
//! the `build` tier compiled) on a Postgres and a Redis of this tier's own. Then a
//! headless Chromium opens the docs page, which must render every operation of the
//! document with no request to another origin and no Content-Security-Policy violation.

use std::{process::Command, time::Instant};

use crate::{
    helpers::{Failures, Project, all_projects, last_lines, project_name, run, succeeded, work_dir},
    services::{Postgres, Redis, Service, binary},
};

#[test]
fn schemathesis_finds_nothing_in_any_variant() {
    let projects = all_projects();
    let postgres = Postgres::start().expect("a Postgres server of the tier's own");
    let redis = Redis::start().expect("a Redis server of the tier's own");
    let mut failures = Failures::default();
    let mut rows = Vec::new();
    for project in projects {
        let v = project.variant;
        match fuzz(&project, &postgres, &redis) {
            Ok(row) => rows.push(format!("{v} | {row}")),
            Err(error) => {
                rows.push(format!("{v} | FAILED"));
                failures.add(&v, error);
            }
        }
    }
    println!("\nSchemathesis, every check; the docs page\nvariant | operations | test cases | seconds | docs page\n{}", rows.join("\n"));
    failures.assert_none("Schemathesis");
}

fn fuzz(project: &Project, postgres: &Postgres, redis: &Redis) -> Result<String, String> {
    let v = project.variant;
    let validated = run(Command::new("openapi-spec-validator").args(["--schema", "3.1"]).arg(project.path("openapi.json")));
    succeeded(&validated, "openapi-spec-validator openapi.json")?;
    let binary = binary(project)?;
    let dir = work_dir().join("contract").join(v.id());
    std::fs::remove_dir_all(&dir).ok();
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let database_url = if v.is("database", "postgres") {
        postgres.database(&format!("contract_{}", project_name(&v).replace('-', "_")))?
    } else {
        format!("sqlite:{}/contract.db", dir.display())
    };
    let mut env = vec![("DATABASE_URL", database_url)];
    if v.on("redis") {
        env.push(("REDIS_URL", redis.url()));
    }
    let service = Service::start(&binary, &env, &dir.join("service.log"))?;
    let started = Instant::now();
    let output = run(Command::new("st")
        .current_dir(&project.dir)
        .args(["run", &format!("http://{}/api/openapi.json", service.address)])
        .env("NO_COLOR", "1"));
    let seconds = started.elapsed().as_secs();
    let report = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() {
        return Err(format!("st run failed:\n{report}{}\nservice log, last lines:\n{}", String::from_utf8_lossy(&output.stderr), last_lines(&service.log(), 20)));
    }
    let server_errors = service.log().lines().filter(|line| line.contains("\"level\":\"ERROR\"")).count();
    if server_errors > 0 {
        return Err(format!("the service logged {server_errors} errors under the fuzzer:\n{}", last_lines(&service.log(), 20)));
    }
    let rendered = docs_page_renders(project, &service.address)?;
    Ok(format!("{} | {} | {seconds} | {rendered} operations shown", summary(&report, "Tested:"), summary(&report, " generated, ")))
}

/// Opens `/api/docs/` in headless Chromium, lets its scripts run, and checks that the
/// page shows each operation of `openapi.json` and that the browser reported no
/// Content-Security-Policy violation. The number of operations shown.
fn docs_page_renders(project: &Project, address: &str) -> Result<usize, String> {
    let document: serde_json::Value = serde_json::from_str(&project.read("openapi.json")).map_err(|e| e.to_string())?;
    let paths = document["paths"].as_object().ok_or("openapi.json has no paths")?;
    let expected: usize = paths.values().filter_map(|item| item.as_object()).map(|item| item.len()).sum();
    let output = run(Command::new("chromium")
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0"])
        .args(["--virtual-time-budget=10000", "--dump-dom"])
        // A host name that is not loopback, as on a real host: Swagger UI treats
        // localhost specially (it would skip its validator badge, for one).
        .arg(format!("--host-resolver-rules=MAP docs.example {}", address.split(':').next().unwrap_or_default()))
        .arg(format!("http://docs.example:{}/api/docs/", address.rsplit(':').next().unwrap_or_default())));
    let dom = succeeded(&output, "chromium --dump-dom /api/docs/")?;
    let console = String::from_utf8_lossy(&output.stderr);
    if let Some(violation) = console.lines().find(|line| line.contains("Content Security Policy") || line.contains("Refused to")) {
        return Err(format!("the docs page broke its Content-Security-Policy: {violation}"));
    }
    let shown = dom.matches("class=\"opblock-summary-path\"").count();
    let missing: Vec<&String> = paths.keys().filter(|path| !dom.contains(&format!("data-path=\"{path}\""))).collect();
    if shown != expected || !missing.is_empty() {
        return Err(format!("the docs page shows {shown} of {expected} operations; paths missing: {missing:?}"));
    }
    Ok(shown)
}

/// The line of Schemathesis's summary holding `marker`, trimmed.
fn summary(report: &str, marker: &str) -> String {
    report.lines().find(|line| line.contains(marker)).map(str::trim).unwrap_or("?").to_owned()
}
