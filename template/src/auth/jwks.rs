//! The identity provider's signing keys (JWKS), fetched over HTTPS and cached: refreshed
//! every `AUTH_JWKS_REFRESH_SECS`, and sooner for a token naming a key not yet known, but
//! never more often than every `AUTH_JWKS_MIN_REFRESH_SECS`, so a flood of made-up key
//! ids cannot turn into a flood of fetches. A failed fetch keeps the last good keys.

use std::{
    sync::{Arc, RwLock},
    time::Duration,
};

use tokio::{sync::Mutex, time::Instant};

use super::{AuthConfig, keys::KeySet};

/// How long one fetch may take; requests waiting on it wait no longer.
const FETCH_TIMEOUT: Duration = Duration::from_secs(3);
/// A key set larger than this is not a key set.
const MAX_DOCUMENT_BYTES: usize = 256 * 1024;

pub struct Jwks {
    url: reqwest::Url,
    client: reqwest::Client,
    config: AuthConfig,
    keys: RwLock<Arc<KeySet>>,
    /// Held while a fetch runs; the time of the last attempt.
    last_attempt: Mutex<Option<Instant>>,
}

impl Jwks {
    pub fn new(url: reqwest::Url, config: &AuthConfig) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder().timeout(FETCH_TIMEOUT).build()?;
        Ok(Self { url, client, config: config.clone(), keys: RwLock::default(), last_attempt: Mutex::new(None) })
    }

    pub fn current(&self) -> Arc<KeySet> {
        self.keys.read().map(|keys| keys.clone()).unwrap_or_default()
    }

    /// Fetches the keys unless a fetch was attempted less than the minimum interval ago;
    /// a caller that finds a fetch running waits for it.
    pub async fn refresh(&self) {
        let mut last_attempt = self.last_attempt.lock().await;
        if last_attempt.is_some_and(|at| at.elapsed() < self.config.jwks_min_refresh()) {
            return;
        }
        *last_attempt = Some(Instant::now());
        match self.fetch().await {
            Ok(keys) => {
                tracing::info!(url = %self.url, keys = keys.len(), "signing keys fetched");
                if let Ok(mut current) = self.keys.write() {
                    *current = Arc::new(keys);
                }
            }
            Err(error) => {
                let kept = self.current().len();
                tracing::warn!(url = %self.url, error = format!("{error:#}"), kept, "could not fetch the signing keys; keeping the last ones");
            }
        }
    }

    /// Refreshes the keys every `AUTH_JWKS_REFRESH_SECS`, until aborted.
    pub async fn keep_fresh(self: Arc<Self>) {
        let mut ticks = tokio::time::interval(self.config.jwks_refresh());
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticks.tick().await;
        loop {
            ticks.tick().await;
            self.refresh().await;
        }
    }

    async fn fetch(&self) -> anyhow::Result<KeySet> {
        let response = self.client.get(self.url.clone()).send().await?.error_for_status()?;
        if response.content_length().is_some_and(|length| length > MAX_DOCUMENT_BYTES as u64) {
            anyhow::bail!("the key set is larger than {MAX_DOCUMENT_BYTES} bytes");
        }
        let body = response.bytes().await?;
        anyhow::ensure!(body.len() <= MAX_DOCUMENT_BYTES, "the key set is larger than {MAX_DOCUMENT_BYTES} bytes");
        let document: serde_json::Value = serde_json::from_slice(&body)?;
        let keys = KeySet::from_jwks(&document, &self.config);
        anyhow::ensure!(!keys.is_empty(), "the document holds no signing key this service can use");
        Ok(keys)
    }
}
