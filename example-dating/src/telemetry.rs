//! OpenTelemetry export, configured by the standard variables: with
//! `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` /
//! `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT`) set, the server sends kotori's spans — one per
//! request, named `{method} {http.route}`, a child per awaited guard, loader and handler,
//! continuing the caller's `traceparent` — and its `http.server.request.duration` to that
//! collector over OTLP/HTTP (protobuf). `OTEL_SERVICE_NAME` names the service
//! (`example-dating` by default); the exporter's other `OTEL_*` variables (headers, timeout,
//! `OTEL_BSP_SCHEDULE_DELAY`, `OTEL_METRIC_EXPORT_INTERVAL`) apply as the SDK documents them.
//! Without an endpoint nothing is installed and nothing is paid but kotori's no-op calls.
//!
//! The endpoint may be `http://` (a collector beside the instance) or `https://`: the server's
//! certificate is checked against the system's trusted roots, or against
//! `OTEL_EXPORTER_OTLP_CERTIFICATE` alone when that is set, and
//! `OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE` with `OTEL_EXPORTER_OTLP_CLIENT_KEY` are offered to a
//! collector that asks for a client certificate (the `client` module).

use std::sync::atomic::{AtomicBool, Ordering};

use opentelemetry::global;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;

mod client;

/// Whether [`init_from_env`] installed exporters: the tree sends requests to OpenTelemetry only
/// then (kotori's no-op spans would cost every request a span name and its attributes).
static INSTALLED: AtomicBool = AtomicBool::new(false);

/// Whether OpenTelemetry export is on in this process.
pub fn installed() -> bool {
    INSTALLED.load(Ordering::Relaxed)
}

/// The installed providers; [`Telemetry::shutdown`] sends what is still buffered.
pub struct Telemetry {
    tracer: SdkTracerProvider,
    meter: SdkMeterProvider,
}

const ENDPOINTS: [&str; 3] = [
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
];

/// Installs the OTLP exporters and the W3C trace-context propagator as the global ones, when
/// an endpoint is configured. Call it before the tree is built: kotori takes its tracer and
/// meter then.
pub fn init_from_env() -> Result<Option<Telemetry>, String> {
    let configured = ENDPOINTS
        .iter()
        .any(|name| std::env::var_os(name).is_some_and(|v| !v.is_empty()));
    if !configured {
        return Ok(None);
    }
    let mut resource = Resource::builder();
    if std::env::var_os("OTEL_SERVICE_NAME").is_none() {
        resource = resource.with_service_name("example-dating");
    }
    let resource = resource.build();
    use opentelemetry_otlp::WithHttpConfig;
    let spans = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_http_client(client::for_signal("TRACES")?)
        .build()
        .map_err(|e| format!("OTEL_EXPORTER_OTLP_*: the span exporter: {e}"))?;
    let tracer = SdkTracerProvider::builder()
        .with_batch_exporter(spans)
        .with_resource(resource.clone())
        .build();
    let measurements = opentelemetry_otlp::MetricExporter::builder()
        .with_http()
        .with_http_client(client::for_signal("METRICS")?)
        .build()
        .map_err(|e| format!("OTEL_EXPORTER_OTLP_*: the metric exporter: {e}"))?;
    let meter = SdkMeterProvider::builder()
        .with_periodic_exporter(measurements)
        .with_resource(resource)
        .build();
    global::set_tracer_provider(tracer.clone());
    global::set_meter_provider(meter.clone());
    global::set_text_map_propagator(TraceContextPropagator::new());
    INSTALLED.store(true, Ordering::Relaxed);
    Ok(Some(Telemetry { tracer, meter }))
}

impl Telemetry {
    /// Sends what is buffered and stops the exporters (blocking: call it off the async
    /// threads, once the server has stopped).
    pub fn shutdown(self) {
        if let Err(e) = self.tracer.shutdown() {
            tracing::warn!(error = %e, "OpenTelemetry: the spans could not all be sent");
        }
        if let Err(e) = self.meter.shutdown() {
            tracing::warn!(error = %e, "OpenTelemetry: the measurements could not all be sent");
        }
    }
}
