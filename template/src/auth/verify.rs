//! Verifies one bearer token: its key, its signature, its claims; and what it grants.

use std::sync::Arc;

use jsonwebtoken::errors::ErrorKind;
use serde::Deserialize;

use super::{AuthConfig, KeySource, Scope, jwks::Jwks, keys};

/// The longest token looked at: longer ones are refused unparsed. Identity providers'
/// access tokens are 1 to 2 KiB.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// What a verified token says about its caller.
#[derive(Debug, Deserialize)]
pub struct Caller {
    pub sub: Option<String>,
    /// Until when the token verifies: `exp` as the validation reads it. Never a reason to
    /// refuse here, so that the validation says what is wrong with a missing or odd `exp`.
    #[serde(default, deserialize_with = "numeric_date")]
    pub(super) exp: Option<u64>,
    scope: Option<String>,
    scp: Option<Scopes>,
}

/// `scp`, as identity providers write it: space separated, or a list.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Scopes {
    Spaced(String),
    List(Vec<String>),
}

/// A JWT NumericDate as jsonwebtoken's validation reads it: whole seconds, or a
/// non-negative fraction rounded (RFC 7519 allows fractions); `None` for anything else.
fn numeric_date<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    let serde_json::Value::Number(seconds) = serde_json::Value::deserialize(deserializer)? else {
        return Ok(None);
    };
    let fraction = || seconds.as_f64().filter(|seconds| seconds.is_finite() && *seconds >= 0.0 && *seconds < u64::MAX as f64);
    Ok(seconds.as_u64().or_else(|| fraction().map(|seconds| seconds.round() as u64)))
}

impl Caller {
    pub fn has(&self, scope: Scope) -> bool {
        let spaced = [self.scope.as_deref(), match &self.scp {
            Some(Scopes::Spaced(scopes)) => Some(scopes.as_str()),
            _ => None,
        }];
        let listed = match &self.scp {
            Some(Scopes::List(scopes)) => scopes.as_slice(),
            _ => &[],
        };
        spaced.into_iter().flatten().flat_map(str::split_whitespace).any(|granted| granted == scope.as_str())
            || listed.iter().any(|granted| granted == scope.as_str())
    }
}

/// Why a request was refused, for the client: RFC 6750's answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No bearer token: the client is told only that one is needed.
    Missing,
    /// A token that does not verify, whatever the reason (logged, never told).
    Invalid,
    /// A valid token without the operation's scope.
    InsufficientScope(Scope),
    /// No key to verify with yet: the provider's keys could not be fetched.
    NoKeys,
}

/// Checks tokens against the configured keys. Cheap to clone.
#[derive(Clone)]
pub struct Verifier(Arc<Keys>);

enum Keys {
    Fixed(Arc<keys::KeySet>),
    Jwks(Arc<Jwks>),
}

impl Verifier {
    /// The verifier the settings describe (checked already by the configuration); with
    /// JWKS, after a first fetch, whose failure is logged and retried on use.
    pub async fn from_config(config: &AuthConfig) -> anyhow::Result<Self> {
        let keys = match config.key_source() {
            KeySource::Jwks(url) => {
                let jwks = Arc::new(Jwks::new(url, config)?);
                jwks.refresh().await;
                Keys::Jwks(jwks)
            }
            KeySource::PublicKeyFile(path) => Keys::Fixed(keys::KeySet::single(keys::from_file(path, config)?)),
            KeySource::HmacSecret(secret) => Keys::Fixed(keys::KeySet::single(keys::hmac(secret, config)?)),
            KeySource::DevelopmentSecret => {
                tracing::warn!("no AUTH_* key is set: tokens are verified with the development secret, which `dev-token` signs with");
                Keys::Fixed(keys::KeySet::single(keys::hmac(&super::dev_token::development_secret(), config)?))
            }
        };
        Ok(Self(Arc::new(keys)))
    }

    /// The task that keeps fetched keys current, when keys are fetched.
    pub fn keep_fresh(&self) -> Option<impl std::future::Future<Output = ()> + use<>> {
        match &*self.0 {
            Keys::Jwks(jwks) => Some(jwks.clone().keep_fresh()),
            Keys::Fixed(_) => None,
        }
    }

    /// The caller of a token the current keys verified already, while it has not expired;
    /// `None` for any other token, which [`Verifier::verify`] checks.
    pub fn remembered(&self, token: &str) -> Option<Arc<Caller>> {
        self.current_keys().verified.get(token, jsonwebtoken::get_current_timestamp())
    }

    /// The caller a token stands for, or why it is refused; each refused token is logged
    /// at `info` with the reason, and its `kid` and claimed `sub` when readable. A token
    /// the current keys verified already is only checked for expiry.
    pub async fn verify(&self, token: &str) -> Result<Arc<Caller>, Refusal> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(refused(token, "token longer than the limit", None));
        }
        if let Some(caller) = self.remembered(token) {
            return Ok(caller);
        }
        let keys = self.current_keys();
        let header = jsonwebtoken::decode_header(token).map_err(|error| refused(token, &reason(error.kind()), None))?;
        let kid = header.kid.as_deref();
        let (key, keys) = match &*self.0 {
            Keys::Fixed(_) => (keys.find(None), keys),
            Keys::Jwks(jwks) => match keys.find(kid) {
                Some(key) => (Some(key), keys),
                None => {
                    jwks.refresh().await;
                    let keys = jwks.current();
                    if keys.is_empty() {
                        tracing::warn!(kid, "token not checked: no signing keys, the JWKS endpoint has not answered");
                        return Err(Refusal::NoKeys);
                    }
                    (keys.find(kid), keys)
                }
            },
        };
        let key = key.ok_or_else(|| refused(token, "unknown key id", kid))?;
        let caller = jsonwebtoken::decode::<Caller>(token, &key.key, &key.validation)
            .map_err(|error| refused(token, &reason(error.kind()), kid))?
            .claims;
        Ok(keys.verified.remember(token, caller, key.validation.leeway))
    }

    fn current_keys(&self) -> Arc<keys::KeySet> {
        match &*self.0 {
            Keys::Fixed(keys) => Arc::clone(keys),
            Keys::Jwks(jwks) => jwks.current(),
        }
    }
}

/// Logs a refused token, never the token itself: its claimed `sub` is unverified.
fn refused(token: &str, reason: &str, kid: Option<&str>) -> Refusal {
    let claimed_sub = jsonwebtoken::dangerous::insecure_decode_claims::<Caller>(token).ok().and_then(|claims| claims.sub);
    let claimed_sub = claimed_sub.as_deref().map(|sub| sub.chars().take(128).collect::<String>());
    tracing::info!(reason, kid, sub = claimed_sub, "bearer token refused");
    Refusal::Invalid
}

fn reason(kind: &ErrorKind) -> String {
    match kind {
        ErrorKind::InvalidToken | ErrorKind::Base64(_) | ErrorKind::Json(_) | ErrorKind::Utf8(_) => "malformed token".into(),
        ErrorKind::InvalidSignature => "bad signature".into(),
        ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName | ErrorKind::MissingAlgorithm => "algorithm not accepted for the key".into(),
        ErrorKind::ExpiredSignature => "expired".into(),
        ErrorKind::ImmatureSignature => "not valid yet (nbf)".into(),
        ErrorKind::InvalidIssuer => "wrong issuer".into(),
        ErrorKind::InvalidAudience => "wrong audience".into(),
        ErrorKind::MissingRequiredClaim(claim) => format!("missing claim {claim}"),
        ErrorKind::InvalidClaimFormat(claim) => format!("malformed claim {claim}"),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn exp_of(claims: serde_json::Value) -> Option<u64> {
        serde_json::from_value::<Caller>(claims).expect("claims with any `exp` make a caller").exp
    }

    #[test]
    fn exp_is_read_as_the_validation_reads_it_and_anything_else_is_left_to_the_validation() {
        assert_eq!(exp_of(json!({ "exp": 1_000 })), Some(1_000));
        assert_eq!(exp_of(json!({ "exp": 1_000.5 })), Some(1_001), "a fraction, rounded");
        assert_eq!(exp_of(json!({ "exp": "1000" })), None, "a string");
        assert_eq!(exp_of(json!({ "exp": -1 })), None, "a negative number");
        assert_eq!(exp_of(json!({})), None, "no exp");
    }
}
