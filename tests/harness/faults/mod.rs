//! Fault scenarios, for every variant: its service (the debug binary the `build` tier
//! compiled) run against a Postgres and a Redis of this tier's own, which it stops and
//! starts under the running service. The checks, one test each:
//! - `start`: with the database unreachable, `serve` exits non-zero within 3 s, naming
//!   the database's address (and "refused" for Postgres) and never the password; with
//!   Redis, Sentry and OTLP endpoints unreachable it serves: an item created, read twice
//!   and readiness each answer 200 within a second.
//! - `outage` (Postgres): while the database is stopped, liveness stays 200, readiness
//!   says 503 naming the database within 1.5 s of the stop, each of its answers within
//!   250 ms; then `GET` and `POST /api/v1/items` answer 503 problem+json with
//!   `Retry-After` within 500 ms (the breaker, not the pool's 5 s acquire timeout);
//!   once it is back, readiness is 200 again within 15 s, items written before and
//!   after are listed, and the process never restarted.
//! - `outage` (Redis): while Redis is stopped, item reads stay 200 with under 10 ms of
//!   added p99 latency, readiness names Redis as degraded (200) within 1.5 s, the log has one
//!   `cache unavailable` line for the outage; once it is back, the cache is written
//!   again within 15 s.
//! - `drain`: SIGTERM under load from 16 clients on loopback, `FAULT_TRIALS` times
//!   (default 10) for the default and maximal variants and at most 3 times for the
//!   others: exit code 0 within 30 s, requests served, none lost (every answer a
//!   complete 200, or a refused connection).

use std::time::{Duration, Instant};

use crate::{
    helpers::{Project, Variant},
    services::{self, Postgres},
};

mod drain;
mod outage;
mod start;

/// Times `request`; its outcome and how long it took.
fn timed<T>(request: impl FnOnce() -> T) -> (T, Duration) {
    let started = Instant::now();
    let outcome = request();
    (outcome, started.elapsed())
}

fn millis(duration: Duration) -> String {
    format!("{:.0} ms", duration.as_secs_f64() * 1000.0)
}

/// Where `scenario` keeps a variant's logs and SQLite files.
fn scratch(scenario: &str, variant: &Variant) -> std::path::PathBuf {
    services::scratch(&format!("faults/{scenario}"), variant)
}

/// A Postgres server of the tier's own, when any of `projects` is a Postgres variant.
fn postgres_for(projects: &[Project]) -> Option<Postgres> {
    projects
        .iter()
        .any(|project| project.variant.is("database", "postgres"))
        .then(|| Postgres::start().expect("a Postgres server of the tier's own"))
}
