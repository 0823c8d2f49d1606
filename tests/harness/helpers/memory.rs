//! What connections may hold against the memory their container is given: the
//! service's default limits must fit the default container by construction.

/// What one connection holds besides its header buffer (hyper's connection state, its
/// task, its socket). The generated project's own test measures a connection against it
/// (`a_flood_of_unfinished_header_blocks_costs_each_connection_at_most_max_header_bytes`).
const CONNECTION_OVERHEAD_BYTES: u64 = 8 * 1024;

/// Share of the memory limit that connections may take at most, every one of them
/// holding a full header buffer: the rest is for the process, request bodies, the
/// database pool and caches.
const CONNECTIONS_SHARE: u64 = 2;

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

/// Whether `max_connections` connections, each holding `max_header_bytes` and its
/// overhead, fit in their share of `limit` bytes; the worst case either way.
pub fn connections_fit(
    max_connections: u64,
    max_header_bytes: u64,
    limit: u64,
) -> Result<String, String> {
    let worst = max_connections * (max_header_bytes + CONNECTION_OVERHEAD_BYTES);
    let allowed = limit / CONNECTIONS_SHARE;
    let account = format!(
        "MAX_CONNECTIONS {max_connections} x (MAX_HEADER_BYTES {max_header_bytes} + {CONNECTION_OVERHEAD_BYTES}) = {} MiB, against 1/{CONNECTIONS_SHARE} of the {} MiB limit",
        worst >> 20,
        limit >> 20
    );
    if worst <= allowed {
        Ok(account)
    } else {
        Err(account)
    }
}
