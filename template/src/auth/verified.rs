//! Tokens a key set has verified, remembered until they expire, so that a client sending
//! the same token with every request pays for its signature and claims once. Each key
//! set remembers its own: keys fetched again start with none, so a token signed by a key
//! the provider removed is refused from the next successful refresh of the keys on.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
};

use super::verify::Caller;

/// Token bytes remembered at most, about a thousand identity-provider tokens; with their
/// callers they take roughly twice this. Past it, the set starts again from empty, and
/// every token is verified again as it comes back.
const MAX_REMEMBERED_BYTES: usize = 1024 * 1024;

#[derive(Default)]
pub struct VerifiedTokens(Mutex<Remembered>);

#[derive(Default)]
struct Remembered {
    by_token: HashMap<Box<str>, Verified>,
    bytes: usize,
}

struct Verified {
    caller: Arc<Caller>,
    /// The last second (since the epoch) at which the token still verifies: its `exp`
    /// plus the leeway it was verified with.
    valid_until: u64,
}

impl VerifiedTokens {
    /// The caller of `token`, if it verified and has not expired by `now` (seconds since
    /// the epoch). Its start (`nbf`) was checked when it verified, and stays passed.
    pub fn get(&self, token: &str, now: u64) -> Option<Arc<Caller>> {
        let remembered = self.lock();
        let verified = remembered.by_token.get(token).filter(|verified| now <= verified.valid_until)?;
        Some(Arc::clone(&verified.caller))
    }

    /// Remembers that `token` verified, for `caller`, until its `exp` plus `leeway` seconds.
    /// The validation requires `exp`: a caller without one is passed on, not remembered.
    pub fn remember(&self, token: &str, caller: Caller, leeway: u64) -> Arc<Caller> {
        let caller = Arc::new(caller);
        let Some(exp) = caller.exp else {
            return caller;
        };
        let verified = Verified { valid_until: exp.saturating_add(leeway), caller: Arc::clone(&caller) };
        let mut remembered = self.lock();
        if remembered.bytes + token.len() > MAX_REMEMBERED_BYTES {
            *remembered = Remembered::default();
        }
        if remembered.by_token.insert(token.into(), verified).is_none() {
            remembered.bytes += token.len();
        }
        caller
    }

    /// Nothing in the lock can panic half-way; a poisoned lock is as good as any.
    fn lock(&self) -> MutexGuard<'_, Remembered> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(exp: u64) -> Caller {
        serde_json::from_value(serde_json::json!({ "sub": "user-1", "scope": "items:read", "exp": exp })).expect("a caller")
    }

    #[test]
    fn a_remembered_token_is_found_until_its_expiry_plus_the_leeway() {
        let tokens = VerifiedTokens::default();
        tokens.remember("token", caller(1_000), 30);

        assert!(tokens.get("token", 1_030).is_some(), "within the leeway");
        assert!(tokens.get("token", 1_031).is_none(), "past the leeway");
    }

    #[test]
    fn a_caller_without_an_expiry_is_not_remembered() {
        let tokens = VerifiedTokens::default();
        let no_expiry = serde_json::from_value(serde_json::json!({ "sub": "user-1" })).expect("a caller");
        tokens.remember("token", no_expiry, 0);

        assert!(tokens.get("token", 0).is_none());
    }

    #[test]
    fn a_token_never_remembered_is_not_found() {
        let tokens = VerifiedTokens::default();
        tokens.remember("token", caller(1_000), 0);

        assert!(tokens.get("token-other", 0).is_none());
    }

    #[test]
    fn remembered_tokens_stay_within_the_byte_bound() {
        let tokens = VerifiedTokens::default();
        let token_bytes = 1024;
        for n in 0..2 * MAX_REMEMBERED_BYTES / token_bytes {
            tokens.remember(&format!("{n:0token_bytes$}"), caller(1_000), 0);
        }

        let remembered = tokens.lock();
        assert!(remembered.bytes <= MAX_REMEMBERED_BYTES, "{} bytes remembered", remembered.bytes);
        let counted: usize = remembered.by_token.keys().map(|token| token.len()).sum();
        assert_eq!(counted, remembered.bytes, "bytes counted against bytes held");
    }
}
