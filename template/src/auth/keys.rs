//! Keys that verify tokens, each with the algorithms it may verify: decided by the key's
//! type (or a JWK's own `alg`), never by the token, so that a token cannot choose to be
//! checked as HMAC against a public key, or not at all.

use std::{path::Path, sync::Arc};

use jsonwebtoken::{
    Algorithm, DecodingKey, Validation,
    jwk::{AlgorithmParameters, EllipticCurve, Jwk, PublicKeyUse},
};
use secrecy::{ExposeSecret, SecretString};

use super::{AuthConfig, verified::VerifiedTokens};

const HMAC: &[Algorithm] = &[Algorithm::HS256, Algorithm::HS384, Algorithm::HS512];
const RSA: &[Algorithm] = &[Algorithm::RS256, Algorithm::RS384, Algorithm::RS512, Algorithm::PS256, Algorithm::PS384, Algorithm::PS512];

/// One key, and the checks a token it verifies must pass.
pub struct VerifyingKey {
    pub kid: Option<String>,
    pub key: DecodingKey,
    /// Which algorithms this key verifies, and the claims every token must carry.
    pub validation: Validation,
}

/// The keys in use: one configured key, or the provider's current set; and the tokens
/// they have verified.
#[derive(Default)]
pub struct KeySet {
    keys: Vec<Arc<VerifyingKey>>,
    pub verified: VerifiedTokens,
}

impl KeySet {
    pub fn single(key: VerifyingKey) -> Arc<Self> {
        Arc::new(Self::of(vec![Arc::new(key)]))
    }

    fn of(keys: Vec<Arc<VerifyingKey>>) -> Self {
        Self { keys, verified: VerifiedTokens::default() }
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// The key named by a token's `kid`; a token without one can only mean the only key.
    pub fn find(&self, kid: Option<&str>) -> Option<Arc<VerifyingKey>> {
        match (kid, self.keys.as_slice()) {
            (None, [only]) => Some(only.clone()),
            (None, _) => None,
            (Some(kid), keys) => keys.iter().find(|key| key.kid.as_deref() == Some(kid)).cloned(),
        }
    }

    /// The signing keys of a JWKS document; keys for encryption, symmetric keys and keys of
    /// an unknown type are skipped, since a public endpoint cannot hold a shared secret.
    pub fn from_jwks(document: &serde_json::Value, config: &AuthConfig) -> Self {
        let keys = document["keys"].as_array().map(Vec::as_slice).unwrap_or_default();
        let keys = keys
            .iter()
            .filter_map(|key| serde_json::from_value::<Jwk>(key.clone()).ok())
            .filter(|jwk| !matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)))
            .filter_map(|jwk| from_jwk(&jwk, config).ok())
            .map(Arc::new)
            .collect();
        Self::of(keys)
    }
}

/// The shared secret's key.
pub fn hmac(secret: &SecretString, config: &AuthConfig) -> anyhow::Result<VerifyingKey> {
    let key = DecodingKey::from_secret(secret.expose_secret().as_bytes())?;
    Ok(VerifyingKey { kid: None, key, validation: validation(HMAC, config) })
}

/// The public key in `path`: a JWK if it is JSON, else PEM (RSA, EC or Ed25519).
pub fn from_file(path: &Path, config: &AuthConfig) -> anyhow::Result<VerifyingKey> {
    let context = || format!("AUTH_PUBLIC_KEY_FILE: {}", path.display());
    let content = std::fs::read(path).map_err(|error| anyhow::anyhow!("{}: could not read it: {error}", context()))?;
    if content.trim_ascii_start().starts_with(b"{") {
        let jwk: Jwk = serde_json::from_slice(&content).map_err(|error| anyhow::anyhow!("{}: not a JWK: {error}", context()))?;
        return from_jwk(&jwk, config).map_err(|error| anyhow::anyhow!("{}: {error}", context()));
    }
    let (key, algorithms) = if let Ok(key) = DecodingKey::from_rsa_pem(&content) {
        (key, RSA)
    } else if let Ok(key) = DecodingKey::from_ec_pem(&content) {
        (key, &[Algorithm::ES256, Algorithm::ES384][..])
    } else if let Ok(key) = DecodingKey::from_ed_pem(&content) {
        (key, &[Algorithm::EdDSA][..])
    } else {
        anyhow::bail!("{}: neither a JWK nor an RSA, EC or Ed25519 public key in PEM", context());
    };
    Ok(VerifyingKey { kid: None, key, validation: validation(algorithms, config) })
}

/// A JWK's key, verifying only its own `alg` when it names one, else its type's algorithms.
fn from_jwk(jwk: &Jwk, config: &AuthConfig) -> anyhow::Result<VerifyingKey> {
    let by_type: &[Algorithm] = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => RSA,
        AlgorithmParameters::EllipticCurve(ec) if ec.curve == EllipticCurve::P256 => &[Algorithm::ES256],
        AlgorithmParameters::EllipticCurve(ec) if ec.curve == EllipticCurve::P384 => &[Algorithm::ES384],
        AlgorithmParameters::OctetKeyPair(okp) if okp.curve == EllipticCurve::Ed25519 => &[Algorithm::EdDSA],
        _ => anyhow::bail!("not an RSA, P-256, P-384 or Ed25519 public key"),
    };
    let algorithms: Vec<Algorithm> = match jwk.common.key_algorithm.map(Algorithm::try_from) {
        None => by_type.to_vec(),
        Some(Ok(alg)) if by_type.contains(&alg) => vec![alg],
        Some(_) => anyhow::bail!("its `alg` does not suit its key type"),
    };
    let key = DecodingKey::from_jwk(jwk)?;
    Ok(VerifyingKey { kid: jwk.common.key_id.clone(), key, validation: validation(&algorithms, config) })
}

/// The checks every token must pass: a signature by one of `algorithms`, the configured
/// issuer and audience, and a current `exp` (and `nbf`, when present).
fn validation(algorithms: &[Algorithm], config: &AuthConfig) -> Validation {
    let mut validation = Validation::new(algorithms[0]);
    validation.algorithms = algorithms.to_vec();
    validation.set_issuer(&[&config.auth_issuer]);
    validation.set_audience(&[&config.auth_audience]);
    validation.set_required_spec_claims(&["exp", "iss", "aud"]);
    validation.validate_nbf = true;
    validation.leeway = config.auth_leeway_secs;
    validation
}
