//! Plain HTTP/1.1 exchanges on a new connection each, for checks that must see
//! exactly what a server sent (status line, headers, a truncated body).

use std::{
    io::{Read, Write},
    net::TcpStream,
    time::Duration,
};

/// A complete HTTP response: its status, its header lines (lowercased names) and its body.
pub struct Response {
    pub status: u16,
    pub head: String,
    pub body: String,
}

impl Response {
    /// The value of header `name` (lowercase), if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim().eq_ignore_ascii_case(name).then(|| value.trim())
        })
    }
}

/// One plain HTTP/1.1 exchange; the status and body of a complete response.
pub fn http(
    address: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Result<(u16, String), String> {
    exchange(address, method, path, headers, body).map(|response| (response.status, response.body))
}

/// One plain HTTP/1.1 exchange on a new connection. An error starts with `connect` when
/// no connection was made, and with `unanswered` when the connection was reset before a
/// byte of a response came back.
pub fn exchange(
    address: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Result<Response, String> {
    let mut stream = TcpStream::connect(address).map_err(|e| format!("connect: {e}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(15))).ok();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: harness\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    // A write fails only on a reset: like the read below, a connection never answered.
    stream
        .write_all(request.as_bytes())
        .map_err(|e| format!("unanswered: write: {e}"))?;
    let mut bytes = Vec::new();
    if let Err(error) = stream.read_to_end(&mut bytes) {
        return Err(if bytes.is_empty() {
            format!("unanswered: {error}")
        } else {
            format!("read: {error}")
        });
    }
    let response = String::from_utf8_lossy(&bytes).into_owned();
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| format!("no status line in {response:?}"))?;
    let (head, body) = response
        .split_once("\r\n\r\n")
        .ok_or("truncated response")?;
    let response = Response {
        status,
        head: head.to_owned(),
        body: body.to_owned(),
    };
    if let Some(length) = response
        .header("content-length")
        .map(|n| n.parse::<usize>().unwrap_or(0))
        && response.body.len() < length
    {
        return Err(format!(
            "truncated body: {} of {length} bytes",
            response.body.len()
        ));
    }
    Ok(response)
}
