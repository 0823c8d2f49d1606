//! The access line, written by the service itself while only the JSON logs want it: the
//! same bytes the JSON log layer writes for tower-http's "finished processing request"
//! event in the request span, without building that event and serialising it field by
//! field. With an exporter on, the event is sent as before: exporters record it on the
//! request's span.

use std::{
    cell::RefCell,
    fmt::Write as _,
    io::Write as _,
    sync::OnceLock,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use tracing::Level;
use tracing_appender::non_blocking::NonBlocking;
use tracing_subscriber::fmt::MakeWriter;

use super::request_log::RequestFields;

/// The target and message of tower-http's event, which the line stands in for.
const TARGET: &str = "tower_http::trace::on_response";
const MESSAGE: &str = "finished processing request";

/// Where the service writes access lines itself: set at start-up for JSON logs with no exporter.
static STDOUT: OnceLock<NonBlocking> = OnceLock::new();

thread_local! {
    /// One line's bytes, reused by every request answered on this thread.
    static LINE: RefCell<String> = const { RefCell::new(String::new()) };
    /// The timestamp up to its second, and that second (since the epoch), as last
    /// written on this thread: formatted once a second, not once a line.
    static SECOND: RefCell<(String, u64)> = const { RefCell::new((String::new(), u64::MAX)) };
}

/// From now on, access lines go straight to `stdout`, the JSON log layer's writer.
pub(super) fn write_directly_to(stdout: NonBlocking) {
    STDOUT.set(stdout).ok();
}

/// Whether the service writes access lines itself.
pub(super) fn writes_directly() -> bool {
    STDOUT.get().is_some()
}

/// Writes the access line of a response in the request that `fields` describe, at its
/// span's level, where the log filter lets tower-http's event through.
pub(super) fn write(status: StatusCode, latency: Duration, fields: &RequestFields) {
    let Some(stdout) = STDOUT.get() else {
        return;
    };
    if !enabled(fields.level) {
        return;
    }
    LINE.with_borrow_mut(|line| {
        line.clear();
        if format(line, status, latency, fields).is_ok() {
            // A full buffer drops the line and counts it, as for every other line.
            stdout.make_writer().write_all(line.as_bytes()).ok();
        }
    });
}

/// Whether the log filter lets tower-http's event through at `level`, as it would decide for the event.
fn enabled(level: Level) -> bool {
    match level {
        Level::ERROR => tracing::enabled!(target: TARGET, Level::ERROR),
        Level::WARN => tracing::enabled!(target: TARGET, Level::WARN),
        Level::INFO => tracing::enabled!(target: TARGET, Level::INFO),
        Level::DEBUG => tracing::enabled!(target: TARGET, Level::DEBUG),
        Level::TRACE => tracing::enabled!(target: TARGET, Level::TRACE),
    }
}

/// The line as the JSON log layer writes the event (flattened, with the span list), in `span`.
fn format(line: &mut String, status: StatusCode, latency: Duration, fields: &RequestFields) -> std::fmt::Result {
    line.push_str(r#"{"timestamp":""#);
    write_timestamp(line, SystemTime::now())?;
    // Piece by piece: one `write!` of them all costs more than the rest of the line.
    line.push_str(r#"","level":""#);
    line.push_str(fields.level.as_str());
    line.push_str(r#"","message":""#);
    line.push_str(MESSAGE);
    line.push_str(r#"","latency":""#);
    write!(line, "{}", latency.as_millis())?;
    line.push_str(r#" ms","status":"#);
    line.push_str(status.as_str());
    line.push_str(r#","target":""#);
    line.push_str(TARGET);
    line.push('"');
    line.push_str(r#","spans":["#);
    fields.write_span(line)?;
    line.push_str("]}\n");
    Ok(())
}

/// `now` as the JSON log layer writes it: RFC 3339, in UTC, to the microsecond.
fn write_timestamp(line: &mut String, now: SystemTime) -> std::fmt::Result {
    let Ok(since_epoch) = now.duration_since(UNIX_EPOCH) else {
        // A clock set before 1970 has no second to cache by.
        return write!(line, "{}", DateTime::<Utc>::from(now).format("%Y-%m-%dT%H:%M:%S%.6fZ"));
    };
    SECOND.with_borrow_mut(|(up_to_second, second)| {
        if *second != since_epoch.as_secs() {
            up_to_second.clear();
            write!(up_to_second, "{}", DateTime::<Utc>::from(now).format("%Y-%m-%dT%H:%M:%S"))?;
            *second = since_epoch.as_secs();
        }
        line.push_str(up_to_second);
        write!(line, ".{:06}Z", since_epoch.subsec_micros())
    })
}

#[cfg(test)]
mod tests {
    use axum::http::{Request, Response};
    use tower_http::trace::{DefaultOnResponse, OnResponse};
    use chrono::SecondsFormat;
    use tracing_subscriber::{
        fmt::{format::Writer, time::FormatTime},
        layer::SubscriberExt,
    };

    use super::*;
    use crate::{config::LogFormat, request_id, telemetry::captured::Captured};

    /// The line without its timestamp's value, which differs by the microseconds between two lines.
    fn without_timestamp(line: &str) -> String {
        let (head, rest) = line.split_once(r#""timestamp":""#).expect("a timestamp");
        let (timestamp, tail) = rest.split_once('"').expect("a quoted timestamp");
        assert_eq!(timestamp.len(), "2026-01-01T00:00:00.000000Z".len(), "timestamp {timestamp}");
        format!(r#"{head}"timestamp":"{tail}"#)
    }

    #[test]
    fn the_access_line_is_the_json_log_layers_line_for_the_event_in_the_request_span_to_the_byte() {
        let captured = Captured::default();
        let subscriber = tracing_subscriber::registry().with(super::super::log_layer(LogFormat::Json, captured.clone()));
        let request = Request::get("/api/v1/items/7?page=%22two%22")
            .header(request_id::HEADER, r#"id-with-"quotes"-and-\"#)
            .body(())
            .expect("a request");
        let response = Response::builder().status(StatusCode::NOT_FOUND).body(()).expect("a response");
        let latency = Duration::from_micros(2_500);
        let mut written = String::new();

        tracing::subscriber::with_default(subscriber, || {
            let span = super::super::request_span(&request);
            let _entered = span.enter();
            DefaultOnResponse::new().level(Level::INFO).on_response(&response, latency, &span);
            let fields = RequestFields::of(&request).expect("the request span is enabled");
            format(&mut written, response.status(), latency, &fields).expect("the line formats");
        });

        let from_layer = captured.text();
        assert_eq!(without_timestamp(&written), without_timestamp(&from_layer));
    }

    fn timestamp(now: SystemTime) -> String {
        let mut written = String::new();
        write_timestamp(&mut written, now).expect("the timestamp formats");
        written
    }

    #[test]
    fn the_timestamp_is_the_json_log_layers_timestamp_for_the_same_instant() {
        let mut from_layer = String::new();
        tracing_subscriber::fmt::time::SystemTime.format_time(&mut Writer::new(&mut from_layer)).expect("the layer's timestamp");
        let instant = DateTime::parse_from_rfc3339(&from_layer).expect("an RFC 3339 timestamp");

        assert_eq!(timestamp(instant.into()), from_layer);
    }

    #[test]
    fn each_timestamp_has_its_own_second_and_microseconds() {
        let start = DateTime::parse_from_rfc3339("2026-12-31T23:59:59.999999Z").expect("a date");
        let before_1970 = DateTime::parse_from_rfc3339("1969-12-31T23:59:59.250000Z").expect("a date");
        let instants = [start, start + Duration::from_micros(1), start + Duration::from_secs(61), start + Duration::from_micros(1), before_1970];
        for instant in instants {
            assert_eq!(timestamp(instant.into()), instant.to_rfc3339_opts(SecondsFormat::Micros, true));
        }
    }
}
