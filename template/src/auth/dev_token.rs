//! `dev-token`: a token for trying the API locally, signed with `AUTH_HMAC_SECRET` or,
//! when no key is set, with the development secret. Refused in production, where tokens
//! come from the identity provider or from the service that issues them.

use clap::Args;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

use super::{AuthConfig, KeySource, Scope};
use crate::config::{AppEnv, Config};

/// What development verifies tokens with when no key is set. Production refuses it as
/// `AUTH_HMAC_SECRET`: it ends with a placeholder word.
const DEVELOPMENT_SECRET: &str = "{{project-name}}-development-secret-not-for-production";

pub(super) fn development_secret() -> SecretString {
    SecretString::from(DEVELOPMENT_SECRET)
}

#[derive(Debug, Clone, Args)]
pub struct DevTokenArgs {
    /// A scope to grant (repeatable); every scope of the API unless given.
    #[arg(long = "scope", value_name = "SCOPE", default_values_t = Scope::ALL.map(|scope| scope.as_str().to_owned()))]
    pub scopes: Vec<String>,
    /// The caller the token names (`sub`).
    #[arg(long, value_name = "SUB", default_value = "developer")]
    pub sub: String,
    /// Seconds until the token expires.
    #[arg(long, value_name = "SECONDS", default_value_t = 3600)]
    pub ttl_secs: u64,
}

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    aud: &'a str,
    sub: &'a str,
    scope: String,
    iat: u64,
    exp: u64,
}

/// A token this service accepts in development, with the claims `args` ask for.
pub fn development_token(config: &AuthConfig, app_env: AppEnv, args: &DevTokenArgs) -> anyhow::Result<String> {
    if app_env == AppEnv::Production {
        anyhow::bail!("dev-token is refused with APP_ENV=production: production tokens come from the identity provider");
    }
    let development = development_secret();
    let secret = match config.key_source() {
        KeySource::HmacSecret(secret) => secret,
        KeySource::DevelopmentSecret => &development,
        KeySource::Jwks(_) | KeySource::PublicKeyFile(_) => anyhow::bail!(
            "dev-token signs with an HMAC secret, but AUTH_JWKS_URL or AUTH_PUBLIC_KEY_FILE is set: get a token from the identity provider"
        ),
    };
    let now = jsonwebtoken::get_current_timestamp();
    let claims = Claims {
        iss: &config.auth_issuer,
        aud: &config.auth_audience,
        sub: &args.sub,
        scope: args.scopes.join(" "),
        iat: now,
        exp: now + args.ttl_secs,
    };
    let key = EncodingKey::from_secret(secret.expose_secret().as_bytes())?;
    Ok(jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &key)?)
}

/// Prints [`development_token`] for the command line.
pub fn print_development_token(config: &Config, args: &DevTokenArgs) -> anyhow::Result<()> {
    println!("{}", development_token(&config.auth, config.app_env, args)?);
    Ok(())
}
