//! What connections may hold against the memory their container is given: the
//! service's default limits must fit the default container by construction.

/// What one connection holds besides its header buffer (hyper's connection state, its
/// task, its socket). The generated project's own test measures a connection against it
/// (`a_flood_of_unfinished_header_blocks_costs_each_connection_at_most_max_header_bytes`).
const CONNECTION_OVERHEAD_BYTES: u64 = 8 * 1024;

/// Share of the memory limit that connections and request bodies may take at most,
/// every connection holding a full header buffer and the body budget spent: the rest
/// is for the process, the database pool and caches.
const BUFFERS_SHARE: u64 = 2;

/// The limits that bound what clients make the service buffer, as deployed.
#[derive(Debug)]
pub struct ClientBuffers {
    pub max_connections: u64,
    pub max_header_bytes: u64,
    pub max_buffered_body_bytes: u64,
}

impl ClientBuffers {
    /// From settings read by name, when every one is there.
    pub fn from_settings(setting: impl Fn(&str) -> Option<u64>) -> Option<Self> {
        Some(Self {
            max_connections: setting("MAX_CONNECTIONS")?,
            max_header_bytes: setting("MAX_HEADER_BYTES")?,
            max_buffered_body_bytes: setting("MAX_BUFFERED_BODY_BYTES")?,
        })
    }
}

/// A memory quantity as compose (`512M`, or bytes once resolved) or Kubernetes
/// (`512Mi`) writes it, in bytes.
pub fn bytes(quantity: &str) -> Option<u64> {
    let quantity = quantity.trim();
    let split = quantity
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(quantity.len());
    let (number, unit) = quantity.split_at(split);
    let multiplier: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "ki" => 1 << 10,
        "m" | "mb" | "mi" => 1 << 20,
        "g" | "gb" | "gi" => 1 << 30,
        _ => return None,
    };
    number.parse::<u64>().ok()?.checked_mul(multiplier)
}

/// Whether every connection holding a full header buffer and its overhead, and the
/// whole request-body budget, fit in their share of `limit` bytes; the account either way.
pub fn buffers_fit(buffers: &ClientBuffers, limit: u64) -> Result<String, String> {
    let ClientBuffers {
        max_connections,
        max_header_bytes,
        max_buffered_body_bytes,
    } = *buffers;
    let worst =
        max_connections * (max_header_bytes + CONNECTION_OVERHEAD_BYTES) + max_buffered_body_bytes;
    let allowed = limit / BUFFERS_SHARE;
    let account = format!(
        "MAX_CONNECTIONS {max_connections} x (MAX_HEADER_BYTES {max_header_bytes} + {CONNECTION_OVERHEAD_BYTES}) + MAX_BUFFERED_BODY_BYTES {max_buffered_body_bytes} = {} MiB, against 1/{BUFFERS_SHARE} of the {} MiB limit",
        worst >> 20,
        limit >> 20
    );
    if worst <= allowed {
        Ok(account)
    } else {
        Err(account)
    }
}
