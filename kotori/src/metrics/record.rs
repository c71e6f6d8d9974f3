//! What dispatch calls to record: method indices, the active-request guard, and the marks
//! that tie a stream's life to its route's gauge.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex, PoisonError};

use http::Method;

use super::series::RequestSeries;

/// The nine standard methods, then `_OTHER`.
pub(crate) const METHODS: usize = 10;

/// No step refused: the request passed, or kotori itself answered.
pub(crate) const NO_STEP: u16 = u16::MAX;

const NAMES: [&str; METHODS] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "_OTHER",
];

/// The index of `m` among the standard methods; `_OTHER` for any other (an unbounded label
/// otherwise: a method is whatever token the client sends).
pub(crate) fn method_index(m: &Method) -> u8 {
    // The common methods first: `Method` compares its standard variants without strings.
    if *m == Method::GET {
        0
    } else if *m == Method::POST {
        2
    } else if *m == Method::HEAD {
        1
    } else if *m == Method::PUT {
        3
    } else if *m == Method::DELETE {
        4
    } else if *m == Method::CONNECT {
        5
    } else if *m == Method::OPTIONS {
        6
    } else if *m == Method::TRACE {
        7
    } else if *m == Method::PATCH {
        8
    } else {
        9
    }
}

pub(crate) fn method_name(index: u8) -> &'static str {
    NAMES[usize::from(index).min(METHODS - 1)]
}

/// A request in flight that awaits something: counted in its place's active requests until
/// it finishes or is dropped (the client went away).
pub(crate) struct ActiveRequest {
    series: Arc<RequestSeries>,
    method: u8,
}

impl ActiveRequest {
    pub(crate) fn enter(series: &Arc<RequestSeries>, method: u8) -> Self {
        series.active[usize::from(method)].fetch_add(1, Relaxed);
        ActiveRequest {
            series: Arc::clone(series),
            method,
        }
    }
}

impl Drop for ActiveRequest {
    fn drop(&mut self) {
        self.series.active[usize::from(self.method)].fetch_sub(1, Relaxed);
    }
}

/// What kind of stream a response opens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StreamKind {
    Sse = 0,
    WebSocket = 1,
}

impl StreamKind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            StreamKind::Sse => "sse",
            StreamKind::WebSocket => "websocket",
        }
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
