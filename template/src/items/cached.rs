//! [`Items`] with reads of one item served from the cache when it holds them.

use super::{Item, Items, NewItem};
use crate::cache::Cache;

#[derive(Clone)]
pub struct CachedItems {
    items: Items,
    cache: Cache,
}

impl CachedItems {
    pub fn new(items: Items, cache: Cache) -> Self {
        Self { items, cache }
    }

    pub fn cache(&self) -> &Cache {
        &self.cache
    }

    pub async fn create(&self, item: NewItem) -> sqlx::Result<Item> {
        self.items.create(item).await
    }

    /// Pages are not cached: any write would make every later page stale.
    pub async fn list(&self, after: i64, limit: i64) -> sqlx::Result<Vec<Item>> {
        self.items.list(after, limit).await
    }

    pub async fn get(&self, id: i64) -> sqlx::Result<Option<Item>> {
        self.cache.get_or_load(&key(id), self.items.get(id)).await
    }

    pub async fn delete(&self, id: i64) -> sqlx::Result<bool> {
        let deleted = self.items.delete(id).await?;
        self.cache.forget(&key(id)).await;
        Ok(deleted)
    }
}

fn key(id: i64) -> String {
    format!("item:{id}")
}
