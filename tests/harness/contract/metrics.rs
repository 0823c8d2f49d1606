//! Each variant's metrics after known traffic, read by Prometheus's own Python client.

use super::start;
use crate::{
    helpers::{Project, all_projects},
    prometheus::Scrape,
    report::Table,
    services::{Postgres, Redis, Service},
};

/// Each series the traffic of `known_traffic` adds to, by method, route and status, and
/// by how much.
const EXPECTED: [(&str, &str, &str, f64); 5] = [
    ("POST", "/api/v1/items", "201", 1.0),
    ("GET", "/health", "200", 3.0),
    ("GET", "/api/v1/items/{id}", "200", 2.0),
    ("GET", "/api/v1/items/{id}", "404", 3.0),
    ("GET", "unmatched", "404", 3.0),
];

/// Series every scrape holds, whatever the traffic.
const ALWAYS: [&str; 10] = [
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
];

/// Known traffic against each variant's service, then its metrics port read by
/// Prometheus's Python client: exact counts per method, route and status, the latency
/// histogram counting each request once, and no label value made from a raw path.
#[test]
fn the_metrics_count_known_traffic_exactly_in_every_variant() {
    let postgres = Postgres::start().expect("a Postgres server of the tier's own");
    let redis = Redis::start().expect("a Redis server of the tier's own");
    let mut table = Table::new(
        "metrics after known traffic",
        "variant | series in the scrape",
    );
    for project in all_projects() {
        let outcome = count_known_traffic(&project, &postgres, &redis)
            .map(|series| format!("metrics exact; {series} series in the scrape"));
        table.outcome(&project.variant, outcome);
    }
    table.finish("metrics");
}

fn count_known_traffic(
    project: &Project,
    postgres: &Postgres,
    redis: &Redis,
) -> Result<usize, String> {
    let service = start(project, postgres, redis, "metrics")?;
    let before = Scrape::of(&service.metrics_address)?;
    known_traffic(&service)?;
    let after = Scrape::of(&service.metrics_address)?;

    let mut problems = request_counts(&before, &after);
    if project.variant.on("redis") {
        // The item's first read misses and its second hits; each of the three absent ids misses.
        for (series, count) in [("cache_misses_total", 4.0), ("cache_hits_total", 1.0)] {
            let increase = after.value(series, &[]) - before.value(series, &[]);
            if increase != count {
                problems.push(format!("{series}: expected +{count}, saw +{increase}"));
            }
        }
    }
    for series in ALWAYS {
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

/// The requests `EXPECTED` counts: an item created, read twice, three absent ids, two
/// unknown paths and `/metrics` on the API port, which is not there.
fn known_traffic(service: &Service) -> Result<(), String> {
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
    expect("/metrics", 404)
}

/// What is wrong with the request counter and histogram between two scrapes: a count
/// other than `EXPECTED`, or a route label made from a raw path.
fn request_counts(before: &Scrape, after: &Scrape) -> Vec<String> {
    let mut problems = Vec::new();
    for (method, route, status, count) in EXPECTED {
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
    problems
}
