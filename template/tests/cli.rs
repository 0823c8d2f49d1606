//! The binary as operators and containers use it.

mod support;

use std::{
    io::{Read, Write},
    net::TcpStream,
    thread,
    time::{Duration, Instant},
};

use {{crate_name}}::db::DbPool;
use support::{Server, TestDatabase, free_port, run};

#[test]
fn an_invalid_value_is_refused_naming_its_variable() {
    support::assert_refused_naming("PORT", "not-a-port");
}

#[test]
fn production_refuses_a_placeholder_secret() {
    let output = run(
        &[],
        &[
            ("APP_ENV", "production"),
            ("DATABASE_URL", "postgres://app:CHANGE_ME@db:5432/app"),
        ],
    );

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "a placeholder secret was accepted");
    assert!(stderr.contains("DATABASE_URL"), "the error does not name DATABASE_URL: {stderr}");
}

#[test]
fn a_secret_given_both_directly_and_as_a_file_is_refused_naming_both() {
    let output = run(&["migrate"], &[("DATABASE_URL", "postgres://app:direct@db/app"), ("DATABASE_URL_FILE", "/run/secrets/database_url")]);

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "both were accepted");
    assert!(stderr.contains("DATABASE_URL and DATABASE_URL_FILE are both set"), "stderr: {stderr}");
}

#[test]
fn an_unreadable_secret_file_stops_the_binary_naming_the_variable_and_the_path() {
    // An empty DATABASE_URL counts as unset, as compose.secrets.yml's environment leaves it.
    let output = run(&["migrate"], &[("DATABASE_URL", ""), ("DATABASE_URL_FILE", "/nonexistent/database_url")]);

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "a missing secret file was accepted");
    assert!(stderr.contains("DATABASE_URL_FILE: could not read /nonexistent/database_url"), "stderr: {stderr}");
}

#[tokio::test]
async fn migrate_reads_the_database_url_from_its_file() {
    let database = TestDatabase::create().await;
    let file = std::env::temp_dir().join(format!("database_url-{}", std::process::id()));
    std::fs::write(&file, format!("{}\n", database.url)).expect("secret file written");

    let output = run(&["migrate"], &[("DATABASE_URL", ""), ("DATABASE_URL_FILE", file.to_str().expect("a UTF-8 path"))]);

    std::fs::remove_file(&file).ok();
    assert!(output.status.success(), "migrate failed: {}", String::from_utf8_lossy(&output.stderr));
}

#[test]
fn help_documents_the_environment() {
    let output = run(&["--help"], &[]);

    let help = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success());
    let variables = [
        "DATABASE_URL",
        "PORT",
        "RUST_LOG",
        "LOG_FORMAT",
        "SHUTDOWN_TIMEOUT_SECS",
        "HEADER_READ_TIMEOUT_SECS",
        "KEEP_ALIVE_TIMEOUT_SECS",
        "MAX_CONNECTIONS",
        "MAX_HEADER_BYTES",
        "MAX_REQUEST_ID_LENGTH",
    ];
    for variable in variables {
        assert!(help.contains(&format!("[env: {variable}")), "--help does not document {variable}:\n{help}");
    }
}

/// clap shows `[env: NAME=value]` for a variable that is set: a secret's value must not be.
#[test]
fn help_shows_no_secret_set_in_the_environment() {
    let secret = "s3cret-in-the-environment";
    let url = |scheme: &str| format!("{scheme}://app:{secret}@db.internal:1/app");
    let (database_url, redis_url, sentry_dsn) = (url("postgres"), url("redis"), url("https"));
    let environment = [("DATABASE_URL", database_url.as_str()), ("REDIS_URL", redis_url.as_str()), ("SENTRY_DSN", sentry_dsn.as_str())];

    let output = run(&["--help"], &environment);

    let printed = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "--help failed: {printed}");
    assert!(!printed.contains(secret), "--help printed a secret from the environment:\n{printed}");
}

#[test]
fn healthcheck_fails_when_nothing_listens() {
    let port = free_port().to_string();

    let output = run(&["healthcheck"], &[("PORT", &port)]);

    assert!(!output.status.success(), "healthcheck passed with no server");
}

#[tokio::test]
async fn healthcheck_passes_against_a_running_server() {
    let database = TestDatabase::create().await;
    let server = Server::start(&database, &[]);

    let output = run(&["healthcheck"], &[("PORT", &server.port.to_string())]);

    assert!(output.status.success(), "healthcheck failed: {}", String::from_utf8_lossy(&output.stderr));
}

#[tokio::test]
async fn sigterm_stops_the_server_with_exit_code_0() {
    let database = TestDatabase::create().await;
    let server = Server::start(&database, &[]);

    let (status, lines) = server.stop();

    assert!(status.success(), "exit status {status}; logs:\n{}", lines.join("\n"));
}

#[tokio::test]
async fn a_connection_accepted_before_sigterm_still_gets_its_request_answered() {
    let database = TestDatabase::create().await;
    let server = Server::start(&database, &[]);
    let mut connection = TcpStream::connect(("127.0.0.1", server.port)).expect("connects");
    // The server accepts the connection; its request is still on the way when the signal lands.
    thread::sleep(Duration::from_millis(300));
    server.terminate();
    thread::sleep(Duration::from_millis(200));

    connection
        .write_all(b"GET /health HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        .expect("request sent");
    let mut response = Vec::new();
    let read = connection.read_to_end(&mut response);
    let (_, lines) = server.wait();

    let response = String::from_utf8_lossy(&response);
    assert!(
        response.starts_with("HTTP/1.1 200"),
        "expected a 200 response, saw {read:?} {response:?}; logs:\n{}",
        lines.join("\n")
    );
}

#[tokio::test]
async fn logs_are_json_lines_carrying_the_request_id() {
    let database = TestDatabase::create().await;
    let server = Server::start(&database, &[]);

    support::api_client()
        .get(server.url("/api/v1/items/424242"))
        .header("x-request-id", "trace-me-123")
        .send()
        .await
        .expect("request sent");
    let (_, lines) = server.stop();

    for line in &lines {
        serde_json::from_str::<serde_json::Value>(line).unwrap_or_else(|error| panic!("not JSON ({error}): {line}"));
    }
    let request_lines: Vec<_> = lines.iter().filter(|line| line.contains("/api/v1/items/424242")).collect();
    assert!(!request_lines.is_empty(), "no log line for the request:\n{}", lines.join("\n"));
    for line in request_lines {
        assert!(line.contains("trace-me-123"), "a line of the request lacks its id: {line}");
    }
}

#[tokio::test]
async fn migrate_applies_the_migrations_and_exits_0() {
    let database = TestDatabase::create().await;

    let output = run(&["migrate"], &[("DATABASE_URL", &database.url)]);

    assert!(output.status.success(), "migrate failed: {}", String::from_utf8_lossy(&output.stderr));
    let pool = DbPool::connect(&database.url).await.expect("database reachable");
    sqlx::query("SELECT count(*) FROM items").execute(&pool).await.expect("the items table exists");
}

#[tokio::test]
async fn migrate_runs_on_a_database_a_newer_release_migrated() {
    let database = TestDatabase::create().await;
    assert!(run(&["migrate"], &[("DATABASE_URL", &database.url)]).status.success(), "the first migrate failed");
    let pool = DbPool::connect(&database.url).await.expect("database reachable");
    sqlx::query("INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES ($1, $2, TRUE, $3, 0)")
        .bind(99_991_231_000_000_i64)
        .bind("from a newer release")
        .bind(vec![0_u8])
        .execute(&pool)
        .await
        .expect("a newer release's migration recorded");

    let output = run(&["migrate"], &[("DATABASE_URL", &database.url)]);

    assert!(output.status.success(), "migrate refused a database ahead of it: {}", String::from_utf8_lossy(&output.stderr));
}

/// Reads what the server sends until it closes the connection, or `deadline` passes.
fn read_until_closed(connection: &mut TcpStream, deadline: Instant) -> Result<Vec<u8>, std::io::Error> {
    let left = deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(10));
    connection.set_read_timeout(Some(left)).expect("read timeout set");
    let mut received = Vec::new();
    connection.read_to_end(&mut received).map(|_| received)
}

#[tokio::test]
async fn connections_queued_in_the_kernel_at_sigterm_are_answered() {
    let database = TestDatabase::create().await;
    // One slot: the held connection takes it, so the next ones wait in the kernel's queue.
    let server = Server::start(&database, &[("MAX_CONNECTIONS", "1")]);
    let _holder = server.connect();
    thread::sleep(Duration::from_millis(300));
    let mut queued: Vec<TcpStream> = (0..4)
        .map(|_| {
            let mut connection = server.connect();
            connection
                .write_all(b"GET /health HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
                .expect("request sent");
            connection
        })
        .collect();
    thread::sleep(Duration::from_millis(200));

    server.terminate();

    let answers: Vec<String> = queued
        .iter_mut()
        .map(|connection| match read_until_closed(connection, Instant::now() + Duration::from_secs(10)) {
            Ok(response) => String::from_utf8_lossy(&response).lines().next().unwrap_or_default().to_owned(),
            Err(error) => format!("no answer: {error}"),
        })
        .collect();
    let (status, lines) = server.wait();
    assert!(
        answers.iter().all(|answer| answer.starts_with("HTTP/1.1 200")),
        "expected four 200 answers, saw {answers:?}; exit {status}; logs:\n{}",
        lines.join("\n")
    );
}

/// More connections than the default open-file soft limit.
const HELD_CONNECTIONS: usize = 1100;

/// `count` connections to `server`: even ones send nothing, odd ones stop in the middle
/// of their request's headers.
fn idle_and_half_sent(server: &Server, count: usize) -> Vec<TcpStream> {
    (0..count)
        .map(|index| {
            let mut connection = server.connect();
            if index % 2 == 1 {
                connection.write_all(b"GET /health HTTP/1.1\r\nHost: te").expect("half a request sent");
            }
            connection
        })
        .collect()
}

#[tokio::test]
async fn health_answers_while_more_connections_than_the_default_file_limit_are_held() {
    // The test holds as many sockets as the server: it needs the room too.
    {{crate_name}}::server::raise_open_file_limit().expect("the open-file limit can be raised");
    let database = TestDatabase::create().await;
    let server = Server::start_with_open_file_limit(&database, &[], 1024);
    let held = idle_and_half_sent(&server, HELD_CONNECTIONS);

    let health = reqwest::Client::new()
        .get(server.url("/health"))
        // Well within the header-read timeout: an answer must not wait for held connections to close.
        .timeout(Duration::from_secs(2))
        .send()
        .await;
    drop(held);
    let (_, lines) = server.stop();

    let status = health.as_ref().map(reqwest::Response::status);
    assert!(
        status.as_ref().is_ok_and(|status| *status == 200),
        "GET /health while {HELD_CONNECTIONS} connections were held: expected 200, saw {status:?}; last logs:\n{}",
        lines[lines.len().saturating_sub(20)..].join("\n")
    );
}

#[tokio::test]
async fn idle_and_half_sent_connections_are_closed_after_the_header_read_timeout() {
    let database = TestDatabase::create().await;
    let server = Server::start(&database, &[("HEADER_READ_TIMEOUT_SECS", "1")]);
    let opened = Instant::now();
    let mut held = idle_and_half_sent(&server, 20);

    let deadline = opened + Duration::from_secs(4);
    let still_open = held
        .iter_mut()
        .map(|connection| read_until_closed(connection, deadline))
        .filter(|outcome| {
            outcome.as_ref().is_err_and(|error| {
                matches!(error.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut)
            })
        })
        .count();
    let closed_after = opened.elapsed();
    server.stop();

    assert_eq!(still_open, 0, "connections still open 4 s after they opened, with HEADER_READ_TIMEOUT_SECS=1");
    assert!(closed_after >= Duration::from_millis(900), "connections closed after {closed_after:?}, before the 1 s timeout");
}

/// After a first request, hyper's own header timer restarts at the keep-alive timeout:
/// the next request's headers, sent a byte at a time, must still be cut off in time.
#[tokio::test]
async fn a_kept_alive_connections_next_headers_are_cut_off_after_the_header_read_timeout() {
    let database = TestDatabase::create().await;
    let server = Server::start(&database, &[("HEADER_READ_TIMEOUT_SECS", "1")]);
    let mut connection = server.connect();
    connection.write_all(b"GET /health HTTP/1.1\r\nHost: test\r\n\r\n").expect("request sent");
    let answered = read_until(&mut connection, br#""ok"}"#, Instant::now() + Duration::from_secs(2));
    assert!(answered, "the first request on the connection was not answered");

    let trickle_started = Instant::now();
    let trickler = trickle(&connection, b"GET /health HTTP/1.1\r\nHost: test\r\nX-Slow: yes\r\n", Duration::from_secs(6));
    let outcome = read_until_closed(&mut connection, trickle_started + Duration::from_secs(4));
    let closed_after = trickle_started.elapsed();
    let still_open = outcome.is_err_and(|error| matches!(error.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut));
    drop(connection);
    trickler.join().ok();
    server.stop();

    assert!(!still_open, "the connection was still open {closed_after:?} into its second request's headers, with HEADER_READ_TIMEOUT_SECS=1");
    assert!(closed_after >= Duration::from_millis(900), "closed after {closed_after:?}, before the 1 s timeout");
}

/// Reads until `expected` has arrived, or `deadline`; whether it arrived.
fn read_until(connection: &mut TcpStream, expected: &[u8], deadline: Instant) -> bool {
    let mut received = Vec::new();
    let mut chunk = [0; 1024];
    while Instant::now() < deadline {
        let left = deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(10));
        connection.set_read_timeout(Some(left)).expect("read timeout set");
        match connection.read(&mut chunk) {
            Ok(0) | Err(_) => return false,
            Ok(read) => received.extend_from_slice(&chunk[..read]),
        }
        if received.windows(expected.len()).any(|window| window == expected) {
            return true;
        }
    }
    false
}

/// Sends `bytes` one every 200 ms, on a thread, until they run out, the connection
/// closes, or `limit` has passed.
fn trickle(connection: &TcpStream, bytes: &'static [u8], limit: Duration) -> thread::JoinHandle<()> {
    let mut writer = connection.try_clone().expect("a second handle on the connection");
    let started = Instant::now();
    thread::spawn(move || {
        for byte in bytes {
            if started.elapsed() > limit || writer.write_all(std::slice::from_ref(byte)).is_err() {
                return;
            }
            thread::sleep(Duration::from_millis(200));
        }
    })
}

/// What one connection may hold besides its header buffer: hyper's connection state,
/// the task and its socket. `.env.production.example` and the harness's check of the
/// default limits against the container's memory count on it.
const CONNECTION_OVERHEAD_KIB: u64 = 8;

#[tokio::test]
async fn a_header_block_over_max_header_bytes_is_answered_431() {
    let database = TestDatabase::create().await;
    let server = Server::start(&database, &[("MAX_HEADER_BYTES", "8192")]);
    let mut connection = server.connect();
    let filler = "a".repeat(9000);
    connection.write_all(format!("GET /health HTTP/1.1\r\nHost: test\r\nX-Filler: {filler}\r\n\r\n").as_bytes()).expect("request sent");

    let answer = read_until_closed(&mut connection, Instant::now() + Duration::from_secs(3)).unwrap_or_default();
    server.stop();

    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 431"), "expected 431, saw: {answer}");
}

/// Many connections each sending a header block far over the limit, never finished:
/// each must cost at most the limit, where hyper's own buffer would take 400 KB.
#[tokio::test]
async fn a_flood_of_unfinished_header_blocks_costs_each_connection_at_most_max_header_bytes() {
    const CONNECTIONS: u64 = 200;
    let database = TestDatabase::create().await;
    let server = Server::start(&database, &[("MAX_HEADER_BYTES", "16384")]);
    let before = server.resident_kib();
    let block = format!("GET /health HTTP/1.1\r\nHost: test\r\nX-Filler: {}", "a".repeat(300 * 1024));
    let held: Vec<TcpStream> = (0..CONNECTIONS)
        .map(|_| {
            let connection = server.connect();
            connection.set_nonblocking(true).expect("non-blocking");
            // As much as the kernel takes at once, which is over the limit: the rest does not matter.
            let sent = (&connection).write(block.as_bytes()).unwrap_or(0);
            assert!(sent > 16 * 1024, "the kernel took only {sent} bytes of the header block");
            connection
        })
        .collect();
    thread::sleep(Duration::from_secs(2));

    let per_connection = server.resident_kib().saturating_sub(before) / CONNECTIONS;
    drop(held);
    server.stop();

    let bound = 16 + CONNECTION_OVERHEAD_KIB;
    assert!(per_connection <= bound, "each connection took {per_connection} KiB, over MAX_HEADER_BYTES + {CONNECTION_OVERHEAD_KIB} KiB = {bound} KiB");
}

/// The JSON log lines that answer a request: its access-log line.
fn access_lines(lines: &[String]) -> Vec<serde_json::Value> {
    lines
        .iter()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|line| line["message"] == "finished processing request")
        .collect()
}

#[tokio::test]
async fn each_api_request_gets_one_access_line_with_route_status_latency_and_id() {
    let database = TestDatabase::create().await;
    let server = Server::start(&database, &[]);

    support::api_client()
        .get(server.url("/api/v1/items/424242"))
        .header("x-request-id", "access-1")
        .send()
        .await
        .expect("request sent");
    let (_, lines) = server.stop();

    let access = access_lines(&lines);
    assert_eq!(access.len(), 1, "expected one access line, saw:\n{}", lines.join("\n"));
    let line = &access[0];
    let span = &line["spans"][0];
    assert_eq!(span["method"], "GET", "{line}");
    assert_eq!(span["route"], "/api/v1/items/{id}", "{line}");
    assert_eq!(span["request_id"], "access-1", "{line}");
    assert_eq!(line["status"], 404, "{line}");
    assert!(line["latency"].is_string(), "no latency in {line}");
}

#[tokio::test]
async fn probes_are_not_logged_at_info() {
    let database = TestDatabase::create().await;
    let server = Server::start(&database, &[]);

    for path in ["/health", "/health/ready"] {
        reqwest::get(server.url(path)).await.expect("probe answered");
    }
    let (_, lines) = server.stop();

    let access = access_lines(&lines);
    assert!(access.is_empty(), "expected no access line for probes at info, saw {access:?}");
}

#[tokio::test]
async fn probes_are_logged_at_debug() {
    let database = TestDatabase::create().await;
    let server = Server::start(&database, &[("RUST_LOG", "info,{{crate_name}}=debug,tower_http=debug")]);

    reqwest::get(server.url("/health")).await.expect("probe answered");
    let (_, lines) = server.stop();

    let access = access_lines(&lines);
    assert_eq!(access.len(), 1, "expected one access line for the probe at debug, saw:\n{}", lines.join("\n"));
    assert_eq!(access[0]["level"], "DEBUG", "{}", access[0]);
    assert_eq!(access[0]["spans"][0]["route"], "/health", "{}", access[0]);
}

#[tokio::test]
async fn every_line_logged_before_sigterm_is_written_before_exit() {
    let database = TestDatabase::create().await;
    let server = Server::start(&database, &[]);

    let client = support::api_client();
    for _ in 0..200 {
        client.get(server.url("/api/v1/items/424242")).send().await.expect("request sent");
    }
    let (status, lines) = server.stop();

    assert!(status.success(), "exit status {status}");
    assert_eq!(access_lines(&lines).len(), 200, "access lines written of 200 requests");
    assert!(lines.iter().any(|line| line.contains("\"stopped\"")), "no `stopped` line in:\n{}", lines.join("\n"));
}

#[tokio::test]
async fn a_long_query_string_is_logged_cut_short() {
    let database = TestDatabase::create().await;
    let server = Server::start(&database, &[]);

    support::api_client()
        .get(server.url(&format!("/api/v1/items?padding={}", "x".repeat(60_000))))
        .send()
        .await
        .expect("request sent");
    let (_, lines) = server.stop();

    let longest = lines.iter().map(String::len).max().unwrap_or_default();
    assert!(longest < 2_000, "a log line of {longest} bytes: the URL was logged whole");
}

#[tokio::test]
async fn healthcheck_checks_the_address_the_server_listens_on() {
    let database = TestDatabase::create().await;
    let server = Server::start(&database, &[("HOST", "::1")]);

    let output = run(&["healthcheck"], &[("HOST", "::1"), ("PORT", &server.port.to_string())]);

    assert!(output.status.success(), "healthcheck failed: {}", String::from_utf8_lossy(&output.stderr));
}

/// Outside the image (`cargo run`, the tests), nothing is reachable from another host.
#[tokio::test]
async fn without_host_the_api_and_the_metrics_listen_on_loopback_only() {
    let database = TestDatabase::create().await;
    let server = Server::start_on_the_default_host(&database);

    let (_, lines) = server.stop();

    let listening = lines.iter().filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok()).find(|line| line["message"] == "listening").expect("a `listening` line");
    for field in ["address", "metrics_address"] {
        let address = listening[field].as_str().unwrap_or_default();
        assert!(address.starts_with("127.0.0.1:"), "{field}: expected 127.0.0.1:PORT, saw `{address}`");
    }
}

/// Pipelined requests for the API docs' script bundle: far more answer than the kernel's
/// buffers on both sides hold, so the server's writes stall while nobody reads.
const STALLED_REQUESTS: usize = 64;

/// A client that asks for large answers and stops reading holds its connection for
/// `SEND_TIMEOUT_SECS`, not for as long as another timer happens to allow.
#[tokio::test]
async fn a_client_that_stops_reading_is_disconnected_after_the_send_timeout() {
    let database = TestDatabase::create().await;
    let server = Server::start(&database, &[("SEND_TIMEOUT_SECS", "2")]);
    let mut connection = server.connect();
    let request = b"GET /api/docs/swagger-ui-bundle.js HTTP/1.1\r\nHost: test\r\n\r\n";
    connection.write_all(&request.repeat(STALLED_REQUESTS)).expect("requests sent");

    thread::sleep(Duration::from_secs(5));
    let received = read_until_closed(&mut connection, Instant::now() + Duration::from_secs(10));

    let closed = match &received {
        Ok(_) => true,
        Err(error) => error.kind() == std::io::ErrorKind::ConnectionReset,
    };
    assert!(closed, "expected the connection closed 2 s into the stall, saw it still open 15 s later ({received:?})", received = received.as_ref().map(Vec::len));
}

/// A server whose 2 MB body budget is held by two unfinished 1 MB bodies, and those two
/// connections.
fn server_with_its_body_budget_held(database: &TestDatabase) -> (Server, Vec<TcpStream>) {
    let server = Server::start(database, &[("MAX_BODY_BYTES", "1000000"), ("MAX_BUFFERED_BODY_BYTES", "2000000")]);
    let mut unfinished: Vec<TcpStream> = (0..2).map(|_| server.connect()).collect();
    for connection in &mut unfinished {
        connection.write_all(&item_body_head(1_000_000)).expect("headers and the start of a body sent");
    }
    thread::sleep(Duration::from_millis(300));
    (server, unfinished)
}

/// An item's POST up to the start of a body of `length` announced bytes.
fn item_body_head(length: u64) -> Vec<u8> {
    let token = support::dev_token();
    let head = format!("POST /api/v1/items HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n\r\n");
    (head + r#"{"name": ""#).into_bytes()
}

/// Bodies received at once share `MAX_BUFFERED_BODY_BYTES`: past it, a request is
/// answered 503 before its body is read, where the service would hold every body.
#[tokio::test]
async fn a_body_past_the_buffered_body_budget_is_answered_503_before_it_is_read() {
    let database = TestDatabase::create().await;
    let (server, unfinished) = server_with_its_body_budget_held(&database);
    let mut third = server.connect();

    third.write_all(&item_body_head(1_000_000)).expect("headers and the start of a body sent");

    let shed = read_until(&mut third, b"HTTP/1.1 503", Instant::now() + Duration::from_secs(5));
    drop(unfinished);
    assert!(shed, "expected 503 within 5 s for a third 1 MB body over a 2 MB budget, saw no such answer");
}

/// A body announced over `MAX_BODY_BYTES` is refused for good (413), even while the
/// budget is short: a 503 would invite the client to send it again.
#[tokio::test]
async fn a_body_announced_over_the_limit_is_answered_413_while_the_budget_is_held() {
    let database = TestDatabase::create().await;
    let (server, unfinished) = server_with_its_body_budget_held(&database);
    let mut oversized = server.connect();

    oversized.write_all(&item_body_head(2_000_000)).expect("headers and the start of a body sent");

    let refused = read_until(&mut oversized, b"HTTP/1.1 413", Instant::now() + Duration::from_secs(5));
    drop(unfinished);
    assert!(refused, "expected 413 within 5 s for a 2 MB body over the 1 MB limit while the budget is held, saw no such answer");
}

#[test]
fn production_without_a_key_to_verify_tokens_is_refused_naming_the_settings() {
    let output = run(&[], &[("APP_ENV", "production"), ("DATABASE_URL", "postgres://app:s3cr3t-value@db:5432/app")]);

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "production started without a key");
    for setting in ["AUTH_JWKS_URL", "AUTH_PUBLIC_KEY_FILE", "AUTH_HMAC_SECRET", "AUTH_DISABLED"] {
        assert!(stderr.contains(setting), "the error does not name {setting}: {stderr}");
    }
}

#[test]
fn production_refuses_the_development_secret_as_the_hmac_secret() {
    let development_secret = concat!(env!("CARGO_PKG_NAME"), "-development-secret-not-for-production");
    let env = [("APP_ENV", "production"), ("DATABASE_URL", "postgres://app:s3cr3t-value@db:5432/app"), ("AUTH_HMAC_SECRET", development_secret)];

    let output = run(&[], &env);

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success() && stderr.contains("AUTH_HMAC_SECRET"), "expected a refusal naming AUTH_HMAC_SECRET, saw: {stderr}");
}

#[test]
fn an_hmac_secret_shorter_than_32_bytes_is_refused() {
    support::assert_refused_naming("AUTH_HMAC_SECRET", "too-short");
}

#[test]
fn dev_token_is_refused_in_production() {
    let output = run(&["dev-token"], &[("APP_ENV", "production"), ("AUTH_HMAC_SECRET", "a-production-secret-of-at-least-32-bytes")]);

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "dev-token printed a token in production: {}", String::from_utf8_lossy(&output.stdout));
    assert!(stderr.contains("APP_ENV=production"), "the error does not say why: {stderr}");
}

#[tokio::test]
async fn a_refused_token_is_logged_with_its_reason_and_subject_never_itself() {
    let database = TestDatabase::create().await;
    let server = Server::start(&database, &[]);
    let token = support::dev_token();
    let (header_and_claims, _) = token.rsplit_once('.').expect("a token has a signature");
    let forged = format!("{header_and_claims}.bm90LXRoZS1zaWduYXR1cmU");

    let response = reqwest::Client::new().get(server.url("/api/v1/items")).bearer_auth(&forged).send().await.expect("request sent");
    let (_, lines) = server.stop();

    assert_eq!(response.status(), 401);
    let refused: Vec<_> = lines.iter().filter(|line| line.contains("bearer token refused")).collect();
    assert_eq!(refused.len(), 1, "expected one refusal line, saw:\n{}", lines.join("\n"));
    assert!(refused[0].contains(r#""level":"INFO""#) && refused[0].contains("bad signature") && refused[0].contains("developer"), "{}", refused[0]);
    assert!(lines.iter().all(|line| !line.contains(header_and_claims)), "the token was logged:\n{}", lines.join("\n"));
}

#[tokio::test]
async fn turning_authentication_off_is_logged_as_a_warning_at_start() {
    let database = TestDatabase::create().await;
    let server = Server::start(&database, &[("AUTH_DISABLED", "true")]);

    let response = reqwest::get(server.url("/api/v1/items")).await.expect("request sent");
    let (_, lines) = server.stop();

    assert_eq!(response.status(), 200, "a caller without a token was refused");
    let warned = lines.iter().any(|line| line.contains(r#""level":"WARN""#) && line.contains("AUTH_DISABLED"));
    assert!(warned, "no warning naming AUTH_DISABLED in:\n{}", lines.join("\n"));
}

/// As compose and the Kubernetes ConfigMap pass the key settings not in use.
#[tokio::test]
async fn empty_key_settings_in_the_environment_count_as_unset() {
    support::assert_serves_with(&[("AUTH_JWKS_URL", ""), ("AUTH_PUBLIC_KEY_FILE", ""), ("AUTH_HMAC_SECRET", "")]).await;
}
