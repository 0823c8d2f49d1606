//! Redis as a cache-aside in front of the database. Redis is an optimisation:
//! when it is down, reads and writes go to the database and a warning is logged.

use std::time::Duration;

use anyhow::Context;
use redis::{AsyncCommands, aio::ConnectionManager, aio::ConnectionManagerConfig};
use secrecy::ExposeSecret;
use serde::{Serialize, de::DeserializeOwned};

use crate::{
    config::RedisConfig,
    items::{Item, Items, NewItem},
};

/// Bounds every Redis round trip, so an unreachable Redis slows a request by at most this.
const REDIS_TIMEOUT: Duration = Duration::from_millis(500);

#[derive(Clone)]
pub struct Cache {
    connection: ConnectionManager,
    ttl_secs: u64,
    key_prefix: String,
}

impl Cache {
    /// Connects lazily: the service starts even while Redis is unreachable.
    pub fn connect(config: &RedisConfig) -> anyhow::Result<Self> {
        let client = redis::Client::open(config.redis_url.expose_secret())
            .context("REDIS_URL is not a valid Redis URL")?;
        let manager_config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(REDIS_TIMEOUT))
            .set_response_timeout(Some(REDIS_TIMEOUT))
            .set_number_of_retries(1);
        let connection = ConnectionManager::new_lazy_with_config(client, manager_config)
            .context("could not set up the Redis connection")?;
        Ok(Self {
            connection,
            ttl_secs: config.cache_ttl_secs,
            key_prefix: config.cache_key_prefix.clone(),
        })
    }

    pub async fn ping(&self) -> redis::RedisResult<()> {
        let mut connection = self.connection.clone();
        redis::cmd("PING").query_async::<String>(&mut connection).await.map(drop)
    }

    async fn get<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        let mut connection = self.connection.clone();
        match connection.get::<_, Option<String>>(key).await {
            Ok(value) => value.and_then(|json| serde_json::from_str(&json).ok()),
            Err(error) => {
                tracing::warn!(%error, key, "cache read failed; using the database");
                None
            }
        }
    }

    async fn put<T: Serialize>(&self, key: &str, value: &T) {
        let Ok(json) = serde_json::to_string(value) else { return };
        let mut connection = self.connection.clone();
        if let Err(error) = connection.set_ex::<_, _, ()>(key, json, self.ttl_secs).await {
            tracing::warn!(%error, key, "cache write failed");
        }
    }

    async fn forget(&self, key: &str) {
        let mut connection = self.connection.clone();
        if let Err(error) = connection.del::<_, ()>(key).await {
            tracing::warn!(%error, key, "cache invalidation failed");
        }
    }
}

/// [`Items`] with reads of one item served from Redis when cached.
#[derive(Clone)]
pub struct CachedItems {
    items: Items,
    cache: Cache,
}

impl CachedItems {
    pub fn new(items: Items, cache: Cache) -> Self {
        Self { items, cache }
    }

    fn key(&self, id: i64) -> String {
        format!("{}:item:{id}", self.cache.key_prefix)
    }

    pub async fn create(&self, item: NewItem) -> sqlx::Result<Item> {
        self.items.create(item).await
    }

    pub async fn list(&self, after: i64, limit: i64) -> sqlx::Result<Vec<Item>> {
        self.items.list(after, limit).await
    }

    pub async fn get(&self, id: i64) -> sqlx::Result<Option<Item>> {
        if let Some(item) = self.cache.get(&self.key(id)).await {
            return Ok(Some(item));
        }
        let item = self.items.get(id).await?;
        if let Some(item) = &item {
            self.cache.put(&self.key(id), item).await;
        }
        Ok(item)
    }

    pub async fn delete(&self, id: i64) -> sqlx::Result<bool> {
        let deleted = self.items.delete(id).await?;
        self.cache.forget(&self.key(id)).await;
        Ok(deleted)
    }
}
