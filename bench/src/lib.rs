//! What the baselines share with the generated service: where they listen.

/// `127.0.0.1:$PORT`, on loopback as the service under test is.
pub fn address() -> (std::net::Ipv4Addr, u16) {
    let port = std::env::var("PORT")
        .ok()
        .and_then(|port| port.parse().ok())
        .unwrap_or(8080);
    (std::net::Ipv4Addr::LOCALHOST, port)
}
