//! What every handler shares.

use std::{future::Future, time::Duration};

{% if redis -%}
use crate::cache::{Cache, CachedItems};
{% endif -%}
use crate::db::{self, DbPool};
use crate::items::Items;

/// Where handlers read and write items{% if redis %}: Redis in front of the database{% endif %}.
{%- if redis %}
pub type ItemStore = CachedItems;
{%- else %}
pub type ItemStore = Items;
{%- endif %}

#[derive(Clone)]
pub struct AppState {
    pub db: DbPool,
{%- if redis %}
    pub cache: Cache,
{%- endif %}
    pub items: ItemStore,
}

impl AppState {
    pub fn new(db: DbPool{% if redis %}, cache: Cache{% endif %}) -> Self {
        let items = Items::new(db.clone());
{%- if redis %}
        let items = CachedItems::new(items, cache.clone());
{%- endif %}
        Self {
            db,
{%- if redis %}
            cache,
{%- endif %}
            items,
        }
    }

    /// Every backing service, probed at once, each within [`PROBE_TIMEOUT`].
    pub async fn check_dependencies(&self) -> Vec<Dependency> {
        let database = probe("database", Need::Required, db::ping(&self.db));
{%- if redis %}
        let redis = probe("redis", Need::Optional, self.cache.ping());
        let (database, redis) = tokio::join!(database, redis);
        vec![database, redis]
{%- else %}
        vec![database.await]
{%- endif %}
    }
}

/// How long readiness waits for one dependency: orchestrators give up on a probe after
/// 1 s by default, and a dependency this slow is not ready either.
const PROBE_TIMEOUT: Duration = Duration::from_millis(500);

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

async fn probe<E: Into<anyhow::Error>>(
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
