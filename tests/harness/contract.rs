//! The API contract, for every variant: the committed `openapi.json` is a valid OpenAPI
//! 3.1 document (openapi-spec-validator), and Schemathesis, run as the project's README
//! documents it (`st run <url>/api/openapi.json` in the project, which reads its
//! `schemathesis.toml`), finds nothing against the variant's service (the debug binary
//! the `build` tier compiled) on a Postgres and a Redis of this tier's own. Then a
//! headless Chromium opens the docs page, which must render every operation of the
//! document with no request to another origin and no Content-Security-Policy violation.

use std::{process::Command, time::Instant};

use crate::{
    helpers::{
        Failures, Project, all_projects, last_lines, project_name, run, succeeded, work_dir,
    },
    prometheus::Scrape,
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
    println!(
        "\nSchemathesis, every check; the docs page\nvariant | operations | test cases | seconds | docs page\n{}",
        rows.join("\n")
    );
    failures.assert_none("Schemathesis");
}

/// The variant's service on a database of its own, its secrets (the database and Redis
/// URLs) given as files through `NAME_FILE`, as Docker and Kubernetes secrets give them.
fn start(
    project: &Project,
    postgres: &Postgres,
    redis: &Redis,
    purpose: &str,
) -> Result<Service, String> {
    let v = project.variant;
    let binary = binary(project)?;
    let dir = work_dir().join(purpose).join(v.id());
    std::fs::remove_dir_all(&dir).ok();
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let database_url = if v.is("database", "postgres") {
        postgres.database(&format!("{purpose}_{}", project_name(&v).replace('-', "_")))?
    } else {
        format!("sqlite:{}/{purpose}.db", dir.display())
    };
    let mut secrets = vec![("DATABASE_URL_FILE", "database_url", database_url)];
    if v.on("redis") {
        secrets.push(("REDIS_URL_FILE", "redis_url", redis.url()));
    }
    let mut env = Vec::new();
    for (variable, file, secret) in secrets {
        let path = dir.join(file);
        std::fs::write(&path, format!("{secret}\n")).map_err(|e| e.to_string())?;
        env.push((variable, path.display().to_string()));
    }
    Service::start(&binary, &env, &dir.join("service.log"))
}

fn fuzz(project: &Project, postgres: &Postgres, redis: &Redis) -> Result<String, String> {
    let validated = run(Command::new("openapi-spec-validator")
        .args(["--schema", "3.1"])
        .arg(project.path("openapi.json")));
    succeeded(&validated, "openapi-spec-validator openapi.json")?;
    let service = start(project, postgres, redis, "contract")?;
    let started = Instant::now();
    let output = run(Command::new("st")
        .current_dir(&project.dir)
        .args([
            "run",
            &format!("http://{}/api/openapi.json", service.address),
        ])
        .env("NO_COLOR", "1"));
    let seconds = started.elapsed().as_secs();
    let report = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() {
        return Err(format!(
            "st run failed:\n{report}{}\nservice log, last lines:\n{}",
            String::from_utf8_lossy(&output.stderr),
            last_lines(&service.log(), 20)
        ));
    }
    let server_errors = service
        .log()
        .lines()
        .filter(|line| line.contains("\"level\":\"ERROR\""))
        .count();
    if server_errors > 0 {
        return Err(format!(
            "the service logged {server_errors} errors under the fuzzer:\n{}",
            last_lines(&service.log(), 20)
        ));
    }
    let rendered = docs_page_renders(project, &service.address)?;
    Ok(format!(
        "{} | {} | {seconds} | {rendered} operations shown",
        summary(&report, "Tested:"),
        summary(&report, " generated, ")
    ))
}

/// Known traffic against each variant's service, then its metrics port read by
/// Prometheus's Python client: exact counts per method, route and status, the latency
/// histogram counting each request once, and no label value made from a raw path.
#[test]
fn the_metrics_count_known_traffic_exactly_in_every_variant() {
    let postgres = Postgres::start().expect("a Postgres server of the tier's own");
    let redis = Redis::start().expect("a Redis server of the tier's own");
    let mut failures = Failures::default();
    for project in all_projects() {
        match count_known_traffic(&project, &postgres, &redis) {
            Ok(series) => println!(
                "{}: metrics exact; {series} series in the scrape",
                project.variant
            ),
            Err(error) => failures.add(&project.variant, error),
        }
    }
    failures.assert_none("metrics");
}

fn count_known_traffic(
    project: &Project,
    postgres: &Postgres,
    redis: &Redis,
) -> Result<usize, String> {
    let service = start(project, postgres, redis, "metrics")?;
    let before = Scrape::of(&service.metrics_address)?;
    let expect = |path: &str, status: u16| match service.get(path) {
        Ok(response) if response.status == status => Ok(()),
        Ok(response) => Err(format!(
            "GET {path}: expected {status}, saw {}",
            response.status
        )),
        Err(error) => Err(format!("GET {path}: {error}")),
    };
    let id = service.create_item("counted")?;
    for _ in 0..3 {
        expect("/health", 200)?;
    }
    for _ in 0..2 {
        expect(&format!("/api/v1/items/{id}"), 200)?;
    }
    for path in [
        "/api/v1/items/900000001",
        "/api/v1/items/900000002",
        "/api/v1/items/900000003",
    ] {
        expect(path, 404)?;
    }
    for path in ["/no/such/path", "/no/such/path/2"] {
        expect(path, 404)?;
    }
    expect("/metrics", 404)?;
    let after = Scrape::of(&service.metrics_address)?;

    let mut problems = Vec::new();
    let expected = [
        ("POST", "/api/v1/items", "201", 1.0),
        ("GET", "/health", "200", 3.0),
        ("GET", "/api/v1/items/{id}", "200", 2.0),
        ("GET", "/api/v1/items/{id}", "404", 3.0),
        ("GET", "unmatched", "404", 3.0),
    ];
    for (method, route, status, count) in expected {
        let labels = [("method", method), ("route", route), ("status", status)];
        let with_le = [labels[0], labels[1], labels[2], ("le", "+Inf")];
        for (series, labels) in [
            ("http_requests_total", &labels[..]),
            ("http_request_duration_seconds_count", &labels[..]),
            ("http_request_duration_seconds_bucket", &with_le[..]),
        ] {
            let increase = after.value(series, labels) - before.value(series, labels);
            if increase != count {
                problems.push(format!(
                    "{series}{labels:?}: expected +{count}, saw +{increase}"
                ));
            }
        }
    }
    let routes = after.label_values("http_requests_total", "route");
    if routes
        .iter()
        .any(|route| route.contains("no/such") || route.contains("900000"))
    {
        problems.push(format!("raw paths became route labels: {routes:?}"));
    }
    if project.variant.on("redis") {
        // The item's first read misses and its second hits; each of the three absent ids misses.
        for (series, count) in [("cache_misses_total", 4.0), ("cache_hits_total", 1.0)] {
            let increase = after.value(series, &[]) - before.value(series, &[]);
            if increase != count {
                problems.push(format!("{series}: expected +{count}, saw +{increase}"));
            }
        }
    }
    for series in [
        "build_info",
        "http_requests_in_flight",
        "db_pool_connections",
        "db_pool_idle_connections",
        "db_pool_max_connections",
        "db_pool_acquire_duration_seconds_count",
        "process_resident_memory_bytes",
        "process_cpu_seconds_total",
        "process_open_fds",
        "log_lines_dropped_total",
    ] {
        if !after.has(series) {
            problems.push(format!("{series} is missing from the scrape"));
        }
    }
    if problems.is_empty() {
        Ok(after.0.len())
    } else {
        Err(problems.join("\n"))
    }
}

/// Opens `/api/docs/` in headless Chromium, lets its scripts run, and checks that the
/// page shows each operation of `openapi.json` and that the browser reported no
/// Content-Security-Policy violation. The number of operations shown.
fn docs_page_renders(project: &Project, address: &str) -> Result<usize, String> {
    let document: serde_json::Value =
        serde_json::from_str(&project.read("openapi.json")).map_err(|e| e.to_string())?;
    let paths = document["paths"]
        .as_object()
        .ok_or("openapi.json has no paths")?;
    let expected: usize = paths
        .values()
        .filter_map(|item| item.as_object())
        .map(|item| item.len())
        .sum();
    let output = run(Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .args(["--virtual-time-budget=10000", "--dump-dom"])
        // A host name that is not loopback, as on a real host: Swagger UI treats
        // localhost specially (it would skip its validator badge, for one).
        .arg(format!(
            "--host-resolver-rules=MAP docs.example {}",
            address.split(':').next().unwrap_or_default()
        ))
        .arg(format!(
            "http://docs.example:{}/api/docs/",
            address.rsplit(':').next().unwrap_or_default()
        )));
    let dom = succeeded(&output, "chromium --dump-dom /api/docs/")?;
    let console = String::from_utf8_lossy(&output.stderr);
    if let Some(violation) = console
        .lines()
        .find(|line| line.contains("Content Security Policy") || line.contains("Refused to"))
    {
        return Err(format!(
            "the docs page broke its Content-Security-Policy: {violation}"
        ));
    }
    let shown = dom.matches("class=\"opblock-summary-path\"").count();
    let missing: Vec<&String> = paths
        .keys()
        .filter(|path| !dom.contains(&format!("data-path=\"{path}\"")))
        .collect();
    if shown != expected || !missing.is_empty() {
        return Err(format!(
            "the docs page shows {shown} of {expected} operations; paths missing: {missing:?}"
        ));
    }
    Ok(shown)
}

/// The line of Schemathesis's summary holding `marker`, trimmed.
fn summary(report: &str, marker: &str) -> String {
    report
        .lines()
        .find(|line| line.contains(marker))
        .map(str::trim)
        .unwrap_or("?")
        .to_owned()
}
