//! Prometheus metrics. Any module records through the `metrics` facade (`counter!`,
//! `histogram!`); this one installs the recorder, samples what is read rather than
//! counted (the database pool, the process), and serves the text format on
//! `METRICS_PORT`: a port of its own, so neither the public port nor the proxy in
//! front of it ever exposes the metrics.

mod http;

use std::{
    sync::{Arc, OnceLock},
    time::Duration,
};

use axum::{Router, extract::State, http::header, response::IntoResponse, routing::get};
use metrics::{Unit, counter, describe_counter, describe_gauge, describe_histogram, gauge};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use metrics_process::Collector;

pub use http::track_requests;

use crate::{db::DbPool, error::AppError, telemetry};

/// Upper bounds of the latency histograms' buckets, in seconds: from a cached read to
/// the default request timeout.
const LATENCY_BUCKETS: &[f64] = &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

/// How often recorded latencies are folded into their buckets between scrapes, so that
/// they do not pile up in memory while nothing scrapes.
const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

/// The revision the binary was built from, given by the image build (`GIT_REVISION`).
const REVISION: &str = match option_env!("GIT_REVISION") {
    Some(revision) => revision,
    None => "unknown",
};

/// The process's recorder. The `metrics` facade holds one for the whole process, so it
/// is installed on first use and shared by every application built after.
pub fn recorder() -> anyhow::Result<PrometheusHandle> {
    static RECORDER: OnceLock<Result<PrometheusHandle, String>> = OnceLock::new();
    RECORDER
        .get_or_init(|| install().map_err(|error| format!("could not install the metrics recorder: {error}")))
        .clone()
        .map_err(anyhow::Error::msg)
}

fn install() -> Result<PrometheusHandle, metrics_exporter_prometheus::BuildError> {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_duration_seconds".into()), LATENCY_BUCKETS)?
        .install_recorder()?;
    http::describe();
    describe_gauge!("db_pool_connections", "Connections the database pool holds, idle or in use.");
    describe_gauge!("db_pool_idle_connections", "Connections the database pool holds unused.");
    describe_gauge!("db_pool_max_connections", "Most connections the database pool opens (DATABASE_MAX_CONNECTIONS).");
    describe_histogram!(
        "db_pool_acquire_duration_seconds",
        Unit::Seconds,
        "Time a query waited for a database connection from the pool."
    );
    describe_counter!("log_lines_dropped_total", "Log lines dropped because stdout took them slower than they came.");
    describe_gauge!("build_info", "Always 1, labelled with the version and git revision of the running binary.");
    gauge!("build_info", "version" => env!("CARGO_PKG_VERSION"), "revision" => REVISION).set(1.0);
    Collector::default().describe();
    Ok(handle)
}

/// What a scrape reads besides the recorded series.
#[derive(Clone)]
struct Scrape {
    recorder: PrometheusHandle,
    db: DbPool,
    process: Arc<Collector>,
}

/// `GET /metrics` in the Prometheus text format; any other path answers 404.
pub fn router(recorder: PrometheusHandle, db: DbPool) -> Router {
    let scrape = Scrape {
        recorder,
        db,
        process: Arc::new(Collector::default()),
    };
    Router::new()
        .route("/metrics", get(render))
        .fallback(|| async { AppError::NotFound })
        .with_state(scrape)
}

async fn render(State(scrape): State<Scrape>) -> impl IntoResponse {
    let pool = &scrape.db;
    gauge!("db_pool_connections").set(pool.size());
    gauge!("db_pool_idle_connections").set(u32::try_from(pool.num_idle()).unwrap_or(u32::MAX));
    gauge!("db_pool_max_connections").set(pool.options().get_max_connections());
    counter!("log_lines_dropped_total").absolute(telemetry::dropped_log_lines());
    scrape.process.collect();
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        scrape.recorder.render(),
    )
}

/// Folds recorded latencies into their buckets every [`UPKEEP_INTERVAL`], for as long as
/// the returned task runs.
pub fn keep_up(recorder: PrometheusHandle) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(UPKEEP_INTERVAL);
        loop {
            ticks.tick().await;
            recorder.run_upkeep();
        }
    })
}
