//! What dispatch records for the `metrics` feature: which step runs and which refused, how
//! long awaited steps took, and the finished request. Without the feature these are empty
//! and inline to nothing.

use crate::Ctx;
#[cfg(feature = "metrics")]
use crate::Response;

/// Records a finished request under its place, and opens the count of a stream it starts.
#[cfg(feature = "metrics")]
pub(super) fn measure<S>(
    series: &std::sync::Arc<crate::metrics::RequestSeries>,
    cx: &Ctx<S>,
    res: &mut Response,
    code: Option<u32>,
) {
    let key = crate::metrics::Key {
        method: crate::metrics::method_index(cx.method()),
        status: res.status().as_u16(),
        step: cx.refused_by,
        code,
    };
    series.observe(key, cx.started().elapsed());
    #[cfg(feature = "otel")]
    series.export(key, cx.started(), cx.headers(), &cx.awaited);
    // Only a streamed body can be a stream: a buffer's response skips the lookup.
    if !res.body().is_full() || res.status() == http::StatusCode::SWITCHING_PROTOCOLS {
        if let Some(mark) = res.extensions_mut().remove::<crate::metrics::StreamMark>() {
            mark.life.open(series, mark.kind);
        }
    }
}

/// When an awaited step began: read only with the metrics on (the clock is not free).
#[derive(Clone, Copy)]
pub(super) struct Began(#[cfg(feature = "metrics")] std::time::Instant);

impl Began {
    #[inline(always)]
    pub(super) fn now() -> Self {
        Began(
            #[cfg(feature = "metrics")]
            std::time::Instant::now(),
        )
    }
}

/// Records an awaited step's time under its name (and, with `otel`, for the request's span).
#[cfg(feature = "metrics")]
pub(super) fn timed<S>(
    cx: &mut Ctx<S>,
    series: &std::sync::Arc<crate::metrics::StepSeries>,
    began: Began,
    passed: bool,
) {
    let took = began.0.elapsed();
    series.observe(passed, took);
    #[cfg(feature = "otel")]
    if series.export {
        cx.awaited.push(crate::metrics::otel::Awaited {
            step: std::sync::Arc::clone(series.name()),
            started: began.0,
            took,
            passed,
        });
    }
    #[cfg(not(feature = "otel"))]
    let _ = cx;
}

/// Notes which step is running: the one blamed if it refuses, panics or runs out of time.
#[inline(always)]
pub(super) fn running<S>(cx: &mut Ctx<S>, step: usize) {
    #[cfg(feature = "metrics")]
    {
        cx.at = step as u16;
    }
    #[cfg(not(feature = "metrics"))]
    let _ = (cx, step);
}

/// The running step refused the request (or panicked, or ran out of time).
#[inline(always)]
pub(super) fn blame_running<S>(cx: &mut Ctx<S>) {
    #[cfg(feature = "metrics")]
    {
        cx.refused_by = cx.at;
    }
    #[cfg(not(feature = "metrics"))]
    let _ = cx;
}
