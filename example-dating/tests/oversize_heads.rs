//! Heads refused before a request exists wear the API's envelope, over a real socket: a
//! 64 KB header on `/api` is a 431 with code 43101, the `X-Request-Id` and a closed connection —
//! kotori's own head limit, rendered by the `/api` node like any refusal; a malformed header
//! line or `Content-Length` is a 400 the same way, never hyper's bare one.

mod common;
mod sockets;

use common::TestApp;
use serde_json::Value;
use sockets::BOUND;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn exchange(addr: std::net::SocketAddr, bytes: Vec<u8>) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let (mut read, mut write) = stream.split();
    let send = async {
        let _ = write.write_all(&bytes).await;
    };
    let mut answer = Vec::new();
    let (_, received) = tokio::join!(
        send,
        tokio::time::timeout(BOUND, read.read_to_end(&mut answer))
    );
    received.expect("answered and closed").unwrap();
    String::from_utf8(answer).unwrap()
}

#[tokio::test]
async fn an_oversize_head_is_an_enveloped_431_and_a_long_line_a_414() {
    let t = TestApp::new().await;
    let addr = sockets::serve(&t).await;

    let mut head = b"GET /api/me HTTP/1.1\r\nhost: x\r\nx-big: ".to_vec();
    head.extend(std::iter::repeat_n(b'a', 64 * 1024));
    head.extend_from_slice(b"\r\n\r\n");
    let answer = exchange(addr, head).await;
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer}");
    assert!(answer.contains("x-request-id: "), "{answer}");
    assert!(answer.contains("connection: close"), "{answer}");
    let body: Value = serde_json::from_str(answer.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert_eq!(body["code"], 43101, "{body}");

    let mut line = b"GET /api/".to_vec();
    line.extend(std::iter::repeat_n(b'a', 20 * 1024));
    line.extend_from_slice(b" HTTP/1.1\r\n\r\n");
    let answer = exchange(addr, line).await;
    assert!(answer.starts_with("HTTP/1.1 414"), "{answer}");
    assert!(answer.contains("x-request-id: "), "{answer}");
    let body: Value = serde_json::from_str(answer.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert_eq!(body["code"], 41401, "{body}");
}

#[tokio::test]
async fn a_malformed_header_line_is_an_enveloped_400() {
    let t = TestApp::new().await;
    let addr = sockets::serve(&t).await;
    for bad in [
        &b"x-folded: a\r\n b\r\n"[..],
        b"host : x\r\n",
        b"no colon\r\n",
        b"content-length: -1\r\n",
        b"content-length: 1\r\ncontent-length: 2\r\n",
        b"transfer-encoding: gzip\r\n",
        b"transfer-encoding: chunked\r\ntransfer-encoding: identity\r\n",
    ] {
        let mut head = b"POST /api/me/update HTTP/1.1\r\nx-request-id: malformed-1\r\n".to_vec();
        head.extend_from_slice(bad);
        head.extend_from_slice(b"\r\nab");
        let answer = exchange(addr, head).await;
        let shown = String::from_utf8_lossy(bad);
        assert!(answer.starts_with("HTTP/1.1 400"), "{shown}: {answer}");
        assert!(answer.contains("x-request-id: malformed-1\r\n"), "{answer}");
        assert!(answer.contains("connection: close"), "{answer}");
        let body: Value = serde_json::from_str(answer.split("\r\n\r\n").nth(1).unwrap()).unwrap();
        assert_eq!(body["code"], 40001, "{shown}: {body}");
        assert!(
            ["malformed", "unsupported Transfer-Encoding"]
                .iter()
                .any(|m| body["msg"].as_str().unwrap().starts_with(m)),
            "{body}"
        );
    }
}
