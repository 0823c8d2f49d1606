//! Per-client rate limits on the API: a token bucket per client address (tower_governor),
//! answered 429 problem+json with `Retry-After`. The client is the connection's peer,
//! or, for a peer in `TRUSTED_PROXIES`, the address that proxy put in `X-Forwarded-For`.
//! Buckets live in this process: N replicas let a client through at N times the rate.

use std::{
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    sync::{Arc, Weak},
    time::Duration,
};

use axum::{
    body::Body,
    extract::ConnectInfo,
    http::{Request, Response},
    response::IntoResponse,
};
use governor::{
    RateLimiter,
    clock::{DefaultClock, QuantaInstant},
    middleware::NoOpMiddleware,
    state::keyed::DefaultKeyedStateStore,
};
use tower_governor::{GovernorError, GovernorLayer, governor::GovernorConfigBuilder, key_extractor::KeyExtractor};

use crate::{
    config::{RateLimitConfig, TrustedProxies},
    error::AppError,
};

const X_FORWARDED_FOR: &str = "x-forwarded-for";

/// How often buckets of clients that have stopped sending are dropped, so that many
/// addresses sending once cannot grow the table without bound.
const FORGET_IDLE_CLIENTS_EVERY: Duration = Duration::from_secs(60);

pub type RateLimitLayer = GovernorLayer<ClientAddress, NoOpMiddleware<QuantaInstant>, Body>;

type Limiter = RateLimiter<IpAddr, DefaultKeyedStateStore<IpAddr>, DefaultClock, NoOpMiddleware<QuantaInstant>>;

/// The limit `config` asks for, or `None` when `RATE_LIMIT_PER_SECOND` is 0. Must be
/// called within the tokio runtime, which forgets idle clients in the background.
pub fn layer(config: &RateLimitConfig) -> Option<RateLimitLayer> {
    if config.rate_limit_per_second == 0 {
        return None;
    }
    let governor = GovernorConfigBuilder::default()
        .period(Duration::from_secs(1) / config.rate_limit_per_second)
        .burst_size(config.rate_limit_burst)
        .key_extractor(ClientAddress {
            trusted_proxies: Arc::new(config.trusted_proxies.clone()),
        })
        .finish()
        .expect("the settings' ranges keep the period and the burst above zero");
    let limiter = Arc::downgrade(governor.limiter());
    tokio::spawn(forget_idle_clients(limiter));
    Some(GovernorLayer::new(governor).error_handler(too_many_requests))
}

async fn forget_idle_clients(limiter: Weak<Limiter>) {
    let mut every = tokio::time::interval(FORGET_IDLE_CLIENTS_EVERY);
    loop {
        every.tick().await;
        let Some(limiter) = limiter.upgrade() else { return };
        limiter.retain_recent();
        limiter.shrink_to_fit();
    }
}

fn too_many_requests(error: GovernorError) -> Response<Body> {
    let error = match error {
        GovernorError::TooManyRequests { wait_time, .. } => AppError::TooManyRequests {
            // governor rounds the wait down; a client told 0 would retry at once.
            retry_after_secs: wait_time.max(1),
        },
        other => AppError::Internal(anyhow::anyhow!(other)),
    };
    error.into_response()
}

/// Keys each request by its client's address; an IPv6 client by its /64, the block one
/// host is usually given, so that it cannot take a new bucket per address.
#[derive(Debug, Clone)]
pub struct ClientAddress {
    trusted_proxies: Arc<TrustedProxies>,
}

impl KeyExtractor for ClientAddress {
    type Key = IpAddr;

    fn extract<T>(&self, request: &Request<T>) -> Result<IpAddr, GovernorError> {
        Ok(bucket_of(client_address(request, &self.trusted_proxies)))
    }
}

/// The peer, unless it is a trusted proxy: then the nearest address in
/// `X-Forwarded-For` that is not one (each proxy appends the address it was reached
/// from, so the entries left of the last untrusted one may be made up by the client).
pub fn client_address<T>(request: &Request<T>, trusted_proxies: &TrustedProxies) -> IpAddr {
    let Some(ConnectInfo(peer)) = request.extensions().get::<ConnectInfo<SocketAddr>>() else {
        // Only a request that did not come over a socket (an in-process call) has no peer.
        return IpAddr::V4(Ipv4Addr::UNSPECIFIED);
    };
    let mut client = peer.ip().to_canonical();
    let headers = request.headers().get_all(X_FORWARDED_FOR).iter().rev();
    let mut hops = headers.flat_map(|value| value.as_bytes().rsplit(|byte| *byte == b','));
    while trusted_proxies.contains(&client) {
        match hops.next().and_then(parse_hop) {
            Some(address) => client = address,
            // No entry left, or one that is not an address: the last trusted proxy is
            // the nearest party known.
            None => break,
        }
    }
    client
}

/// An entry of `X-Forwarded-For`: an address, with a port as some proxies write it.
fn parse_hop(hop: &[u8]) -> Option<IpAddr> {
    let hop = std::str::from_utf8(hop).ok()?.trim();
    let address = hop.parse::<IpAddr>().or_else(|_| hop.parse::<SocketAddr>().map(|socket| socket.ip())).ok()?;
    Some(address.to_canonical())
}

fn bucket_of(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(_) => address,
        IpAddr::V6(v6) => {
            let [a, b, c, d, ..] = v6.segments();
            IpAddr::V6(Ipv6Addr::new(a, b, c, d, 0, 0, 0, 0))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(peer: &str, forwarded_for: &[&str]) -> Request<()> {
        let mut request = Request::new(());
        let peer: IpAddr = peer.parse().expect("an address");
        request.extensions_mut().insert(ConnectInfo(SocketAddr::new(peer, 40000)));
        for value in forwarded_for {
            request.headers_mut().append(X_FORWARDED_FOR, value.parse().expect("a header value"));
        }
        request
    }

    fn trusting(proxies: &str) -> TrustedProxies {
        proxies.parse().expect("proxies parse")
    }

    fn client(peer: &str, forwarded_for: &[&str], proxies: &str) -> String {
        client_address(&request(peer, forwarded_for), &trusting(proxies)).to_string()
    }

    #[test]
    fn the_peer_is_the_client_when_no_proxy_is_trusted() {
        assert_eq!(client("203.0.113.9", &["198.51.100.1"], ""), "203.0.113.9");
    }

    #[test]
    fn a_trusted_proxy_names_the_client() {
        assert_eq!(client("10.0.0.2", &["198.51.100.1"], "10.0.0.0/8"), "198.51.100.1");
    }

    #[test]
    fn addresses_a_client_prepended_are_not_believed() {
        assert_eq!(client("10.0.0.2", &["1.2.3.4, 198.51.100.1"], "10.0.0.0/8"), "198.51.100.1");
    }

    #[test]
    fn a_chain_of_trusted_proxies_is_walked_back_to_the_client() {
        assert_eq!(client("10.0.0.2", &["1.2.3.4, 198.51.100.1", "10.0.0.3"], "10.0.0.0/8"), "198.51.100.1");
    }

    #[test]
    fn an_untrusted_peer_cannot_name_another_client() {
        assert_eq!(client("203.0.113.9", &["10.0.0.3"], "10.0.0.0/8"), "203.0.113.9");
    }

    #[test]
    fn garbage_in_the_header_stops_at_the_last_trusted_hop() {
        assert_eq!(client("10.0.0.2", &["198.51.100.1, not-an-address"], "10.0.0.0/8"), "10.0.0.2");
    }

    #[test]
    fn an_entry_with_a_port_names_its_address() {
        assert_eq!(client("10.0.0.2", &["198.51.100.1:5678"], "10.0.0.0/8"), "198.51.100.1");
        assert_eq!(client("10.0.0.2", &["[2001:db8::1]:443"], "10.0.0.0/8"), "2001:db8::1");
    }

    #[test]
    fn an_entry_that_is_not_utf8_stops_at_the_last_trusted_hop() {
        let mut request = request("10.0.0.2", &[]);
        let value = axum::http::HeaderValue::from_bytes(b"198.51.100.1\xff").expect("a header value");
        request.headers_mut().append(X_FORWARDED_FOR, value);

        assert_eq!(client_address(&request, &trusting("10.0.0.0/8")).to_string(), "10.0.0.2");
    }

    #[test]
    fn an_ipv4_mapped_peer_is_read_as_ipv4() {
        assert_eq!(client("::ffff:10.0.0.2", &["198.51.100.1"], "10.0.0.0/8"), "198.51.100.1");
    }

    #[test]
    fn ipv6_clients_share_a_bucket_per_64_block() {
        let one = bucket_of("2001:db8:1:2::1".parse().expect("an address"));
        let other = bucket_of("2001:db8:1:2:ffff::9".parse().expect("an address"));

        assert_eq!(one, other);
        assert_ne!(one, bucket_of("2001:db8:1:3::1".parse().expect("an address")));
    }
}
