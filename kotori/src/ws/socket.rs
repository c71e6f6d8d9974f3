//! An open WebSocket: messages in and out, closes, and the server's shutdown.

use futures_util::{SinkExt, StreamExt};
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use tokio::sync::watch;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use super::{CloseFrame, Error, Message};

/// An open WebSocket. Pings are answered and closes completed by the protocol layer; when the
/// server shuts down gracefully, [`recv`](WebSocket::recv) sends a `1001 Going Away` close
/// and returns `None`; a message or frame over the limits is answered with a `1009 Message
/// Too Big` close, a text that is not UTF-8 with `1007`, and any other breach of the protocol
/// (an unmasked frame, reserved bits or opcodes, a stray continuation) with `1002`, before
/// `recv` returns its error. After each close the server sends (those, and
/// [`close`](WebSocket::close)'s), what the client still sends is read and discarded until it
/// closes too (at most 1 s and 64 KiB): dropped with input unread, the connection would be
/// reset, and the client would lose the close frame. Each message is written out as it is sent
/// (no write buffering), so a client that stops reading is seen at once, and the server's
/// write timeout ([`Serve::write_timeout`](crate::Serve::write_timeout)) ends it.
///
/// ```
/// use kotori::ws::{Message, WebSocket, WebSocketUpgrade};
///
/// async fn handler(ws: WebSocketUpgrade) -> kotori::Response {
///     ws.on_upgrade(|mut socket: WebSocket| async move {
///         let _ = socket.send(Message::text("welcome")).await;
///         let _ = socket.close(1000, "bye").await;
///     })
/// }
///
/// let app = kotori::Kotori::new(());
/// app.get("/ws", handler);
/// app.build().unwrap();
/// ```
pub struct WebSocket {
    pub(super) stream: WebSocketStream<TokioIo<Upgraded>>,
    /// Holds the shutdown deadline once the server stops (`None`: served without one).
    pub(super) stopping: Option<watch::Receiver<Option<tokio::time::Instant>>>,
}

/// How long, and for how many bytes, a socket closed for breaking the protocol goes on reading
/// what its client still sends.
const LINGER_FOR: std::time::Duration = std::time::Duration::from_secs(1);
const LINGER_BYTES: usize = 64 * 1024;

/// Ends a socket closed for breaking the protocol the way HTTP servers end a connection they
/// refuse: shuts its sending side (the client reads the close frame, then the end of the
/// stream), then reads and discards what the client still sends until it closes its side too or
/// the bounds pass. A socket closed with input unread is reset by the kernel, and a reset makes
/// the client's kernel throw away what it had received and not yet read: the rest of an
/// oversized message still in flight would cost the client the close frame that says why (seen
/// from a Python client as "connection reset", not 1009).
async fn linger(io: &mut TokioIo<Upgraded>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let _ = tokio::time::timeout(LINGER_FOR, async {
        let _ = io.shutdown().await;
        // On the heap: this path is rare, and `recv`'s future (held by every idle socket)
        // stays small.
        let mut buf = vec![0u8; 4096];
        let mut left = LINGER_BYTES;
        while left > 0 {
            match io.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => left = left.saturating_sub(n),
            }
        }
    })
    .await;
}

impl WebSocket {
    /// The next message; `None` once the socket is closed (by the peer, an error of the
    /// connection, or the server shutting down).
    ///
    /// ```
    /// use kotori::ws::{Message, WebSocket, WebSocketUpgrade};
    ///
    /// async fn handler(ws: WebSocketUpgrade) -> kotori::Response {
    ///     ws.on_upgrade(|mut socket: WebSocket| async move {
    ///         let mut count = 0;
    ///         while let Some(Ok(message)) = socket.recv().await {
    ///             if let Message::Text(_) = message {
    ///                 count += 1;
    ///             }
    ///         }
    ///         println!("{count} messages, then the socket closed");
    ///     })
    /// }
    ///
    /// let app = kotori::Kotori::new(());
    /// app.get("/ws", handler);
    /// app.build().unwrap();
    /// ```
    pub async fn recv(&mut self) -> Option<Result<Message, Error>> {
        let next = match &mut self.stopping {
            None => self.stream.next().await,
            Some(stopping) => tokio::select! {
                next = self.stream.next() => next,
                // A dropped sender means the server is gone: close as well.
                _ = async { stopping.wait_for(Option::is_some).await.map(drop) } => {
                    let _ = self.stream.close(Some(going_away())).await;
                    linger(self.stream.get_mut()).await;
                    return None;
                }
            },
        };
        match next {
            Some(Err(Error::ConnectionClosed | Error::AlreadyClosed)) => None,
            // A client that broke the protocol is told why with the close code RFC 6455 §7.4.1
            // names (the socket is of no further use either way): a client library reports
            // the code, where a bare end of stream looks like a network fault to retry.
            Some(Err(e @ (Error::Capacity(_) | Error::Protocol(_) | Error::Utf8(_)))) => {
                let (code, reason) = match &e {
                    Error::Capacity(_) => (CloseCode::Size, "message too big"),
                    Error::Utf8(_) => (CloseCode::Invalid, "text is not UTF-8"),
                    _ => (CloseCode::Protocol, "protocol error"),
                };
                let frame = CloseFrame {
                    code,
                    reason: reason.into(),
                };
                let _ = self.stream.close(Some(frame)).await;
                linger(self.stream.get_mut()).await;
                Some(Err(e))
            }
            other => other,
        }
    }

    /// Sends a message.
    ///
    /// ```
    /// use kotori::ws::{Message, WebSocket, WebSocketUpgrade};
    ///
    /// async fn handler(ws: WebSocketUpgrade) -> kotori::Response {
    ///     ws.on_upgrade(|mut socket: WebSocket| async move {
    ///         let event = serde_json::json!({"type": "hello", "data": {}});
    ///         if socket.send(Message::text(event.to_string())).await.is_err() {
    ///             return; // the client is gone
    ///         }
    ///     })
    /// }
    ///
    /// let app = kotori::Kotori::new(());
    /// app.get("/ws", handler);
    /// app.build().unwrap();
    /// ```
    pub async fn send(&mut self, message: Message) -> Result<(), Error> {
        self.stream.send(message).await
    }

    /// Closes the socket with `code` and `reason` (e.g. `1013` "try again later" when a
    /// client cannot keep up). After the close frame, what the client still sends is read and
    /// discarded until it closes too (at most 1 s and 64 KiB), so that the close frame reaches
    /// a client that was sending meanwhile (see the book's WebSocket section).
    ///
    /// ```
    /// use kotori::ws::{Message, WebSocket, WebSocketUpgrade};
    ///
    /// async fn handler(ws: WebSocketUpgrade) -> kotori::Response {
    ///     ws.on_upgrade(|socket: WebSocket| async move {
    ///         // This client cannot keep up: tell it to come back later.
    ///         let _ = socket.close(1013, "try again later").await;
    ///     })
    /// }
    ///
    /// let app = kotori::Kotori::new(());
    /// app.get("/ws", handler);
    /// app.build().unwrap();
    /// ```
    pub async fn close(mut self, code: u16, reason: &str) -> Result<(), Error> {
        let frame = CloseFrame {
            code: CloseCode::from(code),
            reason: reason.to_owned().into(),
        };
        let closed = self.stream.close(Some(frame)).await;
        linger(self.stream.get_mut()).await;
        closed
    }

    /// Whether the server has started shutting down: a handler that only sends should stop
    /// then (its socket is closed with `1001` on the next [`recv`](WebSocket::recv)).
    ///
    /// ```
    /// use kotori::ws::{Message, WebSocket, WebSocketUpgrade};
    ///
    /// async fn handler(ws: WebSocketUpgrade) -> kotori::Response {
    ///     ws.on_upgrade(|mut socket: WebSocket| async move {
    ///         let mut ticks = tokio::time::interval(std::time::Duration::from_secs(1));
    ///         // A socket that only sends: stop when the server does.
    ///         while !socket.is_server_stopping() {
    ///             ticks.tick().await;
    ///             if socket.send(Message::text("tick")).await.is_err() {
    ///                 break;
    ///             }
    ///         }
    ///     })
    /// }
    ///
    /// let app = kotori::Kotori::new(());
    /// app.get("/ws", handler);
    /// app.build().unwrap();
    /// ```
    pub fn is_server_stopping(&self) -> bool {
        self.stopping
            .as_ref()
            .is_some_and(|rx| rx.borrow().is_some() || rx.has_changed().is_err())
    }

    /// The underlying stream, for `futures` combinators (`split` into a sender and a
    /// receiver). The graceful-shutdown close is then the caller's to watch.
    ///
    /// ```
    /// use kotori::ws::{Message, WebSocket, WebSocketUpgrade};
    ///
    /// use futures_util::StreamExt;
    ///
    /// async fn handler(ws: WebSocketUpgrade) -> kotori::Response {
    ///     ws.on_upgrade(|socket: WebSocket| async move {
    ///         // Split into a sender and a receiver, for two tasks.
    ///         let (sender, mut receiver) = socket.into_inner().split();
    ///         let reader = tokio::spawn(async move { while receiver.next().await.is_some() {} });
    ///         drop(sender);
    ///         let _ = reader.await;
    ///     })
    /// }
    ///
    /// let app = kotori::Kotori::new(());
    /// app.get("/ws", handler);
    /// app.build().unwrap();
    /// ```
    pub fn into_inner(self) -> WebSocketStream<TokioIo<Upgraded>> {
        self.stream
    }
}

fn going_away() -> CloseFrame {
    CloseFrame {
        code: CloseCode::Away,
        reason: "server shutting down".into(),
    }
}
