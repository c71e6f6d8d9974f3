//! WebSocket routes: the upgrade is a handler's reply, so every guard and loader on the path
//! has run — and may have refused — before the `101 Switching Protocols` goes out.
//!
//! A handler takes [`WebSocketUpgrade`] (plus whatever else it needs: the caller, the live
//! room) and answers with [`WebSocketUpgrade::on_upgrade`]; the callback gets the
//! [`WebSocket`] once the switch is done and runs as its own task, so the server keeps serving
//! other requests.
//!
//! ```
//! use kotori::ws::{Message, WebSocket, WebSocketUpgrade};
//! use kotori::{Ctx, Kotori, Rejection, Res};
//!
//! struct Caller(String);
//!
//! fn load_caller(cx: &mut Ctx<()>) -> Result<Caller, Rejection> {
//!     cx.query_as::<std::collections::HashMap<String, String>>()?
//!         .remove("token")
//!         .map(Caller)
//!         .ok_or_else(Rejection::unauthorized)
//! }
//!
//! // An echo socket that knows who is on the other end.
//! async fn echo(ws: WebSocketUpgrade, caller: Res<Caller>) -> kotori::Response {
//!     let name = caller.0.clone();
//!     ws.max_message_size(64 * 1024).on_upgrade(move |mut socket: WebSocket| async move {
//!         while let Some(Ok(message)) = socket.recv().await {
//!             if let Message::Text(text) = message {
//!                 let reply = format!("{name}: {text}");
//!                 if socket.send(Message::text(reply)).await.is_err() {
//!                     break;
//!                 }
//!             }
//!         }
//!     })
//! }
//!
//! let app = Kotori::new(());
//! // Without a token: 401, rendered as usual, and no upgrade.
//! app.node("/ws").load(load_caller).get("/echo", echo);
//! app.build().unwrap();
//! ```

use std::future::Future;

use futures_util::{SinkExt, StreamExt};
use http::header::{self, HeaderValue};
use http::{Method, StatusCode};
use hyper::upgrade::{OnUpgrade, Upgraded};
use hyper_util::rt::TokioIo;
use tokio::sync::watch;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};

pub use tokio_tungstenite::tungstenite::protocol::CloseFrame;
pub use tokio_tungstenite::tungstenite::{Error, Message};

use crate::extract::FromCtx;
use crate::serve::ShutdownSignal;
use crate::{Ctx, Rejection, Response};

/// The read buffer of a socket unless [`WebSocketUpgrade::read_buffer_size`] says otherwise:
/// 8 KiB. Every open socket holds one, idle or not (tungstenite's own default, 128 KiB, makes
/// 10,000 idle sockets cost 1.3 GB); messages larger than the buffer are read in several
/// steps.
pub const DEFAULT_READ_BUFFER: usize = 8 * 1024;

/// The handshake of a WebSocket route, checked (RFC 6455 §4.2): extracting it refuses a plain
/// request with 426 and `Upgrade: websocket`, and a malformed upgrade with 400 — rendered by
/// the node's renderer like any refusal.
///
/// ```
/// use kotori::ws::{Message, WebSocket, WebSocketUpgrade};
///
/// async fn handler(ws: WebSocketUpgrade) -> kotori::Response {
///     ws.on_upgrade(|mut socket: WebSocket| async move {
///         let _ = socket.send(Message::text("hello")).await;
///     })
/// }
///
/// let app = kotori::Kotori::new(());
/// app.get("/ws", handler);
/// app.build().unwrap();
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// #     let app = kotori::Kotori::new(());
/// #     app.get("/ws", handler);
/// #     let app = app.build().unwrap();
/// // A plain GET is refused with 426 (`Upgrade: websocket`), rendered like any refusal.
/// assert_eq!(app.client().get("/ws").send().await.status(), 426);
/// # });
/// ```
pub struct WebSocketUpgrade {
    on_upgrade: OnUpgrade,
    accept: HeaderValue,
    protocol: Option<HeaderValue>,
    config: WebSocketConfig,
    shutdown: Option<ShutdownSignal>,
}

impl<S> FromCtx<S> for WebSocketUpgrade {
    fn from_ctx(cx: &mut Ctx<S>) -> Result<Self, Rejection> {
        let upgrade_required = || {
            Rejection::from_status(StatusCode::UPGRADE_REQUIRED)
                .with_message("this route speaks WebSocket: send an upgrade request")
                .with_header(header::UPGRADE, HeaderValue::from_static("websocket"))
        };
        let asks_upgrade = cx.method() == Method::GET
            && has_token(cx.header(header::CONNECTION), "upgrade")
            && has_token(cx.header(header::UPGRADE), "websocket");
        if !asks_upgrade {
            return Err(upgrade_required());
        }
        match cx.header(header::SEC_WEBSOCKET_VERSION) {
            Some("13") => {}
            Some(_) => {
                return Err(upgrade_required().with_header(
                    header::SEC_WEBSOCKET_VERSION,
                    HeaderValue::from_static("13"),
                ));
            }
            None => return Err(Rejection::bad_request("Sec-WebSocket-Version missing")),
        }
        let key = cx
            .header(header::SEC_WEBSOCKET_KEY)
            .filter(|key| is_valid_key(key))
            .ok_or_else(|| Rejection::bad_request("Sec-WebSocket-Key missing or malformed"))?;
        let accept = HeaderValue::from_str(&derive_accept_key(key.as_bytes()))
            .expect("an accept key is base64");
        // The first protocol the client offers, echoed (the handler may check it).
        let protocol = cx
            .header(header::SEC_WEBSOCKET_PROTOCOL)
            .and_then(|list| list.split(',').next())
            .and_then(|p| HeaderValue::from_str(p.trim()).ok());
        let shutdown = cx.extensions_mut().remove::<ShutdownSignal>();
        // Served in process, or over HTTP/2: this connection cannot switch protocols.
        let on_upgrade = cx
            .extensions_mut()
            .remove::<OnUpgrade>()
            .ok_or_else(upgrade_required)?;
        Ok(WebSocketUpgrade {
            on_upgrade,
            accept,
            protocol,
            config: WebSocketConfig::default()
                .read_buffer_size(DEFAULT_READ_BUFFER)
                .write_buffer_size(0),
            shutdown,
        })
    }
}

/// Whether a comma-separated header holds `token` (case-insensitive).
fn has_token(value: Option<&str>, token: &str) -> bool {
    value.is_some_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
}

/// A key is the base64 of 16 bytes: 22 characters and `==`.
fn is_valid_key(key: &str) -> bool {
    let b = key.as_bytes();
    b.len() == 24
        && b[22..] == *b"=="
        && b[..22]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'+' || *c == b'/')
}

impl WebSocketUpgrade {
    /// The largest message accepted (bytes); a larger one closes the socket. Default 64 MiB.
    ///
    /// ```
    /// use kotori::ws::{Message, WebSocket, WebSocketUpgrade};
    ///
    /// async fn handler(ws: WebSocketUpgrade) -> kotori::Response {
    ///     // A chat line is small: a 1 MiB message is an attack, and closes the socket (1009).
    ///     ws.max_message_size(4 * 1024).on_upgrade(|_socket: WebSocket| async {})
    /// }
    ///
    /// let app = kotori::Kotori::new(());
    /// app.get("/ws", handler);
    /// app.build().unwrap();
    /// ```
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.config = self.config.max_message_size(Some(bytes));
        self
    }

    /// The largest frame accepted (bytes). Default 16 MiB.
    ///
    /// ```
    /// use kotori::ws::{Message, WebSocket, WebSocketUpgrade};
    ///
    /// async fn handler(ws: WebSocketUpgrade) -> kotori::Response {
    ///     ws.max_frame_size(4 * 1024).max_message_size(4 * 1024).on_upgrade(|_socket: WebSocket| async {})
    /// }
    ///
    /// let app = kotori::Kotori::new(());
    /// app.get("/ws", handler);
    /// app.build().unwrap();
    /// ```
    pub fn max_frame_size(mut self, bytes: usize) -> Self {
        self.config = self.config.max_frame_size(Some(bytes));
        self
    }

    /// The buffer reads land in (bytes). Default [`DEFAULT_READ_BUFFER`]: raise it for sockets
    /// that receive a lot, where fewer, larger reads pay.
    ///
    /// ```
    /// use kotori::ws::{Message, WebSocket, WebSocketUpgrade};
    ///
    /// async fn handler(ws: WebSocketUpgrade) -> kotori::Response {
    ///     // Many idle sockets that receive little: a small buffer each.
    ///     ws.read_buffer_size(1024).on_upgrade(|_socket: WebSocket| async {})
    /// }
    ///
    /// let app = kotori::Kotori::new(());
    /// app.get("/ws", handler);
    /// app.build().unwrap();
    /// ```
    pub fn read_buffer_size(mut self, bytes: usize) -> Self {
        self.config = self.config.read_buffer_size(bytes);
        self
    }

    /// The subprotocol the client offered first, if any (echoed in the 101).
    ///
    /// ```
    /// use kotori::ws::{Message, WebSocket, WebSocketUpgrade};
    ///
    /// async fn handler(ws: WebSocketUpgrade) -> kotori::Response {
    ///     let json = ws.protocol() == Some("json.v1");
    ///     ws.on_upgrade(move |mut socket: WebSocket| async move {
    ///         let hello = if json { r#"{"hello":true}"# } else { "hello" };
    ///         let _ = socket.send(Message::text(hello)).await;
    ///     })
    /// }
    ///
    /// let app = kotori::Kotori::new(());
    /// app.get("/ws", handler);
    /// app.build().unwrap();
    /// ```
    pub fn protocol(&self) -> Option<&str> {
        self.protocol.as_ref().and_then(|p| p.to_str().ok())
    }

    /// Answers `101 Switching Protocols` and, once the connection has switched, runs
    /// `callback` with the socket as its own task.
    ///
    /// ```
    /// use kotori::ws::{Message, WebSocket, WebSocketUpgrade};
    ///
    /// async fn handler(ws: WebSocketUpgrade) -> kotori::Response {
    ///     ws.on_upgrade(|mut socket: WebSocket| async move {
    ///         // Runs as its own task once the 101 is sent.
    ///         while let Some(Ok(Message::Text(text))) = socket.recv().await {
    ///             if socket.send(Message::text(text.to_uppercase())).await.is_err() {
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
    pub fn on_upgrade<F, Fut>(self, callback: F) -> Response
    where
        F: FnOnce(WebSocket) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let WebSocketUpgrade {
            on_upgrade,
            accept,
            protocol,
            config,
            shutdown,
        } = self;
        // The route's open-streams gauge counts this socket until its task ends.
        #[cfg(feature = "metrics")]
        let life = crate::metrics::StreamLife::default();
        #[cfg(feature = "metrics")]
        let held = life.clone();
        tokio::spawn(async move {
            #[cfg(feature = "metrics")]
            let _life = held;
            let upgraded = match on_upgrade.await {
                Ok(upgraded) => upgraded,
                Err(e) => {
                    tracing::debug!(error = %e, "the WebSocket upgrade failed");
                    return;
                }
            };
            let stream = WebSocketStream::from_raw_socket(
                TokioIo::new(upgraded),
                Role::Server,
                Some(config),
            )
            .await;
            // The socket holds the receiver until it is dropped: the server's shutdown waits
            // for that — until its deadline, when the socket is dropped whatever its handler
            // is doing.
            let Some(ShutdownSignal(stopping)) = shutdown else {
                return callback(WebSocket {
                    stream,
                    stopping: None,
                })
                .await;
            };
            let mut deadline = stopping.clone();
            let socket = WebSocket {
                stream,
                stopping: Some(stopping),
            };
            tokio::select! {
                () = callback(socket) => {}
                () = async {
                    if let Ok(at) = deadline.wait_for(Option::is_some).await.map(|at| *at) {
                        tokio::time::sleep_until(at.expect("waited for a deadline")).await;
                    }
                } => {}
            }
        });
        let mut res = Response::new(crate::Body::empty());
        *res.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        let headers = res.headers_mut();
        headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
        headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        headers.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
        if let Some(protocol) = protocol {
            headers.insert(header::SEC_WEBSOCKET_PROTOCOL, protocol);
        }
        #[cfg(feature = "metrics")]
        res.extensions_mut().insert(crate::metrics::StreamMark {
            kind: crate::metrics::StreamKind::WebSocket,
            life,
        });
        res
    }
}

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
    stream: WebSocketStream<TokioIo<Upgraded>>,
    /// Holds the shutdown deadline once the server stops (`None`: served without one).
    stopping: Option<watch::Receiver<Option<tokio::time::Instant>>>,
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
