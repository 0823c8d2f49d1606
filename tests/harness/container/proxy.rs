//! The proxy profile: Caddy in front of the app, serving the API over TLS with HSTS,
//! and not the probes, which are for Docker's health check on the app's own port.

use std::process::Command;

use super::Deployment;
use crate::helpers::{run, succeeded};

impl Deployment<'_> {
    pub(super) fn check_proxy(&mut self) -> Result<(), String> {
        let stack = self.stack()?;
        succeeded(
            &stack.compose(300, &["--profile", "proxy", "up", "-d", "--wait", "proxy"]),
            "the proxy profile",
        )?;
        let api = through_the_proxy("/api/v1/items");
        let probes = ["/health", "/health/ready"].map(|probe| (probe, through_the_proxy(probe)));
        succeeded(
            &stack.compose(120, &["--profile", "proxy", "stop", "proxy"]),
            "stop the proxy",
        )?;
        let (status, head) = api;
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
        for (probe, (status, head)) in probes {
            if status != "404" {
                return Err(format!(
                    "the probe {probe} through the proxy: expected 404 (probes are not public), saw {head:?}"
                ));
            }
        }
        Ok(())
    }
}

/// `path` asked of the proxy over TLS, retried while it starts: the status of the last
/// answer and its headers, lowercase.
fn through_the_proxy(path: &str) -> (String, String) {
    let proxied = run(Command::new("curl").args([
        "-sk",
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
