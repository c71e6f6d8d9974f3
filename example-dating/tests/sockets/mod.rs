//! Real sockets for the real-time tests: a served app, signed paths, a WebSocket client.
#![allow(dead_code, unreachable_pub)]

use std::future::IntoFuture;
use std::net::SocketAddr;
use std::time::Duration;

use futures_util::StreamExt;
use http::Method;
use serde_json::Value;
use tokio_tungstenite::tungstenite::{self, Message};

use crate::common::TestApp;

pub const BOUND: Duration = Duration::from_secs(20);

pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub async fn serve(t: &TestApp) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(kotori::serve(listener, t.app.clone()).into_future());
    addr
}

/// A signed GET path (the signature travels in the query string, like any `/api` GET).
pub fn signed(t: &TestApp, path: &str, params: &[(&str, &str)], token: Option<&str>) -> String {
    let params: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let all = t.signer.sign(&Method::GET, path, &params, token);
    format!("{path}?{}", example_dating::client::encode(&all))
}

pub async fn open(addr: SocketAddr, path_and_query: &str) -> Result<Socket, tungstenite::Error> {
    let (socket, _) =
        tokio_tungstenite::connect_async(format!("ws://{addr}{path_and_query}")).await?;
    Ok(socket)
}

/// The next event (text frame) as JSON, skipping pings.
pub async fn next_event(socket: &mut Socket) -> Value {
    loop {
        let frame = tokio::time::timeout(BOUND, socket.next())
            .await
            .expect("an event arrives")
            .expect("the socket is open")
            .unwrap();
        match frame {
            Message::Text(text) => return serde_json::from_str(text.as_str()).unwrap(),
            Message::Close(frame) => panic!("closed: {frame:?}"),
            _ => {}
        }
    }
}

pub fn refused(result: Result<Socket, tungstenite::Error>) -> i64 {
    match result {
        Err(tungstenite::Error::Http(res)) => {
            let body: Value =
                serde_json::from_slice(res.body().as_deref().unwrap_or(b"{}")).unwrap();
            body["code"].as_i64().expect("the JSON envelope")
        }
        Err(e) => panic!("expected an HTTP refusal, got {e}"),
        Ok(_) => panic!("the upgrade went through"),
    }
}
