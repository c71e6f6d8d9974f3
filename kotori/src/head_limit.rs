//! kotori's own limit on a request's head (HTTP/1), checked as its bytes arrive.
//!
//! hyper refuses a head it cannot buffer with a bare `431` of its own — no renderer, no
//! request id, no access-log line — and its limit is soft: it checks between reads, so a head
//! may pass it by a whole read and reach the application. This wrapper sits between the
//! connection and hyper and reads each head first. It hands hyper complete lines only and
//! counts them; when a head passes the limit, or a line of it is malformed (a request line, a
//! header line, a `Content-Length` that is not one number), it discards the rest of that head
//! and hands hyper a stand-in instead (the lines so far, ended there; or `GET / HTTP/1.1`),
//! telling the service why through [`HeadWatch`]. The service answers
//! through the tree like any other refusal — the node's renderer, the request id, the after
//! hooks — and closes the connection. hyper's own limits stay above, as a backstop.
//!
//! A `Transfer-Encoding` is judged on the whole head — hyper takes `gzip` then `chunked` on
//! two lines, but not `chunked` then `gzip` — so from its first line on, the head's lines are
//! held back until the head ends, then approved together or refused.
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
use std::sync::atomic::Ordering;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::limits::MAX_HEADERS;

mod syntax;
mod watch;
use syntax::{LineEnd, ends_in_chunked, header_line_ok, parse_length, request_line_ok, value_of};
pub(crate) use watch::{HeadRefusal, HeadWatch};

/// After a refusal, at most this many bytes of the refused head are read and discarded before
/// the connection is simply closed: reading them lets the client see the answer (a socket
/// closed with unread bytes is reset), but not without end. hyper's header read timeout
/// bounds the time.
const DRAIN_CAP: usize = 16 * 1024 * 1024;

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
    /// The request line says HTTP/1.0.
    http10: bool,
    /// Whether the last `Transfer-Encoding` line so far ends in `chunked` (`None`: none yet).
    chunked: Option<bool>,
}

impl Head {
    /// Notes what a header line says about the body that follows; `false` when it is a
    /// `Content-Length` that is not a number, or not the number an earlier one gave (hyper
    /// refuses those with a bare 400).
    fn note(&mut self, line: &[u8]) -> bool {
        if !matches!(line.first(), Some(b'c' | b'C' | b't' | b'T' | b'u' | b'U')) {
            return true;
        }
        if let Some(value) = value_of(line, b"content-length:") {
            match parse_length(value) {
                Some(n) if self.length.is_none_or(|m| m == n) => self.length = Some(n),
                _ => return false,
            }
        } else if let Some(value) = value_of(line, b"transfer-encoding:") {
            self.chunked = Some(ends_in_chunked(value));
            self.unfollowed = true;
        } else if value_of(line, b"upgrade:").is_some() {
            self.unfollowed = true;
        }
        true
    }

    /// Whether hyper takes the head's framing: a `Transfer-Encoding` (the last line's, as hyper
    /// reads them in turn) must end in `chunked`, and HTTP/1.0 has none.
    fn framing_ok(&self) -> bool {
        match self.chunked {
            None => true,
            Some(chunked) => chunked && !self.http10,
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
    /// read but not yet approved: lines held back (`buf[ok..line]`, from a `Transfer-Encoding`
    /// on) and the partial line (`buf[line..hi]`).
    buf: Vec<u8>,
    lo: usize,
    ok: usize,
    line: usize,
    hi: usize,
    head: Head,
    /// Heads ended so far on this connection: the number of the head being read.
    heads: u64,
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
            line: 0,
            hi: 0,
            head: Head::default(),
            heads: 0,
            mode: Mode::Head,
        }
    }

    /// Scans the unapproved bytes of the head: approves complete lines, decides what follows
    /// the head when it ends, refuses it when it passes a limit.
    fn scan(&mut self) {
        while let Mode::Head = self.mode {
            let from = self.head.scanned.max(self.line);
            let Some(at) = self.buf[from..self.hi].iter().position(|&b| b == b'\n') else {
                self.head.scanned = self.hi;
                if self.head.size + (self.hi - self.line) > self.max_bytes {
                    self.refuse(self.too_large());
                }
                return;
            };
            let end = from + at + 1;
            let line = &self.buf[self.line..end - 1];
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            self.head.size += end - self.line;
            if self.head.size > self.max_bytes {
                self.refuse(self.too_large());
                return;
            }
            if line.is_empty() {
                if !self.head.framing_ok() {
                    self.refuse(HeadRefusal::BadTransferEncoding);
                    return;
                }
                self.approve(end);
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
                    self.watch.saw_http2_preface();
                    self.approve(self.hi);
                    self.mode = Mode::Off;
                    return;
                }
                if !request_line_ok(line) {
                    self.refuse(HeadRefusal::Malformed);
                    return;
                }
                self.fresh = false;
                self.head.http10 = line.ends_with(b" HTTP/1.0");
                if line.starts_with(b"CONNECT ") {
                    self.head.unfollowed = true;
                }
            } else if self.head.lines - 1 > MAX_HEADERS {
                self.refuse(HeadRefusal::TooLarge);
                return;
            } else if !header_line_ok(line) {
                self.refuse(HeadRefusal::MalformedHeader);
                return;
            } else if !self.head.note(line) {
                self.refuse(HeadRefusal::BadLength);
                return;
            }
            if self.head.chunked.is_some() {
                // Held back: the head's framing is judged when it ends.
                self.line = end;
            } else {
                self.approve(end);
            }
        }
    }

    /// Approves the head's bytes up to `end`, a line's end.
    fn approve(&mut self, end: usize) {
        self.ok = end;
        self.line = end;
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
        self.heads += 1;
        if head.unfollowed {
            self.watch
                .unfollowed_from
                .store(self.heads - 1, Ordering::Release);
            self.approve(self.hi);
            self.mode = Mode::Off;
            return;
        }
        let length = head.length.unwrap_or(0);
        // Body bytes already read go through as they are.
        let have = (self.hi - self.ok) as u64;
        let take = have.min(length);
        self.approve(self.ok + take as usize);
        if take < length {
            self.mode = Mode::Body(length - take);
        }
        // Else the next head starts at `ok`: scanning goes on.
    }

    /// Drops the rest of the refused head (held lines too), then hands over the stand-in.
    fn refuse(&mut self, refusal: HeadRefusal) {
        let mut end = LineEnd::LineStart;
        let found = end.feed(&self.buf[self.ok..self.hi]);
        self.hi = self.ok;
        self.line = self.ok;
        if found {
            self.stand_in(refusal);
        } else {
            self.mode = Mode::Drain(refusal, end, 0);
        }
    }

    /// Ends the head hyper is reading with a stand-in, and tells the service why.
    fn stand_in(&mut self, refusal: HeadRefusal) {
        let bytes: &[u8] = match refusal {
            // The request line and the headers approved so far, ended here: the path is
            // known, and its node renders the refusal.
            HeadRefusal::TooLarge
            | HeadRefusal::MalformedHeader
            | HeadRefusal::BadLength
            | HeadRefusal::BadTransferEncoding => b"\r\n",
            // Nothing usable was approved: a request the tree can route to its root.
            HeadRefusal::UriTooLong | HeadRefusal::Malformed => b"GET / HTTP/1.1\r\n\r\n",
        };
        self.reserve(bytes.len());
        self.buf[self.hi..self.hi + bytes.len()].copy_from_slice(bytes);
        self.hi += bytes.len();
        self.approve(self.hi);
        self.watch.refuse(self.heads, refusal);
        self.mode = Mode::Parked;
    }

    /// Room for `n` more bytes after `hi`: moves the unread bytes to the front, grows if need be.
    fn reserve(&mut self, n: usize) {
        if self.lo > 0 {
            self.buf.copy_within(self.lo..self.hi, 0);
            let shift = self.lo;
            self.ok -= shift;
            self.line -= shift;
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
                    if this.line < this.hi && this.head.scanned < this.hi {
                        this.scan();
                        continue;
                    }
                    if ready!(this.fill(cx))? == 0 {
                        // The client is gone mid-head: hyper gets what there is, then the end.
                        this.approve(this.hi);
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

#[cfg(test)]
mod tests;
