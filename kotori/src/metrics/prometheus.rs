//! The measurements in Prometheus's text exposition format (feature `prometheus`), encoded by
//! the Prometheus project's own Rust client (`prometheus-client`).
//!
//! Names follow OpenTelemetry's Prometheus mapping: dots become underscores and the unit is a
//! suffix — `http_server_request_duration_seconds`, `kotori_step_duration_seconds`,
//! `http_server_active_requests`, `kotori_open_streams`; so do the labels (`http_route`,
//! `kotori_step`...).
//!
//! [`handler`] serves them from a route of the tree, behind whatever guards its node has:
//!
//! ```
//! use kotori::Kotori;
//!
//! let app = Kotori::new(());
//! let metrics = app.metrics();
//! app.get("/hello", || async { "hi" });
//! // In a real app, under a node whose guards admit only the scraper.
//! app.get("/metrics", kotori::metrics::prometheus::handler(metrics));
//! let app = app.build().unwrap();
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! app.client().get("/hello").send().await;
//! let res = app.client().get("/metrics").send().await;
//! assert!(res.text().contains(
//!     r#"http_server_request_duration_seconds_count{http_request_method="GET",http_route="/hello",http_response_status_code="200"} 1"#
//! ));
//! # });
//! ```
//!
//! An app with measurements of its own registers the handle as a collector in its
//! `prometheus_client` registry and serves the registry with [`render`].

use std::fmt;

use http::header::{CONTENT_TYPE, HeaderValue};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric, NoLabelSet, prometheus_text};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::{Registry, Unit};

use super::histogram::BOUNDARIES;
use super::{Instrument, Metrics, MetricsHandle, Value};
use crate::{Body, Response};

/// A handler answering the app's measurements in Prometheus's text format (`503` before the
/// tree is built, which a served app never is).
///
/// ```
/// use kotori::Kotori;
///
/// let app = Kotori::new(());
/// app.get("/metrics", kotori::metrics::prometheus::handler(app.metrics()));
/// app.get("/", || async { "hi" });
/// let app = app.build().unwrap();
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// app.client().get("/").send().await;
/// let page = app.client().get("/metrics").send().await;
/// assert!(page.text().contains("http_server_request_duration_seconds"));
/// # });
/// ```
pub fn handler(
    metrics: MetricsHandle,
) -> impl Fn() -> std::future::Ready<Response> + Clone + Send + Sync + 'static {
    move || {
        let mut registry = Registry::default();
        registry.register_collector(Box::new(metrics.clone()));
        std::future::ready(render(&registry))
    }
}

/// `registry` as a response in Prometheus's text format (`text/plain; version=0.0.4`: what
/// every Prometheus-compatible scraper reads).
///
/// ```
/// use prometheus_client::metrics::counter::Counter;
/// use prometheus_client::registry::Registry;
///
/// // The app's own series beside kotori's, on one page.
/// let app = kotori::Kotori::new(());
/// let logins: Counter = Counter::default();
/// let mut registry = Registry::default();
/// registry.register("logins", "Logins so far", logins.clone());
/// registry.register_collector(Box::new(app.metrics()));
/// logins.inc();
/// let res = kotori::metrics::prometheus::render(&registry);
/// assert_eq!(res.status(), 200);
/// ```
pub fn render(registry: &Registry) -> Response {
    let mut text = String::new();
    let mut res = match prometheus_text::encode(&mut text, registry) {
        Ok(()) => Response::new(Body::from(text)),
        Err(fmt::Error) => {
            let mut res = Response::new(Body::from("the measurements could not be encoded"));
            *res.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
            return res;
        }
    };
    res.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static(prometheus_text::CONTENT_TYPE),
    );
    res
}

impl Collector for MetricsHandle {
    fn encode(&self, encoder: DescriptorEncoder) -> Result<(), fmt::Error> {
        match self.get() {
            Some(metrics) => encode(metrics, encoder),
            None => Ok(()),
        }
    }
}

impl fmt::Debug for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

/// Each instrument's descriptor, then its series.
fn encode(metrics: &Metrics, mut encoder: DescriptorEncoder) -> Result<(), fmt::Error> {
    let observed = metrics.observed();
    for (instrument, name, help, unit, kind) in [
        (
            Instrument::RequestDuration,
            "http_server_request_duration",
            "Duration of HTTP server requests, to the response's head, by route template, status, refusing step and business code.",
            Some(Unit::Seconds),
            MetricType::Histogram,
        ),
        (
            Instrument::StepDuration,
            "kotori_step_duration",
            "Duration of the guards, loaders and handlers that awaited, by step and outcome.",
            Some(Unit::Seconds),
            MetricType::Histogram,
        ),
        (
            Instrument::ActiveRequests,
            "http_server_active_requests",
            "Requests in flight that awaited something, by route template.",
            None,
            MetricType::Gauge,
        ),
        (
            Instrument::OpenStreams,
            "kotori_open_streams",
            "Server-Sent Event responses and WebSockets open, by route template.",
            None,
            MetricType::Gauge,
        ),
    ] {
        let mut family = encoder.encode_descriptor(name, help, unit.as_ref(), kind)?;
        // A histogram appears once it has counted something: the page grows with what
        // happened, not with everything the tree declares (`Metrics::series` lists those).
        let shown = observed.iter().filter(|(s, v)| {
            s.instrument == instrument && !matches!(v, Value::Histogram(h) if h.count == 0)
        });
        for (series, value) in shown {
            let labels: Vec<(String, &str)> = series
                .labels
                .iter()
                .map(|(name, value)| (name.replace('.', "_"), value.as_str()))
                .collect();
            let mut metric = family.encode_family(&labels)?;
            match value {
                Value::Histogram(h) => {
                    let buckets: Vec<(f64, u64)> = BOUNDARIES
                        .iter()
                        .copied()
                        .chain([f64::INFINITY])
                        .zip(h.buckets)
                        .collect();
                    metric.encode_histogram::<NoLabelSet>(h.sum, h.count, &buckets, None)?;
                }
                Value::Gauge(v) => {
                    prometheus_client::metrics::gauge::ConstGauge::new(*v).encode(metric)?;
                }
            }
        }
    }
    Ok(())
}
