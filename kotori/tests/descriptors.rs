//! When file descriptors run out, the accept loop backs off (10 ms, doubling) instead of
//! spinning a core and flooding the log, and recovers once descriptors are free again.
//!
//! Its own test binary: it lowers this process's descriptor limit.

mod common;
mod net;

use common::captured_log;
use kotori::Kotori;
use net::{BOUND, get, http1, start, text};
use tokio::net::TcpStream;

/// The waits the server announced, in order.
fn backoffs(log: &str) -> Vec<u64> {
    log.lines()
        .filter(|l| l.contains("accept failed; backing off"))
        .filter_map(|l| {
            let at = l.find("retry_in_ms=")? + "retry_in_ms=".len();
            l[at..]
                .split(|c: char| !c.is_ascii_digit())
                .next()?
                .parse()
                .ok()
        })
        .collect()
}

#[tokio::test]
async fn out_of_descriptors_the_accept_loop_backs_off_and_recovers() {
    let log = captured_log();
    let app = Kotori::new(());
    app.get("/hello", || async { "hello" });
    let server = start(app.build().unwrap(), |s| s).await;

    // Leave this process a few dozen descriptors beyond what it holds now.
    let (soft, hard) = rlimit::Resource::NOFILE.get().unwrap();
    let open = std::fs::read_dir("/proc/self/fd").unwrap().count() as u64;
    rlimit::Resource::NOFILE.set(open + 40, hard).unwrap();

    // Connect until the process is out of descriptors: the server then cannot accept the
    // connections still waiting in its backlog.
    let mut held = Vec::new();
    let exhausted = tokio::time::timeout(BOUND, async {
        loop {
            match TcpStream::connect(server.addr).await {
                Ok(stream) => held.push(stream),
                Err(e) => break e,
            }
        }
    })
    .await
    .expect("descriptors run out");
    assert_eq!(exhausted.raw_os_error(), Some(24), "EMFILE: {exhausted}");

    // The server announces growing waits rather than spinning.
    tokio::time::timeout(BOUND, async {
        while backoffs(&log.text()).len() < 4 {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the accept loop reports its backoff");
    let waits = backoffs(&log.text());
    assert_eq!(&waits[..4], &[10, 20, 40, 80], "{waits:?}");

    // Descriptors come back: serving resumes by itself.
    drop(held);
    rlimit::Resource::NOFILE.set(soft, hard).unwrap();
    let mut client = http1(server.addr).await;
    let res = tokio::time::timeout(BOUND, client.send_request(get("/hello")))
        .await
        .expect("the server serves again")
        .unwrap();
    assert_eq!(text(res).await, "hello");
    server.stop().await;
}
