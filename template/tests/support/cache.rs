//! The cache's part of the test support: apps that share one Redis keep their keys apart.

/// A key prefix of its own. Every test app gets one (see `app::OWN_PER_APP`): tests run
/// at once, each on a database of its own where ids start at 1, and a service running
/// on the same Redis uses the default prefix, so shared keys would serve one another's items.
pub fn unique_prefix() -> String {
    format!("test-{}", uuid::Uuid::new_v4())
}
