//! The API contract, for every variant, against its service (the debug binary the
//! `build` tier compiled) on a Postgres and a Redis of this tier's own, its secrets
//! given as files. The checks:
//! - `schemathesis`: the committed `openapi.json` is a valid OpenAPI 3.1 document
//!   (openapi-spec-validator); Schemathesis, run as the project's README documents it
//!   (`API_TOKEN=<dev-token> st run <url>/api/openapi.json` in the project, which reads its
//!   `schemathesis.toml`), finds nothing; the service logs no error meanwhile.
//! - `docs_page`: while Schemathesis runs, headless Chromium opens `/api/docs/`, which
//!   must show every operation of the document, with no Content-Security-Policy
//!   violation.
//! - `metrics`: known traffic, then the metrics port read by Prometheus's Python client:
//!   exact counts per method, route and status, the latency histogram counting each
//!   request once, cache hits and misses (Redis variants), no label value made from a
//!   raw path, and every documented series present.

use crate::{
    helpers::Project,
    services::{Postgres, Redis, Service, binary, database_url, scratch},
};

mod docs_page;
mod metrics;
mod schemathesis;

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
    let dir = scratch(purpose, &v);
    let database_url = database_url(&v, Some(postgres), &dir, purpose)?;
    // The token secret too: every call Schemathesis makes carries a token `dev-token`
    // signed with it, read from the same file.
    let mut secrets = vec![
        ("DATABASE_URL_FILE", "database_url", database_url),
        (
            "AUTH_HMAC_SECRET_FILE",
            "auth_hmac_secret",
            "contract-tier-token-signing-secret".into(),
        ),
    ];
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
