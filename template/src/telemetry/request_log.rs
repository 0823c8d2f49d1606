//! A request's place in the JSON logs without a span, while those logs are the only
//! reader: the fields its span would record are kept in a task-local and written as that
//! span would be, in the access line and in every other line logged while the request is
//! handled. A span costs a slot in the registry, its fields formatted as it opens, and a
//! registry update each time the request is polled; with an exporter, which reads spans,
//! or with the pretty format, the request span is made as before.
//!
//! A task-local is the task's, where a span is wherever it is entered: lines logged on
//! another thread for the request (SQLite's worker thread, where sqlx logs its slow
//! statements) carry no request fields, and a span entered within a request lists the
//! request first. `RUST_LOG` directives naming the span or its fields (`[request]`,
//! `[{route=...}]`) apply only while the span is made.

use std::{
    fmt,
    io,
    task::{Context, Poll},
};

use axum::{
    extract::MatchedPath,
    http::{HeaderValue, Method, Request, Uri},
};
use tokio::task::futures::TaskLocalFuture;
use tower::{Layer, Service};
use tracing::{Level, Subscriber};
use tracing_subscriber::{
    fmt::{FmtContext, FormatEvent, FormatFields, format::Writer},
    registry::LookupSpan,
};

use super::{access_line, loggable, request_span_enabled, request_span_level};
use crate::request_id;

tokio::task_local! {
    static CURRENT: Option<RequestFields>;
}

/// What the request span would record, as the request arrived.
#[derive(Clone)]
pub struct RequestFields {
    method: Method,
    uri: Uri,
    route: Option<MatchedPath>,
    request_id: HeaderValue,
    pub(super) level: Level,
}

impl RequestFields {
    /// The fields of `request`, if the log filter lets its span through.
    pub(super) fn of<B>(request: &Request<B>) -> Option<Self> {
        let route = request.extensions().get::<MatchedPath>().cloned();
        let level = request_span_level(route.as_ref().map(MatchedPath::as_str));
        request_span_enabled(level).then(|| Self {
            method: request.method().clone(),
            uri: request.uri().clone(),
            route,
            request_id: request.headers().get(request_id::HEADER).cloned().unwrap_or(HeaderValue::from_static("")),
            level,
        })
    }

    /// `{...,"name":"request"}`: the span's object in a line's span list, its fields in
    /// the order the JSON log layer writes them (by name).
    pub(super) fn write_span(&self, line: &mut String) -> fmt::Result {
        line.push_str(r#"{"method":"#);
        push_json_string(line, self.method.as_str())?;
        line.push_str(r#","request_id":"#);
        push_json_string(line, self.request_id.to_str().unwrap_or_default())?;
        if let Some(route) = &self.route {
            line.push_str(r#","route":"#);
            push_json_string(line, route.as_str())?;
        }
        line.push_str(r#","uri":"#);
        push_json_string(line, &loggable(&self.uri))?;
        line.push_str(r#","name":"request"}"#);
        Ok(())
    }
}

/// Calls `f` with the fields of the request being handled, if its span would be logged.
pub(super) fn with_current<R>(f: impl FnOnce(&RequestFields) -> R) -> Option<R> {
    CURRENT.try_with(|fields| fields.as_ref().map(f)).ok().flatten()
}

/// `value` as a JSON string, escaped as the JSON log layer escapes it.
fn push_json_string(line: &mut String, value: &str) -> fmt::Result {
    // Most values need no escape: these are the only bytes JSON escapes.
    if !value.bytes().any(|byte| byte < 0x20 || byte == b'"' || byte == b'\\') {
        line.push('"');
        line.push_str(value);
        line.push('"');
        return Ok(());
    }
    serde_json::to_writer(IntoString(line), value).map_err(|_| fmt::Error)
}

/// Takes the UTF-8 that `serde_json` writes, in the pieces it writes it.
struct IntoString<'a>(&'a mut String);

impl io::Write for IntoString<'_> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0.push_str(std::str::from_utf8(bytes).map_err(io::Error::other)?);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Keeps the fields of each request for the layers beneath, while the service writes its
/// access lines itself (JSON logs, no exporter); put it just outside tower-http's `TraceLayer`.
#[derive(Debug, Clone, Copy)]
pub struct RequestFieldsLayer;

impl<S> Layer<S> for RequestFieldsLayer {
    type Service = KeepRequestFields<S>;

    fn layer(&self, inner: S) -> KeepRequestFields<S> {
        KeepRequestFields { inner }
    }
}

#[derive(Debug, Clone)]
pub struct KeepRequestFields<S> {
    inner: S,
}

impl<S: Service<Request<B>>, B> Service<Request<B>> for KeepRequestFields<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = TaskLocalFuture<Option<RequestFields>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let fields = access_line::writes_directly().then(|| RequestFields::of(&request)).flatten();
        // The layers beneath log in `call` too (tower-http's "started processing request").
        let response = CURRENT.sync_scope(fields.clone(), || self.inner.call(request));
        CURRENT.scope(fields, response)
    }
}

/// The JSON event format, with the request's span object put in each line logged while a
/// request without a span is handled: first in the span list, or as the whole list.
pub(super) struct InRequest<F>(pub F);

impl<S, N, F> FormatEvent<S, N> for InRequest<F>
where
    S: Subscriber + for<'lookup> LookupSpan<'lookup>,
    N: for<'writer> FormatFields<'writer> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(&self, context: &FmtContext<'_, S, N>, mut writer: Writer<'_>, event: &tracing::Event<'_>) -> fmt::Result {
        let in_request = with_current(|fields| {
            let mut line = String::new();
            self.0.format_event(context, Writer::new(&mut line), event)?;
            with_request_span(line, fields)
        });
        match in_request {
            Some(line) => writer.write_str(&line?),
            None => self.0.format_event(context, writer, event),
        }
    }
}

/// The JSON log layer's `line` for an event, with the request span first in its span list.
fn with_request_span(mut line: String, fields: &RequestFields) -> Result<String, fmt::Error> {
    const SPAN_LIST: &str = r#","spans":["#;
    let mut span = String::new();
    fields.write_span(&mut span)?;
    // A key's quotes are never escaped, and the span list is the line's last key.
    if let Some(list) = line.rfind(SPAN_LIST).map(|list| list + SPAN_LIST.len()) {
        if !line[list..].starts_with(']') {
            span.push(',');
        }
        line.insert_str(list, &span);
    } else if let Some(end) = line.rfind('}') {
        line.insert_str(end, &format!("{SPAN_LIST}{span}]"));
    }
    Ok(line)
}

#[cfg(test)]
mod tests {
    use axum::{Router, body::Body, routing::get};
    use tower::ServiceExt;
    use tracing_subscriber::layer::SubscriberExt;

    use super::*;
    use crate::{config::LogFormat, telemetry::captured::Captured};

    /// What a handler logs: an event of its own, one in a span it opens, and one whose
    /// parent is a span it has not entered.
    fn log_in_a_handler() {
        tracing::warn!(attempt = 2, "a \"quoted\" warning");
        tracing::info_span!("lookup", table = "items").in_scope(|| tracing::info!("nested"));
        let detached = tracing::info_span!(parent: None, "detached");
        tracing::info!(parent: &detached, "with a parent not entered");
    }

    /// The lines [`log_in_a_handler`] writes in the JSON logs, in the request span or
    /// with the request's fields in place of a span, timestamps cut.
    fn lines_logged(request: &Request<Body>, with_span: bool) -> Vec<String> {
        let captured = Captured::default();
        let subscriber = tracing_subscriber::registry().with(super::super::log_layer(LogFormat::Json, captured.clone()));
        tracing::subscriber::with_default(subscriber, || {
            if with_span {
                super::super::request_span(request).in_scope(log_in_a_handler);
            } else {
                CURRENT.sync_scope(RequestFields::of(request), log_in_a_handler);
            }
        });
        let text = captured.text();
        text.lines().map(|line| line.split_once(r#","level""#).map_or(line, |(_, rest)| rest).to_owned()).collect()
    }

    #[test]
    fn a_string_is_escaped_as_serde_json_escapes_it() {
        for value in ["", "/api/v1/items/7?q=plain", "say \"hi\"", "back\\slash", "tab\there", "\u{1}\u{1f}\u{7f}", "caf\u{e9} \u{1f980}"] {
            let mut written = String::new();
            push_json_string(&mut written, value).expect("the string formats");

            assert_eq!(written, serde_json::to_string(value).expect("serde_json formats it"), "for {value:?}");
        }
    }

    #[tokio::test]
    async fn a_line_logged_without_the_request_span_is_the_line_logged_in_it_to_the_byte() {
        let router = Router::new().route(
            "/api/v1/items/{id}",
            get(|request: Request<Body>| async move {
                let (in_span, in_fields) = (lines_logged(&request, true), lines_logged(&request, false));
                assert_eq!(in_span.len(), 3, "lines: {in_span:#?}");
                assert!(in_span.iter().all(|line| line.contains(r#""route":"/api/v1/items/{id}""#)), "lines: {in_span:#?}");
                assert_eq!(in_fields, in_span);
            }),
        );
        let request = Request::get("/api/v1/items/7?name=%22q%22")
            .header(request_id::HEADER, r#"id-with-"quotes"-and-\"#)
            .body(Body::empty())
            .expect("a request");

        let response = router.oneshot(request).await.expect("the router answers");

        assert_eq!(response.status(), 200, "the handler's assertions failed; see above");
    }
}
