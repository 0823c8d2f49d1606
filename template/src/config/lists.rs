//! The comma-separated list settings, each entry parsed and any bad one refused: the
//! origins CORS allows, and the proxies trusted to name the client.

use std::{net::IpAddr, str::FromStr};

use axum::http::{HeaderValue, Uri};
use ipnet::IpNet;

/// The origins CORS allows, each as the `Origin` header a browser sends for it.
#[derive(Debug, Clone, Default)]
pub struct AllowedOrigins(Vec<HeaderValue>);

impl AllowedOrigins {
    pub fn header_values(&self) -> impl Iterator<Item = HeaderValue> + '_ {
        self.0.iter().cloned()
    }
}

impl FromStr for AllowedOrigins {
    type Err = String;

    fn from_str(list: &str) -> Result<Self, String> {
        let origins = list.split(',').map(str::trim).filter(|origin| !origin.is_empty());
        origins.map(parse_origin).collect::<Result<_, _>>().map(Self)
    }
}

/// `scheme://host[:port]` with an http(s) scheme and nothing else: a browser's `Origin`
/// never has a path, a user or a wildcard, so such an entry could never match.
fn parse_origin(origin: &str) -> Result<HeaderValue, String> {
    let origin = origin.trim_end_matches('/');
    let refused = || format!("`{origin}` is not an origin: use scheme://host[:port], for example https://app.example.com");
    let uri: Uri = origin.parse().map_err(|_| refused())?;
    let is_origin = matches!(uri.scheme_str(), Some("http" | "https"))
        && uri.authority().is_some_and(|authority| !authority.as_str().contains('@'))
        && uri.path_and_query().is_none_or(|target| target.as_str() == "/");
    if !is_origin {
        return Err(refused());
    }
    HeaderValue::from_str(origin).map_err(|_| refused())
}

/// The networks a request may come through and still name its client in `X-Forwarded-For`.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    pub fn contains(&self, address: &IpAddr) -> bool {
        self.0.iter().any(|network| network.contains(address))
    }
}

impl FromStr for TrustedProxies {
    type Err = String;

    fn from_str(list: &str) -> Result<Self, String> {
        let entries = list.split(',').map(str::trim).filter(|entry| !entry.is_empty());
        entries.map(parse_network).collect::<Result<_, _>>().map(Self)
    }
}

/// A CIDR such as `10.0.0.0/8`, or one address.
fn parse_network(entry: &str) -> Result<IpNet, String> {
    entry
        .parse::<IpNet>()
        .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| format!("`{entry}` is not an address or a CIDR such as 10.0.0.0/8"))
}

#[cfg(test)]
mod tests {
    use crate::config::cli::parse;

    #[test]
    fn an_invalid_cors_origin_is_refused_naming_its_variable() {
        let error = parse(&["--cors-allowed-origins", "https://ok.example,bad\norigin"])
            .expect_err("a bad origin was accepted");

        assert!(error.contains("CORS_ALLOWED_ORIGINS"), "error: {error}");
    }

    #[test]
    fn a_wildcard_or_a_path_is_not_an_origin() {
        for list in ["*", "https://app.example/path", "app.example", "ftp://app.example", "https://user@app.example"] {
            let error = parse(&["--cors-allowed-origins", list]).expect_err(list);

            assert!(error.contains("is not an origin"), "{list}: {error}");
        }
    }

    #[test]
    fn origins_are_read_trimmed_without_their_trailing_slash() {
        let config = parse(&["--cors-allowed-origins", " https://a.example/, http://b.example:8080 ,"]).expect("origins parse");

        let origins: Vec<_> = config.http.cors_allowed_origins.header_values().collect();

        assert_eq!(origins, ["https://a.example", "http://b.example:8080"]);
    }

    #[test]
    fn trusted_proxies_take_cidrs_and_single_addresses() {
        let config = parse(&["--trusted-proxies", "10.0.0.0/8, 192.0.2.7,fd00::/8"]).expect("proxies parse");

        let proxies = &config.rate_limit.trusted_proxies;

        for inside in ["10.1.2.3", "192.0.2.7", "fd00::1"] {
            assert!(proxies.contains(&inside.parse().expect("an address")), "{inside} is trusted");
        }
        for outside in ["11.0.0.1", "192.0.2.8", "::1"] {
            assert!(!proxies.contains(&outside.parse().expect("an address")), "{outside} is not trusted");
        }
    }

    #[test]
    fn a_trusted_proxy_that_is_not_a_network_is_refused_naming_its_variable() {
        let error = parse(&["--trusted-proxies", "10.0.0.0/8,proxy.internal"]).expect_err("a host name was accepted");

        assert!(error.contains("TRUSTED_PROXIES") && error.contains("proxy.internal"), "error: {error}");
    }

    #[test]
    fn no_proxy_is_trusted_by_default() {
        let config = parse(&[]).expect("the defaults parse");

        assert!(!config.rate_limit.trusted_proxies.contains(&"127.0.0.1".parse().expect("an address")));
    }
}
