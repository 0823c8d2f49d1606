//! Bearer-token (JWT) authentication of `/api/v1`. A token is verified with the one key
//! source configured: the identity provider's keys (`AUTH_JWKS_URL`), a public key
//! (`AUTH_PUBLIC_KEY_FILE`) or a shared secret (`AUTH_HMAC_SECRET`); each key accepts
//! only its own algorithms, whatever the token's header says. Then its issuer,
//! audience, expiry and start, and the scope its operation needs ([`Scope`], required
//! where the routes are declared).

mod dev_token;
mod guard;
mod jwks;
mod keys;
mod verified;
mod verify;

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use clap::Args;
use secrecy::{ExposeSecret, SecretString};

pub use dev_token::{DevTokenArgs, development_token, print_development_token};
pub use guard::{SECURITY_SCHEME, require};
pub use verify::{Refusal, Verifier};

use crate::config::AppEnv;

/// What an operation needs the caller's token to grant, from its `scope` (space
/// separated) or `scp` (space separated, or a list) claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    ItemsRead,
    ItemsWrite,
}

impl Scope {
    pub const ALL: [Scope; 2] = [Scope::ItemsRead, Scope::ItemsWrite];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ItemsRead => "items:read",
            Self::ItemsWrite => "items:write",
        }
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The verifier the settings ask for, or `None` when `AUTH_DISABLED` turns checks off
/// (logged as a warning: nothing else says the API is open).
pub async fn verifier(config: &AuthConfig) -> anyhow::Result<Option<Verifier>> {
    if config.auth_disabled {
        tracing::warn!("AUTH_DISABLED is set: /api/v1 answers every caller without a token");
        return Ok(None);
    }
    Verifier::from_config(config).await.map(Some)
}

/// The shortest HMAC secret accepted: as long as the hash's output (RFC 7518, 3.2).
const MIN_HMAC_SECRET_BYTES: usize = 32;

#[derive(Debug, Clone, Args)]
pub struct AuthConfig {
    /// Accept every caller on `/api/v1`, for a service behind a gateway that authenticates
    /// them already (logged as a warning at start).
    #[arg(long, env = "AUTH_DISABLED", value_name = "AUTH_DISABLED", default_value_t = false, action = clap::ArgAction::Set)]
    pub auth_disabled: bool,
    /// URL of the identity provider's signing keys (JWKS), such as
    /// `https://login.example.com/.well-known/jwks.json`; HTTPS in production. Each of the
    /// three keys counts as unset when empty.
    #[arg(long, env = "AUTH_JWKS_URL", value_name = "AUTH_JWKS_URL", value_parser = parse_url)]
    pub auth_jwks_url: Option<String>,
    /// File holding the public key that verifies tokens, as PEM or as a JWK (JSON).
    #[arg(long, env = "AUTH_PUBLIC_KEY_FILE", value_name = "AUTH_PUBLIC_KEY_FILE", value_parser = parse_path)]
    pub auth_public_key_file: Option<PathBuf>,
    /// Shared secret that verifies HMAC-signed tokens (HS256, HS384, HS512), for a service
    /// whose own side issues its tokens; at least 32 bytes. Without any key, development
    /// verifies with a built-in development secret, which `dev-token` signs with.
    #[arg(long, env = "AUTH_HMAC_SECRET", value_name = "AUTH_HMAC_SECRET")]
    pub auth_hmac_secret: Option<SecretString>,
    /// The issuer tokens must name in `iss`.
    #[arg(long, env = "AUTH_ISSUER", value_name = "AUTH_ISSUER", default_value = "{{project-name}}")]
    pub auth_issuer: String,
    /// The audience tokens must name in `aud` (one of them, when it is a list).
    #[arg(long, env = "AUTH_AUDIENCE", value_name = "AUTH_AUDIENCE", default_value = "{{project-name}}")]
    pub auth_audience: String,
    /// Seconds of clock difference allowed when checking `exp` and `nbf`.
    #[arg(long, env = "AUTH_LEEWAY_SECS", value_name = "AUTH_LEEWAY_SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(0..=300))]
    pub auth_leeway_secs: u64,
    /// Seconds between two refreshes of the JWKS keys: how soon a key the provider removed
    /// is refused.
    #[arg(long, env = "AUTH_JWKS_REFRESH_SECS", value_name = "AUTH_JWKS_REFRESH_SECS", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..))]
    pub auth_jwks_refresh_secs: u64,
    /// Fewest seconds between two JWKS fetches, whatever asks for one (a token signed with a
    /// key not yet known does).
    #[arg(long, env = "AUTH_JWKS_MIN_REFRESH_SECS", value_name = "AUTH_JWKS_MIN_REFRESH_SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub auth_jwks_min_refresh_secs: u64,
}

/// An absolute URL, or empty (unset).
fn parse_url(value: &str) -> Result<String, String> {
    if !value.is_empty() {
        reqwest::Url::parse(value).map_err(|error| format!("not an absolute URL: {error}"))?;
    }
    Ok(value.to_owned())
}

/// A path, or empty (unset): clap's own path parser refuses an empty value.
fn parse_path(value: &str) -> Result<PathBuf, String> {
    Ok(PathBuf::from(value))
}

/// The one source of the keys that verify tokens.
pub(crate) enum KeySource<'a> {
    Jwks(reqwest::Url),
    PublicKeyFile(&'a Path),
    HmacSecret(&'a SecretString),
    /// No key configured, outside production.
    DevelopmentSecret,
}

impl AuthConfig {
    pub fn jwks_refresh(&self) -> Duration {
        Duration::from_secs(self.auth_jwks_refresh_secs)
    }

    pub fn jwks_min_refresh(&self) -> Duration {
        Duration::from_secs(self.auth_jwks_min_refresh_secs)
    }

    fn jwks_url(&self) -> Option<reqwest::Url> {
        self.auth_jwks_url.as_deref().and_then(|url| reqwest::Url::parse(url).ok())
    }

    fn public_key_file(&self) -> Option<&Path> {
        self.auth_public_key_file.as_deref().filter(|path| !path.as_os_str().is_empty())
    }

    fn hmac_secret(&self) -> Option<&SecretString> {
        self.auth_hmac_secret.as_ref().filter(|secret| !secret.expose_secret().is_empty())
    }

    pub(crate) fn key_source(&self) -> KeySource<'_> {
        match (self.jwks_url(), self.public_key_file(), self.hmac_secret()) {
            (Some(url), _, _) => KeySource::Jwks(url),
            (_, Some(path), _) => KeySource::PublicKeyFile(path),
            (_, _, Some(secret)) => KeySource::HmacSecret(secret),
            _ => KeySource::DevelopmentSecret,
        }
    }

    /// Refuses settings that would verify tokens with the wrong key or a guessable one:
    /// two key sources, a short secret, and in production keys fetched without TLS.
    pub(crate) fn check(&self, app_env: AppEnv) -> Result<(), String> {
        let sources = [self.jwks_url().is_some(), self.public_key_file().is_some(), self.hmac_secret().is_some()];
        if sources.iter().filter(|set| **set).count() > 1 {
            return Err("set only one of AUTH_JWKS_URL, AUTH_PUBLIC_KEY_FILE and AUTH_HMAC_SECRET".into());
        }
        if self.hmac_secret().is_some_and(|secret| secret.expose_secret().len() < MIN_HMAC_SECRET_BYTES) {
            return Err(format!("AUTH_HMAC_SECRET must be at least {MIN_HMAC_SECRET_BYTES} bytes"));
        }
        if app_env == AppEnv::Production && self.jwks_url().is_some_and(|url| url.scheme() != "https") {
            return Err("AUTH_JWKS_URL must be an https:// URL in production: keys fetched without TLS can be replaced on the way".into());
        }
        Ok(())
    }

    /// Refuses to serve production with neither a key nor `AUTH_DISABLED`: the development
    /// secret is public. Other commands (`migrate`) verify no token and need no key.
    pub(crate) fn check_serving(&self, app_env: AppEnv) -> Result<(), String> {
        if app_env == AppEnv::Production && !self.auth_disabled && matches!(self.key_source(), KeySource::DevelopmentSecret) {
            return Err("APP_ENV=production verifies bearer tokens: set AUTH_JWKS_URL, AUTH_PUBLIC_KEY_FILE or AUTH_HMAC_SECRET, or AUTH_DISABLED=true when a gateway in front authenticates callers".into());
        }
        Ok(())
    }
}
