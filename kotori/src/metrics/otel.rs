//! OpenTelemetry (feature `otel`): every request as a server span named `{method} {http.route}`
//! with a child span per step that awaited, its parent taken from the request's `traceparent`,
//! and `http.server.request.duration` recorded with the same attributes as the tree's own
//! measurements — through the global providers and propagator the app installs (kotori depends
//! on the OpenTelemetry API only; the SDK and its exporter are the app's choice).
//!
//! Install them before [`Kotori::build`](crate::Kotori::build): the tree takes its tracer and
//! meter then.
//!
//! ```
//! use opentelemetry::global;
//!
//! // The app's choice of SDK and exporter, e.g. opentelemetry-otlp; here none (no-ops).
//! let app = kotori::Kotori::new(());
//! app.get("/hello", || async { "hi" });
//! let app = app.build().unwrap(); // spans and measurements go to the global providers
//! # let _ = (app, global::tracer("kotori"));
//! ```

use std::borrow::Cow;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use opentelemetry::metrics::Histogram;
use opentelemetry::propagation::Extractor;
use opentelemetry::trace::{Span, SpanKind, Status, TraceContextExt, Tracer};
use opentelemetry::{KeyValue, global};

use super::histogram::BOUNDARIES;

/// The tracer and the duration histogram, taken from the global providers at build.
pub(crate) struct Otel {
    tracer: global::BoxedTracer,
    duration: Histogram<f64>,
}

/// A step that awaited: which, when it started, how long, whether it passed.
pub(crate) struct Awaited {
    pub(crate) step: Arc<str>,
    pub(crate) started: Instant,
    pub(crate) took: Duration,
    pub(crate) passed: bool,
}

/// What one finished request hands over.
pub(crate) struct Finished<'a> {
    pub(crate) method: &'a str,
    /// The route template, or `None` with the node's prefix.
    pub(crate) route: Option<&'a Arc<str>>,
    pub(crate) node: Option<&'a Arc<str>>,
    pub(crate) status: u16,
    pub(crate) step: Option<&'a Arc<str>>,
    pub(crate) code: Option<u32>,
    pub(crate) started: Instant,
    pub(crate) headers: &'a http::HeaderMap,
    pub(crate) awaited: &'a [Awaited],
}

/// Reads `traceparent` (and whatever the installed propagator reads) from request headers.
struct Headers<'a>(&'a http::HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}

impl Otel {
    pub(crate) fn from_globals() -> Self {
        let meter = global::meter("kotori");
        Otel {
            tracer: global::tracer("kotori"),
            duration: meter
                .f64_histogram("http.server.request.duration")
                .with_unit("s")
                .with_description("Duration of HTTP server requests.")
                .with_boundaries(BOUNDARIES.to_vec())
                .build(),
        }
    }

    pub(crate) fn record(&self, done: &Finished<'_>) {
        let mut attributes = Vec::with_capacity(5);
        attributes.push(KeyValue::new("http.request.method", done.method.to_owned()));
        if let Some(route) = done.route {
            attributes.push(KeyValue::new("http.route", Arc::clone(route)));
        } else if let Some(node) = done.node {
            attributes.push(KeyValue::new("kotori.node", Arc::clone(node)));
        }
        attributes.push(KeyValue::new(
            "http.response.status_code",
            i64::from(done.status),
        ));
        if let Some(step) = done.step {
            attributes.push(KeyValue::new("kotori.step", Arc::clone(step)));
        }
        if let Some(code) = done.code {
            attributes.push(KeyValue::new("kotori.code", i64::from(code)));
        }
        let took = done.started.elapsed();
        self.duration.record(took.as_secs_f64(), &attributes);

        // Span times are wall-clock: the arrival is now minus the time the request took.
        let end = SystemTime::now();
        let at = |instant: Instant| end - took.saturating_sub(instant.duration_since(done.started));
        let parent = global::get_text_map_propagator(|p| p.extract(&Headers(done.headers)));
        // The conventions: `{method} {http.route}`, or the method alone without a route.
        let name: Cow<'static, str> = match done.route {
            Some(route) => format!("{} {route}", done.method).into(),
            None => done.method.to_owned().into(),
        };
        let span = self
            .tracer
            .span_builder(name)
            .with_kind(SpanKind::Server)
            .with_start_time(end - took)
            .with_attributes(attributes)
            .start_with_context(&self.tracer, &parent);
        let request = parent.with_span(span);
        for awaited in done.awaited {
            let mut child = self
                .tracer
                .span_builder(awaited.step.to_string())
                .with_kind(SpanKind::Internal)
                .with_start_time(at(awaited.started))
                .with_attributes([KeyValue::new(
                    "kotori.outcome",
                    if awaited.passed { "pass" } else { "refuse" },
                )])
                .start_with_context(&self.tracer, &request);
            child.end_with_timestamp(at(awaited.started + awaited.took));
        }
        // A server span is an error for a 5xx only: a 4xx is the client's.
        if done.status >= 500 {
            request.span().set_status(Status::error(""));
        }
        request.span().end_with_timestamp(end);
    }
}
