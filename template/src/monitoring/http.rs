//! Requests by method, matched route and status: counted, timed, and gauged while in
//! flight. Labels take only bounded values, so no client can make new series: the
//! route is the pattern that matched (`/api/v1/items/{id}`), never the raw path, and
//! methods outside the standard ones share one label.

use std::{
    collections::HashMap,
    future::Future,
    pin::Pin,
    sync::{Arc, RwLock},
    task::{Context, Poll, ready},
    time::{Duration, Instant},
};

use axum::{
    extract::{MatchedPath, Request},
    http::{Method, Response, StatusCode},
};
use metrics::{Counter, Gauge, Histogram, Unit, counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram};
use pin_project_lite::pin_project;
use tower::{Layer, Service};

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

/// Records every request that reaches the router, refused ones included: put it
/// outermost. Made by [`track_requests`].
#[derive(Clone)]
pub struct TrackRequestsLayer {
    in_flight: Gauge,
    series: Arc<SeriesByRoute>,
}

/// The layer recording requests, on the handles of the recorder installed now.
pub fn track_requests() -> TrackRequestsLayer {
    TrackRequestsLayer {
        in_flight: gauge!("http_requests_in_flight"),
        series: Arc::default(),
    }
}

impl<S> Layer<S> for TrackRequestsLayer {
    type Service = TrackRequests<S>;

    fn layer(&self, inner: S) -> TrackRequests<S> {
        TrackRequests { inner, layer: self.clone() }
    }
}

/// The service of [`TrackRequestsLayer`]: a `tower::Service` rather than `from_fn`, which
/// would clone every layer beneath it for each request.
#[derive(Clone)]
pub struct TrackRequests<S> {
    inner: S,
    layer: TrackRequestsLayer,
}

impl<S, B> Service<Request> for TrackRequests<S>
where
    S: Service<Request, Response = Response<B>>,
{
    type Response = Response<B>;
    type Error = S::Error;
    type Future = Recorded<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let method = method_label(request.method());
        let route = request.extensions().get::<MatchedPath>().cloned();
        let in_flight = InFlight::start(&self.layer.in_flight);
        let series = Arc::clone(&self.layer.series);
        let started = Instant::now();
        Recorded { response: self.inner.call(request), method, route, series, started, _in_flight: in_flight }
    }
}

pin_project! {
    /// A request's answer, recorded as it comes; in flight until dropped.
    pub struct Recorded<F> {
        #[pin]
        response: F,
        method: &'static str,
        route: Option<MatchedPath>,
        series: Arc<SeriesByRoute>,
        started: Instant,
        _in_flight: InFlight,
    }
}

impl<F, B, E> Future for Recorded<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let response = ready!(this.response.poll(cx))?;
        let route = this.route.as_ref().map_or(UNMATCHED, MatchedPath::as_str);
        this.series.record(this.method, route, response.status(), this.started.elapsed());
        Poll::Ready(Ok(response))
    }
}

/// The counter and histogram of one method, route and status.
struct Series {
    requests: Counter,
    duration: Histogram,
}

/// Each label set's handles, registered on its first request. Registering looks up the
/// labelled key in the recorder, which costs several times the rest of the recording;
/// the label values are bounded, and so is this map.
#[derive(Default)]
struct SeriesByRoute(RwLock<HashMap<Box<str>, SeriesOfRoute>>);

/// A route's series, by method and status.
type SeriesOfRoute = HashMap<(&'static str, StatusCode), Series>;

impl SeriesByRoute {
    fn record(&self, method: &'static str, route: &str, status: StatusCode, elapsed: Duration) {
        let record = |series: &Series| {
            series.requests.increment(1);
            series.duration.record(elapsed);
        };
        if let Ok(routes) = self.0.read()
            && let Some(series) = routes.get(route).and_then(|series| series.get(&(method, status)))
        {
            return record(series);
        }
        let labels = [
            ("method", method.to_owned()),
            ("route", route.to_owned()),
            ("status", status.as_str().to_owned()),
        ];
        let series = Series {
            requests: counter!("http_requests_total", &labels),
            duration: histogram!("http_request_duration_seconds", &labels),
        };
        record(&series);
        if let Ok(mut routes) = self.0.write() {
            routes.entry(route.into()).or_default().insert((method, status), series);
        }
    }
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
struct InFlight(Gauge);

impl InFlight {
    fn start(gauge: &Gauge) -> Self {
        gauge.increment(1.0);
        Self(gauge.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.decrement(1.0);
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
