//! Closing HTTP/2 connections that stay idle.
//!
//! hyper closes an HTTP/1 connection that sends no next request within the header-read
//! timeout, but keeps an HTTP/2 connection with no stream open for as long as the client
//! likes: clients that connect, send the preface and nothing more would hold their
//! connections — and, under `max_connections`, everyone else's permits — for ever. Each
//! HTTP/2 connection therefore counts its open streams (a request is open until hyper drops
//! its response body, so a long Server-Sent Events stream is open for its whole life), and one
//! with no stream open for a whole idle timeout is shut down gracefully: a `GOAWAY`, then the
//! close — and closed outright if, a timeout later, it is still there with no stream open (a
//! client that never answers the `PING` hyper's graceful shutdown waits for).

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Frame, SizeHint};
use tokio::time::Instant;

use crate::Body;
use crate::body::BoxError;

/// The streams of one connection: how many are open, and since when none has been.
pub(super) struct Streams {
    born: Instant,
    open: AtomicUsize,
    /// When the last stream closed, in ms after `born` (0: none has).
    quiet_ms: AtomicU64,
}

impl Streams {
    pub(super) fn new() -> Arc<Self> {
        Arc::new(Streams {
            born: Instant::now(),
            open: AtomicUsize::new(0),
            quiet_ms: AtomicU64::new(0),
        })
    }

    /// Counts a stream open until the returned guard is dropped.
    pub(super) fn open(self: &Arc<Self>) -> StreamGuard {
        self.open.fetch_add(1, Ordering::AcqRel);
        StreamGuard(Arc::clone(self))
    }

    /// Whether a stream is open.
    pub(super) fn any_open(&self) -> bool {
        self.open.load(Ordering::Acquire) > 0
    }

    fn quiet_since(&self) -> Instant {
        self.born + Duration::from_millis(self.quiet_ms.load(Ordering::Acquire))
    }
}

/// One open stream; dropped with its response body.
pub(super) struct StreamGuard(Arc<Streams>);

impl Drop for StreamGuard {
    fn drop(&mut self) {
        let streams = &self.0;
        let ms = u64::try_from(streams.born.elapsed().as_millis()).unwrap_or(u64::MAX);
        // The time first: the idle watch reads `open`, then the time.
        streams.quiet_ms.store(ms, Ordering::Release);
        streams.open.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Completes once the connection is HTTP/2 (`http2` says so) and has had no stream open for
/// `timeout`. It wakes at most once a timeout while streams are open.
pub(super) async fn idle(streams: &Streams, http2: impl Fn() -> bool, timeout: Duration) {
    let mut wake = streams.born + timeout;
    loop {
        tokio::time::sleep_until(wake).await;
        let now = Instant::now();
        if http2() && streams.open.load(Ordering::Acquire) == 0 {
            let quiet = streams.quiet_since() + timeout;
            if quiet <= now {
                return;
            }
            wake = quiet;
        } else {
            // HTTP/1 (hyper's header timer closes it between requests), or a stream open.
            wake = now + timeout;
        }
    }
}

/// A response body that holds its stream's guard (HTTP/2) until hyper is done with it.
pub(super) struct Tracked {
    pub(super) body: Body,
    pub(super) _stream: Option<StreamGuard>,
}

impl http_body::Body for Tracked {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
