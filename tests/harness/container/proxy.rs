//! The proxy profile: Caddy in front of the app, serving it over TLS with HSTS.

use std::process::Command;

use super::Deployment;
use crate::helpers::{run, succeeded, tail};

impl Deployment<'_> {
    pub(super) fn check_proxy(&mut self) -> Result<(), String> {
        let stack = self.stack()?;
        succeeded(
            &stack.compose(300, &["--profile", "proxy", "up", "-d", "--wait", "proxy"]),
            "the proxy profile",
        )?;
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
            "https://localhost/health",
        ]));
        succeeded(
            &stack.compose(120, &["--profile", "proxy", "stop", "proxy"]),
            "stop the proxy",
        )?;
        let headers = String::from_utf8_lossy(&proxied.stdout).to_ascii_lowercase();
        let last = last_response_head(&headers);
        if last
            .lines()
            .next()
            .and_then(|status| status.split_whitespace().nth(1))
            != Some("200")
        {
            return Err(format!(
                "https://localhost/health through the proxy: expected 200, saw {last:?} {}",
                tail(&proxied, 5)
            ));
        }
        if !last
            .lines()
            .any(|line| line.trim_end() == "strict-transport-security: max-age=31536000")
        {
            return Err(format!(
                "the proxy sent no Strict-Transport-Security header: {last:?}"
            ));
        }
        Ok(())
    }
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
