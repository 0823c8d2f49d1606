//! The proxy profile: Caddy in front of the app, serving the API over TLS with HSTS,
//! and not the probes, which are for Docker's health check on the app's own port; and
//! with the settings the example ships, each client behind it has a rate-limit bucket
//! of its own, which an `X-Forwarded-For` of the client's own making does not change.

use std::{process::Command, time::Instant};

use super::{
    Deployment,
    stack::{Stack, docker, set_setting, write_settings},
};
use crate::helpers::{run, succeeded};

/// The deployed settings with a rate limit small enough to exhaust in a few requests.
const PROXIED_ENV: &str = ".env.proxied";
const BURST: usize = 5;

impl Deployment<'_> {
    pub(super) fn check_proxy(&mut self) -> Result<(), String> {
        let stack = self.stack()?;
        succeeded(
            &stack.compose(300, &["--profile", "proxy", "up", "-d", "--wait", "proxy"]),
            "the proxy profile",
        )?;
        let outcome = serves_the_api_and_not_the_probes(&self.authorization()?);
        succeeded(
            &stack.compose(120, &["--profile", "proxy", "stop", "proxy"]),
            "stop the proxy",
        )?;
        outcome
    }

    pub(super) fn check_client_buckets(&mut self) -> Result<(), String> {
        let proxy_address = self.write_proxied_settings()?;
        let stack = self.stack()?;
        succeeded(
            &stack.compose_with(
                PROXIED_ENV,
                300,
                &["--profile", "proxy", "up", "-d", "--wait", "app", "proxy"],
            ),
            "the proxy profile with a small rate limit",
        )?;
        let outcome = each_client_has_its_own_bucket(stack, &proxy_address, &self.authorization()?);
        // The facts after this one run on the deployed settings, without the proxy.
        succeeded(
            &stack.compose(120, &["--profile", "proxy", "stop", "proxy"]),
            "stop the proxy",
        )?;
        succeeded(
            &stack.compose(300, &["up", "-d", "--wait", "app"]),
            "the app back on its deployed settings",
        )?;
        outcome
    }

    /// `.env.production` with a rate limit of [`BURST`] requests refilled at 1 a second,
    /// and the proxy serving its own address too (clients on the compose network ask
    /// for it by address); the proxy's address, as compose.production.yml fixes it.
    fn write_proxied_settings(&self) -> Result<String, String> {
        let deployed = std::fs::read_to_string(self.dir.join(".env.production"))
            .map_err(|error| format!(".env.production: {error}"))?;
        let mut settings: Vec<String> = deployed.lines().map(str::to_owned).collect();
        let prefix = settings
            .iter()
            .find_map(|line| line.strip_prefix("NETWORK_PREFIX="))
            .ok_or("no NETWORK_PREFIX in .env.production")?
            .to_owned();
        let proxy_address = format!("{prefix}.254");
        set_setting(&mut settings, "RATE_LIMIT_PER_SECOND", "1".into());
        set_setting(&mut settings, "RATE_LIMIT_BURST", BURST.to_string());
        set_setting(
            &mut settings,
            "DOMAIN",
            format!("\"localhost, {proxy_address}\""),
        );
        write_settings(&self.dir.join(PROXIED_ENV), &settings)?;
        Ok(proxy_address)
    }
}

/// Over TLS with HSTS from the host's published port; the probes answered 404.
fn serves_the_api_and_not_the_probes(authorization: &str) -> Result<(), String> {
    let (status, head) = through_the_proxy("/api/v1/items", authorization);
    if status != "200" {
        return Err(format!(
            "https://localhost/api/v1/items through the proxy: expected 200, saw {head:?}"
        ));
    }
    if !head
        .lines()
        .any(|line| line.trim_end() == "strict-transport-security: max-age=31536000")
    {
        return Err(format!(
            "the proxy sent no Strict-Transport-Security header: {head:?}"
        ));
    }
    for probe in ["/health", "/health/ready"] {
        let (status, head) = through_the_proxy(probe, authorization);
        if status != "404" {
            return Err(format!(
                "the probe {probe} through the proxy: expected 404 (probes are not public), saw {head:?}"
            ));
        }
    }
    Ok(())
}

/// Two clients of their own addresses on the compose network: one exhausts its bucket,
/// the other is still served, and the first gains nothing by naming another address in
/// `X-Forwarded-For`, through the proxy or to the app directly.
fn each_client_has_its_own_bucket(
    stack: &Stack,
    proxy_address: &str,
    authorization: &str,
) -> Result<(), String> {
    let proxy = stack.container("proxy")?;
    let network = stack.inspect(
        &proxy,
        "{{range $name, $_ := .NetworkSettings.Networks}}{{$name}}{{end}}",
    );
    let image = stack.inspect(&proxy, "{{.Config.Image}}");
    let (greedy, other) = (
        Client::start(stack, &network, &image, authorization)?,
        Client::start(stack, &network, &image, authorization)?,
    );
    let url = format!("https://{proxy_address}/api/v1/items");
    let started = Instant::now();
    let first = greedy.get(&url, 2 * BURST, None)?;
    if !first.contains(&429) {
        return Err(format!(
            "{} requests from one client through the proxy, over a burst of {BURST}: expected some 429, saw {first:?}",
            2 * BURST
        ));
    }
    let second = other.get(&url, 1, None)?;
    if second != [200] {
        return Err(format!(
            "a second client ({}) after the first ({}) used up its bucket: expected 200, saw {second:?} (one bucket for every client behind the proxy)",
            other.address, greedy.address
        ));
    }
    // Through the proxy, which replaces the header; and to the app directly, which must
    // not believe it from anyone but the proxy.
    let direct = format!("http://{}/api/v1/items", stack.app_address()?);
    for (way, url) in [
        ("through the proxy", &url),
        ("to the app directly", &direct),
    ] {
        let spoofed = greedy.get(url, 2 * BURST, Some("X-Forwarded-For: 198.51.100.7"))?;
        // At 1 a second, the bucket has refilled by at most this much since it was emptied.
        let refilled = started.elapsed().as_secs() as usize + 1;
        let served = spoofed.iter().filter(|status| **status == 200).count();
        if served > refilled {
            return Err(format!(
                "the first client naming 198.51.100.7 in X-Forwarded-For, {way}: expected at most {refilled} served (its own bucket's refill), saw {spoofed:?}"
            ));
        }
    }
    Ok(())
}

/// A container on the compose network, asking the proxy with the proxy image's wget,
/// each request with the caller's `Authorization`.
struct Client {
    container: String,
    address: String,
    authorization: String,
}

impl Client {
    fn start(
        stack: &Stack,
        network: &str,
        image: &str,
        authorization: &str,
    ) -> Result<Self, String> {
        let container = succeeded(
            &run(docker(60).args([
                "run",
                "-d",
                "--rm",
                "--network",
                network,
                "--entrypoint",
                "sleep",
                image,
                "300",
            ])),
            "a client container",
        )?
        .trim()
        .to_owned();
        let address = stack.ip(&container);
        Ok(Self {
            container,
            address,
            authorization: authorization.to_owned(),
        })
    }

    /// The statuses of `count` requests for `url` on one connection, with `header`.
    fn get(&self, url: &str, count: usize, header: Option<&str>) -> Result<Vec<u16>, String> {
        let mut command = docker(60);
        command.args([
            "exec",
            &self.container,
            "wget",
            "-S",
            "-O",
            "/dev/null",
            "--tries=1",
            "-T",
            "10",
            "--no-check-certificate",
        ]);
        command.arg(format!("--header=Authorization: {}", self.authorization));
        if let Some(header) = header {
            command.arg(format!("--header={header}"));
        }
        let output = run(command.args(std::iter::repeat_n(url, count)));
        let log = String::from_utf8_lossy(&output.stderr);
        let statuses: Vec<u16> = log
            .lines()
            .filter_map(|line| line.trim_start().strip_prefix("HTTP/"))
            .filter_map(|status| status.split_whitespace().nth(1)?.parse().ok())
            .collect();
        if statuses.len() != count {
            return Err(format!(
                "{count} requests for {url} from {}: {} answers\n{log}",
                self.address,
                statuses.len()
            ));
        }
        Ok(statuses)
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        run(docker(60).args(["rm", "-f", &self.container]));
    }
}

/// `path` asked of the proxy over TLS, retried while it starts: the status of the last
/// answer and its headers, lowercase.
fn through_the_proxy(path: &str, authorization: &str) -> (String, String) {
    let proxied = run(Command::new("curl").args([
        "-sk",
        "-H",
        &format!("Authorization: {authorization}"),
        "--retry",
        "15",
        "--retry-all-errors",
        "--retry-delay",
        "1",
        "-o",
        "/dev/null",
        "-D",
        "-",
        &format!("https://localhost{path}"),
    ]));
    let headers = String::from_utf8_lossy(&proxied.stdout).to_ascii_lowercase();
    let head = last_response_head(&headers).to_owned();
    let status = head
        .lines()
        .next()
        .and_then(|line| line.split_whitespace().nth(1))
        .unwrap_or_default()
        .to_owned();
    (status, head)
}

/// The headers of the last attempt in what `curl -D -` dumped: a retried attempt dumps
/// its own first.
fn last_response_head(headers: &str) -> &str {
    headers
        .trim_end()
        .rsplit("\r\n\r\n")
        .next()
        .unwrap_or_default()
}
