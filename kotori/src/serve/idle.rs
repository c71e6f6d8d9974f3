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
//!
//! The write deadline does not see a client that stops reading over HTTP/2: flow control stops
//! the server's data before any socket write has to wait, and the answers wait in memory — an
//! answer per stream, up to hyper's stream limit, for ever. So the watch also notes when hyper
//! last polled a response body, and which bodies have an answer ready that hyper owes a poll:
//! when some do and none has been polled for the write timeout, the connection is closed.

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

/// The streams of one connection: how many are open, how many have an answer ready that hyper
/// has not come back for, and when things last happened.
pub(super) struct Streams {
    born: Instant,
    open: AtomicUsize,
    /// Open streams whose answer is ready and whose body was never polled, or last gave hyper
    /// a frame: hyper owes them a poll, which comes as soon as the client's flow-control window
    /// lets their data go. (A stream whose handler still runs owes nothing yet.)
    owed: AtomicUsize,
    /// When the last stream closed, in ms after `born` (0: none has).
    quiet_ms: AtomicU64,
    /// When a stream last opened or had its body polled, in ms after `born`.
    polled_ms: AtomicU64,
}

impl Streams {
    pub(super) fn new() -> Arc<Self> {
        Arc::new(Streams {
            born: Instant::now(),
            open: AtomicUsize::new(0),
            owed: AtomicUsize::new(0),
            quiet_ms: AtomicU64::new(0),
            polled_ms: AtomicU64::new(0),
        })
    }

    /// Counts a stream open until the returned guard is dropped.
    pub(super) fn open(self: &Arc<Self>) -> StreamGuard {
        self.open.fetch_add(1, Ordering::AcqRel);
        StreamGuard {
            streams: Arc::clone(self),
            owed: false,
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.born.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn at(&self, ms: &AtomicU64) -> Instant {
        self.born + Duration::from_millis(ms.load(Ordering::Acquire))
    }
}

/// One open stream; dropped with its response body.
pub(super) struct StreamGuard {
    streams: Arc<Streams>,
    /// This stream is counted in `owed`.
    owed: bool,
}

impl StreamGuard {
    /// The handler has answered: hyper owes the body a poll from now on.
    pub(super) fn answered(&mut self) {
        let streams = &self.streams;
        streams.polled_ms.store(streams.now_ms(), Ordering::Release);
        if !self.owed {
            self.owed = true;
            streams.owed.fetch_add(1, Ordering::AcqRel);
        }
    }

    /// The body is being polled; `then` is what it answered.
    fn polled<T>(&mut self, then: &Poll<T>) {
        let streams = &self.streams;
        streams.polled_ms.store(streams.now_ms(), Ordering::Release);
        let owed = then.is_ready();
        if owed != self.owed {
            self.owed = owed;
            if owed {
                streams.owed.fetch_add(1, Ordering::AcqRel);
            } else {
                streams.owed.fetch_sub(1, Ordering::AcqRel);
            }
        }
    }
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        let streams = &self.streams;
        if self.owed {
            streams.owed.fetch_sub(1, Ordering::AcqRel);
        }
        // The time first: the watch reads `open`, then the time.
        streams.quiet_ms.store(streams.now_ms(), Ordering::Release);
        streams.open.fetch_sub(1, Ordering::AcqRel);
    }
}

/// What [`Watch::next`] found.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Verdict {
    /// No stream has been open for the idle timeout.
    Idle,
    /// Answers are ready but hyper has polled none for the write timeout: the client's window
    /// stays shut — it takes nothing it is sent.
    Stalled,
}

/// Watches an HTTP/2 connection's streams.
pub(super) struct Watch<'a, F> {
    streams: &'a Streams,
    http2: F,
    idle: Duration,
    stall: Duration,
    wake: Instant,
}

impl<'a, F: Fn() -> bool> Watch<'a, F> {
    /// `http2` says whether the connection is HTTP/2 (HTTP/1 is left to hyper's timers and to
    /// the write deadline).
    pub(super) fn new(streams: &'a Streams, http2: F, idle: Duration, stall: Duration) -> Self {
        let wake = streams.born + idle.min(stall);
        Watch {
            streams,
            http2,
            idle,
            stall,
            wake,
        }
    }

    /// Completes at the next verdict; called again, it watches on (a connection still idle a
    /// timeout after its `GOAWAY` is idle again).
    pub(super) async fn next(&mut self) -> Verdict {
        let streams = self.streams;
        loop {
            tokio::time::sleep_until(self.wake).await;
            let now = Instant::now();
            if !(self.http2)() {
                self.wake = now + self.idle;
            } else if streams.open.load(Ordering::Acquire) == 0 {
                let idle_at = streams.at(&streams.quiet_ms) + self.idle;
                if idle_at <= now {
                    self.wake = now + self.idle;
                    return Verdict::Idle;
                }
                self.wake = idle_at;
            } else if streams.owed.load(Ordering::Acquire) > 0 {
                let stalled_at = streams.at(&streams.polled_ms) + self.stall;
                if stalled_at <= now {
                    return Verdict::Stalled;
                }
                self.wake = stalled_at;
            } else {
                // Every open stream waits on its own body (a quiet event stream).
                self.wake = now + self.idle.min(self.stall);
            }
        }
    }
}

/// A response body that holds its stream's guard (HTTP/2) until hyper is done with it.
pub(super) struct Tracked {
    pub(super) body: Body,
    pub(super) stream: Option<StreamGuard>,
}

impl http_body::Body for Tracked {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        let polled = Pin::new(&mut this.body).poll_frame(cx);
        if let Some(stream) = &mut this.stream {
            stream.polled(&polled);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
