//! Response bodies: one buffer (the fast path, no allocation beyond the bytes), or a stream.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_core::Stream;
use futures_util::StreamExt;
use http_body::{Frame, SizeHint};
use http_body_util::{BodyExt, Full};

/// The error type request and response bodies may fail with.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The body of every response kotori produces: a whole buffer, or a stream of chunks.
///
/// A buffer is the common case and costs nothing beyond its bytes. A stream (an export, a file,
/// Server-Sent Events) is sent as it is produced; if it fails mid-way the server
/// closes the connection, so the client never mistakes a cut-off body for a complete one.
///
/// ```
/// use bytes::Bytes;
/// use kotori::{Body, Response};
///
/// // A buffer.
/// let whole = Response::new(Body::from("hello"));
///
/// // A stream of chunks, e.g. rows of an export as they are read.
/// let rows = futures_util::stream::iter(
///     (1..=3).map(|i| Ok::<_, std::io::Error>(Bytes::from(format!("row {i}\n")))),
/// );
/// let streamed = Response::new(Body::from_stream(rows));
/// ```
pub struct Body(Kind);

enum Kind {
    Full(Full<Bytes>),
    Boxed(Pin<Box<dyn http_body::Body<Data = Bytes, Error = BoxError> + Send + 'static>>),
}

impl Body {
    /// An empty body.
    ///
    /// ```
    /// use kotori::{Body, Response};
    ///
    /// let res = Response::new(Body::empty());
    /// assert!(res.body().is_full());
    /// ```
    pub fn empty() -> Self {
        Body(Kind::Full(Full::default()))
    }

    /// A body sent chunk by chunk as `stream` yields them. An `Err` item ends the response
    /// abruptly: the connection is closed and the error logged.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use kotori::{Body, Kotori, Response};
    ///
    /// let app = Kotori::new(());
    /// app.get("/rows", || async {
    ///     let rows = futures_util::stream::iter((1..=3).map(|i| Ok::<_, std::io::Error>(Bytes::from(format!("row {i}\n")))));
    ///     Response::new(Body::from_stream(rows))
    /// });
    /// let app = app.build().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// assert_eq!(app.client().get("/rows").send().await.text(), "row 1\nrow 2\nrow 3\n");
    /// # });
    /// ```
    pub fn from_stream<S, E>(stream: S) -> Self
    where
        S: Stream<Item = Result<Bytes, E>> + Send + 'static,
        E: Into<BoxError>,
    {
        let frames = stream.map(|chunk| chunk.map(Frame::data));
        Body::wrap(http_body_util::StreamBody::new(frames))
    }

    /// Any other [`http_body::Body`] (a tower service's response body, a file body...).
    ///
    /// ```
    /// use bytes::Bytes;
    /// use http_body_util::Full;
    /// use kotori::{Body, Response};
    ///
    /// let res = Response::new(Body::wrap(Full::new(Bytes::from_static(b"from elsewhere"))));
    /// assert!(!res.body().is_full()); // a body of its own kind: streamed as it is
    /// ```
    pub fn wrap<B>(body: B) -> Self
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        Body(Kind::Boxed(Box::pin(body.map_err(Into::into))))
    }

    /// Whether the body is one buffer (not a stream).
    ///
    /// ```
    /// use kotori::Body;
    ///
    /// assert!(Body::from("one buffer").is_full());
    /// ```
    pub fn is_full(&self) -> bool {
        matches!(self.0, Kind::Full(_))
    }
}

impl Default for Body {
    fn default() -> Self {
        Body::empty()
    }
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Kind::Full(_) => f.write_str("Body(full)"),
            Kind::Boxed(_) => f.write_str("Body(stream)"),
        }
    }
}

impl From<Bytes> for Body {
    fn from(bytes: Bytes) -> Self {
        Body(Kind::Full(Full::new(bytes)))
    }
}

impl From<Vec<u8>> for Body {
    fn from(bytes: Vec<u8>) -> Self {
        Body::from(Bytes::from(bytes))
    }
}

impl From<String> for Body {
    fn from(text: String) -> Self {
        Body::from(Bytes::from(text))
    }
}

impl From<&'static str> for Body {
    fn from(text: &'static str) -> Self {
        Body::from(Bytes::from_static(text.as_bytes()))
    }
}

impl From<&'static [u8]> for Body {
    fn from(bytes: &'static [u8]) -> Self {
        Body::from(Bytes::from_static(bytes))
    }
}

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match &mut self.0 {
            Kind::Full(full) => Pin::new(full)
                .poll_frame(cx)
                .map_err(|never| match never {}),
            Kind::Boxed(body) => {
                let polled = body.as_mut().poll_frame(cx);
                if let Poll::Ready(Some(Err(e))) = &polled {
                    // hyper answers a body error by closing the connection: say why.
                    tracing::warn!(error = %e, "a streamed response body failed; closing the connection");
                }
                polled
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.0 {
            Kind::Full(full) => full.is_end_stream(),
            Kind::Boxed(body) => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.0 {
            Kind::Full(full) => full.size_hint(),
            Kind::Boxed(body) => body.size_hint(),
        }
    }
}
