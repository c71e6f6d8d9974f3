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

mod socket;
mod upgrade;

pub use socket::WebSocket;
pub use upgrade::WebSocketUpgrade;

pub use tokio_tungstenite::tungstenite::protocol::CloseFrame;
pub use tokio_tungstenite::tungstenite::{Error, Message};

/// The read buffer of a socket unless [`WebSocketUpgrade::read_buffer_size`] says otherwise:
/// 8 KiB. Every open socket holds one, idle or not (tungstenite's own default, 128 KiB, makes
/// 10,000 idle sockets cost 1.3 GB); messages larger than the buffer are read in several
/// steps.
pub const DEFAULT_READ_BUFFER: usize = 8 * 1024;
