//! The handshake of a WebSocket route: checked when extracted, answered with the 101, the
//! socket handed to the handler's callback as a task of its own.

use std::future::Future;

use http::header::{self, HeaderValue};
use http::{Method, StatusCode};
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};

use super::{DEFAULT_READ_BUFFER, WebSocket};
use crate::extract::FromCtx;
use crate::serve::ShutdownSignal;
use crate::{Ctx, Rejection, Response};

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
