//! What every test binary shares: the service in-process over a real socket (`app`),
//! or the compiled binary run as an operator would, environment in, stdout and exit
//! status out (the rest of this module).
// Each test binary uses its own part of this module.
#![allow(dead_code)]

pub mod app;
{% if redis -%}
pub mod cache;
{% endif -%}
pub mod tokens;
{% if sentry or otel -%}
pub mod receiver;
{% endif -%}
{% if database == "postgres" -%}
mod postgres;
pub use postgres::TestDatabase;
{% else -%}
mod sqlite;
pub use sqlite::TestDatabase;
{% endif -%}

use std::{
    io::{BufRead, BufReader},
    net::{TcpListener, TcpStream},
    process::{Child, Command, ExitStatus, Output, Stdio},
    sync::{Arc, Mutex},
    thread::JoinHandle,
    time::{Duration, Instant},
};

pub const BINARY: &str = env!("CARGO_BIN_EXE_{{project-name}}");

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port")
}

/// The response's body as JSON. The tests' reqwest has no `json` feature: a dev-dependency
/// feature would give reqwest, and everything built on it, a second build beside the
/// service's own, so `cargo build` after `cargo test` would compile them again.
pub async fn json_body(response: reqwest::Response) -> serde_json::Value {
    let body = response.bytes().await.expect("a body");
    serde_json::from_slice(&body).unwrap_or_else(|error| panic!("not JSON ({error}): {}", String::from_utf8_lossy(&body)))
}

/// Runs the binary to completion with `args` and extra environment.
pub fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(BINARY)
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("the binary runs")
}

/// A token granting every scope, as `dev-token` prints it for the default settings.
pub fn dev_token() -> String {
    let output = run(&["dev-token"], &[]);
    assert!(output.status.success(), "dev-token failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// A client of the API, sending [`dev_token`] as a caller with every scope would.
pub fn api_client() -> reqwest::Client {
    let authorization = reqwest::header::HeaderValue::try_from(format!("Bearer {}", dev_token())).expect("a token is a header value");
    let headers = reqwest::header::HeaderMap::from_iter([(reqwest::header::AUTHORIZATION, authorization)]);
    reqwest::Client::builder().default_headers(headers).build().expect("the client builds")
}

/// Runs the binary with `variable=value` and asserts it refuses to start, naming the variable.
pub fn assert_refused_naming(variable: &str, value: &str) {
    let output = run(&[], &[(variable, value)]);

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{variable}={value:?} was accepted");
    assert!(stderr.contains(variable), "the error does not name {variable}: {stderr}");
}

/// Starts `serve` with `env` on top, asserts `/health` answers 200 and SIGTERM exits 0.
pub async fn assert_serves_with(env: &[(&str, &str)]) {
    let database = TestDatabase::create().await;
    let server = Server::start(&database, env);

    let response = reqwest::get(server.url("/health")).await.expect("request sent");

    assert_eq!(response.status(), 200, "/health with {env:?}");
    let (status, _) = server.stop();
    assert!(status.success(), "exit status {status} with {env:?}");
}

/// `serve` running in the background, its stdout collected line by line.
pub struct Server {
    child: Child,
    pub host: String,
    pub port: u16,
    lines: Arc<Mutex<Vec<String>>>,
    reader: Option<JoinHandle<()>>,
}

impl Server {
    /// Starts `serve` on a port it picks itself and waits until it says it listens.
    pub fn start(database: &TestDatabase, env: &[(&str, &str)]) -> Self {
        let mut command = Command::new(BINARY);
        command.env("HOST", "127.0.0.1");
        Self::spawn(command, database, env)
    }

    /// Like [`Server::start`], with `HOST` left to the service's default.
    pub fn start_on_the_default_host(database: &TestDatabase) -> Self {
        let mut command = Command::new(BINARY);
        command.env_remove("HOST");
        Self::spawn(command, database, &[])
    }

    /// Like [`Server::start`], with the open-file soft limit most systems give a process.
    pub fn start_with_open_file_limit(database: &TestDatabase, env: &[(&str, &str)], limit: u32) -> Self {
        let mut command = Command::new("sh");
        command.args(["-c", &format!("ulimit -Sn {limit} && exec \"$0\""), BINARY]).env("HOST", "127.0.0.1");
        Self::spawn(command, database, env)
    }

    fn spawn(mut command: Command, database: &TestDatabase, env: &[(&str, &str)]) -> Self {
        let host = env.iter().find(|(name, _)| *name == "HOST").map_or("127.0.0.1", |(_, host)| host).to_owned();
        let mut child = command
            .envs([
                // Port 0: a port chosen here and freed could be taken by another test's
                // listener before the server binds it.
                ("PORT", "0"),
                ("METRICS_PORT", "0"),
                ("DATABASE_URL", database.url.as_str()),
                ("LOG_FORMAT", "json"),
                ("RUST_LOG", "info"),
            ])
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let reader = std::thread::spawn({
            let lines = Arc::clone(&lines);
            move || {
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    lines.lock().expect("log lines").push(line);
                }
            }
        });
        let mut server = Self { child, host, port: 0, lines, reader: Some(reader) };
        server.port = server.wait_until_listening();
        server
    }

    /// The port of the server's `listening` log line, once it has written it.
    fn wait_until_listening(&self) -> u16 {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let port = self.lines().iter().find_map(|line| {
                let line: serde_json::Value = serde_json::from_str(line).ok()?;
                let address = line.get("address")?.as_str()?;
                (line["message"] == "listening").then(|| address.rsplit(':').next()?.parse().ok())?
            });
            if let Some(port) = port {
                return port;
            }
            assert!(Instant::now() < deadline, "the server did not say it listens within 30 s:\n{}", self.lines().join("\n"));
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// A new connection to the server.
    pub fn connect(&self) -> TcpStream {
        TcpStream::connect((self.host.as_str(), self.port)).expect("connects to the server")
    }

    /// The server's resident memory, in KiB, as the kernel counts it (Linux).
    pub fn resident_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).expect("the server's /proc status");
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS in /proc status")
    }

    /// Every log line so far.
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().expect("log lines").clone()
    }

    pub fn url(&self, path: &str) -> String {
        let host = if self.host.contains(':') { format!("[{}]", self.host) } else { self.host.clone() };
        format!("http://{host}:{}{path}", self.port)
    }

    /// Sends SIGTERM, as `docker stop` does, and returns the exit status and every log line.
    pub fn stop(self) -> (ExitStatus, Vec<String>) {
        self.terminate();
        self.wait()
    }

    /// Sends SIGTERM and returns at once, leaving the server to drain.
    pub fn terminate(&self) {
        let pid = self.child.id().to_string();
        let killed = Command::new("kill").args(["-TERM", &pid]).status().expect("kill runs");
        assert!(killed.success(), "could not signal {pid}");
    }

    /// Waits for the server to exit; its exit status and every log line.
    pub fn wait(mut self) -> (ExitStatus, Vec<String>) {
        let status = self.child.wait().expect("the server exits");
        if let Some(reader) = self.reader.take() {
            reader.join().expect("stdout reader");
        }
        let lines = self.lines.lock().expect("log lines").clone();
        (status, lines)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // A failed test must not leave the server running.
        self.child.kill().ok();
    }
}
