//! What every handler shares.

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

    /// Each backing service readiness depends on, with the outcome of a round trip to it.
    pub async fn check_dependencies(&self) -> Vec<(&'static str, anyhow::Result<()>)> {
        vec![
            ("database", db::ping(&self.db).await.map_err(Into::into)),
{%- if redis %}
            ("redis", self.cache.ping().await.map_err(Into::into)),
{%- endif %}
        ]
    }
}
