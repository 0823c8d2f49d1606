//! What every handler shares.

use std::{future::Future, time::Duration};

{% if redis -%}
use crate::cache::Cache;
use crate::items::CachedItems;
{% endif -%}
use crate::config::Config;
use crate::db::{self, DbPool};
use crate::items::Items;

#[derive(Clone)]
pub struct AppState {
    pub db: DbPool,
    pub items: ItemStore,
}

impl AppState {
    pub fn new(config: &Config, db: DbPool) -> anyhow::Result<Self> {
        let items = item_store(config, Items::new(db.clone()))?;
        Ok(Self { db, items })
    }

    /// Every backing service, probed at once, each within [`PROBE_TIMEOUT`].
    pub async fn check_dependencies(&self) -> Vec<Dependency> {
        let database = probe("database", Need::Required, db::ping(&self.db));
        let (database, item_store) = tokio::join!(database, check_item_store(&self.items));
        std::iter::once(database).chain(item_store).collect()
    }
}
{%- if redis %}

/// Where handlers read and write items: Redis in front of the database.
pub type ItemStore = CachedItems;

fn item_store(config: &Config, items: Items) -> anyhow::Result<ItemStore> {
    Ok(CachedItems::new(items, Cache::connect(&config.redis)?))
}

/// Redis only speeds reads up: without it the service is ready, degraded.
async fn check_item_store(items: &ItemStore) -> Option<Dependency> {
    Some(probe("redis", Need::Optional, items.cache().ping()).await)
}
{%- else %}

/// Where handlers read and write items: the database alone.
pub type ItemStore = Items;

fn item_store(_config: &Config, items: Items) -> anyhow::Result<ItemStore> {
    Ok(items)
}

/// The items live in the database, probed already.
async fn check_item_store(_items: &ItemStore) -> Option<Dependency> {
    None
}
{%- endif %}

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
