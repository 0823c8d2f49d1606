//! Redis as a cache-aside in front of the database, for any value that serializes.
//! Redis is an optimisation: when it fails, the cache steps aside at once (reads and
//! writes go to the database at full speed), says so in one log line, and is tried
//! again in the background until it answers. Its settings are [`RedisConfig`].

use std::{
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use anyhow::Context;
use clap::Args;
use metrics::{counter, describe_counter, describe_gauge, gauge};
use redis::{AsyncCommands, AsyncIter, aio::ConnectionManager, aio::ConnectionManagerConfig};
use secrecy::{ExposeSecret, SecretString};
use serde::{Serialize, de::DeserializeOwned};

/// The cache's settings, a section of `config::Config`.
#[derive(Debug, Clone, Args)]
pub struct RedisConfig {
    /// Redis URL (`rediss://` for TLS).
    #[arg(long, env = "REDIS_URL", value_name = "REDIS_URL", default_value = "redis://127.0.0.1:6379", hide_default_value = true)]
    pub redis_url: SecretString,
    /// Seconds a cached item lives in Redis.
    #[arg(long, env = "CACHE_TTL_SECS", value_name = "CACHE_TTL_SECS", default_value_t = 60)]
    pub cache_ttl_secs: u64,
    /// Prefix of every key this service writes, so services can share one Redis.
    #[arg(long, env = "CACHE_KEY_PREFIX", value_name = "CACHE_KEY_PREFIX", default_value = "{{crate_name}}")]
    pub cache_key_prefix: String,
}

/// Bounds every Redis round trip, so an unresponsive Redis costs one request at most this.
const REDIS_TIMEOUT: Duration = Duration::from_millis(500);

/// How often an unavailable Redis is tried again.
const RETRY_INTERVAL: Duration = Duration::from_secs(1);

#[derive(Clone)]
pub struct Cache {
    connection: ConnectionManager,
    ttl_secs: u64,
    key_prefix: String,
    /// False from a failed round trip until a background ping succeeds again.
    available: Arc<AtomicBool>,
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
        describe_metrics();
        gauge!("cache_available").set(1.0);
        Ok(Self {
            connection,
            ttl_secs: config.cache_ttl_secs,
            key_prefix: config.cache_key_prefix.clone(),
            available: Arc::new(AtomicBool::new(true)),
        })
    }

    /// A round trip to Redis, for readiness; fails at once while the cache is stepped aside.
    pub async fn ping(&self) -> anyhow::Result<()> {
        if !self.is_available() {
            anyhow::bail!("unavailable since a failed round trip; retried every {RETRY_INTERVAL:?}");
        }
        let mut connection = self.connection.clone();
        let pong = redis::cmd("PING").query_async::<String>(&mut connection).await;
        pong.map(drop).map_err(|error| self.step_aside(error))
    }

    fn is_available(&self) -> bool {
        self.available.load(Ordering::Acquire)
    }

    /// Stops using Redis after `error` and, the first time, logs it and starts retrying.
    fn step_aside(&self, error: redis::RedisError) -> anyhow::Error {
        counter!("cache_errors_total").increment(1);
        if self.available.swap(false, Ordering::AcqRel) {
            gauge!("cache_available").set(0.0);
            tracing::warn!(%error, "cache unavailable; serving from the database until Redis answers again");
            tokio::spawn(self.clone().recover());
        }
        error.into()
    }

    /// Pings until Redis answers, then forgets this service's entries (they may have
    /// missed invalidations during the outage) and puts the cache back in use.
    async fn recover(self) {
        let mut connection = self.connection.clone();
        loop {
            tokio::time::sleep(RETRY_INTERVAL).await;
            let pong = redis::cmd("PING").query_async::<String>(&mut connection).await;
            if pong.is_err() {
                continue;
            }
            match self.forget_every_entry(&mut connection).await {
                Ok(forgotten) => {
                    self.available.store(true, Ordering::Release);
                    gauge!("cache_available").set(1.0);
                    tracing::info!(forgotten, "cache available again");
                    return;
                }
                Err(error) => tracing::debug!(%error, "cache still failing"),
            }
        }
    }

    async fn forget_every_entry(&self, connection: &mut ConnectionManager) -> redis::RedisResult<usize> {
        let pattern = format!("{}:*", self.key_prefix);
        let mut keys = Vec::new();
        let mut scan = connection.clone();
        let mut found: AsyncIter<String> = scan.scan_match(&pattern).await?;
        while let Some(key) = found.next_item().await {
            keys.push(key?);
        }
        drop(found);
        for batch in keys.chunks(500) {
            connection.unlink::<_, ()>(batch).await?;
        }
        Ok(keys.len())
    }

    /// The value under `key`: from Redis when it holds it (a hit), else from `load` (a
    /// miss, as is a read while the cache is stepped aside), whose answer Redis then
    /// keeps for the configured TTL.
    pub async fn get_or_load<T, E>(
        &self,
        key: &str,
        load: impl Future<Output = Result<Option<T>, E>>,
    ) -> Result<Option<T>, E>
    where
        T: Serialize + DeserializeOwned,
    {
        let key = self.key(key);
        if let Some(value) = self.get(&key).await {
            counter!("cache_hits_total").increment(1);
            return Ok(Some(value));
        }
        counter!("cache_misses_total").increment(1);
        let value = load.await?;
        if let Some(value) = &value {
            self.put(&key, value).await;
        }
        Ok(value)
    }

    /// Removes the value under `key`; while Redis is unavailable, recovery forgets every
    /// entry instead.
    pub async fn forget(&self, key: &str) {
        if !self.is_available() {
            return;
        }
        let mut connection = self.connection.clone();
        if let Err(error) = connection.del::<_, ()>(self.key(key)).await {
            self.step_aside(error);
        }
    }

    /// Every key this service writes starts with its prefix, so services can share a Redis.
    fn key(&self, key: &str) -> String {
        format!("{}:{key}", self.key_prefix)
    }

    async fn get<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        if !self.is_available() {
            return None;
        }
        let mut connection = self.connection.clone();
        match connection.get::<_, Option<String>>(key).await {
            Ok(value) => value.and_then(|json| serde_json::from_str(&json).ok()),
            Err(error) => {
                self.step_aside(error);
                None
            }
        }
    }

    async fn put<T: Serialize>(&self, key: &str, value: &T) {
        let Ok(json) = serde_json::to_string(value) else { return };
        if !self.is_available() {
            return;
        }
        let mut connection = self.connection.clone();
        if let Err(error) = connection.set_ex::<_, _, ()>(key, json, self.ttl_secs).await {
            self.step_aside(error);
        }
    }
}

fn describe_metrics() {
    describe_counter!("cache_hits_total", "Reads answered from Redis.");
    describe_counter!("cache_misses_total", "Reads answered from the database: not in Redis, or Redis stepped aside.");
    describe_counter!("cache_errors_total", "Failed round trips to Redis; the first puts the cache aside until Redis answers.");
    describe_gauge!("cache_available", "1 while the cache is in use, 0 while it is stepped aside after an error.");
}
