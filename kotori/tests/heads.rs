//! Request heads kotori refuses itself, over raw sockets: oversize headers (64 KB, 500 KB,
//! 2 MB), too many headers, an overlong or malformed request line. Each is answered by the
//! tree — the renderer of the node the path falls under, the root's after hook — never by
//! hyper's bare status; and heads within the limit, bodies and keep-alive are untouched.

mod net;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use http::StatusCode;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use kotori::{Ctx, Kotori, Rejection, Response};
use net::{BOUND, Server, start};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Counts the responses the root's after hook saw (the access log of these tests).
type Seen = Arc<AtomicUsize>;

fn root_render(_cx: &Ctx<Seen>, r: &Rejection) -> Response {
    let mut res = Response::new(format!("root {}", r.code()).into());
    *res.status_mut() = r.status();
    res
}

fn api_render(_cx: &Ctx<Seen>, r: &Rejection) -> Response {
    let mut res = Response::new(format!("{{\"code\":{}}}", r.code()).into());
    *res.status_mut() = r.status();
    res
}

fn logged(cx: &Ctx<Seen>, res: &mut Response) {
    cx.state().fetch_add(1, Ordering::Relaxed);
    let id = http::HeaderValue::from_str(cx.request_id()).unwrap();
    res.headers_mut().insert("x-request-id", id);
}

async fn server() -> (Server, Seen) {
    let seen = Seen::default();
    let app = Kotori::new(Arc::clone(&seen));
    app.render(root_render).after(logged);
    app.get("/hello", || async { "hello" });
    let api = app.node("/api").render(api_render);
    api.get("/echo", || async { "echo" });
    api.post("/upload", |body: Bytes| async move {
        format!("{} bytes", body.len())
    });
    (start(app.build().unwrap(), |s| s).await, seen)
}

/// Sends `head` (and the bytes after it) and reads the whole answer: the server closes the
/// connection after a refusal.
async fn exchange(server: &Server, bytes: &[u8]) -> String {
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let (mut read, mut write) = stream.split();
    // Written while reading: a server that stopped reading must not deadlock the test.
    let send = async {
        let _ = write.write_all(bytes).await;
    };
    let mut answer = Vec::new();
    let receive = tokio::time::timeout(BOUND, read.read_to_end(&mut answer));
    let (_, received) = tokio::join!(send, receive);
    received.expect("the server answers and closes").unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

fn big_header(path: &str, bytes: usize) -> Vec<u8> {
    let mut head =
        format!("GET {path} HTTP/1.1\r\nhost: x\r\nx-request-id: big-1\r\nx-big: ").into_bytes();
    head.extend(std::iter::repeat_n(b'a', bytes));
    head.extend_from_slice(b"\r\n\r\n");
    head
}

#[tokio::test]
async fn oversize_headers_always_get_the_rendered_431() {
    let (server, seen) = server().await;
    for size in [64 * 1024, 500 * 1024, 2 * 1024 * 1024] {
        let answer = exchange(&server, &big_header("/api/echo", size)).await;
        assert!(
            answer.starts_with("HTTP/1.1 431"),
            "{size} bytes: {answer:.200}"
        );
        // The /api node's renderer, the root's after hook (with the request id the client
        // sent before the oversize header), and a closed connection.
        assert!(answer.ends_with("{\"code\":43101}"), "{answer:.400}");
        assert!(answer.contains("x-request-id: big-1\r\n"), "{answer:.400}");
        assert!(answer.contains("connection: close\r\n"), "{answer:.400}");
    }
    // Outside /api: the root's renderer.
    let answer = exchange(&server, &big_header("/hello", 100 * 1024)).await;
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer:.200}");
    assert!(answer.ends_with("root 43101"), "{answer:.400}");
    assert_eq!(
        seen.load(Ordering::Relaxed),
        4,
        "each refusal reached the after hook"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_head_with_many_small_headers_or_a_long_line_is_refused_by_the_tree() {
    let (server, _) = server().await;
    // 101 headers, each small.
    let mut head = b"GET /api/echo HTTP/1.1\r\n".to_vec();
    for i in 0..=kotori::limits::MAX_HEADERS {
        head.extend_from_slice(format!("h{i}: v\r\n").as_bytes());
    }
    head.extend_from_slice(b"\r\n");
    let answer = exchange(&server, &head).await;
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer:.200}");
    assert!(answer.ends_with("{\"code\":43101}"), "{answer:.400}");

    // A 20 KB request line: 414, rendered by the root (no path could be read).
    let mut long = b"GET /api/".to_vec();
    long.extend(std::iter::repeat_n(b'a', 20 * 1024));
    long.extend_from_slice(b" HTTP/1.1\r\nhost: x\r\n\r\n");
    let answer = exchange(&server, &long).await;
    assert!(answer.starts_with("HTTP/1.1 414"), "{answer:.200}");
    assert!(answer.ends_with("root 41401"), "{answer:.400}");
    assert!(answer.contains("x-request-id: "), "{answer:.400}");

    // Malformed request lines: a rendered 400, not hyper's bare one.
    for bad in [
        &b"GET /a  HTTP/1.1\r\nhost: x\r\n\r\n"[..],
        b"GET /a HTTP/7.0\r\nhost: x\r\n\r\n",
        b"GET /a\x7f HTTP/1.1\r\nhost: x\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",
    ] {
        let answer = exchange(&server, bad).await;
        assert!(answer.starts_with("HTTP/1.1 400"), "{answer:.200}");
        assert!(answer.ends_with("root 40001"), "{answer:.400}");
    }

    // Malformed header lines and lengths: a 400 rendered by the path's node, with the request
    // id sent before the bad line; the connection closes.
    for bad in [
        &b"x-fold: a\r\n b\r\n"[..],
        b"x-space : a\r\n",
        b"no-colon\r\n",
        b"x-nul: a\x00b\r\n",
        b"content-length: -1\r\n",
        b"content-length: 2\r\ncontent-length: 3\r\n",
        // Framing hyper refuses with a bare 400: a coding after `chunked`, none at all, and
        // the last of two lines not `chunked` (the first line alone would be taken).
        b"transfer-encoding: gzip\r\n",
        b"transfer-encoding: chunked, gzip\r\n",
        b"transfer-encoding:\r\n",
        b"transfer-encoding: chunked\r\nx-between: 1\r\ntransfer-encoding: gzip\r\n",
    ] {
        let mut head = b"POST /api/upload HTTP/1.1\r\nhost: x\r\nx-request-id: bad-1\r\n".to_vec();
        head.extend_from_slice(bad);
        head.extend_from_slice(b"\r\nab");
        let answer = exchange(&server, &head).await;
        let shown = String::from_utf8_lossy(bad);
        assert!(answer.starts_with("HTTP/1.1 400"), "{shown}: {answer:.200}");
        assert!(
            answer.ends_with("{\"code\":40001}"),
            "{shown}: {answer:.400}"
        );
        assert!(answer.contains("x-request-id: bad-1\r\n"), "{answer:.400}");
        assert!(answer.contains("connection: close\r\n"), "{answer:.400}");
    }
    // HTTP/1.0 has no Transfer-Encoding (RFC 9112 §6.1): a rendered 400 too.
    let old = b"POST /api/upload HTTP/1.0\r\nx-request-id: old-1\r\n\
                transfer-encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n";
    let answer = exchange(&server, old).await;
    assert!(answer.starts_with("HTTP/1.0 400"), "{answer:.200}");
    assert!(answer.ends_with("{\"code\":40001}"), "{answer:.400}");
    assert!(answer.contains("x-request-id: old-1\r\n"), "{answer:.400}");
    server.stop().await;
}

/// RFC 9112 §3.2: an HTTP/1.1 request without `Host`, any request with two, or one whose
/// `Host` is not a host and an optional port, is a 400 rendered by the path's node, and the
/// connection closes after it: a request pipelined behind it is never served. HTTP/1.0 needs
/// no `Host`, and an empty one names no authority.
#[tokio::test]
async fn a_host_is_required_once_and_well_formed() {
    let (server, _) = server().await;
    for bad in [
        &b"GET /api/echo HTTP/1.1\r\nx-request-id: host-1\r\n\r\n"[..],
        b"GET /api/echo HTTP/1.1\r\nhost: a.example\r\nx-request-id: host-1\r\nhost: b.example\r\n\r\n",
        b"GET /api/echo HTTP/1.0\r\nhost: a\r\nhost: a\r\nx-request-id: host-1\r\n\r\n",
        b"GET /api/echo HTTP/1.1\r\nhost: user@a.example\r\nx-request-id: host-1\r\n\r\n",
        b"GET /api/echo HTTP/1.1\r\nhost: a b\r\nx-request-id: host-1\r\n\r\n",
        b"POST /api/upload HTTP/1.1\r\ncontent-length: 2\r\nx-request-id: host-1\r\n\r\nab\
          GET /hello HTTP/1.1\r\nhost: x\r\n\r\n",
    ] {
        let shown = String::from_utf8_lossy(bad);
        let answer = exchange(&server, bad).await;
        assert_eq!(answer.split(' ').nth(1), Some("400"), "{shown}: {answer:.200}");
        assert!(answer.ends_with("{\"code\":40001}"), "{shown}: {answer:.400}");
        assert!(answer.contains("x-request-id: host-1\r\n"), "{answer:.400}");
        assert!(answer.contains("connection: close\r\n"), "{answer:.400}");
        assert_eq!(answer.matches("HTTP/1.").count(), 1, "{shown}: {answer}");
    }
    for good in [
        &b"GET /hello HTTP/1.0\r\n\r\n"[..],
        b"GET /hello HTTP/1.1\r\nhost:\r\nconnection: close\r\n\r\n",
        b"GET /hello HTTP/1.1\r\nhost: [::1]:8080\r\nconnection: close\r\n\r\n",
    ] {
        let answer = exchange(&server, good).await;
        assert_eq!(answer.split(' ').nth(1), Some("200"), "{answer:.200}");
        assert!(answer.ends_with("hello"), "{answer:.400}");
    }
    server.stop().await;
}

#[tokio::test]
async fn heads_within_the_limit_bodies_and_keep_alive_are_untouched() {
    let (server, seen) = server().await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    // Three requests pipelined on one connection; the upload's body looks like a huge head
    // (no newline in 30 KB) and must be read as the body it is.
    let body = "z".repeat(30 * 1024);
    let mut requests = format!(
        "GET /hello HTTP/1.1\r\nhost: x\r\nx-fill: {}\r\n\r\n",
        "f".repeat(15 * 1024)
    );
    requests += &format!(
        "POST /api/upload HTTP/1.1\r\nhost: x\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    requests += "GET /api/echo HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n";
    stream.write_all(requests.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(BOUND, stream.read_to_end(&mut answer))
        .await
        .unwrap()
        .unwrap();
    let answer = String::from_utf8(answer).unwrap();
    assert_eq!(answer.matches("HTTP/1.1 200 OK").count(), 3, "{answer}");
    assert!(answer.contains("\r\n\r\nhello"), "{answer}");
    assert!(
        answer.contains(&format!("{} bytes", body.len())),
        "{answer}"
    );
    assert!(answer.ends_with("echo"), "{answer}");
    assert_eq!(seen.load(Ordering::Relaxed), 3);

    // Two codings on two lines, `chunked` last: taken, as hyper takes it.
    let split = b"POST /api/upload HTTP/1.1\r\nhost: x\r\ntransfer-encoding: identity\r\n\
                  Transfer-Encoding: Chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
    let answer = exchange(&server, split).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with("3 bytes"), "{answer}");

    // A chunked body is passed through as it is, and the connection closes after its answer:
    // kotori does not follow a chunked body's end, so no next head could escape the limit.
    let chunked = b"POST /api/upload HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n\
                    5\r\nhello\r\n0\r\n\r\n";
    let answer = exchange(&server, chunked).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("connection: close\r\n"), "{answer}");
    assert!(answer.ends_with("5 bytes"), "{answer}");
    server.stop().await;
}

/// Pipelined after good requests, a refused head or a chunked body is answered in its turn:
/// the requests before it get their own answers, on a connection that stays open for them.
#[tokio::test]
async fn a_refusal_reads_ahead_but_answers_only_its_own_request() {
    let (server, _) = server().await;
    let pipelined = b"GET /hello HTTP/1.1\r\nhost: x\r\n\r\n\
                      GET /api/echo HTTP/1.1\r\nhost: x\r\n\r\n\
                      GET /api/echo HTTP/1.1\r\nhost: x\r\nno colon\r\n\r\n";
    let answer = exchange(&server, pipelined).await;
    let answers: Vec<&str> = answer.split("HTTP/1.1 ").skip(1).collect();
    assert_eq!(answers.len(), 3, "{answer}");
    assert!(
        answers[0].starts_with("200") && answers[0].ends_with("hello"),
        "{answer}"
    );
    assert!(
        answers[1].starts_with("200") && answers[1].ends_with("echo"),
        "{answer}"
    );
    assert!(!answers[0].contains("connection: close"), "{answer}");
    assert!(
        answers[2].starts_with("400") && answers[2].ends_with("{\"code\":40001}"),
        "{answer}"
    );

    let chunked = b"GET /hello HTTP/1.1\r\nhost: x\r\n\r\n\
                    POST /api/upload HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n\
                    2\r\nhi\r\n0\r\n\r\n";
    let answer = exchange(&server, chunked).await;
    let answers: Vec<&str> = answer.split("HTTP/1.1 ").skip(1).collect();
    assert_eq!(answers.len(), 2, "{answer}");
    assert!(!answers[0].contains("connection: close"), "{answer}");
    assert!(
        answers[1].contains("connection: close") && answers[1].ends_with("2 bytes"),
        "{answer}"
    );
    server.stop().await;
}

#[tokio::test]
async fn http2_headers_past_the_limit_get_the_rendered_431() {
    let (server, _) = server().await;
    let stream = TcpStream::connect(server.addr).await.unwrap();
    let (mut sender, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(conn);
    let req = |value: String| {
        http::Request::get(format!("http://{}/api/echo", server.addr))
            .header("x-big", value)
            .body(Full::new(Bytes::new()))
            .unwrap()
    };
    let res = sender.send_request(req("a".repeat(100))).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = sender
        .send_request(req("a".repeat(40 * 1024)))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    assert!(res.headers().contains_key("x-request-id"));
    let body = res.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&body[..], b"{\"code\":43101}");
    // The connection goes on: HTTP/2 refuses the stream, not the connection.
    let res = sender.send_request(req("b".repeat(10))).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    server.stop().await;
}
