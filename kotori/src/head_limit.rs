//! kotori's own limit on a request's head (HTTP/1), checked as its bytes arrive.
//!
//! hyper refuses a head it cannot buffer with a bare `431` of its own — no renderer, no
//! request id, no access-log line — and its limit is soft: it checks between reads, so a head
//! may pass it by a whole read and reach the application. This wrapper sits between the
//! connection and hyper and reads each head first. It hands hyper complete lines only and
//! counts them; when a head passes the limit, or its request line is malformed, it discards the
//! rest of that head and hands hyper a stand-in instead (the lines so far, ended there; or
//! `GET / HTTP/1.1`), telling the service why through [`HeadWatch`]. The service answers
//! through the tree like any other refusal — the node's renderer, the request id, the after
//! hooks — and closes the connection. hyper's own limits stay above, as a backstop.
//!
//! Framing is followed only where it is simple and certain: a request without a body, or with
//! one `Content-Length`, is followed by the next head. Anything else (a chunked body, an
//! upgrade, `CONNECT`, HTTP/2) turns the wrapper off for the connection, and the service
//! closes an HTTP/1 connection after such a request unless it was upgraded, so no later head
//! escapes the limit. Stand-in bytes are only ever handed over where hyper reads a head, never
//! inside a body.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::task::{Context, Poll, ready};

use http::StatusCode;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::Rejection;
use crate::limits::MAX_HEADERS;

/// After a refusal, at most this many bytes of the refused head are read and discarded before
/// the connection is simply closed: reading them lets the client see the answer (a socket
/// closed with unread bytes is reset), but not without end. hyper's header read timeout
/// bounds the time.
const DRAIN_CAP: usize = 16 * 1024 * 1024;

/// Why a head was refused before dispatch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum HeadRefusal {
    /// The request line and headers together passed the limit, or there were too many headers.
    TooLarge = 1,
    /// The request line alone passed the limit.
    UriTooLong = 2,
    /// The request line is not `METHOD target HTTP/1.x`.
    Malformed = 3,
}

impl HeadRefusal {
    fn from_u8(n: u8) -> Option<Self> {
        match n {
            1 => Some(HeadRefusal::TooLarge),
            2 => Some(HeadRefusal::UriTooLong),
            3 => Some(HeadRefusal::Malformed),
            _ => None,
        }
    }

    /// The refusal the tree renders.
    pub(crate) fn rejection(self) -> Rejection {
        match self {
            HeadRefusal::TooLarge => {
                Rejection::from_status(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE)
                    .with_message("the request headers are too large")
            }
            HeadRefusal::UriTooLong => Rejection::from_status(StatusCode::URI_TOO_LONG)
                .with_message("the request line is too long"),
            HeadRefusal::Malformed => Rejection::bad_request("malformed request line"),
        }
    }
}

/// What the wrapper tells the connection's service.
#[derive(Default)]
pub(crate) struct HeadWatch {
    refusal: AtomicU8,
    unfollowed: AtomicBool,
}

impl HeadWatch {
    /// The refusal of the head hyper is about to dispatch, if it was refused (taken once).
    pub(crate) fn take_refusal(&self) -> Option<HeadRefusal> {
        HeadRefusal::from_u8(self.refusal.swap(0, Ordering::AcqRel))
    }

    /// Whether the wrapper stopped following this HTTP/1 connection's framing: the connection
    /// must close after the current request (unless it was upgraded).
    pub(crate) fn unfollowed(&self) -> bool {
        self.unfollowed.load(Ordering::Acquire)
    }
}

enum Mode {
    /// Reading a head (scan state in `HeadLimit::head`).
    Head,
    /// Passing this many body bytes through before the next head.
    Body(u64),
    /// Passing everything through (HTTP/2, an upgrade, a body whose end is not followed).
    Off,
    /// Discarding the rest of a refused head; `LineEnd` finds where it ends.
    Drain(HeadRefusal, LineEnd, usize),
    /// The stand-in head is handed over; nothing more is read (the connection closes after
    /// the refusal is written).
    Parked,
    /// The connection is over: hyper reads an end of stream.
    Ended,
}

/// The current head so far.
#[derive(Default)]
struct Head {
    /// Bytes approved.
    size: usize,
    /// Non-blank lines approved (the request line, then headers).
    lines: usize,
    /// Scanning resumes here: the partial line before it has no newline.
    scanned: usize,
    /// The declared body length.
    length: Option<u64>,
    /// The head asks for something whose end is not followed here.
    unfollowed: bool,
}

impl Head {
    /// Notes what a header line says about the body that follows.
    fn note(&mut self, line: &[u8]) {
        if !matches!(line.first(), Some(b'c' | b'C' | b't' | b'T' | b'u' | b'U')) {
            return;
        }
        if let Some(value) = value_of(line, b"content-length:") {
            match parse_length(value) {
                Some(n) if self.length.is_none_or(|m| m == n) => self.length = Some(n),
                // Unparsable or conflicting: hyper refuses it; follow nothing further.
                _ => self.unfollowed = true,
            }
        } else if value_of(line, b"transfer-encoding:").is_some()
            || value_of(line, b"upgrade:").is_some()
        {
            self.unfollowed = true;
        }
    }
}

/// A connection whose request heads kotori measures before hyper parses them.
pub(crate) struct HeadLimit<T> {
    inner: T,
    watch: Arc<HeadWatch>,
    max_bytes: usize,
    /// The connection's first head (where an HTTP/2 preface may come instead).
    fresh: bool,
    /// Storage, zeroed once as it grows: `buf[lo..ok]` is approved for hyper, `buf[ok..hi]`
    /// read but not yet approved (the partial line).
    buf: Vec<u8>,
    lo: usize,
    ok: usize,
    hi: usize,
    head: Head,
    mode: Mode,
}

impl<T> HeadLimit<T> {
    pub(crate) fn new(inner: T, max_bytes: usize, watch: Arc<HeadWatch>) -> Self {
        HeadLimit {
            inner,
            watch,
            max_bytes,
            fresh: true,
            buf: Vec::new(),
            lo: 0,
            ok: 0,
            hi: 0,
            head: Head::default(),
            mode: Mode::Head,
        }
    }

    /// Scans the unapproved bytes of the head: approves complete lines, decides what follows
    /// the head when it ends, refuses it when it passes a limit.
    fn scan(&mut self) {
        while let Mode::Head = self.mode {
            let from = self.head.scanned.max(self.ok);
            let Some(at) = self.buf[from..self.hi].iter().position(|&b| b == b'\n') else {
                self.head.scanned = self.hi;
                if self.head.size + (self.hi - self.ok) > self.max_bytes {
                    self.refuse(self.too_large());
                }
                return;
            };
            let end = from + at + 1;
            let line = &self.buf[self.ok..end - 1];
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            self.head.size += end - self.ok;
            if self.head.size > self.max_bytes {
                self.refuse(self.too_large());
                return;
            }
            if line.is_empty() {
                self.ok = end;
                if self.head.lines > 0 {
                    self.ended();
                }
                // A blank line before the request line is allowed (RFC 9112 §2.2).
                continue;
            }
            self.head.lines += 1;
            if self.head.lines == 1 {
                if self.fresh && line == b"PRI * HTTP/2.0" {
                    // HTTP/2 (prior knowledge): its headers are measured after decoding.
                    self.ok = self.hi;
                    self.mode = Mode::Off;
                    return;
                }
                if !request_line_ok(line) {
                    self.refuse(HeadRefusal::Malformed);
                    return;
                }
                self.fresh = false;
                if line.starts_with(b"CONNECT ") {
                    self.head.unfollowed = true;
                }
            } else if self.head.lines - 1 > MAX_HEADERS {
                self.refuse(HeadRefusal::TooLarge);
                return;
            } else {
                self.head.note(line);
            }
            self.ok = end;
        }
    }

    fn too_large(&self) -> HeadRefusal {
        if self.head.lines == 0 {
            HeadRefusal::UriTooLong
        } else {
            HeadRefusal::TooLarge
        }
    }

    /// The head ended at `ok`: follow its body, or stop following.
    fn ended(&mut self) {
        let head = std::mem::take(&mut self.head);
        if head.unfollowed {
            self.watch.unfollowed.store(true, Ordering::Release);
            self.ok = self.hi;
            self.mode = Mode::Off;
            return;
        }
        let length = head.length.unwrap_or(0);
        // Body bytes already read go through as they are.
        let have = (self.hi - self.ok) as u64;
        let take = have.min(length);
        self.ok += take as usize;
        if take < length {
            self.mode = Mode::Body(length - take);
        }
        // Else the next head starts at `ok`: scanning goes on.
    }

    /// Drops the rest of the refused head, then hands over the stand-in.
    fn refuse(&mut self, refusal: HeadRefusal) {
        let mut end = LineEnd::LineStart;
        let found = end.feed(&self.buf[self.ok..self.hi]);
        self.hi = self.ok;
        if found {
            self.stand_in(refusal);
        } else {
            self.mode = Mode::Drain(refusal, end, 0);
        }
    }

    /// Ends the head hyper is reading with a stand-in, and tells the service why.
    fn stand_in(&mut self, refusal: HeadRefusal) {
        let bytes: &[u8] = match refusal {
            // The request line and the headers approved so far, ended here.
            HeadRefusal::TooLarge => b"\r\n",
            // Nothing usable was approved: a request the tree can route to its root.
            HeadRefusal::UriTooLong | HeadRefusal::Malformed => b"GET / HTTP/1.1\r\n\r\n",
        };
        self.reserve(bytes.len());
        self.buf[self.hi..self.hi + bytes.len()].copy_from_slice(bytes);
        self.hi += bytes.len();
        self.ok = self.hi;
        self.watch.refusal.store(refusal as u8, Ordering::Release);
        self.mode = Mode::Parked;
    }

    /// Room for `n` more bytes after `hi`: moves the unread bytes to the front, grows if need be.
    fn reserve(&mut self, n: usize) {
        if self.lo > 0 {
            self.buf.copy_within(self.lo..self.hi, 0);
            let shift = self.lo;
            self.ok -= shift;
            self.hi -= shift;
            self.head.scanned = self.head.scanned.saturating_sub(shift);
            self.lo = 0;
        }
        if self.buf.len() - self.hi < n {
            let want = (self.hi + n).max(self.buf.len() * 2).max(4096);
            self.buf.resize(want, 0);
        }
    }
}

impl<T: AsyncRead + Unpin> HeadLimit<T> {
    /// Reads more of the client's bytes after `hi`. `Ok(0)` is the end of the stream.
    fn fill(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        // A partial line is at most `max_bytes`: the buffer never grows past that and a read.
        self.reserve(2048);
        let mut read = ReadBuf::new(&mut self.buf[self.hi..]);
        ready!(Pin::new(&mut self.inner).poll_read(cx, &mut read))?;
        let n = read.filled().len();
        self.hi += n;
        Poll::Ready(Ok(n))
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for HeadLimit<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        loop {
            if this.lo < this.ok {
                let n = (this.ok - this.lo).min(out.remaining());
                out.put_slice(&this.buf[this.lo..this.lo + n]);
                this.lo += n;
                return Poll::Ready(Ok(()));
            }
            match &mut this.mode {
                Mode::Off => return Pin::new(&mut this.inner).poll_read(cx, out),
                Mode::Body(0) => this.mode = Mode::Head,
                Mode::Body(left) => {
                    // Exactly the body, read straight into hyper's buffer: the next head
                    // starts after it and is read here.
                    let n = usize::try_from(*left).unwrap_or(usize::MAX);
                    let mut body = ReadBuf::new(out.initialize_unfilled_to(n.min(out.remaining())));
                    ready!(Pin::new(&mut this.inner).poll_read(cx, &mut body))?;
                    let n = body.filled().len();
                    out.advance(n);
                    *left -= n as u64;
                    return Poll::Ready(Ok(()));
                }
                Mode::Head => {
                    if this.ok < this.hi && this.head.scanned < this.hi {
                        this.scan();
                        continue;
                    }
                    if ready!(this.fill(cx))? == 0 {
                        // The client is gone mid-head: hyper gets what there is, then the end.
                        this.ok = this.hi;
                        this.mode = Mode::Ended;
                        continue;
                    }
                    this.scan();
                }
                Mode::Drain(refusal, end, discarded) => {
                    let (refusal, mut end, discarded) = (*refusal, *end, *discarded);
                    let n = ready!(this.fill(cx))?;
                    let found = end.feed(&this.buf[this.hi - n..this.hi]);
                    this.hi -= n;
                    if found {
                        this.stand_in(refusal);
                    } else if n == 0 || discarded + n > DRAIN_CAP {
                        this.mode = Mode::Ended;
                    } else {
                        this.mode = Mode::Drain(refusal, end, discarded + n);
                    }
                }
                Mode::Parked => return Poll::Pending,
                Mode::Ended => return Poll::Ready(Ok(())),
            }
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for HeadLimit<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Finds the blank line that ends a head, across reads.
#[derive(Clone, Copy)]
enum LineEnd {
    /// Inside a line.
    Mid,
    /// Just after a newline.
    LineStart,
    /// After a newline and a carriage return.
    LineStartCr,
}

impl LineEnd {
    /// Feeds `bytes`; `true` once a blank line is complete.
    fn feed(&mut self, bytes: &[u8]) -> bool {
        for &b in bytes {
            *self = match (b, *self) {
                (b'\n', LineEnd::LineStart | LineEnd::LineStartCr) => return true,
                (b'\n', LineEnd::Mid) => LineEnd::LineStart,
                (b'\r', LineEnd::LineStart) => LineEnd::LineStartCr,
                _ => LineEnd::Mid,
            };
        }
        false
    }
}

/// `METHOD SP target SP HTTP/1.x`, as hyper will accept it.
fn request_line_ok(line: &[u8]) -> bool {
    let mut parts = line.split(|&b| b == b' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    !method.is_empty()
        && method.iter().all(|&b| is_tchar(b))
        && matches!(version, b"HTTP/1.1" | b"HTTP/1.0")
        && target_ok(target)
}

/// A request target hyper will turn into a `Uri`. The common characters are checked here;
/// anything else is left to the `http` crate's parser (it allocates, so only then).
fn target_ok(target: &[u8]) -> bool {
    if target.is_empty() {
        return false;
    }
    let plain = |b: u8| b.is_ascii_alphanumeric() || b"-._~/?#%&=+,;:@!$'()*[]".contains(&b);
    target.iter().all(|&b| plain(b)) || http::Uri::try_from(target).is_ok()
}

/// RFC 9110 `tchar`.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// The value of a header line named `name` (lowercase, with its colon), case-insensitively.
fn value_of<'a>(line: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    let head = line.get(..name.len())?;
    head.eq_ignore_ascii_case(name)
        .then(|| line[name.len()..].trim_ascii())
}

fn parse_length(value: &[u8]) -> Option<u64> {
    if value.is_empty() || !value.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(value).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
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
            let polled = std::future::poll_fn(|cx| {
                Poll::Ready(Pin::new(&mut wrapped).poll_read(cx, &mut read))
            })
            .await;
            match polled {
                Poll::Pending => break,
                Poll::Ready(Err(e)) => panic!("read failed: {e}"),
                Poll::Ready(Ok(())) if read.filled().is_empty() => break,
                Poll::Ready(Ok(())) => seen.extend_from_slice(read.filled()),
            }
        }
        drop(client);
        (seen, watch.take_refusal())
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
        let chunked =
            b"POST /u HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
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
}
