//! OpenTelemetry (feature `otel`), checked with the SDK's in-memory exporters: a server span
//! per request named `{method} {http.route}`, its parent from `traceparent`, a child per
//! awaited step, and `http.server.request.duration` with the tree's attributes.
#![cfg(feature = "otel")]

mod common;

use bytes::Bytes;
use http::Request;
use http_body_util::Full;
use kotori::Kotori;
use opentelemetry::trace::{SpanId, SpanKind, TraceId};
use opentelemetry::{KeyValue, global};
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};

#[tokio::test]
async fn a_request_is_a_server_span_with_a_child_per_awaited_step_under_its_traceparent() {
    // The app's side: an SDK with in-memory exporters, and the W3C propagator.
    let spans = InMemorySpanExporter::default();
    let tracer_provider = SdkTracerProvider::builder()
        .with_simple_exporter(spans.clone())
        .build();
    global::set_tracer_provider(tracer_provider.clone());
    let metrics = InMemoryMetricExporter::default();
    let meter_provider = SdkMeterProvider::builder()
        .with_reader(PeriodicReader::builder(metrics.clone()).build())
        .build();
    global::set_meter_provider(meter_provider.clone());
    global::set_text_map_propagator(TraceContextPropagator::new());

    let app = Kotori::new(());
    common::users::mount(&app);
    let app = app.build().unwrap();

    let trace = "0af7651916cd43dd8448eb211c80319c";
    let caller_span = "b7ad6b7169203331";
    let req = Request::get("/api/users/7/show")
        .header("authorization", "Bearer t")
        .header("traceparent", format!("00-{trace}-{caller_span}-01"))
        .body(Full::new(Bytes::new()))
        .unwrap();
    assert_eq!(app.dispatch(req).await.status(), 200);
    let refused = Request::get("/api/users/7/show")
        .body(Full::new(Bytes::new()))
        .unwrap();
    assert_eq!(app.dispatch(refused).await.status(), 401);

    tracer_provider.force_flush().unwrap();
    let finished = spans.get_finished_spans().unwrap();
    let server: Vec<_> = finished
        .iter()
        .filter(|s| s.span_kind == SpanKind::Server)
        .collect();
    assert_eq!(server.len(), 2, "{finished:#?}");
    let request = server
        .iter()
        .find(|s| s.span_context.trace_id() == TraceId::from_hex(trace).unwrap())
        .expect("the traceparent's trace continues");
    assert_eq!(request.name, "GET /api/users/{id}/show");
    assert_eq!(
        request.parent_span_id,
        SpanId::from_hex(caller_span).unwrap()
    );
    assert!(
        request
            .attributes
            .contains(&KeyValue::new("http.route", "/api/users/{id}/show"))
    );
    assert!(
        request
            .attributes
            .contains(&KeyValue::new("http.response.status_code", 200))
    );
    // Its children: the loader and the handler, which awaited; the synchronous guard did not.
    let mut children: Vec<&str> = finished
        .iter()
        .filter(|s| s.parent_span_id == request.span_context.span_id())
        .map(|s| s.name.as_ref())
        .collect();
    children.sort();
    assert_eq!(
        children,
        [
            "otel::common::users::load_user",
            "otel::common::users::show"
        ]
    );
    for child in finished
        .iter()
        .filter(|s| s.parent_span_id == request.span_context.span_id())
    {
        assert!(child.start_time >= request.start_time && child.end_time <= request.end_time);
    }
    // The refusal: a root span of its own (no traceparent), naming the step and the code.
    let refusal = server
        .iter()
        .find(|s| s.parent_span_id == SpanId::INVALID)
        .unwrap();
    assert!(refusal.attributes.contains(&KeyValue::new(
        "kotori.step",
        "otel::common::users::require_token"
    )));
    assert!(
        refusal
            .attributes
            .contains(&KeyValue::new("kotori.code", 40105))
    );

    meter_provider.force_flush().unwrap();
    let exported = metrics.get_finished_metrics().unwrap();
    let duration = exported
        .iter()
        .flat_map(|r| r.scope_metrics())
        .flat_map(|s| s.metrics())
        .find(|m| m.name() == "http.server.request.duration")
        .expect("the duration histogram");
    let AggregatedMetrics::F64(MetricData::Histogram(histogram)) = duration.data() else {
        panic!("a histogram of seconds: {duration:?}");
    };
    let counts: Vec<(u64, Vec<KeyValue>)> = histogram
        .data_points()
        .map(|p| (p.count(), p.attributes().cloned().collect()))
        .collect();
    assert_eq!(counts.len(), 2, "one series per outcome: {counts:#?}");
    assert!(counts.iter().all(|(n, attributes)| *n == 1
        && attributes.contains(&KeyValue::new("http.route", "/api/users/{id}/show"))));
}
