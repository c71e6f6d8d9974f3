//! What dispatch calls to record: method indices, the active-request guard, and the marks
//! that tie a stream's life to its route's gauge.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex, PoisonError};

use super::labels::StreamKind;
use super::places::RequestSeries;

/// A request in flight that awaits something: counted in its place's active requests until
/// it finishes or is dropped (the client went away).
/// It borrows its place from the compiled tree, as the request's future does: no reference
/// count changes hands per request.
pub(crate) struct ActiveRequest<'a> {
    series: &'a RequestSeries,
    method: u8,
}

impl<'a> ActiveRequest<'a> {
    pub(crate) fn enter(series: &'a RequestSeries, method: u8) -> Self {
        series.active[usize::from(method)].fetch_add(1, Relaxed);
        ActiveRequest { series, method }
    }
}

impl Drop for ActiveRequest<'_> {
    fn drop(&mut self) {
        self.series.active[usize::from(self.method)].fetch_sub(1, Relaxed);
    }
}

/// A stream's hold on its route's open-streams gauge. The stream (an SSE body, a WebSocket's
/// task) keeps one clone, the response's mark another; dispatch, which knows the route, opens
/// the count once the response is made. When every clone is gone — the stream ended and its
/// response was sent or dropped — the count closes.
#[derive(Clone, Default)]
pub(crate) struct StreamLife(Arc<Mutex<Option<OpenStream>>>);

pub(crate) struct OpenStream {
    series: Arc<RequestSeries>,
    kind: StreamKind,
}

impl Drop for OpenStream {
    fn drop(&mut self) {
        self.series.streams[self.kind as usize].fetch_sub(1, Relaxed);
    }
}

impl StreamLife {
    pub(crate) fn open(&self, series: &Arc<RequestSeries>, kind: StreamKind) {
        series.stream_opened(kind);
        let open = OpenStream {
            series: Arc::clone(series),
            kind,
        };
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(open);
    }
}

/// A response extension: this response opens a stream whose life `life` follows.
#[derive(Clone)]
pub(crate) struct StreamMark {
    pub(crate) kind: StreamKind,
    pub(crate) life: StreamLife,
}
