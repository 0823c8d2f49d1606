//! Fake servers on the host that containers talk to: a [`Receiver`] standing in for a
//! telemetry backend (OTLP, Sentry), and an [`Unready`] upstream among the replicas.
//! Both bind every interface, so containers reach them on the bridge's address.

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::{TcpListener, TcpStream},
    sync::{Arc, Mutex},
    thread,
};

/// A stand-in for a telemetry backend on the host: records every request body.
pub(super) struct Receiver {
    pub(super) port: u16,
    bodies: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl Receiver {
    pub(super) fn start() -> Self {
        let listener = TcpListener::bind("0.0.0.0:0").expect("receiver binds");
        let port = listener.local_addr().expect("receiver address").port();
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let recorded = Arc::clone(&bodies);
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let recorded = Arc::clone(&recorded);
                thread::spawn(move || record(&stream, &recorded));
            }
        });
        Self { port, bodies }
    }

    pub(super) fn received(&self) -> Vec<Vec<u8>> {
        self.bodies.lock().expect("bodies").clone()
    }
}

/// Reads one request, keeps its body, and answers 200 with an empty JSON object.
fn record(stream: &TcpStream, recorded: &Mutex<Vec<Vec<u8>>>) {
    let mut reader = BufReader::new(stream);
    let mut length = 0;
    let mut line = String::new();
    while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
        if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = value.trim().parse().unwrap_or(0);
        }
        line.clear();
    }
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_ok() {
        recorded.lock().expect("bodies").push(body);
    }
    let mut stream = stream;
    stream
        .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}")
        .ok();
}

/// An upstream that is alive but never ready, like a replica that lost its database:
/// `/health` 200, `/health/ready` 503, and a 500 for anything else, which it counts.
pub(super) struct Unready {
    pub(super) port: u16,
    /// Readiness checks answered, and other requests.
    seen: Arc<Mutex<(usize, usize)>>,
}

impl Unready {
    pub(super) fn start() -> Self {
        let listener = TcpListener::bind("0.0.0.0:0").expect("the unready upstream binds");
        let port = listener.local_addr().expect("its address").port();
        let seen = Arc::new(Mutex::new((0, 0)));
        let counted = Arc::clone(&seen);
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                answer_unready(&stream, &counted);
            }
        });
        Self { port, seen }
    }

    /// Readiness checks answered, and other requests.
    pub(super) fn seen(&self) -> (usize, usize) {
        *self.seen.lock().expect("counts")
    }
}

/// Answers one request as an upstream that is alive but never ready, counting it.
fn answer_unready(stream: &TcpStream, counted: &Mutex<(usize, usize)>) {
    let mut reader = BufReader::new(stream);
    let mut request_line = String::new();
    reader.read_line(&mut request_line).ok();
    let mut header = String::new();
    while reader.read_line(&mut header).is_ok_and(|n| n > 2) {
        header.clear();
    }
    let path = request_line.split_whitespace().nth(1).unwrap_or_default();
    let status = match path {
        "/health" => "200 OK",
        "/health/ready" => {
            counted.lock().expect("counts").0 += 1;
            "503 Service Unavailable"
        }
        _ => {
            counted.lock().expect("counts").1 += 1;
            "500 Internal Server Error"
        }
    };
    let mut stream = stream;
    stream
        .write_all(
            format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                .as_bytes(),
        )
        .ok();
}
