//! Requests by method, matched route and status: counted, timed, and gauged while in
//! flight. Labels take only bounded values, so no client can make new series: the
//! route is the pattern that matched (`/api/v1/items/{id}`), never the raw path, and
//! methods outside the standard ones share one label.

use std::time::Instant;

use axum::{
    extract::{MatchedPath, Request},
    http::Method,
    middleware::Next,
    response::Response,
};
use metrics::{Unit, counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram};

/// The route label of a request no route matched.
const UNMATCHED: &str = "unmatched";

pub(super) fn describe() {
    describe_counter!("http_requests_total", "Requests answered, by method, matched route and status.");
    describe_histogram!(
        "http_request_duration_seconds",
        Unit::Seconds,
        "Time from a request's arrival to its response headers, by method, matched route and status."
    );
    describe_gauge!("http_requests_in_flight", "Requests being handled now.");
}

/// Middleware recording every request that reaches the router, refused ones included.
pub async fn track_requests(request: Request, next: Next) -> Response {
    let method = method_label(request.method());
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or(UNMATCHED, MatchedPath::as_str)
        .to_owned();
    let _in_flight = InFlight::start();
    let started = Instant::now();
    let response = next.run(request).await;
    let labels = [
        ("method", method.to_owned()),
        ("route", route),
        ("status", response.status().as_str().to_owned()),
    ];
    counter!("http_requests_total", &labels).increment(1);
    histogram!("http_request_duration_seconds", &labels).record(started.elapsed());
    response
}

/// The method as a label: the standard methods by name, any other as `other`.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "other",
    }
}

/// Counts a request in flight until dropped, which a cancelled request is too.
struct InFlight;

impl InFlight {
    fn start() -> Self {
        gauge!("http_requests_in_flight").increment(1.0);
        Self
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        gauge!("http_requests_in_flight").decrement(1.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_made_up_method_is_labelled_other() {
        let brew = Method::from_bytes(b"BREW").expect("a valid extension method");

        assert_eq!(method_label(&brew), "other");
    }

    #[test]
    fn standard_methods_keep_their_name() {
        assert_eq!(method_label(&Method::DELETE), "DELETE");
    }
}
