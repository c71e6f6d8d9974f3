//! Clients that stop reading, over real sockets with a small receive buffer: a WebSocket whose
//! server keeps sending, and a Server-Sent Events stream. The server's writes wait, then hit
//! the write timeout, and the connection — with the handler's task and the stream — is gone.

mod net;

use std::convert::Infallible;
use std::time::Duration;

use futures_util::StreamExt;
use kotori::sse::{Event, Sse};
use kotori::ws::{Message, WebSocket, WebSocketUpgrade};
use kotori::{Kotori, State};
use net::{BOUND, start};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::mpsc;

/// Told when a handler's task or a stream ends.
type Ended = mpsc::UnboundedSender<&'static str>;

struct Signal(Ended, &'static str);

impl Drop for Signal {
    fn drop(&mut self) {
        let _ = self.0.send(self.1);
    }
}

/// Sends 1 KiB messages as fast as the client takes them.
async fn firehose(ws: WebSocketUpgrade, State(ended): State<Ended>) -> kotori::Response {
    ws.on_upgrade(move |mut socket: WebSocket| async move {
        let _signal = Signal(ended, "websocket");
        let chunk = "x".repeat(1024);
        while socket.send(Message::text(chunk.clone())).await.is_ok() {}
    })
}

/// An endless stream of 1 KiB events.
async fn stream(
    State(ended): State<Ended>,
) -> Sse<impl futures_core::Stream<Item = Result<Event, Infallible>>> {
    let signal = Signal(ended, "sse");
    let chunk = "x".repeat(1024);
    let events = futures_util::stream::repeat(()).map(move |()| {
        let _held = &signal;
        Ok(Event::default().data(chunk.clone()))
    });
    Sse::new(events)
}

/// A connection whose receive buffer is small, that sends `request` and never reads.
async fn deaf_client(addr: std::net::SocketAddr, request: &str) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stream = socket.connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    stream
}

#[tokio::test]
async fn clients_that_stop_reading_are_closed_at_the_write_timeout() {
    let (ended, mut ends) = mpsc::unbounded_channel();
    let app = Kotori::new(ended);
    app.get("/firehose", firehose);
    app.get("/stream", stream);
    let server = start(app.build().unwrap(), |s| {
        s.write_timeout(Duration::from_millis(500))
    })
    .await;

    let _ws = deaf_client(
        server.addr,
        "GET /firehose HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
    )
    .await;
    let _sse = deaf_client(server.addr, "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n").await;

    // Both ends are seen although neither client closed nor read: the writes timed out.
    let mut seen = Vec::new();
    for _ in 0..2 {
        let end = tokio::time::timeout(BOUND, ends.recv())
            .await
            .expect("a stuck writer is ended by the write timeout")
            .unwrap();
        seen.push(end);
    }
    seen.sort();
    assert_eq!(seen, ["sse", "websocket"]);
    server.stop().await;
}
