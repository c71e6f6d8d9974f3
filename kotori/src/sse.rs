//! Server-Sent Events: a reply over a stream of events, with keep-alive comments.
//!
//! ```
//! use std::time::Duration;
//! use kotori::sse::{Event, Sse};
//!
//! // A handler: three events, then the stream ends (a real one would read a channel).
//! async fn ticks() -> Sse<impl futures_core::Stream<Item = Result<Event, std::convert::Infallible>>> {
//!     let events = futures_util::stream::iter((1..=3).map(|i| {
//!         Ok(Event::default().id(i.to_string()).event("tick").data(format!("tick {i}")))
//!     }));
//!     Sse::new(events).keep_alive(Duration::from_secs(15))
//! }
//!
//! let app = kotori::Kotori::new(());
//! app.get("/ticks", ticks);
//! app.build().unwrap();
//! ```

use std::fmt::Write as _;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use futures_core::Stream;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue};
use http_body::Frame;
use tokio::time::{Instant, Sleep};

use crate::body::Body;
use crate::body::BoxError;
use crate::reply::{IntoReply, Reply, Response};

/// Marks a response whose body has no end of its own (an event stream): `serve` ends it when
/// a graceful shutdown begins rather than wait its deadline for it.
#[derive(Clone, Copy)]
pub(crate) struct EndsAtShutdown;

/// One event: any of `id`, `event`, `data` (several lines allowed) and `retry`, or a comment.
///
/// ```
/// use kotori::sse::Event;
///
/// let event = Event::default().event("tick").data("1");
/// # let app = kotori::Kotori::new(());
/// # app.get("/events", move || {
/// #     let event = event.clone();
/// #     async move { kotori::sse::Sse::new(futures_util::stream::iter([Ok::<_, std::convert::Infallible>(event)])) }
/// # });
/// # let app = app.build().unwrap();
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// // Sent as:
/// assert_eq!(app.client().get("/events").send().await.text(), "event: tick\ndata: 1\n\n");
/// # });
/// ```
#[derive(Clone, Debug, Default)]
pub struct Event {
    text: String,
}

impl Event {
    /// The event's id (`Last-Event-ID` on the client's reconnect).
    ///
    /// # Panics
    ///
    /// If `id` holds a line break or a NUL: it would end the field and let the text forge
    /// others.
    ///
    /// ```
    /// use kotori::sse::Event;
    ///
    /// let event = Event::default().id("42").data("the 42nd");
    /// # let app = kotori::Kotori::new(());
    /// # app.get("/events", move || {
    /// #     let event = event.clone();
    /// #     async move { kotori::sse::Sse::new(futures_util::stream::iter([Ok::<_, std::convert::Infallible>(event)])) }
    /// # });
    /// # let app = app.build().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// // Sent as:
    /// assert_eq!(app.client().get("/events").send().await.text(), "id: 42\ndata: the 42nd\n\n");
    /// # });
    /// ```
    pub fn id(mut self, id: impl AsRef<str>) -> Self {
        self.field("id", single_line("id", id.as_ref()));
        self
    }

    /// The event's type (`addEventListener(type, ...)` on the client; `message` if unset).
    ///
    /// # Panics
    ///
    /// If `event` holds a line break: it would end the field.
    ///
    /// ```
    /// use kotori::sse::Event;
    ///
    /// let event = Event::default().event("danmaku").data("hi");
    /// # let app = kotori::Kotori::new(());
    /// # app.get("/events", move || {
    /// #     let event = event.clone();
    /// #     async move { kotori::sse::Sse::new(futures_util::stream::iter([Ok::<_, std::convert::Infallible>(event)])) }
    /// # });
    /// # let app = app.build().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// // Sent as:
    /// assert_eq!(app.client().get("/events").send().await.text(), "event: danmaku\ndata: hi\n\n");
    /// # });
    /// ```
    pub fn event(mut self, event: impl AsRef<str>) -> Self {
        self.field("event", single_line("event", event.as_ref()));
        self
    }

    /// The event's data; each of its lines becomes a `data:` field, so any text is safe.
    ///
    /// ```
    /// use kotori::sse::Event;
    ///
    /// let event = Event::default().data("two\nlines");
    /// # let app = kotori::Kotori::new(());
    /// # app.get("/events", move || {
    /// #     let event = event.clone();
    /// #     async move { kotori::sse::Sse::new(futures_util::stream::iter([Ok::<_, std::convert::Infallible>(event)])) }
    /// # });
    /// # let app = app.build().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// // Sent as:
    /// assert_eq!(app.client().get("/events").send().await.text(), "data: two\ndata: lines\n\n");
    /// # });
    /// ```
    pub fn data(mut self, data: impl AsRef<str>) -> Self {
        for line in data.as_ref().split(['\n']) {
            self.field("data", line.strip_suffix('\r').unwrap_or(line));
        }
        self
    }

    /// `data` as JSON: one line, whatever the value.
    ///
    /// # Panics
    ///
    /// If the value cannot be serialized (a map with non-string keys).
    ///
    /// ```
    /// use kotori::sse::Event;
    ///
    /// let event = Event::default().json_data(&serde_json::json!({"text": "a\nb"}));
    /// # let app = kotori::Kotori::new(());
    /// # app.get("/events", move || {
    /// #     let event = event.clone();
    /// #     async move { kotori::sse::Sse::new(futures_util::stream::iter([Ok::<_, std::convert::Infallible>(event)])) }
    /// # });
    /// # let app = app.build().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// // Sent as:
    /// assert_eq!(app.client().get("/events").send().await.text(), "data: {\"text\":\"a\\nb\"}\n\n");
    /// # });
    /// ```
    pub fn json_data<T: serde::Serialize>(self, data: &T) -> Self {
        let json = serde_json::to_string(data).expect("event data serializes to JSON");
        self.data(json)
    }

    /// How long the client should wait before reconnecting.
    ///
    /// ```
    /// use kotori::sse::Event;
    ///
    /// let event = Event::default().retry(std::time::Duration::from_secs(3));
    /// # let app = kotori::Kotori::new(());
    /// # app.get("/events", move || {
    /// #     let event = event.clone();
    /// #     async move { kotori::sse::Sse::new(futures_util::stream::iter([Ok::<_, std::convert::Infallible>(event)])) }
    /// # });
    /// # let app = app.build().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// // Sent as:
    /// assert_eq!(app.client().get("/events").send().await.text(), "retry: 3000\n\n");
    /// # });
    /// ```
    pub fn retry(mut self, after: Duration) -> Self {
        let _ = writeln!(self.text, "retry: {}", after.as_millis());
        self
    }

    /// A comment line (clients ignore it); each line of `text` becomes one.
    ///
    /// ```
    /// use kotori::sse::Event;
    ///
    /// let event = Event::default().comment("still here");
    /// # let app = kotori::Kotori::new(());
    /// # app.get("/events", move || {
    /// #     let event = event.clone();
    /// #     async move { kotori::sse::Sse::new(futures_util::stream::iter([Ok::<_, std::convert::Infallible>(event)])) }
    /// # });
    /// # let app = app.build().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// // Sent as:
    /// assert_eq!(app.client().get("/events").send().await.text(), ": still here\n\n");
    /// # });
    /// ```
    pub fn comment(mut self, text: impl AsRef<str>) -> Self {
        for line in text.as_ref().split('\n') {
            self.field("", line.strip_suffix('\r').unwrap_or(line));
        }
        self
    }

    fn field(&mut self, name: &str, value: &str) {
        let _ = writeln!(self.text, "{name}: {value}");
    }

    fn into_bytes(mut self) -> Bytes {
        self.text.push('\n'); // a blank line dispatches the event
        Bytes::from(self.text)
    }
}

fn single_line<'a>(field: &str, value: &'a str) -> &'a str {
    assert!(
        !value.contains(['\n', '\r', '\0']),
        "an SSE `{field}` must be one line without NUL: {value:?}"
    );
    value
}

/// A reply that streams events to the client as `text/event-stream`.
///
/// The response says `Cache-Control: no-cache` and `X-Accel-Buffering: no`, so proxies (nginx)
/// pass each event on at once. When the client goes away, the server drops the body and with
/// it the stream: whatever it holds (a subscription, a channel) is released.
///
/// ```
/// use kotori::sse::{Event, Sse};
/// use kotori::Kotori;
///
/// let app = Kotori::new(());
/// app.get("/countdown", || async {
///     let events = futures_util::stream::iter((1..=3).rev().map(|i| {
///         Ok::<_, std::convert::Infallible>(Event::default().data(i.to_string()))
///     }));
///     Sse::new(events)
/// });
/// let app = app.build().unwrap();
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let res = app.client().get("/countdown").send().await;
/// assert_eq!(res.header("content-type"), Some("text/event-stream"));
/// assert_eq!(res.text(), "data: 3\n\ndata: 2\n\ndata: 1\n\n");
/// # });
/// ```
pub struct Sse<S> {
    stream: S,
    keep_alive: Option<Duration>,
}

impl<S> Sse<S> {
    /// Events from `stream`; an `Err` item ends the response (the connection is closed).
    ///
    /// ```
    /// use kotori::sse::{Event, Sse};
    ///
    /// // From a channel: each message sent becomes an event; the stream ends when the sender does.
    /// async fn news() -> Sse<impl futures_core::Stream<Item = Result<Event, std::convert::Infallible>>> {
    ///     let (tx, mut rx) = tokio::sync::mpsc::channel::<String>(16);
    ///     tokio::spawn(async move { let _ = tx.send("hello".into()).await; });
    ///     Sse::new(futures_util::stream::poll_fn(move |cx| {
    ///         rx.poll_recv(cx).map(|m| m.map(|m| Ok(Event::default().data(m))))
    ///     }))
    /// }
    /// let app = kotori::Kotori::new(());
    /// app.get("/news", news);
    /// app.build().unwrap();
    /// ```
    pub fn new(stream: S) -> Self {
        Sse {
            stream,
            keep_alive: None,
        }
    }

    /// Sends a comment line whenever no event went out for `interval`, so that proxies and
    /// clients keep an idle connection open (and a dead one is noticed).
    ///
    /// ```
    /// use std::time::Duration;
    /// use kotori::sse::{Event, Sse};
    ///
    /// async fn quiet() -> Sse<impl futures_core::Stream<Item = Result<Event, std::convert::Infallible>>> {
    ///     // Nothing to say for now: a `:` comment every 15 s keeps proxies from closing the stream.
    ///     Sse::new(futures_util::stream::pending()).keep_alive(Duration::from_secs(15))
    /// }
    /// let app = kotori::Kotori::new(());
    /// app.get("/quiet", quiet);
    /// app.build().unwrap();
    /// ```
    pub fn keep_alive(mut self, interval: Duration) -> Self {
        self.keep_alive = Some(interval);
        self
    }
}

impl<S, E> IntoReply for Sse<S>
where
    S: Stream<Item = Result<Event, E>> + Send + 'static,
    E: Into<BoxError>,
{
    fn into_reply(self) -> Reply {
        #[cfg(feature = "metrics")]
        let life = crate::metrics::StreamLife::default();
        let body = SseBody {
            stream: Box::pin(self.stream),
            keep_alive: self
                .keep_alive
                .map(|every| (every, Box::pin(tokio::time::sleep(every)))),
            #[cfg(feature = "metrics")]
            _life: life.clone(),
        };
        let mut res = Response::new(Body::wrap(body));
        // Served, it ends when a graceful shutdown begins (`serve`).
        res.extensions_mut().insert(EndsAtShutdown);
        // The route's open-streams gauge counts this response until its body is dropped.
        #[cfg(feature = "metrics")]
        res.extensions_mut().insert(crate::metrics::StreamMark {
            kind: crate::metrics::StreamKind::Sse,
            life,
        });
        let headers = res.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
        Reply::Response(res)
    }
}

struct SseBody<S> {
    stream: Pin<Box<S>>,
    keep_alive: Option<(Duration, Pin<Box<Sleep>>)>,
    #[cfg(feature = "metrics")]
    _life: crate::metrics::StreamLife,
}

impl<S, E> http_body::Body for SseBody<S>
where
    S: Stream<Item = Result<Event, E>>,
    E: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        match this.stream.as_mut().poll_next(cx) {
            Poll::Ready(Some(Ok(event))) => {
                if let Some((every, timer)) = &mut this.keep_alive {
                    timer.as_mut().reset(Instant::now() + *every);
                }
                Poll::Ready(Some(Ok(Frame::data(event.into_bytes()))))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e.into()))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => {
                let Some((every, timer)) = &mut this.keep_alive else {
                    return Poll::Pending;
                };
                ready!(timer.as_mut().poll(cx));
                timer.as_mut().reset(Instant::now() + *every);
                Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(b":\n\n")))))
            }
        }
    }
}
