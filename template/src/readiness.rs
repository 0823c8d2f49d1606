//! What readiness answers, kept current in the background: every dependency is probed
//! every [`CHECK_INTERVAL`] (every [`RECHECK_INTERVAL`] while a required one is down), so
//! a probe request costs no round trip and a flood of them reaches no dependency. The
//! same check opens and closes the database's [`Breaker`](crate::db::Breaker).

use std::{
    future::Future,
    sync::{Arc, RwLock},
    time::Duration,
};

use crate::state::AppState;

/// The name readiness gives the database.
pub const DATABASE: &str = "database";

/// How long one dependency may take to answer: orchestrators give up on a probe after
/// 1 s by default, and a dependency this slow is not ready either.
const PROBE_TIMEOUT: Duration = Duration::from_millis(500);
/// How often the dependencies are probed while every required one is up.
const CHECK_INTERVAL: Duration = Duration::from_millis(500);
/// How often while a required one is down: how soon its return is noticed.
const RECHECK_INTERVAL: Duration = Duration::from_millis(100);

/// Whether the service can answer without a dependency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Nothing works without it: the service is not ready.
    Required,
    /// Only an optimisation (a cache): the service is ready, degraded.
    Optional,
}

/// One backing service and the outcome of a round trip to it.
pub struct Dependency {
    pub name: &'static str,
    pub need: Need,
    pub outcome: anyhow::Result<()>,
}

/// A round trip to one dependency, within [`PROBE_TIMEOUT`].
pub async fn probe<E: Into<anyhow::Error>>(
    name: &'static str,
    need: Need,
    round_trip: impl Future<Output = Result<(), E>>,
) -> Dependency {
    let outcome = match tokio::time::timeout(PROBE_TIMEOUT, round_trip).await {
        Ok(outcome) => outcome.map_err(Into::into),
        Err(_) => Err(anyhow::anyhow!("no answer within {PROBE_TIMEOUT:?}")),
    };
    Dependency { name, need, outcome }
}

/// The dependencies that failed the last check, each with whether it is required.
#[derive(Clone, Default)]
pub struct Readiness {
    failing: Arc<RwLock<Vec<(&'static str, Need)>>>,
}

impl Readiness {
    pub fn failing(&self) -> Vec<(&'static str, Need)> {
        self.failing.read().map(|failing| failing.clone()).unwrap_or_default()
    }

    /// Probes every dependency once, records the outcome, and logs what changed.
    pub async fn check(&self, state: &AppState) {
        let dependencies = state.check_dependencies().await;
        let database_down = dependencies.iter().any(|dependency| dependency.name == DATABASE && dependency.outcome.is_err());
        state.breaker.set_open(database_down);
        let was_failing = self.failing();
        let mut failing = Vec::new();
        for Dependency { name, need, outcome } in dependencies {
            let failed_before = was_failing.iter().any(|(failed, _)| *failed == name);
            match outcome {
                Err(error) => {
                    if !failed_before {
                        tracing::warn!(dependency = name, %error, "dependency unavailable; readiness reports it until it answers");
                    }
                    failing.push((name, need));
                }
                Ok(()) if failed_before => tracing::info!(dependency = name, "dependency available again"),
                Ok(()) => {}
            }
        }
        if let Ok(mut latest) = self.failing.write() {
            *latest = failing;
        }
    }

    /// Checks until the task is aborted: at once when a request found the database down.
    pub async fn keep_checking(self, state: AppState) {
        loop {
            let interval = if self.failing().iter().any(|(_, need)| *need == Need::Required) { RECHECK_INTERVAL } else { CHECK_INTERVAL };
            tokio::select! {
                () = tokio::time::sleep(interval) => {}
                () = state.breaker.tripped() => {}
            }
            self.check(&state).await;
        }
    }
}
