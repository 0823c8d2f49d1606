//! Tokens as identity providers sign them, the attacks on them, and a JWKS endpoint
//! that a test can rotate or take down.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use aws_lc_rs::{
    encoding::AsDer,
    rsa::{KeyPair, KeySize},
    signature::KeyPair as _,
};
use axum::{Json, Router, http::StatusCode, routing::get};
use base64::{Engine, engine::general_purpose::STANDARD};
use jsonwebtoken::{Algorithm, EncodingKey, Header, jwk::Jwk};
use serde_json::{Value, json};

/// What the test configuration expects in `iss` and `aud`.
pub const ISSUER: &str = "https://issuer.test";
pub const AUDIENCE: &str = "items-api";

/// The flags that make a service expect [`ISSUER`] and [`AUDIENCE`].
pub const CLAIM_FLAGS: [&str; 4] = ["--auth-issuer", ISSUER, "--auth-audience", AUDIENCE];

/// Claims a service configured with [`CLAIM_FLAGS`] accepts, granting `scope`.
pub fn claims(scope: &str) -> Value {
    let now = jsonwebtoken::get_current_timestamp();
    json!({ "iss": ISSUER, "aud": AUDIENCE, "sub": "user-1", "scope": scope, "iat": now, "exp": now + 300 })
}

/// Now, in seconds since the epoch, moved by `offset`.
pub fn now_plus(offset: i64) -> u64 {
    jsonwebtoken::get_current_timestamp().saturating_add_signed(offset)
}

/// `claims` signed with an HMAC `secret`.
pub fn hmac_token(secret: &[u8], claims: &Value) -> String {
    let key = EncodingKey::from_secret(secret).expect("an HMAC key");
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &key).expect("a token is signed")
}

/// A token whose header says `alg: none`, with no signature: accepted by verifiers that
/// take the algorithm from the token.
pub fn unsigned_token(claims: &Value) -> String {
    let encode = |value: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string());
    format!("{}.{}.", encode(&json!({ "alg": "none", "typ": "JWT" })), encode(claims))
}

/// An RSA key pair, as an identity provider holds one.
pub struct RsaKey {
    pub kid: String,
    encoding: EncodingKey,
    /// The public key in PEM, as a service's key file holds it.
    pub public_pem: String,
}

impl RsaKey {
    pub fn generate(kid: &str) -> Self {
        let pair = KeyPair::generate(KeySize::Rsa2048).expect("an RSA key is generated");
        let private_der = pair.as_der().expect("the private key encodes");
        let private_pem = pem("PRIVATE KEY", private_der.as_ref());
        let public_der = pair.public_key().as_der().expect("the public key encodes");
        Self {
            kid: kid.to_owned(),
            encoding: EncodingKey::from_rsa_pem(private_pem.as_bytes()).expect("the PEM parses"),
            public_pem: pem("PUBLIC KEY", public_der.as_ref()),
        }
    }

    /// `claims` signed RS256, naming this key's id.
    pub fn sign(&self, claims: &Value) -> String {
        self.sign_as(&self.kid, claims)
    }

    /// `claims` signed RS256 with this key, naming `kid` as its id.
    pub fn sign_as(&self, kid: &str, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(kid.to_owned());
        jsonwebtoken::encode(&header, claims, &self.encoding).expect("a token is signed")
    }

    /// The public key as a JWKS lists it.
    pub fn jwk(&self) -> Value {
        let mut jwk = Jwk::from_encoding_key(&self.encoding, Algorithm::RS256).expect("a JWK is derived");
        jwk.common.key_id = Some(self.kid.clone());
        serde_json::to_value(jwk).expect("a JWK serializes")
    }
}

fn pem(label: &str, der: &[u8]) -> String {
    let base64 = STANDARD.encode(der);
    let lines: Vec<&str> = base64.as_bytes().chunks(64).map(|line| std::str::from_utf8(line).unwrap_or_default()).collect();
    format!("-----BEGIN {label}-----\n{}\n-----END {label}-----\n", lines.join("\n"))
}

/// A JWKS endpoint over real HTTP: it serves what [`KeyServer::publish`] set, or 503
/// after [`KeyServer::fail`], and counts the fetches.
#[derive(Clone)]
pub struct KeyServer {
    pub url: String,
    state: Arc<Mutex<(Option<Value>, usize)>>,
}

impl KeyServer {
    pub async fn start(keys: &[&RsaKey]) -> Self {
        let state = Arc::new(Mutex::new((None, 0)));
        let served = state.clone();
        let router = Router::new().route(
            "/jwks.json",
            get(move || async move {
                let mut state = served.lock().expect("the key server's state");
                state.1 += 1;
                state.0.clone().map(Json).ok_or(StatusCode::SERVICE_UNAVAILABLE)
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port for the key server");
        let address: SocketAddr = listener.local_addr().expect("the key server's address");
        tokio::spawn(async move { axum::serve(listener, router).await });
        let server = Self { url: format!("http://{address}/jwks.json"), state };
        server.publish(keys);
        server
    }

    pub fn publish(&self, keys: &[&RsaKey]) {
        let document = json!({ "keys": keys.iter().map(|key| key.jwk()).collect::<Vec<_>>() });
        self.state.lock().expect("the key server's state").0 = Some(document);
    }

    pub fn fail(&self) {
        self.state.lock().expect("the key server's state").0 = None;
    }

    pub fn fetches(&self) -> usize {
        self.state.lock().expect("the key server's state").1
    }
}
