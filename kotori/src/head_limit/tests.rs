//! The wrapper over an in-memory duplex: what hyper would read.

use super::*;
use tokio::io::AsyncWriteExt;

/// What hyper would read through the wrapper when the client has sent `input` in reads
/// of `chunk` bytes, then closed its side: everything up to the end of the stream, or up
/// to where the wrapper parks (a read that stays pending with all input delivered).
async fn through(input: &[u8], chunk: usize, max: usize) -> (Vec<u8>, Option<HeadRefusal>) {
    let (mut client, server) = tokio::io::duplex(input.len() + 1);
    for piece in input.chunks(chunk) {
        client.write_all(piece).await.unwrap();
    }
    client.shutdown().await.unwrap();
    let watch = Arc::new(HeadWatch::default());
    let mut wrapped = HeadLimit::new(server, max, Arc::clone(&watch));
    let mut seen = Vec::new();
    let mut buf = [0u8; 1000];
    loop {
        let mut read = ReadBuf::new(&mut buf);
        let polled =
            std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut wrapped).poll_read(cx, &mut read)))
                .await;
        match polled {
            Poll::Pending => break,
            Poll::Ready(Err(e)) => panic!("read failed: {e}"),
            Poll::Ready(Ok(())) if read.filled().is_empty() => break,
            Poll::Ready(Ok(())) => seen.extend_from_slice(read.filled()),
        }
    }
    drop(client);
    (
        seen,
        HeadRefusal::from_u8(watch.refusal.load(Ordering::Acquire)),
    )
}

#[tokio::test]
async fn heads_within_the_limit_pass_unchanged_whatever_the_reads() {
    let two = b"GET /a HTTP/1.1\r\nhost: x\r\n\r\nPOST /b HTTP/1.1\r\ncontent-length: 5\r\n\r\nhelloGET /c HTTP/1.1\r\n\r\n";
    for chunk in [1, 3, 7, 64, 4096] {
        let (seen, refusal) = through(two, chunk, 1024).await;
        assert_eq!(seen, two, "chunk {chunk}");
        assert_eq!(refusal, None);
    }
}

#[tokio::test]
async fn an_oversize_head_becomes_its_approved_lines_ended_early() {
    let mut head = b"GET /a HTTP/1.1\r\nhost: x\r\nx-big: ".to_vec();
    head.extend(std::iter::repeat_n(b'a', 5000));
    head.extend_from_slice(b"\r\n\r\n");
    for chunk in [1, 100, 8192] {
        let (seen, refusal) = through(&head, chunk, 1024).await;
        assert_eq!(seen, b"GET /a HTTP/1.1\r\nhost: x\r\n\r\n", "chunk {chunk}");
        assert_eq!(refusal, Some(HeadRefusal::TooLarge));
    }
}

#[tokio::test]
async fn a_long_request_line_or_a_malformed_one_becomes_a_stand_in() {
    let mut long = b"GET /".to_vec();
    long.extend(std::iter::repeat_n(b'a', 3000));
    long.extend_from_slice(b" HTTP/1.1\r\n\r\n");
    let (seen, refusal) = through(&long, 512, 1024).await;
    assert_eq!(seen, b"GET / HTTP/1.1\r\n\r\n");
    assert_eq!(refusal, Some(HeadRefusal::UriTooLong));

    for bad in [
        &b"GET  /a HTTP/1.1\r\n\r\n"[..],
        b"GET /a HTTP/9.9\r\n\r\n",
        b"G(T /a HTTP/1.1\r\n\r\n",
        b"GET /a\x01 HTTP/1.1\r\n\r\n",
    ] {
        let (seen, refusal) = through(bad, 4, 1024).await;
        assert_eq!(seen, b"GET / HTTP/1.1\r\n\r\n");
        assert_eq!(refusal, Some(HeadRefusal::Malformed));
    }
}

#[tokio::test]
async fn a_malformed_header_line_or_length_ends_the_head_before_it() {
    let cases: [(&[u8], HeadRefusal); 9] = [
        (b"x-a: 1\r\nno colon here\r\n", HeadRefusal::MalformedHeader),
        (b"x-a: 1\r\nx-b : 2\r\n", HeadRefusal::MalformedHeader),
        (b"x-a: 1\r\n folded\r\n", HeadRefusal::MalformedHeader),
        (b"x-a: 1\r\n: empty name\r\n", HeadRefusal::MalformedHeader),
        (b"x-a: 1\r\nx-b: a\x00b\r\n", HeadRefusal::MalformedHeader),
        (b"x-a: 1\r\nx-b: a\rb\r\n", HeadRefusal::MalformedHeader),
        (b"x-a: 1\r\ncontent-length: -1\r\n", HeadRefusal::BadLength),
        (
            b"x-a: 1\r\ncontent-length: 5, 6\r\n",
            HeadRefusal::BadLength,
        ),
        (
            b"x-a: 1\r\nContent-Length: 5\r\ncontent-length: 6\r\n",
            HeadRefusal::BadLength,
        ),
    ];
    for (lines, expected) in cases {
        let mut head = b"POST /u HTTP/1.1\r\n".to_vec();
        head.extend_from_slice(lines);
        head.extend_from_slice(b"x-after: 3\r\n\r\nhello");
        for chunk in [1, 5, 4096] {
            let (seen, refusal) = through(&head, chunk, 1024).await;
            assert_eq!(
                refusal,
                Some(expected),
                "{:?}",
                String::from_utf8_lossy(lines)
            );
            // The lines before the bad one, ended there: the path is routed, the rest dropped.
            let kept = seen.strip_suffix(b"\r\n").unwrap();
            assert!(
                kept.starts_with(b"POST /u HTTP/1.1\r\nx-a: 1\r\n"),
                "{seen:?}"
            );
            assert!(!seen.windows(7).any(|w| w == b"x-after"), "{seen:?}");
        }
    }
    // What hyper takes passes: bytes from 0x80, tabs, a repeated or listed equal length.
    let fine = b"POST /u HTTP/1.1\r\nx-a: caf\xc3\xa9\t\xff\r\ncontent-length: 5, 5\r\n\
                 Content-Length: 5\r\n\r\nhello";
    let (seen, refusal) = through(fine, 3, 1024).await;
    assert_eq!((seen.as_slice(), refusal), (&fine[..], None));
}

/// A `Transfer-Encoding` is judged when its head ends: the lines from it on are held back, then
/// approved together, or dropped with a refusal — whatever the reads.
#[tokio::test]
async fn a_transfer_encoding_is_judged_on_the_whole_head() {
    let taken: [&[u8]; 3] = [
        b"POST /u HTTP/1.1\r\ntransfer-encoding: chunked\r\nx-b: 2\r\n\r\n2\r\nhi\r\n0\r\n\r\n",
        b"POST /u HTTP/1.1\r\nTransfer-Encoding: gzip\r\nx-b: 2\r\ntransfer-encoding:  CHUNKED \r\n\r\n0\r\n\r\n",
        b"POST /u HTTP/1.1\r\ntransfer-encoding: gzip , chunked\r\n\r\n0\r\n\r\n",
    ];
    for head in taken {
        for chunk in [1, 4, 4096] {
            let (seen, refusal) = through(head, chunk, 1024).await;
            assert_eq!((seen.as_slice(), refusal), (head, None), "chunk {chunk}");
        }
    }
    let refused: [&[u8]; 5] = [
        b"POST /u HTTP/1.1\r\nx-a: 1\r\ntransfer-encoding: gzip\r\nx-b: 2\r\n\r\nbody",
        b"POST /u HTTP/1.1\r\nx-a: 1\r\ntransfer-encoding: chunked\r\ntransfer-encoding: gzip\r\n\r\n",
        b"POST /u HTTP/1.1\r\nx-a: 1\r\ntransfer-encoding: chunked, x\r\n\r\n",
        b"POST /u HTTP/1.1\r\nx-a: 1\r\ntransfer-encoding: chunk\xc3\xa9d\r\n\r\n",
        b"POST /u HTTP/1.0\r\nx-a: 1\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n",
    ];
    for head in refused {
        for chunk in [1, 4, 4096] {
            let (seen, refusal) = through(head, chunk, 1024).await;
            assert_eq!(refusal, Some(HeadRefusal::BadTransferEncoding), "{head:?}");
            // The lines before the first Transfer-Encoding, ended there.
            assert!(seen.ends_with(b"x-a: 1\r\n\r\n"), "{seen:?}");
            assert!(!seen.windows(9).any(|w| w == b"transfer"), "{seen:?}");
        }
    }
    // A head held back still counts toward the limit.
    let mut long = b"POST /u HTTP/1.1\r\ntransfer-encoding: chunked\r\n".to_vec();
    for i in 0..40 {
        long.extend_from_slice(format!("x-{i}: {}\r\n", "v".repeat(30)).as_bytes());
    }
    long.extend_from_slice(b"\r\n");
    let (seen, refusal) = through(&long, 7, 1024).await;
    assert_eq!(refusal, Some(HeadRefusal::TooLarge));
    assert_eq!(seen, b"POST /u HTTP/1.1\r\n\r\n");
}

/// With requests pipelined, the wrapper refuses a later head (or stops following at it)
/// before hyper has dispatched the earlier ones: the refusal names the head it belongs to.
#[tokio::test]
async fn a_refusal_and_an_unfollowed_body_belong_to_their_own_head() {
    let (client, server) = tokio::io::duplex(4096);
    let watch = Arc::new(HeadWatch::default());
    let mut wrapped = HeadLimit::new(server, 1024, Arc::clone(&watch));
    let mut client = client;
    client
        .write_all(
            b"GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\nGET /c HTTP/1.1\r\nbad line\r\n\r\n",
        )
        .await
        .unwrap();
    let mut buf = [0u8; 1000];
    let mut read = ReadBuf::new(&mut buf);
    // Until the third head is refused (then the wrapper parks: nothing more to read).
    while watch.refusal.load(Ordering::Acquire) == 0 {
        std::future::poll_fn(|cx| Pin::new(&mut wrapped).poll_read(cx, &mut read))
            .await
            .unwrap();
    }
    // Everything is scanned, the third head refused: the first two requests are not.
    assert_eq!(watch.dispatched(), 0);
    assert_eq!(watch.take_refusal(0), None);
    assert_eq!(watch.dispatched(), 1);
    assert_eq!(watch.take_refusal(1), None);
    assert_eq!(watch.dispatched(), 2);
    assert_eq!(watch.take_refusal(2), Some(HeadRefusal::MalformedHeader));

    let watch = HeadWatch::default();
    watch.unfollowed_from.store(1, Ordering::Release);
    assert!(!watch.unfollowed(0) && watch.unfollowed(1) && watch.unfollowed(2));
}

#[tokio::test]
async fn too_many_headers_are_refused_before_hyper_sees_them() {
    let mut head = b"GET / HTTP/1.1\r\n".to_vec();
    for i in 0..=MAX_HEADERS {
        head.extend_from_slice(format!("h{i}: v\r\n").as_bytes());
    }
    head.extend_from_slice(b"\r\n");
    let (seen, refusal) = through(&head, 1000, 64 * 1024).await;
    assert_eq!(refusal, Some(HeadRefusal::TooLarge));
    let lines = seen.split(|&b| b == b'\n').count();
    // The request line, MAX_HEADERS headers, the blank line, and the empty tail.
    assert_eq!(lines, MAX_HEADERS + 3);
}

#[tokio::test]
async fn a_body_is_never_read_as_a_head_nor_changed() {
    // The body holds what would be an oversize "head" if it were scanned.
    let body = vec![b'z'; 5000];
    let mut req =
        format!("POST /u HTTP/1.1\r\ncontent-length: {}\r\n\r\n", body.len()).into_bytes();
    req.extend_from_slice(&body);
    req.extend_from_slice(b"GET /next HTTP/1.1\r\n\r\n");
    let (seen, refusal) = through(&req, 700, 1024).await;
    assert_eq!(seen, req);
    assert_eq!(refusal, None);

    // Chunked: followed no further, passed through as it is.
    let chunked = b"POST /u HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
    let watch_seen = through(chunked, 3, 1024).await;
    assert_eq!(watch_seen.0, chunked);
}

#[tokio::test]
async fn an_http2_preface_turns_the_limit_off() {
    let mut bytes = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    bytes.extend(std::iter::repeat_n(0u8, 4000));
    let (seen, refusal) = through(&bytes, 100, 1024).await;
    assert_eq!(seen, bytes);
    assert_eq!(refusal, None);
}

/// The table of target bytes taken without the `http` parser never takes one that parser
/// refuses, and `tchar` is RFC 9110's set.
#[test]
fn the_byte_tables_agree_with_the_parser_and_the_rfc() {
    for b in 0..=255u8 {
        let target = [b'/', b'a', b, b'b'];
        if syntax::target_ok(&target) {
            assert!(http::Uri::try_from(&target[..]).is_ok(), "byte {b:#04x}");
        }
        let rfc = b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
        assert_eq!(syntax::is_tchar(b), rfc, "byte {b:#04x}");
        // A header line taken here is one the `http` crate takes as a name and a value.
        let line = [b'x', b'-', b'a', b':', b' ', b, b'z'];
        if syntax::header_line_ok(&line) {
            assert!(
                http::HeaderValue::from_bytes(&line[5..]).is_ok(),
                "byte {b:#04x}"
            );
        }
    }
    // Letters, digits and a signed query's punctuation take the fast path.
    assert!(syntax::target_ok(
        b"/api/me?page=1&pageCount=20&sign=AbC%2F-_.~"
    ));
    assert!(!syntax::target_ok(b""));
    assert!(!syntax::target_ok(b"/a b"));
}

/// A header line is taken here exactly when hyper's parser (httparse) takes it, for lines drawn
/// from the bytes that decide it: token characters, the separators, spaces and tabs, controls,
/// a bare CR, DEL and bytes past ASCII.
#[test]
fn a_header_line_is_taken_exactly_when_hyper_takes_it() {
    use proptest::prelude::*;
    let byte =
        prop::sample::select(b"aZ09-_.!~:; \t\x00\x01\x1f\x7f\x80\xff\r\"(),/@[]{}".to_vec());
    // The reader hands a line over without its line end (a last CR is part of it), and an
    // empty line ends the head: neither is checked as a header line.
    let line = prop::collection::vec(byte, 1..12).prop_filter("a line", |l| !l.ends_with(b"\r"));
    proptest!(ProptestConfig::with_cases(20_000), |(line in line)| {
        let mut head = b"GET / HTTP/1.1\r\n".to_vec();
        head.extend_from_slice(&line);
        head.extend_from_slice(b"\r\n\r\n");
        let mut headers = [httparse::EMPTY_HEADER; 4];
        let hyper = matches!(
            httparse::Request::new(&mut headers).parse(&head),
            Ok(httparse::Status::Complete(_))
        );
        prop_assert_eq!(syntax::header_line_ok(&line), hyper, "{:?}", String::from_utf8_lossy(&line));
    });
}
