//! An export is streamed: 200,000 messages and 50,000 orders go out a page at a time, and the
//! server never holds the document (with the orders read whole, 83 MB were held at once). Measured with a counting allocator around the whole process (server and
//! client): the bytes allocated at once during the export grow by less than 20 MB, while the
//! export itself is tens of megabytes (it was all held at once, twice over, before).

mod common;
mod sockets;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use common::TestApp;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use sea_orm::ConnectionTrait;

/// Counts the bytes allocated now, and the most at once since the last reset.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to the system allocator unchanged; the counters only watch.
// (The one `unsafe` of this test: a global allocator cannot be written without it.)
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let now = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(now, Ordering::Relaxed);
        // SAFETY: the caller's contract for `alloc`, passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller's contract for `dealloc`, passed on.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > layout.size() {
            let now = LIVE.fetch_add(new_size - layout.size(), Ordering::Relaxed) + new_size
                - layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        } else {
            LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
        }
        // SAFETY: the caller's contract for `realloc`, passed on.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Counts a marker in a body read a chunk at a time.
struct Marker {
    marker: &'static [u8],
    tail: Vec<u8>,
    seen: usize,
}

impl Marker {
    fn new(marker: &'static [u8]) -> Self {
        Marker {
            marker,
            tail: Vec::new(),
            seen: 0,
        }
    }

    fn count(&mut self, chunk: &[u8]) {
        self.tail.extend_from_slice(chunk);
        let n = self.marker.len();
        self.seen += self.tail.windows(n).filter(|w| *w == self.marker).count();
        // One byte short of a marker kept: its start carries over, a whole one never counts twice.
        self.tail.drain(..self.tail.len().saturating_sub(n - 1));
    }
}

const MESSAGES: usize = 200_000;
const ORDERS: usize = 50_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_of_200000_messages_is_streamed_in_bounded_memory() {
    let t = TestApp::new().await;
    let (token, me) = t.user("13900000001").await;
    let (_, them) = t.user("13900000002").await;
    // Written by the database itself: a message from them to me, 200,000 times.
    t.state
        .db
        .execute_unprepared(&format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {MESSAGES}) \
             INSERT INTO message (from_uid, to_uid, msg_type, content, send_time, read) \
             SELECT {them}, {me}, 'text', 'a message of some length, as people write them ' || i, \
             1700000000 + i, 0 FROM n"
        ))
        .await
        .unwrap();
    // And orders, which anyone can make as many of as they like: streamed the same way.
    t.state
        .db
        .execute_unprepared(&format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {ORDERS}) \
             INSERT INTO user_order (trade_no, user_id, product_id, product_name, vip_days, \
             fee_cents, pay, order_time) \
             SELECT 'T' || i, {me}, 1, 'month', 30, 3000, 0, 1700000000 + i FROM n"
        ))
        .await
        .unwrap();
    let addr = sockets::serve(&t).await;
    let path = sockets::signed(&t, "/api/me/export", &[], Some(&token));

    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    let req = http::Request::get(path)
        .header("host", "localhost")
        .body(Empty::<Bytes>::new())
        .unwrap();

    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let res = sender.send_request(req).await.unwrap();
    assert_eq!(res.status(), 200);
    // Read and dropped as it arrives, counting the messages in it.
    let mut body = res.into_body();
    let mut bytes = 0usize;
    let mut messages = Marker::new(b"\"msg_id\"");
    let mut orders = Marker::new(b"\"order_id\"");
    while let Some(frame) = body.frame().await {
        let Ok(chunk) = frame.unwrap().into_data() else {
            continue;
        };
        bytes += chunk.len();
        messages.count(&chunk);
        orders.count(&chunk);
    }
    let (messages, orders) = (messages.seen, orders.seen);
    let peak = PEAK.load(Ordering::Relaxed).saturating_sub(before);
    eprintln!(
        "export: {messages} messages, {orders} orders, {bytes} bytes; at most {peak} bytes allocated at once"
    );
    assert_eq!(messages, MESSAGES, "the export is complete");
    assert_eq!(orders, ORDERS, "with every order");
    assert!(bytes > 20_000_000, "{bytes} bytes");
    assert!(
        peak < 20 * 1024 * 1024,
        "{} MB held at once for a {} MB export",
        peak / 1_000_000,
        bytes / 1_000_000
    );
}
