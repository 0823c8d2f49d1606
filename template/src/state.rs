//! What every handler shares.

{% if redis -%}
use crate::cache::Cache;
use crate::items::CachedItems;
{% endif -%}
use crate::config::Config;
use crate::db::{self, Breaker, DbPool};
use crate::items::Items;
use crate::readiness::{DATABASE, Dependency, Need, Readiness, probe};

#[derive(Clone)]
pub struct AppState {
    pub db: DbPool,
    pub breaker: Breaker,
    pub items: ItemStore,
    pub readiness: Readiness,
}

impl AppState {
    pub fn new(config: &Config, db: DbPool) -> anyhow::Result<Self> {
        let breaker = Breaker::default();
        let items = item_store(config, Items::new(db.clone(), breaker.clone()))?;
        Ok(Self { db, breaker, items, readiness: Readiness::default() })
    }

    /// Every backing service, probed at once, each within the probe timeout; the
    /// database straight through its pool, whatever its breaker says.
    pub async fn check_dependencies(&self) -> Vec<Dependency> {
        let database = probe(DATABASE, Need::Required, db::ping(&self.db));
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
