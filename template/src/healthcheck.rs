//! `healthcheck`: the container's HEALTHCHECK, for images that ship no curl.

use std::{net::IpAddr, time::Duration};

use anyhow::{Context, bail};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
    time::timeout,
};

use crate::config::HttpConfig;

const TIMEOUT: Duration = Duration::from_secs(3);

/// Succeeds only if `GET /health` on the configured address answers 200 within [`TIMEOUT`].
pub async fn run(config: &HttpConfig) -> anyhow::Result<()> {
    let status_line = timeout(TIMEOUT, get_health(&server_host(&config.host), config.port))
        .await
        .context("GET /health timed out")??;
    if status_line.split_whitespace().nth(1) != Some("200") {
        bail!("GET /health answered `{status_line}`");
    }
    Ok(())
}

/// Where the server is reached: `HOST`, or loopback when it listens on every address.
fn server_host(host: &str) -> String {
    match host.parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) if ip.is_unspecified() => "127.0.0.1".to_owned(),
        Ok(IpAddr::V6(ip)) if ip.is_unspecified() => "::1".to_owned(),
        _ => host.to_owned(),
    }
}

async fn get_health(host: &str, port: u16) -> anyhow::Result<String> {
    let mut stream = TcpStream::connect((host, port))
        .await
        .with_context(|| format!("nothing listens on {host} port {port}"))?;
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await?;
    let response = String::from_utf8_lossy(&response);
    Ok(response.lines().next().unwrap_or_default().to_owned())
}
