//! The server's shutdown, as connections, upgraded sockets and endless streams see it.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Frame, SizeHint};
use tokio::sync::watch;

use crate::Body;
use crate::body::BoxError;

/// Tells upgraded connections (WebSockets) when the server shuts down, and by when they must
/// be gone. Each open socket holds a clone: the server knows they are all closed when the
/// channel is.
#[derive(Clone)]
pub(crate) struct ShutdownSignal(pub(crate) watch::Receiver<Option<tokio::time::Instant>>);

impl ShutdownSignal {
    /// Completes once a graceful shutdown has begun (or the server is gone).
    pub(super) async fn begun(&self) {
        let _ = self.0.clone().wait_for(Option::is_some).await;
    }
}

/// A response body that ends when the server's shutdown begins. An event stream has no end of
/// its own: without this a graceful shutdown would wait its whole deadline for every open one.
/// The client sees the stream end after its last whole event, and an `EventSource`
/// reconnects (to an instance that is not going away).
pub(super) struct UntilShutdown {
    body: Body,
    begun: Pin<Box<dyn Future<Output = ()> + Send>>,
    ended: bool,
}

impl UntilShutdown {
    pub(super) fn new(body: Body, signal: &ShutdownSignal) -> Self {
        let signal = signal.clone();
        UntilShutdown {
            body,
            begun: Box::pin(async move { signal.begun().await }),
            ended: false,
        }
    }
}

impl http_body::Body for UntilShutdown {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        if this.ended || this.begun.as_mut().poll(cx).is_ready() {
            this.ended = true;
            return Poll::Ready(None);
        }
        Pin::new(&mut this.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.ended || self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
